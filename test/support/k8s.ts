// Kubernetes objects for tests, as @kubernetes/client-node models (what the informers deliver),
// built so a test reads like its scenario: ingress('chat', { host, paths }), service('chat'), ...
import type {
  V1ConfigMap,
  V1EndpointSlice,
  V1Ingress,
  V1IngressBackend,
  V1IngressClass,
  V1Secret,
  V1Service,
} from '@kubernetes/client-node';
import { loadYaml } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { Resources } from '../../src/translate/types.ts';

export const CONTROLLER = 'wsgate.io/ingress-controller';
/** Every test object's default creationTimestamp: conflicts need an explicit, older one. */
export const CREATED = '2024-01-01T00:00:00Z';

// Self-signed EC P-256 pairs valid until 2126, made with openssl for these tests only.
/** Covers a.example.com and *.a.example.com. */
export const CERT_A = `-----BEGIN CERTIFICATE-----
MIIBsjCCAVigAwIBAgIUZqqQQYp2qoP5nW1dNyj0SMGmojgwCgYIKoZIzj0EAwIw
GDEWMBQGA1UEAwwNYS5leGFtcGxlLmNvbTAgFw0yNjExMjEwOTQ3NTJaGA8yMTI2
MTAyODA5NDc1MlowGDEWMBQGA1UEAwwNYS5leGFtcGxlLmNvbTBZMBMGByqGSM49
AgEGCCqGSM49AwEHA0IABJwlvA0Aq/tRRPvQQ4vWdF7hakw2ayu4d2zg+KNUFbyM
RNZ+VxujBcnE2YL6/B+O5NDQdlBdPwFwO6XrbETPnqejfjB8MB0GA1UdDgQWBBQR
HZ+wd3pOhIkfefmvvPw/Uiby5zAfBgNVHSMEGDAWgBQRHZ+wd3pOhIkfefmvvPw/
Uiby5zAPBgNVHRMBAf8EBTADAQH/MCkGA1UdEQQiMCCCDWEuZXhhbXBsZS5jb22C
DyouYS5leGFtcGxlLmNvbTAKBggqhkjOPQQDAgNIADBFAiA2WZSeHGGV8tpIGyXX
COP2DdNRYGm+UEn/ifNSTNgNgwIhAKXAM+ijHvokTrEvRkMZ/W6oqzZJTEIBgsEW
AsNSR5JJ
-----END CERTIFICATE-----
`;
export const KEY_A = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgPm0qKT7/quEsfQAx
rJ14cJTgqu0+VXdPQfD+YinwUFqhRANCAAScJbwNAKv7UUT70EOL1nRe4WpMNmsr
uHds4PijVBW8jETWflcbowXJxNmC+vwfjuTQ0HZQXT8BcDul62xEz56n
-----END PRIVATE KEY-----
`;
/** Covers b.example.com and *.b.example.com. */
export const CERT_B = `-----BEGIN CERTIFICATE-----
MIIBsjCCAVigAwIBAgIUeBjcHMBwAcr6y1UmV2J1f1MUz5gwCgYIKoZIzj0EAwIw
GDEWMBQGA1UEAwwNYi5leGFtcGxlLmNvbTAgFw0yNjExMjEwOTQ3NTJaGA8yMTI2
MTAyODA5NDc1MlowGDEWMBQGA1UEAwwNYi5leGFtcGxlLmNvbTBZMBMGByqGSM49
AgEGCCqGSM49AwEHA0IABJpVEbWqAzPLlVqYZvF5F2txslwfnInOGOptdDR3z7if
gLEdlXB5LqK3QR4kzOh11QI3SW4FsSw/k5J/eBKNEkWjfjB8MB0GA1UdDgQWBBT8
Ydpmz/3AEijYhhfAc5biaVXSBjAfBgNVHSMEGDAWgBT8Ydpmz/3AEijYhhfAc5bi
aVXSBjAPBgNVHRMBAf8EBTADAQH/MCkGA1UdEQQiMCCCDWIuZXhhbXBsZS5jb22C
DyouYi5leGFtcGxlLmNvbTAKBggqhkjOPQQDAgNIADBFAiEA4a0YJcPmMuE40TyH
xe/cIYsvMmnRaVn6yNdWm7/Y95gCIDbGLAsNnIvPw9A+QQAVhUwcKCtccA2cnYYH
AdKb6HUG
-----END CERTIFICATE-----
`;
export const KEY_B = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg2uSVYPcvAQbRyjyD
9bpY79+VnM0DVTk6F04m+lVokPmhRANCAASaVRG1qgMzy5VamGbxeRdrcbJcH5yJ
zhjqbXQ0d8+4n4CxHZVweS6it0EeJMzoddUCN0luBbEsP5OSf3gSjRJF
-----END PRIVATE KEY-----
`;

