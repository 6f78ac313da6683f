// The smallest OpenAPI v3 that kubectl 1.32 needs. `kubectl apply` (validate=strict by default)
// asks whether the server validates fields itself: it looks in /openapi/v3 for the group-version's
// PATCH operation tagged with the object's x-kubernetes-group-version-kind and a `fieldValidation`
// query parameter (cli-runtime QueryParamVerifierV3). If found, kubectl sends fieldValidation=Strict
// and skips client-side schema validation; with /openapi/v2 and /v3 both 404 it fails with
// "failed to download openapi". No schemas are published, so kubectl computes strategic merge
// patches from its compiled-in types.
import { RESOURCES, apiVersionOf, type ResourceType } from './resources.ts';

const HASH = 'wsgate-test-1';

const pathKey = (gv: string) => (gv.includes('/') ? `apis/${gv}` : `api/${gv}`);

export function openApiV3Root() {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of new Set(RESOURCES.map(apiVersionOf))) {
    paths[pathKey(gv)] = { serverRelativeURL: `/openapi/v3/${pathKey(gv)}?hash=${HASH}` };
  }
  return { paths };
}

function itemPath(r: ResourceType): string {
  const prefix = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  return r.namespaced ? `${prefix}/namespaces/{namespace}/${r.plural}/{name}` : `${prefix}/${r.plural}/{name}`;
}

/** The OpenAPI v3 document of one group-version (`api/v1`, `apis/networking.k8s.io/v1`), or undefined. */
export function openApiV3GroupVersion(key: string) {
  const served = RESOURCES.filter((r) => pathKey(apiVersionOf(r)) === key);
  if (served.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  for (const r of served) {
    const operation = (verb: string) => ({
      operationId: `${verb}${r.kind}`,
      'x-kubernetes-action': verb,
      'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
      parameters: [
        { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } },
        { name: 'fieldManager', in: 'query', schema: { type: 'string', uniqueItems: true } },
        { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } },
      ],
      responses: { '200': { description: 'OK' } },
    });
    paths[itemPath(r)] = { put: operation('put'), patch: operation('patch') };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas: {} } };
}
