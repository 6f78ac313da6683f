// The Helm chart, rendered by Go templates as Helm would (see ./render.ts), for the defaults and
// every charts/wsgate/ci/*-values.yaml: what an operator gets from `helm install`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { chartDir, renderChart, ValuesSchemaError } from './render.ts';
import type { KubeObject, Rendered } from './render.ts';
import { kubeObjectProblems } from './kube-validate.ts';
import { permissions, readRbacRulesFile, renderedPermissions } from './rbac.ts';
import { parseOptions } from '../../src/commands/options.ts';

interface Container {
  name: string;
  args?: string[];
  ports?: { name: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  securityContext?: Record<string, unknown>;
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
}
interface Volume { name: string; emptyDir?: { medium?: string }; projected?: { sources: Record<string, unknown>[] } }
interface PodSpec {
  containers: Container[];
  volumes?: Volume[];
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
  terminationGracePeriodSeconds?: number;
  securityContext?: Record<string, unknown>;
}

const ciFiles = readdirSync(join(chartDir, 'ci')).filter((f) => f.endsWith('-values.yaml')).sort();
const variants: { name: string; render: () => Rendered }[] = [
  { name: 'defaults', render: () => renderChart() },
  ...ciFiles.map((f) => ({ name: `ci/${f}`, render: () => renderChart({ valuesFiles: [join(chartDir, 'ci', f)] }) })),
];

const renders = new Map<string, Rendered>();
function rendered(name: string): Rendered {
  let r = renders.get(name);
  if (!r) {
    const variant = variants.find((v) => v.name === name);
    assert.ok(variant, `no variant ${name}`);
    r = variant.render();
    renders.set(name, r);
  }
  return r;
}

function find(objects: KubeObject[], kind: string, name?: string): KubeObject[] {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}
function one(objects: KubeObject[], kind: string, name?: string): KubeObject {
  const found = find(objects, kind, name);
  assert.equal(found.length, 1, `expected one ${kind}${name ? ` ${name}` : ''}, got ${found.length}`);
  return found[0] as KubeObject;
}
function workload(objects: KubeObject[]): KubeObject {
  const found = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet');
  assert.equal(found.length, 1);
  return found[0] as KubeObject;
}
function podSpec(objects: KubeObject[]): PodSpec {
  return (workload(objects) as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
}
function container(pod: PodSpec, name: string): Container {
  const c = pod.containers.find((x) => x.name === name);
  assert.ok(c, `container ${name} in ${pod.containers.map((x) => x.name).join(',')}`);
  return c;
}
/** wsgate's own containers (not extraContainers), by their image. */
function wsgateContainers(pod: PodSpec): Container[] {
  return pod.containers.filter((c) => (c as { image?: string }).image?.startsWith('ghcr.io/wsgate/wsgate'));
}
function flag(c: Container, name: string): string | undefined {
  const arg = c.args?.find((a) => a.startsWith(`--${name}=`));
  return arg?.slice(name.length + 3);
}
function tokenVolumes(pod: PodSpec): string[] {
  return (pod.volumes ?? []).filter((v) => v.projected?.sources.some((s) => 'serviceAccountToken' in s)).map((v) => v.name);
}
function seconds(duration: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(duration);
  assert.ok(m, `duration ${duration}`);
  return Number(m[1]) * ({ ms: 0.001, s: 1, m: 60, h: 3600 } as Record<string, number>)[m[2] as string]!;
}

describe('every variant', () => {
  for (const { name } of variants) {
    describe(name, () => {
      it('renders objects that the Kubernetes API schemas accept, with no unknown field', () => {
        const { objects } = rendered(name);
        assert.ok(objects.length >= 8, `only ${objects.length} objects`);
        const problems = objects.flatMap((o) => kubeObjectProblems(o));
        assert.deepEqual(problems, []);
      });

      it('names each object once per kind and namespace', () => {
        const keys = rendered(name).objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
        assert.deepEqual(keys.filter((k, i) => keys.indexOf(k) !== i), []);
      });

      it('runs every container hardened: non-root, read-only root, no escalation, no capabilities, RuntimeDefault seccomp', () => {
        const pod = podSpec(rendered(name).objects);
        assert.equal(pod.securityContext?.runAsNonRoot, true);
        assert.deepEqual(pod.securityContext?.seccompProfile, { type: 'RuntimeDefault' });
        for (const c of pod.containers) {
          const sc = c.securityContext ?? {};
          assert.equal(sc.runAsNonRoot, true, c.name);
          assert.equal(sc.readOnlyRootFilesystem, true, c.name);
          assert.equal(sc.allowPrivilegeEscalation, false, c.name);
          assert.notEqual(sc.privileged, true, c.name);
          assert.deepEqual((sc.capabilities as { drop?: string[]; add?: string[] }).drop, ['ALL'], c.name);
          assert.equal((sc.capabilities as { add?: string[] }).add, undefined, c.name);
          assert.deepEqual(sc.seccompProfile, { type: 'RuntimeDefault' }, c.name);
          assert.ok(Number(sc.runAsUser) > 0, c.name);
        }
      });

      it('mounts the API token into the container that talks to the API server and nowhere else', () => {
        const pod = podSpec(rendered(name).objects);
        assert.equal(pod.automountServiceAccountToken, false);
        const sa = one(rendered(name).objects, 'ServiceAccount') as unknown as { automountServiceAccountToken?: boolean };
        assert.equal(sa.automountServiceAccountToken, false);
        const tokens = tokenVolumes(pod);
        assert.equal(tokens.length, 1);
        for (const c of pod.containers) {
          const hasToken = (c.volumeMounts ?? []).some((m) => tokens.includes(m.name));
          const talksToApi = c.args?.[0] === 'controller' || c.args?.[0] === 'run';
          assert.equal(hasToken, talksToApi, `${c.name} (${c.args?.[0]}) token mounted: ${hasToken}`);
        }
      });

      it('probes /healthz and /readyz on the admin port each container listens on', () => {
        const pod = podSpec(rendered(name).objects);
        for (const c of wsgateContainers(pod)) {
          const admin = Number(flag(c, 'admin-port'));
          const portOf = (p: string | number | undefined) => (typeof p === 'number' ? p : c.ports?.find((x) => x.name === p)?.containerPort);
          assert.equal(c.livenessProbe?.httpGet?.path, '/healthz', c.name);
          assert.equal(c.readinessProbe?.httpGet?.path, '/readyz', c.name);
          assert.equal(portOf(c.livenessProbe?.httpGet?.port), admin, c.name);
          assert.equal(portOf(c.readinessProbe?.httpGet?.port), admin, c.name);
        }
        const adminPorts = wsgateContainers(pod).map((c) => flag(c, 'admin-port'));
        assert.equal(new Set(adminPorts).size, adminPorts.length, 'containers of a pod share one network namespace');
      });

      it('passes each container only commands and flags that wsgate accepts', () => {
        for (const c of wsgateContainers(podSpec(rendered(name).objects))) {
          const options = parseOptions(c.args ?? [], {});
          assert.equal(options.command, c.args?.[0], c.name);
        }
      });

      it('gives pods longer to stop than wsgate takes to drain', () => {
        const pod = podSpec(rendered(name).objects);
        for (const c of pod.containers) {
          const timeout = seconds(flag(c, 'shutdown-timeout') ?? '30s');
          const delay = seconds(flag(c, 'shutdown-delay') ?? '5s');
          assert.ok((pod.terminationGracePeriodSeconds ?? 30) > Math.max(timeout, delay), `${pod.terminationGracePeriodSeconds} <= ${timeout}`);
        }
      });

      it('grants exactly the permissions listed in files/rbac-rules.yaml, bound to the pods\' ServiceAccount', () => {
        const { objects } = rendered(name);
        const file = readRbacRulesFile();
        const granted = renderedPermissions(objects);
        // Watching one namespace moves the namespaced reads from the ClusterRole into a Role there.
        const scoped = Boolean((rendered(name).values.config as { watchNamespace?: string }).watchNamespace);
        const clusterRules = scoped ? file.clusterScoped : [...file.clusterScoped, ...file.watchedNamespaces];
        // Secrets the controller is told to read by name outside the watched namespace: a Role in each of their namespaces.
        const watchNamespace = (rendered(name).values.config as { watchNamespace?: string }).watchNamespace;
        const controllerArgs = wsgateContainers(podSpec(objects)).filter((c) => c.args?.[0] !== 'proxy').flatMap((c) => c.args ?? []);
        const namedSecretNamespaces = new Set(controllerArgs.filter((a) => /^--(affinity-secret|default-cert-secret)=/.test(a)).map((a) => a.split('=')[1]!.split('/')[0]).filter((ns) => scoped && ns !== watchNamespace));
        const roleRules = [...file.electionNamespace, ...file.publishServiceNamespace, ...(scoped ? file.watchedNamespaces : []), ...[...namedSecretNamespaces].flatMap(() => file.namedSecrets)];
        assert.deepEqual([...granted.cluster].sort(), [...permissions(clusterRules)].sort());
        const all = [...granted.namespaced.values()].flatMap((s) => [...s]).sort();
        assert.deepEqual(all, roleRules.flatMap((r) => [...permissions([r])]).sort());
        assert.ok(![...granted.cluster, ...all].some((p) => p.includes('*')), 'no wildcard');
        const sa = podSpec(objects).serviceAccountName;
        const releaseNamespace = (rendered(name).values.namespaceOverride as string | undefined) || 'wsgate';
        for (const binding of [...find(objects, 'ClusterRoleBinding'), ...find(objects, 'RoleBinding')]) {
          const b = binding as unknown as { metadata: { namespace?: string }; subjects: { kind: string; name: string; namespace: string }[]; roleRef: { kind: string; name: string } };
          assert.deepEqual(b.subjects, [{ kind: 'ServiceAccount', name: sa, namespace: releaseNamespace }]);
          const roles = find(objects, b.roleRef.kind, b.roleRef.name).filter((r) => r.metadata.namespace === b.metadata.namespace);
          assert.equal(roles.length, 1, `${binding.kind} ${binding.metadata.name} refers to a ${b.roleRef.kind} that exists`);
        }
      });

      it('exposes 80 and 443 on the traffic Service and keeps the admin ports off it', () => {
        const svc = one(rendered(name).objects, 'Service', 'wsgate') as unknown as { spec: { type: string; ports: { name: string; port: number; targetPort: string }[] } };
        assert.equal(svc.spec.type, 'LoadBalancer');
        assert.deepEqual(svc.spec.ports.map((p) => [p.port, p.targetPort]), [[80, 'http'], [443, 'https']]);
        const pod = podSpec(rendered(name).objects);
        const served = pod.containers.flatMap((c) => c.ports ?? []).map((p) => p.name);
        for (const p of svc.spec.ports) assert.ok(served.includes(p.targetPort), p.targetPort);
      });
    });
  }
});

describe('default install (sidecar)', () => {
  it('runs controller and proxy from one image, sharing the snapshot through an in-memory volume', () => {
    const pod = podSpec(rendered('defaults').objects);
    assert.deepEqual(pod.containers.map((c) => c.name), ['controller', 'proxy']);
    const controller = container(pod, 'controller');
    const proxy = container(pod, 'proxy');
    assert.equal((controller as { image?: string }).image, (proxy as { image?: string }).image);
    assert.deepEqual(controller.args?.slice(0, 2), ['controller', '--output=/run/wsgate/snapshot.json']);
    assert.deepEqual(proxy.args?.slice(0, 2), ['proxy', '--config=/run/wsgate/snapshot.json']);
    const mountOf = (c: Container) => c.volumeMounts?.find((m) => m.mountPath === '/run/wsgate');
    assert.equal(mountOf(controller)?.name, mountOf(proxy)?.name);
    assert.equal(mountOf(proxy)?.readOnly, true);
    const volume = pod.volumes?.find((v) => v.name === mountOf(proxy)?.name);
    assert.equal(volume?.emptyDir?.medium, 'Memory');
  });

  it('has no credentials of any kind in the proxy container', () => {
    const pod = podSpec(rendered('defaults').objects);
    const proxy = container(pod, 'proxy');
    const mounted = (proxy.volumeMounts ?? []).map((m) => pod.volumes?.find((v) => v.name === m.name));
    for (const v of mounted) assert.ok(v?.emptyDir, `proxy mounts ${v?.name}, which is not an emptyDir`);
    assert.ok(!(proxy.volumeMounts ?? []).some((m) => m.mountPath.startsWith('/var/run/secrets')));
  });

  it('passes the SPEC §3 flags: ports, class, publish service and the Lease namespace', () => {
    const pod = podSpec(rendered('defaults').objects);
    const proxy = container(pod, 'proxy');
    const controller = container(pod, 'controller');
    assert.equal(flag(proxy, 'http-port'), '8080');
    assert.equal(flag(proxy, 'https-port'), '8443');
    assert.equal(flag(proxy, 'admin-port'), '9090');
    assert.equal(flag(controller, 'ingress-class'), 'wsgate');
    assert.equal(flag(controller, 'publish-service'), 'wsgate/wsgate');
    assert.equal(flag(controller, 'election-namespace'), 'wsgate');
    assert.equal(flag(controller, 'default-cert-secret'), undefined);
  });

  it('creates the IngressClass of wsgate\'s controller, not the default class', () => {
    const ic = one(rendered('defaults').objects, 'IngressClass', 'wsgate') as unknown as { spec: { controller: string }; metadata: { annotations?: Record<string, string> } };
    assert.equal(ic.spec.controller, 'wsgate.io/ingress-controller');
    assert.equal(ic.metadata.annotations?.['ingressclass.kubernetes.io/is-default-class'], undefined);
  });

  it('keeps a PodDisruptionBudget and rolls out without losing capacity', () => {
    const { objects } = rendered('defaults');
    const pdb = one(objects, 'PodDisruptionBudget') as unknown as { spec: { maxUnavailable: number; selector: { matchLabels: Record<string, string> } } };
    const deploy = workload(objects) as unknown as { spec: { replicas: number; strategy: { rollingUpdate: { maxUnavailable: number } }; template: { metadata: { labels: Record<string, string> } } } };
    assert.equal(deploy.spec.replicas, 2);
    assert.equal(deploy.spec.strategy.rollingUpdate.maxUnavailable, 0);
    for (const [k, v] of Object.entries(pdb.spec.selector.matchLabels)) assert.equal(deploy.spec.template.metadata.labels[k], v);
  });

  it('renders no monitoring objects and no HPA unless asked', () => {
    const kinds = rendered('defaults').objects.map((o) => o.kind);
    for (const k of ['ServiceMonitor', 'PrometheusRule', 'HorizontalPodAutoscaler', 'ConfigMap']) assert.ok(!kinds.includes(k), k);
  });

  it('warns in NOTES.txt about a ServiceMonitor Prometheus will not select, or one that renames the labels', () => {
    const notes = (values: Record<string, unknown>) => renderChart({ values: { metrics: { serviceMonitor: { enabled: true, ...values } } } }).notes;
    assert.match(notes({}), /metrics\.serviceMonitor\.labels\.release=/);
    assert.doesNotMatch(notes({ labels: { release: 'kps' } }), /labels\.release=|exported_namespace/);
    assert.match(notes({ labels: { release: 'kps' }, honorLabels: false }), /exported_namespace/);
  });

  it('tells the user how to reach it and how to use the class in NOTES.txt', () => {
    const { notes } = rendered('defaults');
    assert.match(notes, /ingressClassName: wsgate/);
    assert.match(notes, /kubectl -n wsgate get service wsgate/);
    assert.match(notes, /self-signed/);
  });
});

describe('ci variants', () => {
  it('combined: one `wsgate run` container holding the token, no snapshot volume', () => {
    const pod = podSpec(rendered('ci/combined-values.yaml').objects);
    assert.deepEqual(pod.containers.map((c) => c.name), ['wsgate']);
    const c = container(pod, 'wsgate');
    assert.equal(c.args?.[0], 'run');
    assert.equal(flag(c, 'http-port'), '8080');
    assert.equal(flag(c, 'publish-service'), 'wsgate/wsgate');
    assert.ok(!(pod.volumes ?? []).some((v) => v.emptyDir?.medium === 'Memory'));
    const metrics = one(rendered('ci/combined-values.yaml').objects, 'Service', 'wsgate-metrics') as unknown as { spec: { ports: { name: string }[] } };
    assert.deepEqual(metrics.spec.ports.map((p) => p.name), ['metrics']);
  });

  it('daemonset: a DaemonSet with Local traffic policy and the PROXY protocol from trusted ranges', () => {
    const { objects } = rendered('ci/daemonset-values.yaml');
    const ds = one(objects, 'DaemonSet') as unknown as { spec: Record<string, unknown> };
    assert.equal(ds.spec.replicas, undefined);
    const svc = one(objects, 'Service', 'wsgate') as unknown as { spec: { externalTrafficPolicy: string } };
    assert.equal(svc.spec.externalTrafficPolicy, 'Local');
    const proxy = container(podSpec(objects), 'proxy');
    assert.ok(proxy.args?.includes('--proxy-protocol'));
    assert.equal(flag(proxy, 'proxy-protocol-trusted-cidrs'), '10.0.0.0/8');
  });

  it('default class: the IngressClass is the default, and the Roles follow the Lease and publish-service namespaces', () => {
    const { objects } = rendered('ci/default-class-values.yaml');
    const ic = one(objects, 'IngressClass') as unknown as { metadata: { annotations?: Record<string, string> } };
    assert.equal(ic.metadata.annotations?.['ingressclass.kubernetes.io/is-default-class'], 'true');
    const controller = container(podSpec(objects), 'controller');
    assert.equal(flag(controller, 'watch-namespace'), 'apps');
    assert.equal(flag(controller, 'default-cert-secret'), 'wsgate/default-cert');
    assert.equal(flag(controller, 'publish-service'), 'edge/public-lb');
    const granted = renderedPermissions(objects).namespaced;
    assert.deepEqual([...(granted.get('edge') ?? [])], ['core/services:get']);
    // Scoped to the watched namespace: Secrets are readable there and nowhere else.
    assert.ok(granted.get('apps')?.has('core/secrets:list'));
    assert.ok(!renderedPermissions(objects).cluster.has('core/secrets:list'));
    // Cluster-wide only what is cluster-scoped: IngressClasses, GatewayClasses, Namespaces.
    assert.deepEqual([...renderedPermissions(objects).cluster].sort(), [
      'core/namespaces:list',
      'core/namespaces:watch',
      'gateway.networking.k8s.io/gatewayclasses/status:patch',
      'gateway.networking.k8s.io/gatewayclasses:list',
      'gateway.networking.k8s.io/gatewayclasses:watch',
      'networking.k8s.io/ingressclasses:list',
      'networking.k8s.io/ingressclasses:watch',
    ]);
    // The release namespace: the Lease, and by name only the two Secrets the flags point at there.
    assert.deepEqual([...(granted.get('wsgate') ?? [])].sort(), ['coordination.k8s.io/leases:create', 'coordination.k8s.io/leases:get', 'coordination.k8s.io/leases:update', 'core/secrets:list', 'core/secrets:watch']);
    assert.equal(flag(controller, 'affinity-secret'), 'wsgate/wsgate-affinity');
    const role = find(objects, 'Role').find((r) => r.metadata.namespace === 'wsgate') as unknown as { rules: { resources: string[]; resourceNames?: string[] }[] };
    const secretRules = role.rules.filter((r) => r.resources.includes('secrets'));
    assert.deepEqual(secretRules.map((r) => r.resourceNames).sort(), [['default-cert'], ['wsgate-affinity']]);
  });

  it('hpa: an HPA owns the replica count and the grace period follows a longer shutdown timeout', () => {
    const { objects } = rendered('ci/hpa-values.yaml');
    const hpa = one(objects, 'HorizontalPodAutoscaler') as unknown as { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number } };
    const deploy = workload(objects) as unknown as { kind: string; metadata: { name: string }; spec: Record<string, unknown> };
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: deploy.kind, name: deploy.metadata.name });
    assert.equal(deploy.spec.replicas, undefined);
    assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas], [3, 12]);
    assert.equal(podSpec(objects).terminationGracePeriodSeconds, 135);
  });

  it('monitoring: the ServiceMonitor selects only the metrics Service, by ports it has', () => {
    const { objects } = rendered('ci/monitoring-values.yaml');
    const sm = one(objects, 'ServiceMonitor') as unknown as { metadata: { labels: Record<string, string> }; spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] } };
    assert.equal(sm.metadata.labels.release, 'prometheus');
    const selected = find(objects, 'Service').filter((s) => Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v));
    assert.deepEqual(selected.map((s) => s.metadata.name), ['wsgate-metrics']);
    const ports = (selected[0] as unknown as { spec: { ports: { name: string }[] } }).spec.ports.map((p) => p.name);
    assert.deepEqual(sm.spec.endpoints.map((e) => e.port), ports);
    assert.ok(sm.spec.endpoints.every((e) => e.path === '/metrics'));
    one(objects, 'PrometheusRule');
    const dashboard = one(objects, 'ConfigMap', 'wsgate-dashboard') as unknown as { metadata: { labels: Record<string, string> }; data: Record<string, string> };
    assert.equal(dashboard.metadata.labels.grafana_dashboard, '1');
    assert.equal((JSON.parse(dashboard.data['wsgate.json'] as string) as { title: string }).title, 'wsgate');
  });
});

