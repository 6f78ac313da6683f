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
  /**
   * First restart delay after an error; doubles to maxBackoffMs, each delay with +-20% jitter, and
   * back to this after a list or watch succeeds. Default 100 ms.
   */
  initialBackoffMs?: number;
  /**
   * Default 800 ms: with its jitter under a second, so a kind lists again within a second of the
   * API server answering after an outage or restart (a retry is one cheap refused connection).
   */
  maxBackoffMs?: number;
  /**
   * A kind that has never listed and that the API server keeps refusing (403 Forbidden, 404 for a
   * missing CRD, 5xx) for this long is treated as empty, so every other host is served. Default 5 s.
   */
  unavailableAfterMs?: number;
  /** Every failed list or watch, as `wsgate_controller_sync_errors_total{kind}` counts it. */
  onError?(kind: string, error: unknown): void;
  /** Jitter source in [0, 1); Math.random by default (tests pin it). */
  random?: () => number;
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
  readonly #opened: () => void;

  constructor(kc: KubeConfig, isClosed: () => boolean, project: Projection<T> | undefined, opened: () => void) {
    super(kc);
    this.#isClosed = isClosed;
    this.#project = project;
    this.#opened = opened;
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
    let failed = false;
    const controller = await super.watch(path, queryParams, projected, (err) => {
      if (err) failed = true;
      done(err);
    });
    if (this.#isClosed()) controller.abort();
    // Watch.watch reports a refused request through done() before it returns: not having done so,
    // the server answered 200 and the watch is open (a quiet kind's recovery has no event to show it).
    else if (!failed) this.#opened();
    return controller;
  }
}

/** The HTTP status of a failed list (ApiException.code) or watch (Error.statusCode); none for a connection error. */
export function statusOf(error: unknown): number | undefined {
  const { code, statusCode } = (error ?? {}) as { code?: unknown; statusCode?: unknown };
  if (typeof statusCode === 'number') return statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** An answer that says the kind cannot be read, as opposed to a server that is not there. */
export function isRefusal(status: number | undefined): boolean {
  return status === 401 || status === 403 || status === 404 || (status !== undefined && status >= 500);
}

/** One line for a failure, not a stack: the status (or the connection error's code) and its message. */
export function failureSummary(error: unknown): string {
  const status = statusOf(error);
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  let body = (error as { body?: unknown } | null)?.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      // Not a Status: the status code alone says enough.
    }
  }
  const message = typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string' ? (body as { message: string }).message : undefined;
  if (status !== undefined) return `HTTP ${status}${message === undefined ? '' : `: ${message}`}`;
  if (typeof cause === 'string') return cause;
  if (error instanceof Error) return error.message.split('\n', 1)[0]!;
  return String(error);
}

/** What /readyz?verbose shows for a kind. */
export interface KindCondition {
  kind: string;
  /**
   * listed: serving from a current cache; failing: list/watch errors since `since`; unavailable:
   * refused, treated as empty; absent: an optional API (Gateway API) not installed, empty.
   */
  state: 'listing' | 'listed' | 'failing' | 'unavailable' | 'absent';
  since?: string;
  lastError?: string;
  errors: number;
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
  readonly #unavailableAfterMs: number;
  readonly #onError: ((kind: string, error: unknown) => void) | undefined;
  readonly #random: () => number;
  /** Start of the current run of failures (an outage, a refusal); undefined while healthy. */
  #failingSince: number | undefined;
  #lastError: string | undefined;
  #lastStatus: number | undefined;
  /** Never listed, refused for unavailableAfterMs: served as an empty kind until it lists. */
  #unavailable = false;
  #unavailableTimer: TimerHandle | undefined;
  /** The restart after an error waited its backoff already: the informer's own delay is skipped. */
  #restartedAfterError = false;

