// One kind of object, listed and watched through @kubernetes/client-node's ListWatch, made to
// survive what that informer does not survive on its own (see test/kubernetes/informer.test.ts
// and STYLE.md "Known traps"):
//  - a list or watch error stops the informer for good: restart it, with backoff, once per error;
//  - `await start()` says nothing about the cache: synced is "the first list is in the cache";
//  - selectors given to the informer apply to its watch only: the list function applies them too;
//  - a watch the server ends after a long, quiet life is reopened at once, not after the library's
//    growing 1 s..30 s delay, which would leave a quiet kind's next change unseen for that long;
//  - callbacks after stop() are ignored, and a reconnect pending at stop() never happens.
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { logger } from '../../../common/log.ts';
import type { Clock, TimerHandle } from '../../../common/clock.ts';
import { InformerStoppedError } from '../../../common/errors.ts';
import type { Projection } from './projections.ts';

const log = logger('kubernetes');

/** One page of a list call; `_continue` as client-node names the continue token. */
export type ListPage<T extends KubernetesObject> = (page: { limit: number; _continue?: string }) => Promise<KubernetesListObject<T>>;

export interface WatchedKind<T extends KubernetesObject> {
  /** For logs: `Ingress`, `Secret`, ... */
  kind: string;
  /** Collection path, all namespaces or one: `/api/v1/secrets`, `/api/v1/namespaces/NS/secrets`. */
  path: string;
  /** Calls the API's list with the same selectors as below. */
  listPage: ListPage<T>;
  labelSelector?: string;
  fieldSelector?: string;
  /** What the cache keeps of each object listed or watched (default: the whole object). */
  project?: Projection<T>;
}

export interface WatcherOptions {
  clock: Clock;
  /** First restart delay after an error; doubles to maxBackoffMs. Default 250 ms. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A watch that lived this long before the server ended it is reopened without delay. Default 5 s. */
  longWatchMs?: number;
  pageSize?: number;
}

/** Lists every page; the list's resourceVersion is the first page's (all pages share one snapshot). */
export async function listAll<T extends KubernetesObject>(listPage: ListPage<T>, pageSize = 500): Promise<KubernetesListObject<T>> {
  const first = await listPage({ limit: pageSize });
  const items = [...first.items];
  let token = first.metadata?._continue;
  while (token) {
    const page = await listPage({ limit: pageSize, _continue: token });
    items.push(...page.items);
    token = page.metadata?._continue;
  }
  return { ...first, items, metadata: { ...first.metadata, _continue: undefined } };
}

/** Every page of the kind, each object reduced to what the kind's projection keeps. */
export async function listKind<T extends KubernetesObject>(spec: WatchedKind<T>, pageSize = 500): Promise<KubernetesListObject<T>> {
  const list = await listAll(spec.listPage, pageSize);
  const project = spec.project;
  return project === undefined ? list : { ...list, items: list.items.map((item) => project(item)) };
}

/**
 * A Watch that opens nothing once its owner has stopped, and cuts a watch whose response arrived
 * after the stop (ListWatch.stop() can only abort a request whose headers it already has).
 */
class ClosableWatch<T extends KubernetesObject> extends Watch {
  readonly #isClosed: () => boolean;
  readonly #project: Projection<T> | undefined;

  constructor(kc: KubeConfig, isClosed: () => boolean, project: Projection<T> | undefined) {
    super(kc);
    this.#isClosed = isClosed;
    this.#project = project;
  }

  override async watch(path: string, queryParams: Record<string, string | number | boolean | undefined>, callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void, done: (err: unknown) => void): Promise<AbortController> {
    if (this.#isClosed()) {
      const idle = new AbortController();
      idle.abort();
      return idle;
    }
    const project = this.#project;
    // ERROR carries a Status, not an object of the kind: passed on as it came.
    const projected = project === undefined ? callback : (phase: string, apiObj: unknown, watchObj?: unknown) => callback(phase, phase === 'ERROR' ? apiObj : project(apiObj as T), watchObj);
    const controller = await super.watch(path, queryParams, projected, done);
    if (this.#isClosed()) controller.abort();
    return controller;
  }
}

export class KindWatcher<T extends KubernetesObject> {
  readonly kind: string;
  readonly #informer: ListWatch<T>;
  readonly #clock: Clock;
  readonly #initialBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #longWatchMs: number;
  /** The object added, updated or deleted; none after a list (anything may have changed). */
  readonly #onChange: (object?: T) => void;
  #synced = false;
  #closed = false;
  #backoffMs: number;
  #restart: TimerHandle | undefined;
  #delays = new Set<{ timer: TimerHandle }>();
  #connectedAt = 0;
  #previousConnectedAt = 0;
  #errors = 0;