describe('values', () => {
  it('refuses a misspelled value anywhere, naming it', () => {
    const typos: [Record<string, unknown>, string][] = [
      [{ replicaCont: 3 }, 'replicaCont'],
      [{ service: { externalTraficPolicy: 'Local' } }, 'externalTraficPolicy'],
      [{ metrics: { serviceMonitor: { enable: true } } }, 'enable'],
      [{ config: { proxyProtocol: { trustedCIDRs: ['10.0.0.0/8'] } } }, 'trustedCIDRs'],
      [{ securityContext: { capabilites: { add: ['NET_ADMIN'] } } }, 'capabilites'],
    ];
    for (const [values, key] of typos) {
      assert.throws(() => renderChart({ values }), (err: unknown) => err instanceof ValuesSchemaError && err.message.includes(key), key);
    }
  });

  it('refuses values of the wrong type or outside what wsgate accepts', () => {
    const bad: Record<string, unknown>[] = [
      { replicaCount: 'two' },
      { mode: 'split' },
      { kind: 'StatefulSet' },
      { config: { shutdownTimeout: '30 seconds' } },
      { service: { externalTrafficPolicy: 'local' } },
      { config: { publishService: 'just-a-name' } },
    ];
    for (const values of bad) assert.throws(() => renderChart({ values }), ValuesSchemaError, JSON.stringify(values));
  });

  it('cannot switch off the hardening', () => {
    for (const values of [{ securityContext: { allowPrivilegeEscalation: true } }, { podSecurityContext: { runAsNonRoot: false } }, { securityContext: { privileged: true } }]) {
      assert.throws(() => renderChart({ values }), ValuesSchemaError, JSON.stringify(values));
    }
  });

  it('accepts a correctly spelled override and applies it', () => {
    const { objects } = renderChart({ values: { replicaCount: 5, config: { shutdownTimeout: '1m' } } });
    const deploy = workload(objects) as unknown as { spec: { replicas: number; template: { spec: PodSpec } } };
    assert.equal(deploy.spec.replicas, 5);
    assert.equal(deploy.spec.template.spec.terminationGracePeriodSeconds, 75);
  });

  it('fails with a clear message where values contradict each other', () => {
    assert.throws(() => renderChart({ values: { kind: 'DaemonSet', autoscaling: { enabled: true } } }), /autoscaling\.enabled needs kind: Deployment/);
  });
});

