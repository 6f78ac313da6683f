// Readiness tells the truth (issue 10): the sidecar pair over 300 Ingresses, the proxy with two
// workers. The first moment the proxy's /readyz answers 200, every one of the 300 hosts is routed
// by whichever worker takes the request (308 to https, as each has TLS), none is still 404.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type ApiServer, type KubeObject } from '../../support/apiserver.ts';
import { writeKubeconfig } from '../../support/kubeconfig.ts';
import { syntheticCluster } from '../../support/k8s.ts';
import { freePorts, listenFlags, readyzStatus, spawnWsgate, type RunningWsgate } from '../../support/cli.ts';

const INGRESSES = 300;

function hostStatus(port: number, host: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/ws', headers: { host }, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

describe('/readyz of proxy --config --workers 2 beside controller --output', () => {
  let api: ApiServer;
  let dir: string;
  const running: RunningWsgate[] = [];

  before(async () => {
    api = await startApiServer();
    dir = await mkdtemp(join(tmpdir(), 'wsgate-ready-routable-'));
    const cluster = syntheticCluster(INGRESSES, 2);
    for (const list of [cluster.ingressClasses, cluster.secrets, cluster.services, cluster.endpointSlices, cluster.ingresses]) {
      for (const object of list) api.apply(object as unknown as KubeObject);
    }
  });
  after(async () => {
    for (const { child } of running) child.kill('SIGKILL');
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('turns 200 only once every host answers, on every worker', async () => {
    const kubeconfig = await writeKubeconfig(dir, api);
    const file = join(dir, 'snapshot.json');
    // The empty file a pod's shared volume starts with.
    await writeFile(file, '');
    const proxyPorts = await freePorts();
    const controllerPorts = await freePorts();
    const quiet = ['--log-level', 'error'];
    running.push(spawnWsgate(['proxy', '--config', file, '--workers', '2', ...listenFlags(proxyPorts), ...quiet], { stdio: 'ignore' }));
    running.push(spawnWsgate(['controller', '--kubeconfig', kubeconfig, '--output', file, '--election-namespace', 'default', ...listenFlags(controllerPorts), ...quiet], { stdio: 'ignore' }));
    const seen: Array<number | undefined> = [];
    const started = performance.now();
    for (;;) {
      const status = await readyzStatus(proxyPorts.admin);
      seen.push(status);
      if (status === 200) break;
      assert.ok(performance.now() - started < 60_000, `not ready in 60 s: ${seen.slice(-5).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(seen.some((s) => s !== 200), 'the proxy was not ready before the controller wrote the file');
    // Every host, several times over (each request is a new connection, to either worker).
    const hosts = Array.from({ length: INGRESSES }, (_, i) => `app-${i}.a.example.com`);
    const statuses = new Map<number | undefined, number>();
    for (let round = 0; round < 2; round += 1) {
      for (let i = 0; i < hosts.length; i += 25) {
        for (const status of await Promise.all(hosts.slice(i, i + 25).map((host) => hostStatus(proxyPorts.http, host)))) statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }
    assert.deepEqual([...statuses], [[308, 2 * INGRESSES]]);
  });
});
