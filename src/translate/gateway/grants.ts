// ReferenceGrant (gateway.networking.k8s.io/v1beta1): a reference into another namespace is
// permitted only when a grant in the TARGET namespace lists the referrer's kind and namespace in
// `from` and the target's kind (and name, when given) in `to`. Same-namespace references need none.
import type { ReferenceGrant } from './types.ts';

export interface ReferenceRequest {
  fromGroup: string;
  fromKind: string;
  fromNamespace: string;
  toGroup: string;
  toKind: string;
  toNamespace: string;
  toName: string;
}

export function referencePermitted(grants: readonly ReferenceGrant[], ref: ReferenceRequest): boolean {
  if (ref.fromNamespace === ref.toNamespace) return true;
  return grants.some((grant) => {
    if ((grant.metadata?.namespace ?? 'default') !== ref.toNamespace) return false;
    const from = grant.spec?.from ?? [];
    const to = grant.spec?.to ?? [];
    const fromOk = from.some((f) => (f.group ?? '') === ref.fromGroup && f.kind === ref.fromKind && f.namespace === ref.fromNamespace);
    const toOk = to.some((t) => (t.group ?? '') === ref.toGroup && t.kind === ref.toKind && (t.name === undefined || t.name === '' || t.name === ref.toName));
    return fromOk && toOk;
  });
}
