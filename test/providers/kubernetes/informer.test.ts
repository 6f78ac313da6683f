// What @kubernetes/client-node 2.0.1 informers (ListWatch in dist/cache.js, Watch in dist/watch.js)
// really do against a Kubernetes API server, shown against the test API server. The controller's
// recovery logic is built on these facts; each is asserted below.
//
//  1. Connecting: client-node 2.x refuses an http:// server unless the kubeconfig cluster has
//     insecure-skip-tls-verify: true ("HTTP protocol is not allowed when skipTLSVerify is not set").
//     (kubectl is the opposite: over http it sends no credentials at all.)
//  2. `makeInformer(kc, path, listFn, labelSelector?)` takes no field selector; for Secrets with
//     fieldSelector=type=kubernetes.io/tls build `new ListWatch(path, new Watch(kc), listFn, false,
//     undefined, fieldSelector)`. The selectors only go on the WATCH; the list function must apply
//     the same selector itself.
//  3. Objects from the initial LIST have no `kind`/`apiVersion` (a real API server omits TypeMeta on
//     list items); objects from WATCH events have them. Do not rely on `obj.kind`.
//  4. 410 Gone: a watch that gets an ERROR event with code 410 (what an API server sends for a
//     compacted resourceVersion) clears the informer's resourceVersion; when the server then ends the
//     stream the informer re-LISTs by itself, with no `error` callback: adds, updates (only objects
//     whose resourceVersion changed) and deletes (objects missing from the new list) are delivered.
//     The watch after that re-LIST comes only after the reconnect delay (rule 5), typically 1 s.
//  5. A watch the server ends cleanly (timeout, graceful shutdown) is reconnected from the last
//     resourceVersion, immediately the first time, then after 1 s, 2 s, ... 30 s while no event
//     arrives (an event resets the backoff).
//  6. Any other failure stops the informer for good, after one `error` callback: a connection cut
//     mid-stream (TypeError "terminated", cause UND_ERR_SOCKET), a refused reconnect (TypeError
//     "fetch failed", cause ECONNREFUSED), a failed LIST. It makes no further requests, ever; the
//     cache keeps its last content and its resourceVersion.
//  7. Restarting it with `start()` watches from the kept resourceVersion (no LIST): if the server
//     still has that history the missed changes are replayed as events; if not, rule 4 applies and
//     it re-LISTs. Either way `await start()` resolves when the WATCH response headers arrive,
//     BEFORE the replay or re-LIST is applied: it is not a "caught up" signal. (Only the very first
//     start, with an empty resourceVersion, LISTs before resolving.) A failing start() also
//     resolves: the failure is reported through the `error` callback only.
//  8. `stop()` aborts the open watch and that fires the `error` callback with an AbortError
//     ("This operation was aborted"): an error handler that restarts the informer must ignore
//     errors after its own stop().
//  9. `stop()` is not final while a reconnect is pending: stopped during its reconnect delay (or a
//     re-LIST), the informer still opens the next watch afterwards, and that watch lives on until
//     the server ends it (then it sees `stopped` and stays down). Keep a generation counter and
//     drop callbacks from a stopped informer; do not reuse a stopped informer object carelessly.
// 10. Client-side inactivity timeout: a watch with no bytes for 30 s is aborted and reconnected
//     (TimeoutError, handled internally, no `error` callback). The informer sets neither
//     timeoutSeconds nor allowWatchBookmarks.
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { startApiServer, type ApiServer, type KubeObject } from '../../support/apiserver.ts';
import { writeKubeconfig } from '../../support/kubeconfig.ts';

const ingress = (name: string, host: string): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: 'default' },
  spec: { ingressClassName: 'wsgate', rules: [{ host }] },
});
const endpointSlice = (name: string, service: string): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
  metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }],
});
const secret = (name: string, type: string, data = 'v1'): KubeObject => ({
  apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, type, data: { 'tls.crt': Buffer.from(data).toString('base64') },
});

type Verb = 'add' | 'update' | 'delete';
interface Seen { verb: Verb; name: string; kind: string | undefined }

/** Records what an informer delivers, and lets a test wait for a given delivery. */
function record(informer: k8s.Informer<k8s.KubernetesObject>) {
  const seen: Seen[] = [];
  const errors: { name: string; message: string; cause: string | undefined }[] = [];
  const waiters: { match: (s: Seen) => boolean; resolve: () => void }[] = [];
  let errorWaiter: (() => void) | undefined;
  for (const verb of ['add', 'update', 'delete'] as const) {
    informer.on(verb, (obj) => {
      const s = { verb, name: obj.metadata?.name ?? '', kind: obj.kind };
      seen.push(s);
      for (const w of [...waiters]) if (w.match(s)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
    });
  }
  informer.on('error', (err) => {
    const e = err as Error & { cause?: { code?: string } };
    errors.push({ name: e.name, message: e.message, cause: e.cause?.code });
    errorWaiter?.();
  });
  return {
    seen,
    errors,
    delivered: (verb: Verb, name: string) =>
      seen.some((s) => s.verb === verb && s.name === name)
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ match: (s) => s.verb === verb && s.name === name, resolve })),
    nextError: () => new Promise<void>((resolve) => (errorWaiter = resolve)),
  };
}