export type PathTypeName = 'Exact' | 'Prefix' | 'ImplementationSpecific';

export interface PathSpec {
  path?: string;
  pathType?: PathTypeName;
  service: string;
  /** A number is the Service's port; a string its port name. */
  port: number | string;
}

export interface RuleSpec {
  host?: string;
  paths: PathSpec[];
}

export interface IngressSpec {
  namespace?: string;
  uid?: string;
  created?: string;
  /** spec.ingressClassName; default `wsgate`, null for none. */
  className?: string | null;
  annotations?: Record<string, string>;
  /** One rule: host + paths. */
  host?: string;
  paths?: PathSpec[];
  rules?: RuleSpec[];
  defaultBackend?: { service: string; port: number | string };
  tls?: { hosts?: string[]; secretName?: string }[];
}

function backend(service: string, port: number | string): V1IngressBackend {
  return { service: { name: service, port: typeof port === 'number' ? { number: port } : { name: port } } };
}

export function ingress(name: string, spec: IngressSpec = {}): V1Ingress {
  const namespace = spec.namespace ?? 'default';
  const rules: RuleSpec[] = [...(spec.paths !== undefined || spec.host !== undefined ? [{ host: spec.host, paths: spec.paths ?? [] }] : []), ...(spec.rules ?? [])];
  const object: V1Ingress = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name,
      namespace,
      uid: spec.uid ?? `uid-${namespace}-${name}`,
      creationTimestamp: new Date(spec.created ?? CREATED),
      ...(spec.annotations === undefined ? {} : { annotations: spec.annotations }),
    },
    spec: {
      ...(spec.className === null ? {} : { ingressClassName: spec.className ?? 'wsgate' }),
      ...(spec.defaultBackend === undefined ? {} : { defaultBackend: backend(spec.defaultBackend.service, spec.defaultBackend.port) }),
      ...(rules.length === 0
        ? {}
        : {
            rules: rules.map((rule) => ({
              ...(rule.host === undefined ? {} : { host: rule.host }),
              http: {
                paths: rule.paths.map((p) => ({ path: p.path ?? '/', pathType: p.pathType ?? 'Prefix', backend: backend(p.service, p.port) })),
              },
            })),
          }),
      ...(spec.tls === undefined ? {} : { tls: spec.tls }),
    },
  };
  return object;
}

export function ingressClass(name = 'wsgate', options: { controller?: string; isDefault?: boolean } = {}): V1IngressClass {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: {
      name,
      ...(options.isDefault ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}),
    },
    spec: { controller: options.controller ?? CONTROLLER },
  };
}

export interface ServicePortSpec {
  name?: string;
  port: number;
  targetPort?: number | string;
}

export function service(name: string, options: { namespace?: string; ports?: ServicePortSpec[] } = {}): V1Service {
  const ports = options.ports ?? [{ name: 'http', port: 80, targetPort: 8080 }];
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: options.namespace ?? 'default' },
    spec: {
      selector: { app: name },
      ports: ports.map((p) => ({
        ...(p.name === undefined ? {} : { name: p.name }),
        port: p.port,
        protocol: 'TCP',
        ...(p.targetPort === undefined ? {} : { targetPort: p.targetPort as never }),
      })),
    },
  };
}

export interface EndpointSpec {
  address: string;
  /** Unset = the API's "unknown", which counts as ready. */
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  pod?: string;
}

export interface SliceSpec {
  namespace?: string;
  /** Default `<service>-<first address's last digits>`. */
  name?: string;
  addressType?: 'IPv4' | 'IPv6' | 'FQDN';
  /** Default one port named http, 8080 (the container port behind Service port http/80). */
  ports?: { name?: string; port: number }[];
  /** A plain address is a ready endpoint. */
  endpoints?: (string | EndpointSpec)[];
}

