// The one way a Service's backends become a snapshot pool, for an Ingress and an HTTPRoute alike:
// the same annotations give the same pool fields, whichever object carries them.
import type { IngressPolicy } from '../annotations/policy.ts';
import type { Pool } from '../config/snapshot.ts';
import { longLivedPoolFields } from './long-lived.ts';
import { upstreamVerifyFields } from './upstream-ca.ts';

export function newPool(name: string, namespace: string, service: string, policy: IngressPolicy, endpoints: Pool['endpoints'], verification: { ca?: string } | undefined): Pool {
  return {
    name,
    source: { namespace, service },
    balance: policy.balance,
    ...(policy.hashBy === undefined ? {} : { hashBy: policy.hashBy }),
    connectTimeout: policy.connectTimeout,
    handshakeTimeout: policy.handshakeTimeout,
    idleTimeout: policy.idleTimeout,
    drainTimeout: policy.drainTimeout,
    upstreamTls: policy.upstreamTls,
    ...upstreamVerifyFields(verification, policy, namespace, service),
    ...longLivedPoolFields(policy),
    endpoints,
  };
}