interface EnvVar { name: string; value?: string }
type Spec<T> = KubeObject & { spec: T };

describe('operator knobs (ci/operator-knobs-values.yaml)', () => {
  const objects = () => rendered('ci/operator-knobs-values.yaml').objects;
  const pod = () => podSpec(objects()) as PodSpec & Record<string, unknown>;

  it('puts every namespaced object in namespaceOverride (monitoring objects where asked) and commonLabels on every object and pod', () => {
    const monitoringKinds = ['ServiceMonitor', 'PodMonitor', 'PrometheusRule'];
    for (const o of objects()) {
      if (['ClusterRole', 'ClusterRoleBinding', 'IngressClass'].includes(o.kind)) assert.equal(o.metadata.namespace, undefined, o.kind);
      else if (monitoringKinds.includes(o.kind)) assert.equal(o.metadata.namespace, 'monitoring', o.kind);
      else assert.equal(o.metadata.namespace, 'edge-system', `${o.kind} ${o.metadata.name}`);
      // extraObjects are the user's own, labelled as written.
      if (!['wsgate-proxy-env', 'wsgate-notes'].includes(o.metadata.name)) assert.equal(o.metadata.labels?.team, 'platform', `${o.kind} ${o.metadata.name}`);
    }
    const labels = (workload(objects()) as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template.metadata.labels;
    assert.equal(labels.team, 'platform');
    assert.equal(labels['sidecar.istio.io/inject'], 'false');
    const controller = container(pod(), 'controller');
    assert.equal(flag(controller, 'election-namespace'), 'edge-system');
    assert.equal(flag(controller, 'publish-service'), 'edge-system/wsgate');
  });

  it('adds env, envFrom and volume mounts per container, extra volumes, sidecars and init containers', () => {
    const p = pod();
    const env = (c: string) => ((container(p, c) as { env?: EnvVar[] }).env ?? []).map((e) => e.name);
    assert.ok(env('proxy').includes('UV_THREADPOOL_SIZE') && !env('proxy').includes('HTTPS_PROXY'));
    assert.ok(env('controller').includes('HTTPS_PROXY') && !env('controller').includes('UV_THREADPOOL_SIZE'));
    assert.deepEqual((container(p, 'proxy') as { envFrom?: unknown[] }).envFrom, [{ configMapRef: { name: 'wsgate-proxy-env' } }]);
    assert.deepEqual((container(p, 'controller') as { envFrom?: unknown[] }).envFrom, [{ secretRef: { name: 'wsgate-controller-env' } }]);
    for (const c of ['proxy', 'controller']) assert.ok(container(p, c).volumeMounts?.some((m) => m.name === 'trusted-ca' && m.mountPath === '/etc/ssl/corporate'), c);
    assert.ok(p.volumes?.some((v) => v.name === 'trusted-ca'));
    assert.deepEqual(p.containers.map((c) => c.name), ['controller', 'proxy', 'log-shipper']);
    assert.deepEqual((p.initContainers as { name: string }[]).map((c) => c.name), ['wait-for-dns']);
  });

  it('maps hostPorts 80/443 onto the traffic container ports', () => {
    const ports = (container(pod(), 'proxy') as { ports: { name: string; containerPort: number; hostPort?: number }[] }).ports;
    assert.deepEqual(ports.map((x) => [x.name, x.containerPort, x.hostPort]), [['http', 8080, 80], ['https', 8443, 443], ['metrics', 9090, undefined]]);
  });

  it('makes the Services dual-stack and adds an internal Service with the traffic ports only', () => {
    const svc = one(objects(), 'Service', 'wsgate') as Spec<{ ipFamilies: string[]; ipFamilyPolicy: string; selector: Record<string, string> }>;
    assert.deepEqual([svc.spec.ipFamilyPolicy, svc.spec.ipFamilies], ['PreferDualStack', ['IPv4', 'IPv6']]);
    const internal = one(objects(), 'Service', 'wsgate-internal') as Spec<{ type: string; selector: Record<string, string>; ports: { targetPort: string }[]; loadBalancerSourceRanges: string[] }>;
    assert.equal(internal.spec.type, 'LoadBalancer');
    assert.equal(internal.metadata.annotations?.['service.beta.kubernetes.io/aws-load-balancer-internal'], 'true');
    assert.deepEqual(internal.spec.selector, svc.spec.selector);
    assert.deepEqual(internal.spec.ports.map((x) => x.targetPort), ['http', 'https']);
    assert.deepEqual(internal.spec.loadBalancerSourceRanges, ['10.0.0.0/8']);
  });

  it('applies the rollout knobs and a soft anti-affinity for its 3 replicas', () => {
    const deploy = workload(objects()) as Spec<{ minReadySeconds: number; revisionHistoryLimit: number; strategy: unknown }>;
    assert.equal(deploy.spec.minReadySeconds, 10);
    assert.equal(deploy.spec.revisionHistoryLimit, 3);
    assert.deepEqual(deploy.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } });
    const affinity = pod().affinity as { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: unknown[]; requiredDuringSchedulingIgnoredDuringExecution?: unknown } };
    assert.equal(affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution.length, 1);
    assert.equal(affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution, undefined);
  });

  it('opens the traffic ports to all and the admin ports only to the allowed peers (NetworkPolicy)', () => {
    const np = one(objects(), 'NetworkPolicy') as Spec<{ podSelector: { matchLabels: Record<string, string> }; ingress: { from?: unknown[]; ports: { port: string }[] }[] }>;
    const podLabels = (workload(objects()) as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template.metadata.labels;
    for (const [k, v] of Object.entries(np.spec.podSelector.matchLabels)) assert.equal(podLabels[k], v);
    const open = np.spec.ingress.filter((r) => !r.from);
    assert.deepEqual(open.flatMap((r) => r.ports.map((x) => x.port)), ['http', 'https']);
    const admin = np.spec.ingress.filter((r) => r.from);
    assert.deepEqual(admin.flatMap((r) => r.ports.map((x) => x.port)), ['metrics', 'ctrl-metrics']);
    assert.deepEqual(admin[0]?.from, [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
  });

  it('passes the monitoring knobs: metrics Service annotations, ServiceMonitor and PodMonitor settings, rules elsewhere', () => {
    const metricsSvc = one(objects(), 'Service', 'wsgate-metrics');
    assert.equal(metricsSvc.metadata.annotations?.['prometheus.io/scrape'], 'true');
    const sm = one(objects(), 'ServiceMonitor') as Spec<{ namespaceSelector: { matchNames: string[] }; endpoints: { honorLabels: boolean; scrapeTimeout: string; relabelings: { targetLabel?: string }[]; metricRelabelings: { action?: string }[] }[] }>;
    assert.deepEqual(sm.spec.namespaceSelector.matchNames, ['edge-system']);
    for (const ep of sm.spec.endpoints) {
      assert.equal(ep.honorLabels, true);
      assert.equal(ep.scrapeTimeout, '10s');
      // The chart's relabelings first, so a user's cannot be undone by them.
      assert.deepEqual(ep.relabelings.map((r) => r.targetLabel), ['controller_namespace', 'controller_pod', 'node']);
      assert.deepEqual(ep.metricRelabelings.map((r) => r.action), ['drop']);
    }
    const pm = one(objects(), 'PodMonitor') as Spec<{ selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: { port: string }[] }>;
    assert.deepEqual(pm.spec.podMetricsEndpoints.map((e) => e.port), ['metrics', 'ctrl-metrics']);
    const rule = one(objects(), 'PrometheusRule') as Spec<{ groups: { name: string; rules: { alert?: string; expr: string }[] }[] }>;
    const names = rule.spec.groups.flatMap((g) => g.rules.map((r) => r.alert));
    assert.ok(!names.includes('WsgateEventLoopLagHigh'));
    assert.ok(names.includes('WsgateNoConnections'));
    // The target-down alert looks for the PodMonitor's job (NAMESPACE/NAME) too.
    assert.match(rule.spec.groups[0]?.rules.find((r) => r.alert === 'WsgateTargetDown')?.expr ?? '', /job=~"wsgate-metrics\|monitoring\/wsgate", controller_namespace="edge-system"/);
  });

  it('deploys extraObjects, strings rendered as templates', () => {
    one(objects(), 'ConfigMap', 'wsgate-proxy-env');
    const notes = one(objects(), 'ConfigMap', 'wsgate-notes') as KubeObject & { data: Record<string, string> };
    assert.equal(notes.data.release, 'wsgate');
  });
});

describe('hostNetwork (ci/hostnetwork-values.yaml)', () => {
  it('runs on the node network with the DNS policy that still resolves cluster names, and no anti-affinity for a DaemonSet', () => {
    const p = podSpec(rendered('ci/hostnetwork-values.yaml').objects) as PodSpec & Record<string, unknown>;
    assert.equal(p.hostNetwork, true);
    assert.equal(p.dnsPolicy, 'ClusterFirstWithHostNet');
    assert.equal(p.affinity, undefined);
  });

  it('refuses hostPort together with hostNetwork', () => {
    assert.throws(() => renderChart({ values: { hostNetwork: true, hostPort: { enabled: true } } }), /hostPort/);
  });
});

describe('NODE_OPTIONS from the memory limit', () => {
  const nodeOptions = (values: Record<string, unknown>, name: string) => {
    const c = container(podSpec(renderChart({ values }).objects), name) as { env?: EnvVar[] };
    return (c.env ?? []).filter((e) => e.name === 'NODE_OPTIONS').map((e) => e.value);
  };

  it('caps each proxy worker\'s heap at its share of 75% of the limit, and the controller\'s at 75%', () => {
    // 512Mi x 75% / 2 workers; 256Mi x 75%.
    assert.deepEqual(nodeOptions({}, 'proxy'), ['--max-old-space-size=192']);
    assert.deepEqual(nodeOptions({}, 'controller'), ['--max-old-space-size=192']);
    assert.deepEqual(nodeOptions({ config: { workers: 4 }, resources: { proxy: { limits: { memory: '2Gi' } } } }, 'proxy'), ['--max-old-space-size=384']);
    assert.deepEqual(nodeOptions({ config: { heapPercentOfMemoryLimit: 50 }, resources: { controller: { limits: { memory: '1G' } } } }, 'controller'), ['--max-old-space-size=476']);
  });

  it('leaves it alone without a limit, at 0%, or when extraEnv sets NODE_OPTIONS itself', () => {
    assert.deepEqual(nodeOptions({ resources: { proxy: { limits: null } } }, 'proxy'), []);
    assert.deepEqual(nodeOptions({ config: { heapPercentOfMemoryLimit: 0 } }, 'proxy'), []);
    assert.deepEqual(nodeOptions({ extraEnv: { proxy: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=300' }] } }, 'proxy'), ['--max-old-space-size=300']);
  });
});

describe('soft pod anti-affinity', () => {
  const affinity = (values: Record<string, unknown>) => (podSpec(renderChart({ values }).objects) as PodSpec & { affinity?: unknown }).affinity;

  it('spreads more than one replica over nodes by default, preferred rather than required', () => {
    const a = affinity({}) as { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: { podAffinityTerm: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } } }[] } };
    const term = a.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]?.podAffinityTerm;
    assert.equal(term?.topologyKey, 'kubernetes.io/hostname');
    assert.deepEqual(term?.labelSelector.matchLabels, { 'app.kubernetes.io/name': 'wsgate', 'app.kubernetes.io/instance': 'wsgate' });
    assert.ok(affinity({ replicaCount: 1, autoscaling: { enabled: true, maxReplicas: 4 } }), 'an HPA may scale out');
  });

  it('stays out of one replica, a switched-off default and a user\'s own affinity', () => {
    assert.equal(affinity({ replicaCount: 1 }), undefined);
    assert.equal(affinity({ softPodAntiAffinity: false }), undefined);
    const own = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'edge', operator: 'Exists' }] }] } } };
    assert.deepEqual(affinity({ affinity: own }), own);
  });
});

