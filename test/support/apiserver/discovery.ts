// Discovery documents (the legacy, unaggregated form: kubectl falls back to it when the answer
// to its aggregated-discovery Accept header is a plain APIGroupList) and /version.
import { RESOURCES, ALL_VERBS, apiVersionOf } from './resources.ts';

export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-wsgate-test',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export function coreVersions(serverAddress: string) {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupNames(): string[] {
  return [...new Set(RESOURCES.filter((r) => r.group !== '').map((r) => r.group))];
}

function groupDoc(name: string) {
  const versions = [...new Set(RESOURCES.filter((r) => r.group === name).map((r) => r.version))].map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions, preferredVersion: versions[0] };
}

export function groupList() {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groupNames().map(groupDoc) };
}

export function group(name: string) {
  return groupNames().includes(name) ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(name) } : undefined;
}

export function resourceList(groupName: string, version: string) {
  const served = RESOURCES.filter((r) => r.group === groupName && r.version === version);
  if (served.length === 0) return undefined;
  const resources = served.flatMap((r) => [
    {
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: ALL_VERBS,
      ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
    },
    ...r.subresources.map((sub) => ({ name: `${r.plural}/${sub}`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] })),
  ]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(served[0]!), resources };
}
