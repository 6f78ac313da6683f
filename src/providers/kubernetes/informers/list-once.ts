// `wsgate controller --once`: list every kind once, translate, print. What wsgate would serve, to
// check before trusting it with traffic; no informers, no writes to the cluster.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Snapshot } from '../../../config/snapshot.ts';
import { validateSnapshot } from '../../../config/validate.ts';
import { translate } from '../../../translate/translate.ts';
import { CONTROLLER_NAME, type Diagnostic, type Resources } from '../../../translate/types.ts';
import { tlsSecrets, watchedKinds } from './kinds.ts';
import { listAll } from './watcher.ts';
import { prettyCanonicalJson } from '../../../config/pretty.ts';

export interface OnceOptions {
  ingressClass: string;
  watchNamespace?: string;
  defaultCertSecret?: string;
}

export interface OnceResult {
  snapshot: Snapshot;
  diagnostics: Diagnostic[];
  /** Validation errors of the translated snapshot (a translator bug); [] normally. */
  errors: string[];
}

export async function listOnce(kc: KubeConfig, options: OnceOptions): Promise<Resources> {
  const kinds = watchedKinds(kc, options.watchNamespace);
  const [ingressClasses, ingresses, services, endpointSlices, secrets] = await Promise.all([
    listAll(kinds.ingressClasses.listPage),
    listAll(kinds.ingresses.listPage),
    listAll(kinds.services.listPage),
    listAll(kinds.endpointSlices.listPage),
    listAll(kinds.secrets.listPage),
  ]);
  const resources: Resources = {
    ingressClasses: ingressClasses.items,
    ingresses: ingresses.items,
    services: services.items,
    endpointSlices: endpointSlices.items,
    secrets: secrets.items,
  };
  const [certNamespace, certName] = options.defaultCertSecret?.split('/') ?? [];
  if (options.watchNamespace !== undefined && certNamespace !== undefined && certName !== undefined && certNamespace !== options.watchNamespace) {
    const extra = await listAll(tlsSecrets(kc.makeApiClient(CoreV1Api), certNamespace, certName).listPage);
    resources.secrets.push(...extra.items);
  }
  return resources;
}

export async function translateOnce(kc: KubeConfig, options: OnceOptions): Promise<OnceResult> {
  const result = translate(await listOnce(kc, options), {
    ingressClass: options.ingressClass,
    controllerName: CONTROLLER_NAME,
    ...(options.defaultCertSecret === undefined ? {} : { defaultCertSecret: options.defaultCertSecret }),
  });
  const validation = validateSnapshot(result.snapshot);
  return { snapshot: result.snapshot, diagnostics: result.diagnostics, errors: validation.ok ? [] : validation.errors };
}

/** `Warning Conflict Ingress default/chat: ...`, one line per diagnostic. */
export function diagnosticLine(d: Diagnostic): string {
  return `${d.type} ${d.reason} ${d.object.kind} ${d.object.namespace}/${d.object.name}: ${d.message}`;
}

export { prettyCanonicalJson };