describe('admin, access-log and RBAC flags', () => {
  const proxyArgs = (values: Record<string, unknown>) => container(podSpec(renderChart({ values }).objects), 'proxy').args ?? [];

  it('passes --access-log=false, --admin-bind-address and --expose-config only when set (SPEC §3)', () => {
    const defaults = proxyArgs({});
    assert.ok(!defaults.some((a) => /^--(access-log|admin-bind-address|expose-config)/.test(a)), defaults.join(' '));
    const values = { config: { accessLog: false, adminBindAddress: '::', exposeConfig: true } };
    const set = proxyArgs(values);
    for (const a of ['--access-log=false', '--admin-bind-address=::', '--expose-config']) assert.ok(set.includes(a), a);
    // The controller's admin port binds the same way; the access log is the proxy's alone.
    const controller = container(podSpec(renderChart({ values }).objects), 'controller').args ?? [];
    assert.ok(controller.includes('--admin-bind-address=::') && controller.includes('--expose-config'));
    assert.ok(!controller.includes('--access-log=false'));
  });

  it('refuses a loopback admin address, which would fail every probe', () => {
    for (const address of ['127.0.0.1', '::1', 'localhost']) {
      assert.throws(() => renderChart({ values: { config: { adminBindAddress: address } } }), /kubelet probes the admin port on the pod IP/, address);
    }
  });
});