  constructor(kc: KubeConfig, spec: WatchedKind<T>, options: WatcherOptions, onChange: (object?: T) => void) {
    this.kind = spec.kind;
    this.#clock = options.clock;
    this.#initialBackoffMs = options.initialBackoffMs ?? 100;
    this.#maxBackoffMs = options.maxBackoffMs ?? 800;
    this.#unavailableAfterMs = options.unavailableAfterMs ?? 5_000;
    this.#onError = options.onError;
    this.#random = options.random ?? Math.random;
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
    this.#informer = new ListWatch<T>(spec.path, new ClosableWatch(kc, () => this.#closed, spec.project, () => this.#recovered()), listFn, false, spec.labelSelector, spec.fieldSelector, {
      delayFn: (ms) => this.#reconnectDelay(ms),
    });
    const changed = (object: T): void => {
      if (this.#closed) return;
      this.#recovered();
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

  /**
   * The first list is in the cache (stays true across later errors and relists: the cache is
   * kept), or the kind is unavailable and served as empty.
   */
  get synced(): boolean {
    return this.#synced || this.#unavailable;
  }

  /** Never listed and refused for longer than the bounded wait: served as empty. */
  get unavailable(): boolean {
    return this.#unavailable;
  }

  condition(): KindCondition {
    const since = this.#failingSince === undefined ? undefined : new Date(this.#failingSince).toISOString();
    const state = this.#unavailable ? 'unavailable' : this.#failingSince !== undefined ? 'failing' : this.#synced ? 'listed' : 'listing';
    return {
      kind: this.kind,
      state,
      ...(since === undefined ? {} : { since }),
      ...(this.#lastError === undefined || this.#failingSince === undefined ? {} : { lastError: this.#lastError }),
      errors: this.#errors,
    };
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
    this.#unavailableTimer?.cancel();
    this.#restart?.cancel();
    this.#restart = undefined;
    for (const delay of this.#delays) delay.timer.cancel();
    this.#delays.clear();
    await this.#informer.stop();
  }

  #listApplied(): void {
    if (this.#closed || this.#informer.latestResourceVersion() === '') return;
    this.#recovered();
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
    this.#onError?.(this.kind, error);
    this.#lastStatus = statusOf(error);
    this.#lastError = failureSummary(error);
    if (this.#failingSince === undefined) {
      // One line per kind per outage (its end is one more); the retries in between are debug.
      this.#failingSince = this.#clock.now();
      log.warn({ kind: this.kind, error: this.#lastError }, 'list/watch failed; retrying until it answers');
    } else {
      log.debug({ kind: this.kind, error: this.#lastError }, 'list/watch failed again');
    }
    this.#considerUnavailable();
    // One restart per error; a second error while one is pending changes nothing.
    if (this.#restart !== undefined) return;
    const delay = Math.round(this.#backoffMs * (0.8 + 0.4 * this.#random()));
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.#maxBackoffMs);
    this.#restart = this.#clock.after(delay, () => {
      this.#restart = undefined;
      if (this.#closed) return;
      this.#restartedAfterError = true;
      // start() keeps the cache and its resourceVersion: the watch resumes from there and the
      // server replays what was missed, or answers 410 and the informer lists again.
      this.start();
    });
  }

  /** SPEC §5 degrade, never block: a kind refused from the start is, after a bounded wait, empty. */
  #considerUnavailable(): void {
    if (this.#synced || this.#unavailable || this.#unavailableTimer !== undefined || !isRefusal(this.#lastStatus)) return;
    const waited = this.#clock.now() - this.#failingSince!;
    this.#unavailableTimer = this.#clock.after(Math.max(0, this.#unavailableAfterMs - waited), () => {
      this.#unavailableTimer = undefined;
      if (this.#closed || this.#synced || this.#failingSince === undefined) return;
      if (!isRefusal(this.#lastStatus)) return;
      this.#unavailable = true;
      log.warn({ kind: this.kind, error: this.#lastError, waitedMs: this.#unavailableAfterMs }, 'kind cannot be listed: served as empty until it can');
      this.#onChange();
    });
  }

  /** A list or watch event arrived: the backoff starts over and an outage, if any, is over. */
  #recovered(): void {
    this.#backoffMs = this.#initialBackoffMs;
    if (this.#failingSince === undefined) return;
    log.info({ kind: this.kind, failedForMs: this.#clock.now() - this.#failingSince, unavailable: this.#unavailable }, 'list/watch answering again');
    this.#failingSince = undefined;
    this.#unavailable = false;
    this.#unavailableTimer?.cancel();
    this.#unavailableTimer = undefined;
  }

  #reconnectDelay(ms: number): Promise<void> {
    const afterError = this.#restartedAfterError;
    this.#restartedAfterError = false;
    if (afterError) return Promise.resolve();
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
