// `wsgate controller --once`: list every kind once, translate, print. What wsgate would serve, to
// check before trusting it with traffic; no informers, no writes to the cluster.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Snapshot } from '../../../config/snapshot.ts';
import { acceptSnapshot } from '../../../config/accept.ts';
import type { Issue } from '../../../config/schema.ts';
import { translate } from '../../../translate/translate.ts';
import { CONTROLLER_NAME, type Diagnostic, type Resources } from '../../../translate/types.ts';
import { affinitySecretKind, defaultCertSecretKind, watchedKinds } from './kinds.ts';
import { listKind } from './watcher.ts';
import { listGatewayOnce } from '../gateway/list-once.ts';
import type { GatewayStatuses } from '../../../translate/gateway/types.ts';
import { withAffinityKey } from '../affinity-key.ts';

export interface OnceOptions {
  ingressClass: string;
  watchNamespace?: string;
  defaultCertSecret?: string;
  affinitySecret?: string;
}

export interface OnceResult {
  snapshot: Snapshot;
  diagnostics: Diagnostic[];
  /** Validation issues of the translated snapshot (a translator bug); [] normally. */
  issues: Issue[];
  /** What the Gateway API objects' status would be. */
  gatewayStatuses: GatewayStatuses;
}

export async function listOnce(kc: KubeConfig, options: OnceOptions): Promise<Resources> {
  const kinds = watchedKinds(kc, options.watchNamespace);
  const [ingressClasses, ingresses, services, endpointSlices, secrets, caSecrets, configMaps] = await Promise.all([
    listKind(kinds.ingressClasses),
    listKind(kinds.ingresses),
    listKind(kinds.services),
    listKind(kinds.endpointSlices),
    listKind(kinds.secrets),
    listKind(kinds.caSecrets),
    listKind(kinds.configMaps),
  ]);
  const resources: Resources = {
    ingressClasses: ingressClasses.items,
    ingresses: ingresses.items,
    services: services.items,
    endpointSlices: endpointSlices.items,
    secrets: [...secrets.items, ...caSecrets.items],
    configMaps: configMaps.items,
    ...(await listGatewayOnce(kc, options.watchNamespace)),
  };
  const defaultSecret = defaultCertSecretKind(kc, options.watchNamespace, options.defaultCertSecret);
  if (defaultSecret !== undefined) {
    const extra = await listKind(defaultSecret);
    resources.secrets.push(...extra.items);
  }
  const affinitySecret = affinitySecretKind(kc, options.watchNamespace, options.affinitySecret);
  if (affinitySecret !== undefined) resources.secrets.push(...(await listKind(affinitySecret)).items);
  return resources;
}

export async function translateOnce(kc: KubeConfig, options: OnceOptions): Promise<OnceResult> {
  const resources = await listOnce(kc, options);
  const result = translate(resources, {
    ingressClass: options.ingressClass,
    controllerName: CONTROLLER_NAME,
    ...(options.defaultCertSecret === undefined ? {} : { defaultCertSecret: options.defaultCertSecret }),
  });
  result.snapshot = withAffinityKey(result.snapshot, resources.secrets, options.affinitySecret);
  const accepted = acceptSnapshot(result.snapshot);
  return { snapshot: result.snapshot, diagnostics: result.diagnostics, issues: accepted.ok ? [] : accepted.issues, gatewayStatuses: result.gatewayStatuses };
}

/** `Warning Conflict Ingress default/chat: ...`, one line per diagnostic. */
export function diagnosticLine(d: Diagnostic): string {
  return `${d.type} ${d.reason} ${d.object.kind} ${d.object.namespace}/${d.object.name}: ${d.message}`;
}