describe('new values are spelled or refused', () => {
  it('refuses a misspelled new value, naming it', () => {
    const typos: [Record<string, unknown>, string][] = [
      [{ extraEnvs: { proxy: [] } }, 'extraEnvs'],
      [{ extraEnv: { proxyy: [] } }, 'proxyy'],
      [{ metrics: { serviceMonitor: { honourLabels: true } } }, 'honourLabels'],
      [{ metrics: { podMonitor: { intreval: '30s' } } }, 'intreval'],
      [{ metrics: { serviceMonitor: { relabelings: [{ source_labels: ['x'] }] } } }, 'source_labels'],
      [{ service: { internal: { enable: true } } }, 'enable'],
      [{ networkPolicy: { adminfrom: [] } }, 'adminfrom'],
      [{ hostPort: { enabeld: true } }, 'enabeld'],
      [{ updateStrategy: { rollingupdate: { maxSurge: 1 } } }, 'rollingupdate'],
      [{ config: { acessLog: false } }, 'acessLog'],
      [{ metrics: { prometheusRule: { additionalRule: [] } } }, 'additionalRule'],
      [{ namespaceOveride: 'x' }, 'namespaceOveride'],
    ];
    for (const [values, key] of typos) {
      assert.throws(() => renderChart({ values }), (err: unknown) => err instanceof ValuesSchemaError && err.message.includes(key), key);
    }
  });

  it('refuses new values of the wrong shape', () => {
    for (const values of [{ service: { ipFamilies: ['IPv5'] } }, { service: { ipFamilyPolicy: 'DualStack' } }, { dnsPolicy: 'clusterfirst' }, { config: { heapPercentOfMemoryLimit: 120 } }, { metrics: { serviceMonitor: { scrapeTimeout: '10 s' } } }]) {
      assert.throws(() => renderChart({ values }), ValuesSchemaError, JSON.stringify(values));
    }
  });
});

