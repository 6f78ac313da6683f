// Create, update, patch and delete with the API server's rules: server-set metadata, optimistic
// concurrency on resourceVersion, status subresources, no write for a no-op update.
import { randomUUID } from 'node:crypto';
import type { KubeObject } from './types.ts';
import type { ObjectStore } from './store.ts';
import { apiVersionOf, type ResourceType } from './resources.ts';
import { alreadyExists, badRequest, conflict, invalid, notFound } from './status.ts';

/** Resources whose objects count spec changes in metadata.generation. */
const GENERATION_KINDS = new Set(['Ingress', 'IngressClass', 'GatewayClass', 'Gateway', 'HTTPRoute', 'BackendTLSPolicy']);
/** The Service registry returns the deleted object; the others return a Status (genericregistry ReturnDeletedObject). */
const RETURNS_DELETED_OBJECT = new Set(['Service']);

export function timestamp(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The object as this API view presents it, with apiVersion and kind set. */
export function toView(r: ResourceType, stored: KubeObject): KubeObject {
  const view = r.toView ? r.toView(stored) : stored;
  const { apiVersion: _a, kind: _k, ...rest } = view;
  return { apiVersion: apiVersionOf(r), kind: r.kind, ...rest };
}

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function generatedName(prefix: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
  return prefix + suffix;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function sameContent(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => JSON.stringify({ ...o, metadata: { ...o.metadata, resourceVersion: undefined, managedFields: undefined } });
  return strip(a) === strip(b);
}

const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/**
 * Decoding rules a real API server applies to Events: metav1.MicroTime fields must have exactly six
 * fractional digits (Go parses them with RFC3339Micro, so "…:53.274Z" is a 400), and metav1.Time
 * fields are stored with whole seconds.
 */
function checkEventTimes(obj: KubeObject): void {
  const series = obj['series'] as { lastObservedTime?: unknown } | undefined;
  for (const [field, value] of [['eventTime', obj['eventTime']], ['series.lastObservedTime', series?.lastObservedTime]] as const) {
    if (value !== undefined && value !== null && (typeof value !== 'string' || !MICRO_TIME.test(value))) {
      throw badRequest(`Event in version "v1" cannot be handled as a Event: ${field}: parsing time "${String(value)}" as "2006-01-02T15:04:05.000000Z07:00": cannot parse`);
    }
  }
  for (const field of ['firstTimestamp', 'lastTimestamp']) {
    const value = obj[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' || !TIME.test(value)) throw badRequest(`Event in version "v1" cannot be handled as a Event: ${field}: parsing time "${String(value)}" as "2006-01-02T15:04:05Z07:00": cannot parse`);
    obj[field] = timestamp(new Date(value));
  }
}

export interface WriteOptions {
  dryRun?: boolean;
}

export class ObjectApi {
  readonly #store: ObjectStore;

  constructor(store: ObjectStore) {
    this.#store = store;
  }

  get(r: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const found = this.#store.get(r.storage, namespace, name);
    if (!found) throw notFound(r, name);
    return found;
  }

  /** `body` is in the view's representation; the namespace comes from the URL. */
  create(r: ResourceType, namespace: string | undefined, body: KubeObject, options: WriteOptions = {}): KubeObject {
    this.#checkTypeMeta(r, body);
    const obj = r.fromView ? r.fromView(body) : structuredClone(body);
    const meta = { ...obj.metadata };
    if (r.namespaced) {
      if (meta.namespace && namespace && meta.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace ?? meta.namespace ?? 'default';
    } else {
      delete meta.namespace;
    }
    if (!meta.name) {
      if (!meta.generateName) throw invalid(r, '', 'metadata.name: Required value: name or generateName is required');
      meta.name = generatedName(meta.generateName);
    }
    if (!DNS_SUBDOMAIN.test(meta.name) || meta.name.length > 253) {
      throw invalid(r, meta.name, `metadata.name: Invalid value: "${meta.name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`);
    }
    if (this.#store.get(r.storage, meta.namespace, meta.name)) throw alreadyExists(r, meta.name);
    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp();
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    if (GENERATION_KINDS.has(r.kind)) meta.generation = 1;
    obj.metadata = meta;
    // A create never sets status where status is a subresource (the registries' PrepareForCreate).
    if (r.subresources.includes('status')) delete obj['status'];
    if (r.kind === 'Namespace') obj['status'] = { phase: 'Active' };
    if (r.kind === 'Secret' && !obj['type']) obj['type'] = 'Opaque';
    if (r.kind === 'Event') checkEventTimes(obj);
    if (options.dryRun) return { ...obj, metadata: { ...meta, resourceVersion: String(this.#store.revision) } };
    return this.#store.write(r.storage, obj);
  }

  /**
   * PUT semantics: a resourceVersion in the body must match the stored one (409 Conflict
   * otherwise); the main resource cannot change status, the status subresource changes only status.
   */
  update(r: ResourceType, namespace: string | undefined, name: string, body: KubeObject, subresource?: string, options: WriteOptions = {}): KubeObject {
    this.#checkTypeMeta(r, body);
    const existing = this.get(r, namespace, name);
    if (body.metadata?.name !== undefined && body.metadata.name !== name) {
      throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (r.namespaced && body.metadata?.namespace && body.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const wanted = body.metadata?.resourceVersion;
    if (wanted && wanted !== existing.metadata?.resourceVersion) throw conflict(r, name);
    const incoming = r.fromView ? r.fromView(body) : structuredClone(body);
    let next: KubeObject;
    if (subresource === 'status') {
      next = { ...existing, status: incoming['status'] };
      if (incoming['status'] === undefined) delete next['status'];
    } else {
      next = { ...incoming, metadata: { ...incoming.metadata } };
      if (r.subresources.includes('status')) {
        if (existing['status'] === undefined) delete next['status'];
        else next['status'] = existing['status'];
      }
    }
    const meta = next.metadata!;
    // Server-owned metadata survives whatever the client sent.
    meta.name = name;
    if (r.namespaced) meta.namespace = existing.metadata?.namespace;
    meta.uid = existing.metadata?.uid;
    meta.creationTimestamp = existing.metadata?.creationTimestamp;
    meta.resourceVersion = existing.metadata?.resourceVersion;
    if (GENERATION_KINDS.has(r.kind)) {
      const specChanged = JSON.stringify(next['spec']) !== JSON.stringify(existing['spec']);
      meta.generation = (existing.metadata?.generation ?? 1) + (specChanged ? 1 : 0);
    }
    if (r.kind === 'Secret' && !next['type']) next['type'] = existing['type'];
    if (r.kind === 'Event') checkEventTimes(next);
    // An update that changes nothing is not written: no new resourceVersion, no watch event.
    if (sameContent(next, existing) || options.dryRun) return options.dryRun ? next : existing;
    return this.#store.write(r.storage, next);
  }

  /** DELETE: 200 with a Status (or the object, for Services); preconditions give 409. */
  delete(r: ResourceType, namespace: string | undefined, name: string, preconditions: { uid?: string; resourceVersion?: string } = {}, options: WriteOptions = {}): KubeObject {
    const existing = this.get(r, namespace, name);
    if (preconditions.uid && preconditions.uid !== existing.metadata?.uid) {
      throw conflict(r, name, `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${existing.metadata?.uid}`);
    }
    if (preconditions.resourceVersion && preconditions.resourceVersion !== existing.metadata?.resourceVersion) {
      throw conflict(r, name, `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${existing.metadata?.resourceVersion}`);
    }
    const deleted = options.dryRun ? existing : this.#store.remove(r.storage, namespace, name)!;
    if (RETURNS_DELETED_OBJECT.has(r.kind)) return toView(r, deleted);
    return {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success',
      details: { name, group: r.group, kind: r.plural, uid: existing.metadata?.uid },
    };
  }

  #checkTypeMeta(r: ResourceType, body: KubeObject): void {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body of the request must be an object');
    if (body.apiVersion !== undefined && body.apiVersion !== apiVersionOf(r)) {
      throw badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${apiVersionOf(r)})`);
    }
    if (body.kind !== undefined && body.kind !== r.kind) {
      throw badRequest(`the kind in the data (${body.kind}) does not match the expected kind (${r.kind})`);
    }
  }
}
