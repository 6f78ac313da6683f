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
  clusterWide: PolicyRule[];
  electionNamespace: PolicyRule[];
  publishServiceNamespace: PolicyRule[];
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
