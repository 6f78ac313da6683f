// What the Prometheus Operator makes of the chart's ServiceMonitor, for a real Prometheus in a
// test: the scrape config the Operator generates (its relabel rules for the selector, the port,
// the endpoint's pod, namespace and service, the job and endpoint labels, then the monitor's
// own relabelings; honor_labels from honorLabels), written as the Operator writes it
// (prometheus-operator pkg/prometheus/promcfg.go, generateServiceMonitorConfig), and the target
// groups Prometheus' Kubernetes service discovery (role endpoints) would hand it, with the same
// __meta_kubernetes_* labels, for pods that are really processes on loopback.
import type { KubeObject } from './render.ts';

export interface RelabelConfig {
  action?: string;
  sourceLabels?: string[];
  separator?: string;
  targetLabel?: string;
  regex?: string;
  modulus?: number;
  replacement?: string;
}

interface MonitorEndpoint {
  port?: string;
  path?: string;
  interval?: string;
  scrapeTimeout?: string;
  honorLabels?: boolean;
  relabelings?: RelabelConfig[];
  metricRelabelings?: RelabelConfig[];
}

export interface ServiceMonitor extends KubeObject {
  spec: {
    jobLabel?: string;
    selector: { matchLabels?: Record<string, string> };
    namespaceSelector?: { matchNames?: string[] };
    endpoints: MonitorEndpoint[];
  };
}

/** Prometheus' label-name sanitising for Kubernetes labels (`app.kubernetes.io/name` -> `app_kubernetes_io_name`). */
function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

/** The Operator's RelabelConfig (camelCase CRD fields) in Prometheus' own spelling. */
function toPrometheus(r: RelabelConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (r.sourceLabels) out.source_labels = r.sourceLabels;
  if (r.separator !== undefined) out.separator = r.separator;
  if (r.targetLabel !== undefined) out.target_label = r.targetLabel;
  if (r.regex !== undefined) out.regex = r.regex;
  if (r.modulus !== undefined) out.modulus = r.modulus;
  if (r.replacement !== undefined) out.replacement = r.replacement;
  if (r.action !== undefined) out.action = r.action.toLowerCase();
  return out;
}

/**
 * One scrape config per ServiceMonitor endpoint, as the Operator generates it; targets come from
 * `sdFile` (file_sd) instead of kubernetes_sd_configs, carrying the labels the latter would.
 */
export function operatorScrapeConfigs(sm: ServiceMonitor, sdFile: string): Record<string, unknown>[] {
  return sm.spec.endpoints.map((ep, i) => {
    const relabel: Record<string, unknown>[] = [{ source_labels: ['job'], target_label: '__tmp_prometheus_job_name' }];
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
      relabel.push({
        action: 'keep',
        source_labels: [`__meta_kubernetes_service_label_${sanitize(k)}`, `__meta_kubernetes_service_labelpresent_${sanitize(k)}`],
        regex: `(${v});true`,
      });
    }
    if (ep.port) relabel.push({ action: 'keep', source_labels: ['__meta_kubernetes_endpoint_port_name'], regex: ep.port });
    relabel.push(
      { source_labels: ['__meta_kubernetes_endpoint_address_target_kind', '__meta_kubernetes_endpoint_address_target_name'], separator: ';', regex: 'Node;(.*)', replacement: '${1}', target_label: 'node' },
      { source_labels: ['__meta_kubernetes_endpoint_address_target_kind', '__meta_kubernetes_endpoint_address_target_name'], separator: ';', regex: 'Pod;(.*)', replacement: '${1}', target_label: 'pod' },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
      { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
      { action: 'drop', source_labels: ['__meta_kubernetes_pod_phase'], regex: '(Failed|Succeeded)' },
      { source_labels: ['__meta_kubernetes_service_name'], target_label: 'job', replacement: '${1}' },
    );
    if (sm.spec.jobLabel) {
      relabel.push({ source_labels: [`__meta_kubernetes_service_label_${sanitize(sm.spec.jobLabel)}`], target_label: 'job', regex: '(.+)', replacement: '${1}' });
    }
    if (ep.port) relabel.push({ target_label: 'endpoint', replacement: ep.port });
    relabel.push(...(ep.relabelings ?? []).map(toPrometheus));
    // Sharding, with the Operator's default of one shard.
    relabel.push({ source_labels: ['__address__'], target_label: '__tmp_hash', modulus: 1, action: 'hashmod' }, { source_labels: ['__tmp_hash'], regex: '0', action: 'keep' });
    return {
      job_name: `serviceMonitor/${sm.metadata.namespace ?? ''}/${sm.metadata.name}/${i}`,
      honor_labels: ep.honorLabels ?? false,
      honor_timestamps: true,
      file_sd_configs: [{ files: [sdFile], refresh_interval: '1s' }],
      ...(ep.interval ? { scrape_interval: ep.interval } : {}),
      ...(ep.scrapeTimeout ? { scrape_timeout: ep.scrapeTimeout } : {}),
      metrics_path: ep.path ?? '/metrics',
      scheme: 'http',
      relabel_configs: relabel,
      metric_relabel_configs: (ep.metricRelabelings ?? []).map(toPrometheus),
    };
  });
}

