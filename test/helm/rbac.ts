// The chart's API permissions as flat `group/resource:verb` strings (core group written as
// `core`), so a test can compare them with the requests the controller actually made (an API
// server's request log) in both directions.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { chartDir } from './render.ts';
import type { KubeObject } from './render.ts';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

export interface RbacRulesFile {
  /** Always in the ClusterRole (cluster-scoped kinds). */
  clusterScoped: PolicyRule[];
  /** In the ClusterRole when every namespace is watched, else in a Role in the watched one. */
  watchedNamespaces: PolicyRule[];
  electionNamespace: PolicyRule[];
  publishServiceNamespace: PolicyRule[];
  /** In a Role where a Secret named by a flag lies outside the watched namespace, with its name as resourceNames. */
  namedSecrets: PolicyRule[];
}

/** charts/wsgate/files/rbac-rules.yaml: the one list of permissions the chart grants. */
export function readRbacRulesFile(): RbacRulesFile {
  return parse(readFileSync(join(chartDir, 'files/rbac-rules.yaml'), 'utf8')) as RbacRulesFile;
}

export function permissions(rules: PolicyRule[]): Set<string> {
  const out = new Set<string>();
  for (const rule of rules) {
    for (const group of rule.apiGroups) {
      for (const resource of rule.resources) {
        for (const verb of rule.verbs) out.add(`${group === '' ? 'core' : group}/${resource}:${verb}`);
      }
    }
  }
  return out;
}

export interface ChartPermissions {
  cluster: Set<string>;
  /** Namespace -> permissions granted there by a Role. */
  namespaced: Map<string, Set<string>>;
}

/** What the rendered ClusterRoles and Roles grant, bound to the chart's ServiceAccount. */
export function renderedPermissions(objects: KubeObject[]): ChartPermissions {
  const cluster = new Set<string>();
  const namespaced = new Map<string, Set<string>>();
  for (const o of objects) {
    const rules = (o as { rules?: PolicyRule[] }).rules ?? [];
    if (o.kind === 'ClusterRole') for (const p of permissions(rules)) cluster.add(p);
    if (o.kind === 'Role') {
      const ns = o.metadata.namespace ?? '';
      const set = namespaced.get(ns) ?? new Set<string>();
      for (const p of permissions(rules)) set.add(p);
      namespaced.set(ns, set);
    }
  }
  return { cluster, namespaced };
}

/** One API request as RBAC sees it: `group/resource:verb`, and its namespace ('' when cluster-wide). */
export interface ApiRequest {
  permission: string;
  namespace: string;
}

/**
 * Whether the rendered RBAC lets the request through, as the API server's RBAC authorizer
 * decides: a ClusterRole (bound by a ClusterRoleBinding) grants in every namespace and
 * cluster-wide; a Role grants in its own namespace only, never a cluster-wide list or watch.
 */
export function allows(chart: ChartPermissions, request: ApiRequest): boolean {
  if (chart.cluster.has(request.permission)) return true;
  return request.namespace !== '' && (chart.namespaced.get(request.namespace)?.has(request.permission) ?? false);
}
