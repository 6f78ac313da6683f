// LIST and WATCH: selectors, limit/continue paging over a consistent snapshot, and watch streams
// replayed from a resourceVersion (k8s.io/apiserver pkg/storage/cacher semantics, simplified).
import type { ServerResponse } from 'node:http';
import type { KubeObject } from './types.ts';
import type { Change, ObjectStore } from './store.ts';
import { apiVersionOf, fieldSet, supportedFieldLabels, type ResourceType } from './resources.ts';
import { fieldsMatch, labelsMatch, parseFieldSelector, parseLabelSelector, SelectorError } from './selectors.ts';
import { badRequest, expired, statusOf } from './status.ts';
import { toView } from './objects.ts';

export interface QueryParams {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** Builds the predicate a LIST or WATCH filters stored objects with; bad selectors are 400. */
export function matcher(r: ResourceType, q: QueryParams): (stored: KubeObject) => boolean {
  try {
    const labels = q.labelSelector ? parseLabelSelector(q.labelSelector) : [];
    const fields = q.fieldSelector ? parseFieldSelector(q.fieldSelector, supportedFieldLabels(r)) : [];
    return (o) =>
      (q.namespace === undefined || o.metadata?.namespace === q.namespace) &&
      labelsMatch(labels, o.metadata?.labels) &&
      fieldsMatch(fields, fieldSet(r, o));
  } catch (err) {
    if (err instanceof SelectorError) throw badRequest(err.message);
    throw err;
  }
}

/** List items carry no apiVersion/kind, as a real API server sends them (only the list has TypeMeta). */
function listItem(r: ResourceType, stored: KubeObject): KubeObject {
  const { apiVersion: _a, kind: _k, ...rest } = toView(r, stored);
  return rest;
}

interface Snapshot { resourceVersion: number; items: KubeObject[] }

export class Lister {
  readonly #store: ObjectStore;
  readonly #snapshots = new Map<string, Snapshot>();
  #nextSnapshot = 1;

  constructor(store: ObjectStore) {
    this.#store = store;
  }

  /** Paged lists continue from the snapshot of their first page; compaction expires them (410). */
  forgetSnapshots(): void {
    this.#snapshots.clear();
  }

