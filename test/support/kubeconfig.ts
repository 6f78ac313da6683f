// A kubeconfig for the test API server: plain http, a bearer-token user, one current context.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApiServer } from './apiserver.ts';

export interface KubeconfigOptions {
  /** The context's default namespace (kubectl and client-node use it when a command names none). */
  namespace?: string;
  fileName?: string;
}

export function kubeconfigYaml(server: Pick<ApiServer, 'url' | 'token'>, options: KubeconfigOptions = {}): string {
  // JSON is valid YAML and needs no quoting rules.
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    // client-node 2.x refuses an http:// server unless the cluster skips TLS verification
    // ("HTTP protocol is not allowed when skipTLSVerify is not set or false").
    clusters: [{ name: 'wsgate-test', cluster: { server: server.url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'wsgate-test', user: { token: server.token } }],
    contexts: [{ name: 'wsgate-test', context: { cluster: 'wsgate-test', user: 'wsgate-test', namespace: options.namespace ?? 'default' } }],
    'current-context': 'wsgate-test',
    preferences: {},
  }, null, 2) + '\n';
}

/** Writes `<dir>/kubeconfig` (or `fileName`) pointing at `server` and returns its path. */
export async function writeKubeconfig(dir: string, server: Pick<ApiServer, 'url' | 'token'>, options: KubeconfigOptions = {}): Promise<string> {
  const path = join(dir, options.fileName ?? 'kubeconfig');
  await writeFile(path, kubeconfigYaml(server, options), { mode: 0o600 });
  return path;
}
