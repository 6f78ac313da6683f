// The test API server (test/support) in its own process, pinned beside the load generator, so
// `wsgate run` has a cluster to watch and the proxy's core runs the proxy alone. Seeded with one
// IngressClass, one Ingress (every host, path /) to the bench upstream and the bench certificate
// as the default-certificate Secret; the parent reads { url, token } over IPC.
import { startApiServer, type KubeObject } from '../test/support/apiserver.ts';
import { endpointSlice, ingress, ingressClass, service, tlsSecret } from '../test/support/k8s.ts';

const { upstreamPort, cert, key } = JSON.parse(process.env.WSGATE_BENCH_CLUSTER ?? '{}') as { upstreamPort: number; cert: string; key: string };
const api = await startApiServer();
const objects = [
  ingressClass('wsgate'),
  service('bench', { ports: [{ name: 'http', port: 80, targetPort: upstreamPort }] }),
  endpointSlice('bench', { ports: [{ name: 'http', port: upstreamPort }], endpoints: ['127.0.0.1'] }),
  tlsSecret('bench-tls', { cert, key }),
  ingress('bench', { paths: [{ path: '/', pathType: 'Prefix', service: 'bench', port: 80 }] }),
];
for (const object of objects) api.apply(object as unknown as KubeObject);
process.send!({ url: api.url, token: api.token });
process.on('disconnect', () => void api.stop().then(() => process.exit(0)));
