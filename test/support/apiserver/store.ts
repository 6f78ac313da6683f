// Objects and their change history under one resourceVersion counter, as etcd gives the API server.
import type { KubeObject } from './types.ts';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  resourceVersion: number;
  storage: string;
  type: ChangeType;
  /** The object after the change; for DELETED, the last state with the deletion's resourceVersion. */
  object: KubeObject;
  /** The object before the change, so a watch with a selector can turn MODIFIED into ADDED or DELETED. */
  previous?: KubeObject;
}

const keyOf = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;

export class ObjectStore {
  #revision = 0;
  #compactedRevision = 0;
  readonly #objects = new Map<string, Map<string, KubeObject>>();
  #history: Change[] = [];
  readonly #subscribers = new Set<(change: Change) => void>();
  readonly #maxHistory: number;

  constructor(maxHistory = 10_000) {
    this.#maxHistory = maxHistory;
  }

  get revision(): number {
    return this.#revision;
  }

  /** Watches from a resourceVersion below this one get 410 Gone. */
  get compactedRevision(): number {
    return this.#compactedRevision;
  }

  #bucket(storage: string): Map<string, KubeObject> {
    let bucket = this.#objects.get(storage);
    if (!bucket) {
      bucket = new Map();
      this.#objects.set(storage, bucket);
    }
    return bucket;
  }

  get(storage: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.#bucket(storage).get(keyOf(namespace, name));
    return found && structuredClone(found);
  }

  /** Objects sorted by namespace then name, the order a real API server lists them in. */
  list(storage: string, namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const [, obj] of [...this.#bucket(storage).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (namespace === undefined || obj.metadata?.namespace === namespace) out.push(structuredClone(obj));
    }
    return out;
  }

  /** Stores a new state of an object under the next resourceVersion and records the change. */
  write(storage: string, object: KubeObject): KubeObject {
    const meta = object.metadata ?? {};
    const key = keyOf(meta.namespace, meta.name ?? '');
    const bucket = this.#bucket(storage);
    const previous = bucket.get(key);
    const stored = structuredClone(object);
    stored.metadata = { ...stored.metadata, resourceVersion: String(++this.#revision) };
    bucket.set(key, stored);
    this.#record({ resourceVersion: this.#revision, storage, type: previous ? 'MODIFIED' : 'ADDED', object: stored, ...(previous ? { previous } : {}) });
    return structuredClone(stored);
  }

  remove(storage: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const bucket = this.#bucket(storage);
    const key = keyOf(namespace, name);
    const previous = bucket.get(key);
    if (!previous) return undefined;
    bucket.delete(key);
    const deleted = structuredClone(previous);
    deleted.metadata = { ...deleted.metadata, resourceVersion: String(++this.#revision) };
    this.#record({ resourceVersion: this.#revision, storage, type: 'DELETED', object: deleted, previous });
    return structuredClone(deleted);
  }

  #record(change: Change): void {
    this.#history.push(change);
    if (this.#history.length > this.#maxHistory) {
      const dropped = this.#history.splice(0, this.#history.length - this.#maxHistory);
      this.#compactedRevision = dropped.at(-1)!.resourceVersion;
    }
    for (const subscriber of [...this.#subscribers]) subscriber(change);
  }

  /** Changes after `revision`, or 'expired' when compaction already dropped some of them. */
  changesSince(storage: string, revision: number): Change[] | 'expired' {
    if (revision < this.#compactedRevision) return 'expired';
    return this.#history.filter((c) => c.storage === storage && c.resourceVersion > revision);
  }

  subscribe(subscriber: (change: Change) => void): () => void {
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }

  /** Forgets all history, as etcd compaction does: older resourceVersions can no longer be watched. */
  compact(): void {
    this.#history = [];
    this.#compactedRevision = this.#revision;
  }
}