  list(r: ResourceType, q: QueryParams & { limit?: number; continue?: string }): KubeObject {
    let snapshotId: string;
    let offset = 0;
    let snapshot: Snapshot | undefined;
    if (q.continue) {
      try {
        const token = JSON.parse(Buffer.from(q.continue, 'base64url').toString()) as { id: string; offset: number };
        snapshotId = token.id;
        offset = token.offset;
      } catch {
        throw badRequest('continue key is not valid: illegal base64 data');
      }
      snapshot = this.#snapshots.get(snapshotId);
      if (!snapshot) {
        throw expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results.');
      }
    } else {
      const matches = matcher(r, q);
      snapshotId = String(this.#nextSnapshot++);
      snapshot = { resourceVersion: this.#store.revision, items: this.#store.list(r.storage, q.namespace).filter(matches) };
    }
    const limit = q.limit && q.limit > 0 ? q.limit : Infinity;
    const page = snapshot.items.slice(offset, offset + limit);
    const rest = snapshot.items.length - offset - page.length;
    const metadata: Record<string, unknown> = { resourceVersion: String(snapshot.resourceVersion) };
    if (rest > 0) {
      this.#snapshots.set(snapshotId, snapshot);
      metadata['continue'] = Buffer.from(JSON.stringify({ id: snapshotId, offset: offset + page.length })).toString('base64url');
      metadata['remainingItemCount'] = rest;
    } else {
      this.#snapshots.delete(snapshotId);
    }
    return { apiVersion: apiVersionOf(r), kind: `${r.kind}List`, metadata, items: page.map((o) => listItem(r, o)) };
  }
}

export interface WatchOptions extends QueryParams {
  resourceVersion?: string;
  timeoutSeconds?: number;
  allowWatchBookmarks?: boolean;
  bookmarkIntervalMs: number;
  /** Presents each event's object differently (a Table for kubectl's server-side printing). */
  render?: (obj: KubeObject) => KubeObject;
}

export interface OpenWatch {
  /** Ends the stream with the terminating chunk, as a server does on timeout. */
  end(): void;
  /** Cuts the connection without a terminating chunk, as a server that goes away does. */
  cut(): void;
}

/**
 * Streams one watch: JSON lines of {type, object}. A resourceVersion older than the retained
 * history gets one ERROR event with a 410 Expired Status and the stream ends, as the real
 * watch cache answers "too old resource version".
 */
export function streamWatch(store: ObjectStore, r: ResourceType, res: ServerResponse, options: WatchOptions, onClose: () => void): OpenWatch {
  const matches = matcher(r, options);
  const render = options.render ?? ((o: KubeObject) => o);
  const send = (type: string, object: KubeObject) =>
    res.write(JSON.stringify({ type, object: type === 'ERROR' || type === 'BOOKMARK' ? object : render(object) }) + '\n');
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();

  const rvParam = options.resourceVersion ?? '';
  const initial: { type: string; object: KubeObject }[] = [];
  if (rvParam === '' || rvParam === '0') {
    // "Any" resourceVersion: start with synthetic ADDED events for what exists now.
    for (const o of store.list(r.storage, options.namespace).filter(matches)) initial.push({ type: 'ADDED', object: toView(r, o) });
  } else {
    const since = Number(rvParam);
    const changes = Number.isInteger(since) ? store.changesSince(r.storage, since) : 'expired';
    if (changes === 'expired') {
      send('ERROR', statusOf(410, 'Expired', `too old resource version: ${rvParam} (${store.compactedRevision})`) as unknown as KubeObject);
      res.end();
      onClose();
      return { end: () => {}, cut: () => {} };
    }
    for (const change of changes) {
      const event = translate(r, change, matches);
      if (event) initial.push(event);
    }
  }
  for (const e of initial) send(e.type, e.object);

  const bookmark = () => send('BOOKMARK', { apiVersion: apiVersionOf(r), kind: r.kind, metadata: { resourceVersion: String(store.revision) } });
  const unsubscribe = store.subscribe((change) => {
    if (change.storage !== r.storage) return;
    const event = translate(r, change, matches);
    if (event) send(event.type, event.object);
  });
  const timers: NodeJS.Timeout[] = [];
  let closed = false;
  const cleanup = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    for (const t of timers) clearTimeout(t);
    onClose();
  };
  const end = () => {
    if (closed) return;
    if (options.allowWatchBookmarks) bookmark();
    cleanup();
    res.end();
  };
  if (options.timeoutSeconds !== undefined && options.timeoutSeconds > 0) timers.push(setTimeout(end, options.timeoutSeconds * 1000));
  if (options.allowWatchBookmarks) timers.push(setInterval(bookmark, options.bookmarkIntervalMs));
  for (const t of timers) t.unref();
  res.on('close', cleanup);
  return {
    end,
    cut: () => {
      cleanup();
      res.socket?.destroy();
    },
  };
}

/** A change as seen through a selector: leaving the selection is DELETED, entering it is ADDED. */
function translate(r: ResourceType, change: Change, matches: (o: KubeObject) => boolean): { type: string; object: KubeObject } | undefined {
  const now = change.type !== 'DELETED' && matches(change.object);
  const before = change.previous !== undefined && matches(change.previous);
  if (change.type === 'DELETED') return before ? { type: 'DELETED', object: toView(r, change.object) } : undefined;
  if (now) return { type: before ? 'MODIFIED' : 'ADDED', object: toView(r, change.object) };
  return before ? { type: 'DELETED', object: toView(r, change.object) } : undefined;
}
