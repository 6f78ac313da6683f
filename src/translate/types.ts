// The inputs and outputs of translate(): Kubernetes objects in, snapshot + diagnostics out.
import type { V1ConfigMap, V1EndpointSlice, V1Ingress, V1IngressClass, V1Secret, V1Service } from '@kubernetes/client-node';
import type { IngressPolicy } from '../annotations/policy.ts';
import type { Snapshot } from '../config/snapshot.ts';
import type { SecretCertificateCache } from './secret-certificate.ts';
import type { GatewayResources, GatewayStatuses } from './gateway/types.ts';

export interface Resources extends GatewayResources {
  ingressClasses: V1IngressClass[];
  ingresses: V1Ingress[];
  services: V1Service[];
  endpointSlices: V1EndpointSlice[];
  secrets: V1Secret[];
  /** CA sources for upstream-tls-ca-secret (SPEC §6); optional: most inputs have none. */
  configMaps?: V1ConfigMap[];
}

/** EndpointSlices that belong to a Service (the EndpointSlice controller sets this label). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export const CONTROLLER_NAME = 'wsgate.io/ingress-controller';
export const DEFAULT_INGRESS_CLASS = 'wsgate';

/** Per Ingress (by uid, else namespace/name): the last annotation policy that parsed. Memory only. */
export interface LastGoodState {
  readonly policies: ReadonlyMap<string, IngressPolicy>;
}

export interface TranslateOptions {
  /** `--ingress-class`; default `wsgate`. */
  ingressClass?: string;
  controllerName?: typeof CONTROLLER_NAME;
  /** `--default-cert-secret`, `namespace/name`. */
  defaultCertSecret?: string;
  /** The previous translation's lastGood; without it an Ingress with a bad annotation is not served. */
  lastGood?: LastGoodState;
  /** Certificate checks remembered from earlier translations; without it every Secret is checked. */
  certificateCache?: SecretCertificateCache;
}

export type DiagnosticReason =
  | 'Sync'
  | 'InvalidAnnotation'
  | 'MissingSecret'
  | 'InvalidCertificate'
  | 'MissingService'
  | 'Conflict'
  | 'IgnoredAnnotations'
  /** Gateway API: a rule, filter, match or hostname wsgate cannot serve (HTTPRoute status UnsupportedValue). */
  | 'UnsupportedValue'
  /** Gateway API: a parentRef of an HTTPRoute that wsgate's Gateway does not accept (status says why). */
  | 'NotAccepted';

export interface DiagnosticObject {
  /** `Secret` only for the `--default-cert-secret`, which belongs to no Ingress. */
  kind: 'Ingress' | 'Secret' | 'HTTPRoute';
  namespace: string;
  name: string;
  uid?: string;
}

export interface Diagnostic {
  type: 'Normal' | 'Warning';
  reason: DiagnosticReason;
  object: DiagnosticObject;
  message: string;
}

export interface TranslateResult {
  snapshot: Snapshot;
  diagnostics: Diagnostic[];
  lastGood: LastGoodState;
  /** Gateway API status the leader writes (gateway/translate-gateway.ts); empty lists without Gateway objects. */
  gatewayStatuses: GatewayStatuses;
}