export function endpointSlice(serviceName: string, options: SliceSpec = {}): V1EndpointSlice {
  const endpoints = (options.endpoints ?? []).map((e) => (typeof e === 'string' ? { address: e, ready: true } : e));
  const name = options.name ?? `${serviceName}-${(options.addressType ?? 'IPv4').toLowerCase()}`;
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: options.namespace ?? 'default', labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: options.addressType ?? 'IPv4',
    ports: (options.ports ?? [{ name: 'http', port: 8080 }]).map((p) => ({ ...(p.name === undefined ? {} : { name: p.name }), port: p.port, protocol: 'TCP' })),
    endpoints: endpoints.map((e) => ({
      addresses: [e.address],
      conditions: {
        ...(e.ready === undefined ? {} : { ready: e.ready }),
        ...(e.serving === undefined ? {} : { serving: e.serving }),
        ...(e.terminating === undefined ? {} : { terminating: e.terminating }),
      },
      ...(e.pod === undefined ? {} : { targetRef: { kind: 'Pod', name: e.pod, namespace: options.namespace ?? 'default' } }),
    })),
  };
}

export function tlsSecret(name: string, options: { namespace?: string; cert?: string; key?: string; type?: string } = {}): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: options.namespace ?? 'default' },
    type: options.type ?? 'kubernetes.io/tls',
    data: {
      'tls.crt': Buffer.from(options.cert ?? CERT_A).toString('base64'),
      'tls.key': Buffer.from(options.key ?? KEY_A).toString('base64'),
    },
  };
}

type AnyObject = V1IngressClass | V1Ingress | V1Service | V1EndpointSlice | V1Secret | V1ConfigMap;

/** Sort objects into translate()'s input by kind; unknown kinds are an error in the test. */
export function resources(...objects: AnyObject[]): Resources {
  const result: Resources = { ingressClasses: [], ingresses: [], services: [], endpointSlices: [], secrets: [] };
  for (const object of objects) {
    switch (object.kind) {
      case 'IngressClass': result.ingressClasses.push(object as V1IngressClass); break;
      case 'Ingress': result.ingresses.push(object as V1Ingress); break;
      case 'Service': result.services.push(object as V1Service); break;
      case 'EndpointSlice': result.endpointSlices.push(object as V1EndpointSlice); break;
      case 'Secret': result.secrets.push(object as V1Secret); break;
      case 'ConfigMap': (result.configMaps ??= []).push(object as V1ConfigMap); break;
      default: throw new Error(`resources(): unexpected kind ${String(object.kind)}`);
    }
  }
  return result;
}

/**
 * Multi-document YAML -> client-node models, deserialised the way the informers' objects are
 * (creationTimestamp becomes a Date). Parsed with the yaml package; each document goes through
 * client-node's own deserialiser as JSON (which is YAML).
 */
export function objectsFromYaml(text: string): Record<string, unknown>[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS() as Record<string, unknown> | null)
    .filter((document): document is Record<string, unknown> => document !== null);
}

export function kubernetesObject(document: Record<string, unknown>): AnyObject {
  return loadYaml<AnyObject>(JSON.stringify(document));
}

/**
 * A cluster for the bench and scale tests: `ingresses` Ingresses of class wsgate over 100
 * namespaces, each with its own host, a TLS entry on its namespace's Secret, a Service and one
 * EndpointSlice of `endpointsPerService` ready endpoints.
 */
export function syntheticCluster(ingresses: number, endpointsPerService: number): Resources {
  const objects: AnyObject[] = [ingressClass('wsgate')];
  const namespaces = Math.min(100, Math.max(1, ingresses));
  for (let n = 0; n < namespaces; n += 1) objects.push(tlsSecret('wildcard', { namespace: `ns-${n}` }));
  for (let i = 0; i < ingresses; i += 1) {
    const namespace = `ns-${i % namespaces}`;
    const name = `app-${i}`;
    const host = `app-${i}.a.example.com`;
    objects.push(
      ingress(name, {
        namespace,
        created: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
        annotations: { 'wsgate.io/idle-timeout': '10m', 'wsgate.io/max-connections': '1000' },
        host,
        paths: [{ path: '/ws', service: name, port: 80 }],
        tls: [{ hosts: [host], secretName: 'wildcard' }],
      }),
      service(name, { namespace }),
      endpointSlice(name, {
        namespace,
        endpoints: Array.from({ length: endpointsPerService }, (_, e) => ({
          address: `10.${(i >> 8) & 255}.${i & 255}.${e + 1}`,
          ready: true,
          pod: `${name}-${e}`,
        })),
      }),
    );
  }
  return resources(...objects);
}