/** A pod of the chart's workload, really a set of processes on 127.0.0.1: container port name -> local port. */
export interface FakePod {
  name: string;
  labels: Record<string, string>;
  /** Container port name -> [container name, local port]. */
  ports: Record<string, [string, number]>;
}

interface ServiceObject extends KubeObject {
  spec: { selector?: Record<string, string>; ports: { name: string; port: number; targetPort: string | number }[] };
}

/**
 * The target groups of Kubernetes service discovery, role `endpoints`, for the rendered Services
 * and the given pods: one target per Service port and pod its selector matches.
 */
export function endpointsDiscovery(objects: KubeObject[], pods: FakePod[]): { targets: string[]; labels: Record<string, string> }[] {
  const groups: { targets: string[]; labels: Record<string, string> }[] = [];
  for (const svc of objects.filter((o): o is ServiceObject => o.kind === 'Service')) {
    const selector = svc.spec.selector ?? {};
    const serviceLabels: Record<string, string> = {};
    for (const [k, v] of Object.entries(svc.metadata.labels ?? {})) {
      serviceLabels[`__meta_kubernetes_service_label_${sanitize(k)}`] = v;
      serviceLabels[`__meta_kubernetes_service_labelpresent_${sanitize(k)}`] = 'true';
    }
    for (const pod of pods.filter((p) => Object.entries(selector).every(([k, v]) => p.labels[k] === v))) {
      const podLabels: Record<string, string> = {};
      for (const [k, v] of Object.entries(pod.labels)) {
        podLabels[`__meta_kubernetes_pod_label_${sanitize(k)}`] = v;
        podLabels[`__meta_kubernetes_pod_labelpresent_${sanitize(k)}`] = 'true';
      }
      for (const port of svc.spec.ports) {
        const target = pod.ports[String(port.targetPort)];
        if (!target) continue;
        const [container, localPort] = target;
        groups.push({
          targets: [`127.0.0.1:${localPort}`],
          labels: {
            __meta_kubernetes_namespace: svc.metadata.namespace ?? 'default',
            __meta_kubernetes_endpoints_name: svc.metadata.name,
            __meta_kubernetes_service_name: svc.metadata.name,
            ...serviceLabels,
            __meta_kubernetes_endpoint_port_name: port.name,
            __meta_kubernetes_endpoint_port_protocol: 'TCP',
            __meta_kubernetes_endpoint_ready: 'true',
            __meta_kubernetes_endpoint_address_target_kind: 'Pod',
            __meta_kubernetes_endpoint_address_target_name: pod.name,
            __meta_kubernetes_pod_name: pod.name,
            __meta_kubernetes_pod_ip: '127.0.0.1',
            __meta_kubernetes_pod_ready: 'true',
            __meta_kubernetes_pod_phase: 'Running',
            __meta_kubernetes_pod_container_name: container,
            __meta_kubernetes_pod_container_port_name: String(port.targetPort),
            __meta_kubernetes_pod_container_port_number: String(localPort),
            ...podLabels,
          },
        });
      }
    }
  }
  return groups;
}