describe('client-node informers against the test API server', () => {
  let server: ApiServer;
  let dir: string;
  let kc: k8s.KubeConfig;
  const informers: k8s.Informer<k8s.KubernetesObject>[] = [];

  before(async () => {
    server = await startApiServer();
    dir = await mkdtemp(join(tmpdir(), 'wsgate-informer-'));
    kc = new k8s.KubeConfig();
    kc.loadFromFile(await writeKubeconfig(dir, server));
  });
  after(async () => {
    for (const informer of informers) await informer.stop();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    for (const informer of informers.splice(0)) await informer.stop();
    for (const kind of ['Ingress', 'EndpointSlice', 'Secret']) for (const o of server.list(kind)) server.remove(kind, o.metadata?.namespace, o.metadata!.name!);
  });

  const ingressInformer = () => {
    const api = kc.makeApiClient(k8s.NetworkingV1Api);
    const informer = k8s.makeInformer(kc, '/apis/networking.k8s.io/v1/ingresses', () => api.listIngressForAllNamespaces());
    informers.push(informer);
    return informer;
  };
  const informerRequests = () => server.requests.filter((r) => r.resource === 'ingresses' && r.userAgent !== 'node');

  it('delivers add, update and delete for Ingresses; listed objects have no kind, watched ones do', async () => {
    server.apply(ingress('listed', 'a.example.com'));
    const informer = ingressInformer();
    const events = record(informer);
    await informer.start();
    assert.deepEqual(informer.list().map((o) => o.metadata?.name), ['listed'], 'the first start() lists before it resolves');
    server.apply(ingress('watched', 'b.example.com'));
    await events.delivered('add', 'watched');
    server.apply(ingress('listed', 'changed.example.com'));
    await events.delivered('update', 'listed');
    server.remove('Ingress', 'default', 'watched');
    await events.delivered('delete', 'watched');
    assert.deepEqual(events.seen, [
      { verb: 'add', name: 'listed', kind: undefined },
      { verb: 'add', name: 'watched', kind: 'Ingress' },
      { verb: 'update', name: 'listed', kind: 'Ingress' },
      { verb: 'delete', name: 'watched', kind: 'Ingress' },
    ]);
    assert.deepEqual(events.errors, []);
  });

  it('narrows EndpointSlices with a labelSelector, which the list function must apply too', async () => {
    const labelSelector = 'kubernetes.io/service-name=chat';
    server.apply(endpointSlice('chat-1', 'chat'));
    server.apply(endpointSlice('other-1', 'other'));
    const api = kc.makeApiClient(k8s.DiscoveryV1Api);
    const informer = k8s.makeInformer(kc, '/apis/discovery.k8s.io/v1/endpointslices', () => api.listEndpointSliceForAllNamespaces({ labelSelector }), labelSelector);
    informers.push(informer);
    const events = record(informer);
    await informer.start();
    server.apply(endpointSlice('other-2', 'other'));
    server.apply(endpointSlice('chat-2', 'chat'));
    await events.delivered('add', 'chat-2');
    // Relabelled out of the selection: the server sends DELETED.
    server.apply({ ...endpointSlice('chat-1', 'chat'), metadata: { name: 'chat-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'moved' } } });
    await events.delivered('delete', 'chat-1');
    assert.deepEqual(events.seen.map((s) => `${s.verb} ${s.name}`), ['add chat-1', 'add chat-2', 'delete chat-1']);
    const watches = server.requests.filter((r) => r.resource === 'endpointslices' && r.verb === 'watch');
    assert.ok(watches.every((r) => new URLSearchParams(r.query).get('labelSelector') === labelSelector));
  });

  it('narrows Secrets to type kubernetes.io/tls with a fieldSelector through ListWatch', async () => {
    const fieldSelector = 'type=kubernetes.io/tls';
    server.apply(secret('tls-a', 'kubernetes.io/tls'));
    server.apply(secret('opaque-a', 'Opaque'));
    const api = kc.makeApiClient(k8s.CoreV1Api);
    const informer = new k8s.ListWatch('/api/v1/secrets', new k8s.Watch(kc), () => api.listSecretForAllNamespaces({ fieldSelector }), false, undefined, fieldSelector);
    informers.push(informer);
    const events = record(informer);
    await informer.start();
    server.apply(secret('opaque-a', 'Opaque', 'v2'));
    server.apply(secret('tls-a', 'kubernetes.io/tls', 'rotated'));
    await events.delivered('update', 'tls-a');
    server.remove('Secret', 'default', 'opaque-a');
    server.remove('Secret', 'default', 'tls-a');
    await events.delivered('delete', 'tls-a');
    assert.deepEqual(events.seen.map((s) => `${s.verb} ${s.name}`), ['add tls-a', 'update tls-a', 'delete tls-a']);
  });

  it('re-lists by itself after 410 Gone on a reconnect, without an error callback', async () => {
    server.apply(ingress('kept', 'kept.example.com'));
    const informer = ingressInformer();
    const events = record(informer);
    await informer.start();
    const informerRv = Number(server.get('Ingress', 'default', 'kept')!.metadata!.resourceVersion);
    // Other kinds move the global resourceVersion on; compaction then makes the informer's one too old.
    server.apply(secret('unrelated', 'Opaque'));
    server.compact();
    assert.ok(Number(server.resourceVersion) > informerRv);
    server.clearRequests();
    server.endWatches();
    server.apply(ingress('after-410', 'new.example.com'));
    await events.delivered('add', 'after-410');
    // Only the new watch (opened after a 1 s reconnect delay) can deliver this one.
    server.apply(ingress('after-relist', 'newer.example.com'));
    await events.delivered('add', 'after-relist');
    assert.deepEqual(informerRequests().map((r) => r.verb), ['watch', 'list', 'watch'], 'reconnect, 410, re-list, watch');
    assert.deepEqual(events.errors, []);
  });

  it('stops for good when the server goes away; start() later catches up through 410 and a re-list', async () => {
    server.apply(ingress('survivor', 's.example.com'));
    server.apply(ingress('doomed', 'd.example.com'));
    const informer = ingressInformer();
    const events = record(informer);
    await informer.start();
    const failed = events.nextError();
    await server.stop();
    await failed;
    assert.deepEqual(events.errors, [{ name: 'TypeError', message: 'terminated', cause: 'UND_ERR_SOCKET' }]);
    // Changes while the informer is down, then history lost (an API server restart after compaction).
    server.remove('Ingress', 'default', 'doomed');
    server.apply(ingress('born', 'b.example.com'));
    server.compact();
    server.clearRequests();
    await server.restart();
    // Longer than its first reconnect delay (1 s): a live informer would have come back by now.
    await sleep(1500);
    assert.deepEqual(informerRequests(), [], 'the stopped informer never reconnects by itself');

    await informer.start();
    assert.ok(informer.get('doomed', 'default'), 'start() resolves before the re-list is applied');
    await events.delivered('delete', 'doomed');
    await events.delivered('add', 'born');
    assert.deepEqual(informer.list().map((o) => o.metadata?.name).sort(), ['born', 'survivor']);
    // The re-list happened; wait for the watch that follows it before checking the requests.
    server.apply(ingress('later', 'l.example.com'));
    await events.delivered('add', 'later');
    assert.deepEqual(informerRequests().map((r) => r.verb), ['watch', 'list', 'watch']);
    assert.equal(events.errors.length, 1);
  });

  it('start() after a restart that kept history replays the missed changes without a list', async () => {
    server.apply(ingress('stay', 's.example.com'));
    const informer = ingressInformer();
    const events = record(informer);
    await informer.start();
    const failed = events.nextError();
    await server.stop({ graceful: true });
    await failed;
    // A clean end of the stream is retried once at once, and the refused connection stops it.
    assert.deepEqual(events.errors, [{ name: 'TypeError', message: 'fetch failed', cause: 'ECONNREFUSED' }]);
    server.apply(ingress('missed', 'm.example.com'));
    server.clearRequests();
    await server.restart();
    await informer.start();
    await events.delivered('add', 'missed');
    assert.deepEqual(informerRequests().map((r) => r.verb), ['watch']);
  });

  it('still reconnects after stop() when stop() came during its reconnect delay', async () => {
    const api = kc.makeApiClient(k8s.NetworkingV1Api);
    let inDelay: (ms: number) => void = () => {};
    const informer = new k8s.ListWatch('/apis/networking.k8s.io/v1/ingresses', new k8s.Watch(kc), () => api.listIngressForAllNamespaces(), false, undefined, undefined, {
      delayFn: (ms) => {
        inDelay(ms);
        return sleep(ms);
      },
    });
    informers.push(informer);
    const events = record(informer);
    await informer.start();
    const delayed = new Promise<number>((resolve) => (inDelay = resolve));
    server.endWatches();
    // The first reconnect is immediate; the second, with no event in between, waits 1 s.
    await new Promise<void>((resolve) => {
      const poll = () => (server.openWatches > 0 ? resolve() : setTimeout(poll, 10));
      poll();
    });
    server.endWatches();
    assert.equal(await delayed, 1000);
    await informer.stop();
    server.clearRequests();
    await sleep(1500);
    assert.deepEqual(informerRequests().map((r) => r.verb), ['watch'], 'client-node checks its stopped flag only before listing');
    server.endWatches();
    assert.deepEqual(events.errors, []);
  });

  it('reports its own stop() as an AbortError through the error callback', async () => {
    const informer = ingressInformer();
    const events = record(informer);
    await informer.start();
    const aborted = events.nextError();
    await informer.stop();
    await aborted;
    assert.equal(events.errors[0]?.name, 'AbortError');
  });
});