describe('affinity key Secret (issue 13: replicas agree on a cookie)', () => {
  interface Secret { type: string; data: Record<string, string> }
  const keyOf = (objects: KubeObject[]): string => {
    const secret = one(objects, 'Secret', 'wsgate-affinity') as unknown as Secret;
    assert.equal(secret.type, 'Opaque');
    assert.deepEqual(Object.keys(secret.data), ['affinity.key']);
    return Buffer.from(secret.data['affinity.key'] as string, 'base64').toString('latin1');
  };
  const controllerSide = (objects: KubeObject[]): Container => {
    const pod = podSpec(objects);
    return pod.containers.find((c) => c.args?.[0] === 'controller' || c.args?.[0] === 'run') as Container;
  };

  it('creates an Opaque Secret with a random 32-character affinity.key and points the controller at it, in both topologies', () => {
    for (const name of ['defaults', 'ci/combined-values.yaml']) {
      const { objects } = rendered(name);
      assert.match(keyOf(objects), /^[A-Za-z0-9]{32}$/, name);
      assert.equal(flag(controllerSide(objects), 'affinity-secret'), 'wsgate/wsgate-affinity', name);
      // The key reaches the proxy in the snapshot, never through a flag of its own.
      for (const c of podSpec(objects).containers.filter((x) => x.args?.[0] === 'proxy')) assert.equal(flag(c, 'affinity-secret'), undefined, c.name);
    }
    // Random per install: no key is shared by every user of the chart.
    assert.notEqual(keyOf(renderChart().objects), keyOf(renderChart().objects));
  });

  it('keeps the key of the Secret already in the cluster on upgrade (lookup), so issued cookies stay valid', () => {
    const existing = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'wsgate-affinity', namespace: 'wsgate' }, type: 'Opaque', data: { 'affinity.key': Buffer.from('k'.repeat(32)).toString('base64') } };
    assert.equal(keyOf(renderChart({ lookup: [existing] }).objects), 'k'.repeat(32));
    // Another release's Secret of that name elsewhere is not it.
    assert.match(keyOf(renderChart({ lookup: [{ ...existing, metadata: { ...existing.metadata, namespace: 'other' } }] }).objects), /^[A-Za-z0-9]{32}$/);
    assert.notEqual(keyOf(renderChart({ lookup: [{ ...existing, metadata: { ...existing.metadata, namespace: 'other' } }] }).objects), 'k'.repeat(32));
  });

  it('follows fullnameOverride and namespaceOverride', () => {
    const { objects } = renderChart({ values: { fullnameOverride: 'edge', namespaceOverride: 'gw' } });
    const secret = one(objects, 'Secret', 'edge-affinity');
    assert.equal(secret.metadata.namespace, 'gw');
    assert.equal(flag(controllerSide(objects), 'affinity-secret'), 'gw/edge-affinity');
  });

  it('uses an existing Secret instead, or none at all', () => {
    const own = renderChart({ values: { affinityKey: { existingSecret: 'my-key' } } }).objects;
    assert.deepEqual(find(own, 'Secret'), []);
    assert.equal(flag(controllerSide(own), 'affinity-secret'), 'wsgate/my-key');
    const none = renderChart({ values: { affinityKey: { createSecret: false } } }).objects;
    assert.deepEqual(find(none, 'Secret'), []);
    assert.equal(flag(controllerSide(none), 'affinity-secret'), undefined);
    assert.throws(() => renderChart({ values: { affinityKey: { existingSecret: 'ns/name' } } }), ValuesSchemaError);
    assert.throws(() => renderChart({ values: { affinityKey: { createSecrets: true } } }), (err: unknown) => err instanceof ValuesSchemaError && err.message.includes('createSecrets'));
  });

  it('lets a controller scoped to another namespace read that one Secret by name, and no other', () => {
    const { objects } = renderChart({ values: { config: { watchNamespace: 'apps' } } });
    const granted = renderedPermissions(objects);
    assert.ok(!granted.cluster.has('core/secrets:list'));
    assert.ok(granted.namespaced.get('wsgate')?.has('core/secrets:watch'));
    const role = find(objects, 'Role').find((r) => r.metadata.namespace === 'wsgate') as unknown as { rules: { resources: string[]; resourceNames?: string[] }[] };
    assert.deepEqual(role.rules.filter((r) => r.resources.includes('secrets')).map((r) => r.resourceNames), [['wsgate-affinity']]);
    // Watching the release namespace itself needs nothing more.
    const same = renderChart({ values: { config: { watchNamespace: 'wsgate' } } }).objects;
    const sameRole = find(same, 'Role').find((r) => r.metadata.namespace === 'wsgate') as unknown as { rules: { resources: string[]; resourceNames?: string[] }[] };
    assert.ok(sameRole.rules.every((r) => r.resourceNames === undefined));
  });
});
