// Server-side printing (meta.k8s.io/v1 Table) for Ingresses, so `kubectl get ingress` shows the
// same CLASS/HOSTS/ADDRESS/PORTS columns as against a real cluster. Other kinds are sent as plain
// objects and kubectl prints NAME and AGE itself.
import type { KubeObject } from './types.ts';
import type { ResourceType } from './resources.ts';

/** Whether the request's Accept header asks for a Table and this kind has one. */
export function wantsTable(accept: string | undefined, r: ResourceType): boolean {
  return r.kind === 'Ingress' && r.group === 'networking.k8s.io' && /as=Table/.test(accept ?? '');
}

function age(created: string | undefined, now: number): string {
  if (!created) return '<unknown>';
  const seconds = Math.max(0, Math.floor((now - Date.parse(created)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

interface IngressLike {
  spec?: { ingressClassName?: string; rules?: { host?: string }[]; tls?: unknown[] };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

function ingressCells(obj: KubeObject, now: number): string[] {
  const ing = obj as IngressLike;
  const hosts = (ing.spec?.rules ?? []).map((rule) => rule.host ?? '*');
  const addresses = (ing.status?.loadBalancer?.ingress ?? []).map((a) => a.ip ?? a.hostname ?? '').filter(Boolean);
  return [
    obj.metadata?.name ?? '',
    ing.spec?.ingressClassName ?? '<none>',
    hosts.length > 0 ? hosts.join(',') : '*',
    addresses.join(','),
    (ing.spec?.tls ?? []).length > 0 ? '80, 443' : '80',
    age(obj.metadata?.creationTimestamp, now),
  ];
}

const COLUMNS = ['Name', 'Class', 'Hosts', 'Address', 'Ports', 'Age'].map((name) => ({
  name, type: 'string', format: name === 'Name' ? 'name' : '', description: '', priority: 0,
}));

export function toTable(objects: KubeObject[], resourceVersion: string, listMeta: Record<string, unknown> = {}): KubeObject {
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { ...listMeta, resourceVersion },
    columnDefinitions: COLUMNS,
    rows: objects.map((obj) => ({
      cells: ingressCells(obj, now),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata },
    })),
  };
}
