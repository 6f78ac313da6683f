// Translation reused per Ingress (issue 10): an Ingress object that did not change, read the same
// Services, EndpointSlices, Secrets and ConfigMaps (the very objects), had the same policy and met
// the same earlier claims (precedence across Ingresses) gives the very same frozen routes and
// pools as last time, with the same diagnostics. The acceptor and the snapshot writer then skip
// those by identity instead of stringifying them again. Anything else is translated afresh.
import type { V1Ingress } from '@kubernetes/client-node';
import type { AnnotationResult } from '../annotations/parse.ts';
import type { IngressPolicy } from '../annotations/policy.ts';
import { markUnchanging } from '../config/incremental.ts';
import type { Certificate, Pool, Route } from '../config/snapshot.ts';
import { Diagnostics } from './diagnostics.ts';
import type { Cluster } from './resource-index.ts';
import type { Diagnostic, DiagnosticObject, DiagnosticReason } from './types.ts';

type ReadKind = 'service' | 'slices' | 'secret' | 'configMap';

interface Read {
  kind: ReadKind;
  namespace: string;
  name: string;
  value: unknown;
}

/** One Ingress's part of a translation, and what it depended on. */
export interface ServedIngress {
  /** The Ingress's metadata.resourceVersion then (an object changed in place is not reused). */
  resourceVersion: string | undefined;
  policy: IngressPolicy;
  reads: Read[];
  /** Each claim's route key and the Ingress that held it before this one (undefined: none). */
  claims: { key: string; owner: V1Ingress | undefined }[];
  /** Pool names looked up, and whether they were there already. */
  poolChecks: { name: string; existed: boolean }[];
  routes: { key: string; route: Route }[];
  pools: Pool[];
  diagnostics: { object: DiagnosticObject; type: Diagnostic['type']; reason: DiagnosticReason; message: string }[];
}

/** Kept by the caller across translations (TranslateOptions.memo); memory only. */
export class TranslateMemo {
  readonly #parsed = new WeakMap<object, AnnotationResult>();
  readonly #served = new WeakMap<V1Ingress, ServedIngress>();
  /** Ingresses whose part was reused / translated afresh (the bench and tests read these). */
  readonly stats = { reused: 0, translated: 0 };

  parsed(ingress: V1Ingress, parse: () => AnnotationResult): AnnotationResult {
    const known = this.#parsed.get(ingress);
    if (known !== undefined) return known;
    const made = parse();
    this.#parsed.set(ingress, made);
    return made;
  }

  served(ingress: V1Ingress): ServedIngress | undefined {
    return this.#served.get(ingress);
  }

  remember(ingress: V1Ingress, served: ServedIngress): void {
    this.#served.set(ingress, served);
  }

  #certificates = new Map<string, Certificate>();

  /** The Ingress certificates, each the very object of the last translation when its fields are equal. */
  certificates(list: readonly Certificate[]): Certificate[] {
    const next = new Map<string, Certificate>();
    const out = list.map((certificate) => {
      const old = this.#certificates.get(certificate.name);
      const kept = old !== undefined && sameFields(old, certificate) ? old : settle(certificate);
      next.set(kept.name, kept);
      return kept;
    });
    this.#certificates = next;
    return out;
  }
}

/** A view of the cluster that writes down every lookup and what it returned. */
export function recordingCluster(cluster: Cluster, reads: Read[]): Cluster {
  const note = <T>(kind: ReadKind, namespace: string, name: string, value: T): T => {
    reads.push({ kind, namespace, name, value: Array.isArray(value) ? [...(value as unknown[])] : value });
    return value;
  };
  return {
    service: (namespace, name) => note('service', namespace, name, cluster.service(namespace, name)),
    slices: (namespace, service) => note('slices', namespace, service, cluster.slices(namespace, service)),
    secret: (namespace, name) => note('secret', namespace, name, cluster.secret(namespace, name)),
    configMap: (namespace, name) => note('configMap', namespace, name, cluster.configMap(namespace, name)),
  };
}

/** Whether every lookup still returns the very same objects. */
export function sameReads(cluster: Cluster, reads: readonly Read[]): boolean {
  for (const read of reads) {
    const now: unknown = cluster[read.kind](read.namespace, read.name);
    if (Array.isArray(read.value)) {
      const before = read.value as unknown[];
      if (!Array.isArray(now) || now.length !== before.length) return false;
      for (let i = 0; i < before.length; i += 1) if (now[i] !== before[i]) return false;
    } else if (now !== read.value) return false;
  }
  return true;
}

/** Diagnostics that forwards to `target` and writes down what it was given. */
export class RecordingDiagnostics extends Diagnostics {
  readonly #target: Diagnostics;
  readonly #list: ServedIngress['diagnostics'];

  constructor(target: Diagnostics, list: ServedIngress['diagnostics']) {
    super();
    this.#target = target;
    this.#list = list;
  }

  override add(object: DiagnosticObject, type: Diagnostic['type'], reason: DiagnosticReason, message: string): void {
    this.#list.push({ object, type, reason, message });
    this.#target.add(object, type, reason, message);
  }
}

function sameFields(a: object, b: object): boolean {
  const left = Object.entries(a);
  if (left.length !== Object.keys(b).length) return false;
  const right = b as Record<string, unknown>;
  return left.every(([key, value]) => {
    const other = right[key];
    if (!Array.isArray(value)) return value === other;
    return Array.isArray(other) && other.length === value.length && value.every((item, i) => item === other[i]);
  });
}

/** Frozen all the way down and known to the acceptor as unchanging (its JSON text is made once). */
export function settle<T extends object>(value: T): T {
  deepFreeze(value);
  markUnchanging(value);
  return value;
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  for (const item of Object.values(value)) deepFreeze(item);
  Object.freeze(value);
}
