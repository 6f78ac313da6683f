// BackendTLSPolicy (GEP-1897): which policy verifies a Service port, with what, and the status
// each policy gets. A policy targets core Services (optionally one port, by sectionName); the
// oldest policy (creationTimestamp, then namespace/name) keeps a target, a newer one on the same
// target is Accepted=False Conflicted. Its CAs come from ConfigMaps (key ca.crt) in its own
// namespace, or from Node's bundled roots with `wellKnownCACertificates: System`. Reasons as the
// API names them: Accepted (Accepted, Conflicted, Invalid, NoValidCACertificate) and ResolvedRefs
// (ResolvedRefs, InvalidKind, InvalidCACertificateRef). Status is written per ancestor: each of
// wsgate's Gateways through which a route reaches a targeted Service.
import { parseCaBundle } from '../../grammar/pem-pair.ts';
import type { Parsed } from '../../grammar/result.ts';
import { compareStrings } from '../order.ts';
import type { Cluster } from '../resource-index.ts';
import { CA_KEY } from '../upstream-ca.ts';
import { condition } from './conditions.ts';
import { compareGatewayAge } from './listeners.ts';
import { GATEWAY_CONTROLLER_NAME, GATEWAY_GROUP, type BackendTLSPolicy, type Condition, type PolicyAncestorStatus } from './types.ts';

export interface ResolvedTlsPolicy {
  namespace: string;
  name: string;
  /** PEM CA certificates (from the ConfigMaps that resolved); absent with none. */
  ca?: string;
  /** wellKnownCACertificates: System (Node's tls.rootCertificates, in the data plane). */
  systemRoots: boolean;
  hostname: string | undefined;
  /** validation.subjectAltNames as the snapshot spells them (`DNS:` / `URI:`); absent: check hostname. */
  subjectAltNames?: string[];
  conditions: Condition[];
  /** `namespace/name` of the Gateways it is reached through (filled during route translation). */
  ancestors: Set<string>;
}

export interface BackendTlsStatus {
  namespace: string;
  name: string;
  /** `gateway.networking.k8s.io/v1alpha3` or `/v1`: the writer patches the version it was read as. */
  apiVersion: string | undefined;
  ancestors: PolicyAncestorStatus[];
}

const WELL_KNOWN_SYSTEM = 'System';

// Parsing X.509 is most of a policy's cost per translate (about 0.2 ms each): remembered per
// ConfigMap object (the informer's, replaced on every change) and its text, so a rebuild that
// leaves it alone parses nothing. Weak: gone with the object.
const bundles = new WeakMap<object, { text: string; parsed: Parsed<string[]> }>();

function parsedBundle(configMap: object, text: string): Parsed<string[]> {
  const known = bundles.get(configMap);
  if (known !== undefined && known.text === text) return known.parsed;
  const parsed = parseCaBundle(text);
  bundles.set(configMap, { text, parsed });
  return parsed;
}

export class BackendTlsPolicies {
  /** `namespace/service/section` ('' = every port) -> the policies targeting it, the keeper first. */
  readonly #byTarget = new Map<string, ResolvedTlsPolicy[]>();
  readonly #all: { policy: BackendTLSPolicy; resolved: ResolvedTlsPolicy }[] = [];

  constructor(policies: readonly BackendTLSPolicy[], cluster: Cluster) {
    for (const policy of [...policies].sort(compareGatewayAge)) {
      const resolved = resolvePolicy(policy, cluster);
      let kept = 0;
      const conflicts: string[] = [];
      for (const target of policy.spec?.targetRefs ?? []) {
        if ((target.group ?? '') !== '' || target.kind !== 'Service') continue;
        const key = `${resolved.namespace}/${target.name}/${target.sectionName ?? ''}`;
        const targeting = this.#byTarget.get(key) ?? [];
        this.#byTarget.set(key, targeting);
        const holder = targeting[0];
        if (holder === undefined) {
          targeting.push(resolved);
          kept += 1;
        } else if (holder !== resolved) {
          if (!targeting.includes(resolved)) targeting.push(resolved);
          conflicts.push(`Service ${target.name}${target.sectionName === undefined ? '' : ` port ${target.sectionName}`} is already targeted by the older BackendTLSPolicy ${holder.namespace}/${holder.name}`);
        }
      }
      if (kept === 0 && conflicts.length > 0) {
        const generation = policy.metadata?.generation ?? 1;
        resolved.conditions = resolved.conditions.map((c) => (c.type === 'Accepted' ? condition('Accepted', false, 'Conflicted', conflicts.join('; '), generation) : c));
      }
      this.#all.push({ policy, resolved });
    }
  }

  /** The policy verifying a port of a Service: one naming the port first, else one for every port. */
  forPort(namespace: string, service: string, portName: string | undefined): ResolvedTlsPolicy | undefined {
    return this.#targeting(namespace, service, portName)[0]?.[0];
  }

  /** A route on these Gateways uses the port: every policy targeting it (the Conflicted too) has them as ancestors. */
  reached(namespace: string, service: string, portName: string | undefined, gateways: readonly string[]): void {
    for (const list of this.#targeting(namespace, service, portName)) for (const policy of list) for (const gateway of gateways) policy.ancestors.add(gateway);
  }

  #targeting(namespace: string, service: string, portName: string | undefined): ResolvedTlsPolicy[][] {
    const port = portName === undefined || portName === '' ? undefined : this.#byTarget.get(`${namespace}/${service}/${portName}`);
    const all = this.#byTarget.get(`${namespace}/${service}/`);
    return [port, all].filter((list): list is ResolvedTlsPolicy[] => list !== undefined && list.length > 0);
  }