  constructor(kc: KubeConfig, spec: WatchedKind<T>, options: WatcherOptions, onChange: (object?: T) => void) {
    this.kind = spec.kind;
    this.#clock = options.clock;
    this.#initialBackoffMs = options.initialBackoffMs ?? 250;
    this.#maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.#longWatchMs = options.longWatchMs ?? 5_000;
    this.#backoffMs = this.#initialBackoffMs;
    this.#onChange = onChange;
    const pageSize = options.pageSize ?? 500;
    const listFn = async (): Promise<KubernetesListObject<T>> => {
      const list = await listKind(spec, pageSize);
      // Stopped while listing: failing here keeps the informer from opening a watch afterwards.
      if (this.#closed) throw new InformerStoppedError(spec.kind);
      // ListWatch fills its cache synchronously after this promise settles; a macrotask later the
      // list is in the cache and the kind can be called synced.
      setImmediate(() => this.#listApplied());
      return list;
    };
    this.#informer = new ListWatch<T>(spec.path, new ClosableWatch(kc, () => this.#closed, spec.project), listFn, false, spec.labelSelector, spec.fieldSelector, {
      delayFn: (ms) => this.#reconnectDelay(ms),
    });
    const changed = (object: T): void => {
      if (this.#closed) return;
      this.#backoffMs = this.#initialBackoffMs;
      this.#onChange(object);
    };
    this.#informer.on('add', changed);
    this.#informer.on('update', changed);
    this.#informer.on('delete', changed);
    this.#informer.on('connect', () => {
      this.#previousConnectedAt = this.#connectedAt;
      this.#connectedAt = this.#clock.now();
    });
    this.#informer.on('error', (error: unknown) => this.#failed(error));
  }

  /** The first list is in the cache; stays true across later errors and relists (the cache is kept). */
  get synced(): boolean {
    return this.#synced;
  }

  /** Errors seen so far (each one restarted the informer). */
  get errors(): number {
    return this.#errors;
  }

  /** The cache's objects: never mutate them, they are the informer's own. */
  list(): readonly T[] {
    return this.#informer.list();
  }

  start(): void {
    void this.#informer.start();
  }

  async stop(): Promise<void> {
    this.#closed = true;
    this.#restart?.cancel();
    this.#restart = undefined;
    for (const delay of this.#delays) delay.timer.cancel();
    this.#delays.clear();
    await this.#informer.stop();
  }

  #listApplied(): void {
    if (this.#closed || this.#informer.latestResourceVersion() === '') return;
    this.#backoffMs = this.#initialBackoffMs;
    if (!this.#synced) {
      this.#synced = true;
      log.debug({ kind: this.kind, objects: this.#informer.list().length }, 'listed');
    }
    // A relist (after 410 Gone) reports its changes as events too; this covers an empty first list.
    this.#onChange();
  }

  #failed(error: unknown): void {
    // stop() aborts the open watch and that arrives here as an AbortError: not a failure.
    if (this.#closed) return;
    this.#errors += 1;
    // One restart per error; a second error while one is pending changes nothing.
    if (this.#restart !== undefined) return;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.#maxBackoffMs);
    log.warn({ kind: this.kind, err: error, retryInMs: delay }, 'list/watch failed; restarting');
    this.#restart = this.#clock.after(delay, () => {
      this.#restart = undefined;
      if (this.#closed) return;
      // start() keeps the cache and its resourceVersion: the watch resumes from there and the
      // server replays what was missed, or answers 410 and the informer lists again.
      this.start();
    });
  }

  #reconnectDelay(ms: number): Promise<void> {
    const watchLived = this.#connectedAt - this.#previousConnectedAt;
    if (this.#previousConnectedAt !== 0 && watchLived >= this.#longWatchMs) return Promise.resolve();
    return new Promise((resolve) => {
      // Never resolved once stopped: the informer then opens no further watch.
      const delay = { timer: this.#clock.after(ms, () => {
        this.#delays.delete(delay);
        if (!this.#closed) resolve();
      }) };
      this.#delays.add(delay);
    });
  }
}
