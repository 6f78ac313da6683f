// metav1.Conditions as the Gateway API spec names them. translate() is pure and has no clock:
// lastTransitionTime is the status writer's (kept from the object when the status is unchanged).
import type { Condition } from './types.ts';

/** The reasons wsgate writes on an HTTPRoute's status.parents[] (HTTPRoute spec, RouteConditionReason). */
export type RouteReason =
  | 'Accepted'
  | 'NotAllowedByListeners'
  | 'NoMatchingListenerHostname'
  | 'NoMatchingParent'
  | 'UnsupportedValue'
  | 'ResolvedRefs'
  | 'RefNotPermitted'
  | 'BackendNotFound'
  | 'InvalidKind';

export function condition(type: string, ok: boolean, reason: string, message: string, generation: number | undefined): Condition {
  return { type, status: ok ? 'True' : 'False', reason, message, ...(generation === undefined ? {} : { observedGeneration: generation }) };
}