  /** Status per policy that any of wsgate's Gateways reaches; the others carry none of wsgate's. */
  statuses(): BackendTlsStatus[] {
    return this.#all
      .filter(({ resolved }) => resolved.ancestors.size > 0)
      .map(({ policy, resolved }) => ({
        namespace: resolved.namespace,
        name: resolved.name,
        apiVersion: policy.apiVersion,
        ancestors: [...resolved.ancestors].sort(compareStrings).map((key) => {
          const [namespace, name] = key.split('/') as [string, string];
          return { ancestorRef: { group: GATEWAY_GROUP, kind: 'Gateway', namespace, name }, controllerName: GATEWAY_CONTROLLER_NAME, conditions: resolved.conditions };
        }),
      }))
      .sort((a, b) => compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name));
  }
}

function resolvePolicy(policy: BackendTLSPolicy, cluster: Cluster): ResolvedTlsPolicy {
  const namespace = policy.metadata?.namespace ?? 'default';
  const name = policy.metadata?.name ?? '';
  const generation = policy.metadata?.generation ?? 1;
  const validation = policy.spec?.validation;
  const refs = validation?.caCertificateRefs ?? [];
  const wellKnown = validation?.wellKnownCACertificates;
  const out: ResolvedTlsPolicy = { namespace, name, systemRoots: false, hostname: validation?.hostname, conditions: [], ancestors: new Set() };
  const set = (accepted: Condition, resolved: Condition): ResolvedTlsPolicy => {
    out.conditions = [accepted, resolved];
    return out;
  };
  const resolvedOk = condition('ResolvedRefs', true, 'ResolvedRefs', refs.length === 0 ? 'no references to resolve' : 'all CA certificate references resolved', generation);
  // The CRD's CEL rules ask for exactly one of the two; without them (an older CRD) say so.
  const altNames = subjectAltNames(validation?.subjectAltNames);
  if (typeof altNames === 'string') return set(condition('Accepted', false, 'Invalid', altNames, generation), resolvedOk);
  if (altNames !== undefined) out.subjectAltNames = altNames;
  if (wellKnown !== undefined && refs.length > 0) return set(condition('Accepted', false, 'Invalid', 'give caCertificateRefs or wellKnownCACertificates, not both', generation), resolvedOk);
  if (wellKnown !== undefined) {
    if (wellKnown !== WELL_KNOWN_SYSTEM) return set(condition('Accepted', false, 'Invalid', `wellKnownCACertificates ${wellKnown} is not supported (supported: System)`, generation), resolvedOk);
    out.systemRoots = true;
    return set(condition('Accepted', true, 'Accepted', 'verified against the system root CAs (Node.js bundled roots)', generation), resolvedOk);
  }
  if (refs.length === 0) return set(condition('Accepted', false, 'Invalid', 'validation needs caCertificateRefs or wellKnownCACertificates', generation), resolvedOk);
  const bundles: string[] = [];
  const problems: { reason: 'InvalidKind' | 'InvalidCACertificateRef'; message: string }[] = [];
  for (const ref of refs) {
    if ((ref.group ?? '') !== '' || ref.kind !== 'ConfigMap') {
      problems.push({ reason: 'InvalidKind', message: `caCertificateRef ${ref.group === '' || ref.group === undefined ? 'core' : ref.group}/${ref.kind} ${ref.name} is not a ConfigMap` });
      continue;
    }
    const configMap = cluster.configMap(namespace, ref.name);
    const text = configMap?.data?.[CA_KEY];
    if (configMap === undefined || text === undefined || text.trim() === '') {
      problems.push({ reason: 'InvalidCACertificateRef', message: configMap === undefined ? `ConfigMap ${namespace}/${ref.name} not found` : `ConfigMap ${namespace}/${ref.name} has no ${CA_KEY}` });
      continue;
    }
    const parsed = parsedBundle(configMap, text);
    if (!parsed.ok) {
      problems.push({ reason: 'InvalidCACertificateRef', message: `ConfigMap ${namespace}/${ref.name} ${CA_KEY} ${parsed.reason}` });
      continue;
    }
    bundles.push(...parsed.value);
  }
  if (bundles.length > 0) out.ca = `${bundles.join('\n')}\n`;
  // InvalidKind first: a kind is a mistake in the policy itself, a missing ConfigMap may come later.
  const worst = problems.find((p) => p.reason === 'InvalidKind') ?? problems[0];
  const resolved = worst === undefined ? resolvedOk : condition('ResolvedRefs', false, worst.reason, problems.map((p) => p.message).join('; '), generation);
  const accepted = bundles.length > 0
    ? condition('Accepted', true, 'Accepted', 'backend TLS verified against the referenced CA certificates', generation)
    : condition('Accepted', false, 'NoValidCACertificate', 'no caCertificateRef resolved to a CA certificate: connections to the backend fail (verified against no CA)', generation);
  return set(accepted, resolved);
}

/**
 * GEP-1897 subjectAltNames: when given, the backend's certificate must carry one of them and
 * `hostname` is only the SNI. A type without its value (the CRD's CEL rules forbid it) makes the
 * policy Invalid rather than silently verifying less.
 */
function subjectAltNames(entries: { type?: string; hostname?: string; uri?: string }[] | undefined): string[] | string | undefined {
  if (entries === undefined || entries.length === 0) return undefined;
  const out: string[] = [];
  for (const entry of entries) {
    if (entry.type === 'Hostname' && entry.hostname !== undefined && /^[^\s,]+$/.test(entry.hostname)) out.push(`DNS:${entry.hostname.toLowerCase()}`);
    else if (entry.type === 'URI' && entry.uri !== undefined && /^[^\s,]+$/.test(entry.uri)) out.push(`URI:${entry.uri}`);
    else return `subjectAltNames entry ${JSON.stringify(entry)} is not a Hostname with hostname or a URI with uri`;
  }
  return out;
}
