// Diagnostics become core/v1 Events on their objects (SPEC §5), one per problem: translate() runs
// on every change and resync, but an Event is posted only when a problem first appears (or comes
// back after it was fixed), never again while it persists. Each problem has a stable Event name,
// so a restarted or newly elected controller leaves an Event that is already there alone: before
// its first write it lists the Events wsgate wrote (source=wsgate, one paged list) and writes none
// for a problem already posted, so a restart with nothing changed writes no Event at all (without
// the list permission, a create answered 409 still means "already there"). A problem that comes
// back bumps that Event's count and lastTimestamp.
import { createHash } from 'node:crypto';
import { CoreV1Api, PatchStrategy, setHeaderOptions, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import { logger } from '../../../common/log.ts';
import { statusCode } from '../../../common/names.ts';
import type { Diagnostic } from '../../../translate/types.ts';
import type { Clock } from '../../../common/clock.ts';
import type { TokenBucket } from './rate-limit.ts';

const log = logger('events');

export const EVENT_SOURCE = 'wsgate';

export interface EventRecorderOptions {
  clock: Clock;
  /** reportingInstance: the pod name, or host+pid. */
  instance: string;
  /** Only the leader writes (followers see the same diagnostics). */
  isLeader(): boolean;
  /** Every write waits for a token (shared with the status writer). */
  limiter?: TokenBucket;
  /** `--watch-namespace`: the Events already posted are listed there only (a Role allows no more). */
  watchNamespace?: string;
}

/** One key per problem: the object (its uid, so a re-created Ingress is a new object) and the words. */
export function diagnosticKey(d: Diagnostic): string {
  return [d.object.kind, d.object.namespace, d.object.name, d.object.uid ?? '', d.type, d.reason, d.message].join('\u0000');
}

/** A DNS-subdomain Event name, stable for one problem: `<object>.<hash>`. */
export function eventName(d: Diagnostic): string {
  const digest = createHash('sha256').update(diagnosticKey(d)).digest('hex').slice(0, 16);
  return `${d.object.name.slice(0, 200)}.${digest}`;
}

const API_VERSIONS: Record<Diagnostic['object']['kind'], string> = { Ingress: 'networking.k8s.io/v1', Secret: 'v1', HTTPRoute: 'gateway.networking.k8s.io/v1' };

export class EventRecorder {
  readonly #api: CoreV1Api;
  readonly #options: EventRecorderOptions;
  /** Problems present in the last translation that this process has posted (or found posted). */
  readonly #reported = new Set<string>();
  /** Problems this process has posted at some time: a return of one of these is a repeat. */
  readonly #everReported = new Set<string>();
  /** The count this process last gave each posted problem's Event. */
  readonly #counts = new Map<string, number>();
  #latest: Diagnostic[] = [];
  #queue: Promise<void> = Promise.resolve();
  #posted = 0;
  /** Names of the Events wsgate had posted when this leadership began; undefined: not listed (yet, or not allowed). */
  #existing: Set<string> | undefined;
  #listed = false;
  #skipped = 0;

  constructor(kc: KubeConfig, options: EventRecorderOptions) {
    this.#api = kc.makeApiClient(CoreV1Api);
    this.#options = options;
  }

  /** Events created or patched so far. */
  get posted(): number {
    return this.#posted;
  }

  /** Problems not written because their Event was already there (listed at the start of leadership). */
  get skipped(): number {
    return this.#skipped;
  }

  /** Resolves when every queued write has been tried. */
  idle(): Promise<void> {
    return this.#queue;
  }

  /** The diagnostics of one translation. */
  record(diagnostics: readonly Diagnostic[]): void {
    this.#latest = [...diagnostics];
    const current = new Map(diagnostics.map((d) => [diagnosticKey(d), d]));
    // A problem that went away may come back later, and then it is worth an Event again.
    for (const key of this.#reported) if (!current.has(key)) this.#reported.delete(key);
    if (!this.#options.isLeader()) return;
    for (const [key, diagnostic] of current) {
      if (this.#reported.has(key)) continue;
      this.#reported.add(key);
      if (!this.#listed) {
        this.#listed = true;
        this.#queue = this.#queue.then(() => this.#listExisting());
      }
      this.#queue = this.#queue.then(() => this.#post(key, diagnostic));
    }
  }

  /** Leadership changed: a new leader reports what is current (already-posted problems are left alone). */
  leadershipChanged(): void {
    // Another leader may have posted meanwhile: what is there is listed again before writing.
    this.#listed = false;
    this.record(this.#latest);
  }

  /** The names of the Events wsgate posted, in pages of 500; on any failure, none (creates then meet 409). */
  async #listExisting(): Promise<void> {
    const names = new Set<string>();
    try {
      let token: string | undefined;
      do {
        await this.#options.limiter?.take();
        const request = { fieldSelector: `source=${EVENT_SOURCE}`, limit: 500, ...(token === undefined ? {} : { _continue: token }) };
        const page =
          this.#options.watchNamespace === undefined
            ? await this.#api.listEventForAllNamespaces(request)
            : await this.#api.listNamespacedEvent({ namespace: this.#options.watchNamespace, ...request });
        for (const event of page.items) if (event.metadata?.name !== undefined) names.add(`${event.metadata.namespace ?? ''}/${event.metadata.name}`);
        token = page.metadata?._continue || undefined;
      } while (token !== undefined);
      this.#existing = names;
    } catch (error) {
      this.#existing = undefined;
      log.info({ code: statusCode(error) }, 'cannot list the Events already posted: each is created and a 409 taken as already there');
    }
  }

  async #post(key: string, d: Diagnostic): Promise<void> {
    const name = eventName(d);
    const namespace = d.object.namespace;
    const now = new Date(this.#options.clock.now());
    const repeat = this.#everReported.has(key);
    try {
      if (!repeat && this.#existing?.has(`${namespace}/${name}`)) {
        // Posted before this leadership (a restart, an earlier leader): same problem, same Event.
        this.#everReported.add(key);
        this.#skipped += 1;
        return;
      }
      if (!repeat) {
        try {
          await this.#options.limiter?.take();
          await this.#api.createNamespacedEvent({ namespace, body: this.#event(name, d, now) });
          this.#posted += 1;
          this.#everReported.add(key);
          this.#counts.set(key, 1);
          log.info({ object: `${d.object.kind} ${namespace}/${d.object.name}`, type: d.type, reason: d.reason }, d.message);
          return;
        } catch (error) {
          // Already there: posted before this process (a restart, an earlier leader). Same problem, same Event.
          if (statusCode(error) !== 409) throw error;
          this.#everReported.add(key);
          return;
        }
      }
      // Counted from what this process wrote: reading the Event back would need one more permission.
      const count = (this.#counts.get(key) ?? 1) + 1;
      try {
        await this.#options.limiter?.take();
        await this.#api.patchNamespacedEvent(
          { name, namespace, body: { count, lastTimestamp: now.toISOString() } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        this.#counts.set(key, count);
      } catch (error) {
        // Expired (the API server keeps Events for an hour by default): post it afresh.
        if (statusCode(error) !== 404) throw error;
        await this.#options.limiter?.take();
        await this.#api.createNamespacedEvent({ namespace, body: this.#event(name, d, now) });
        this.#counts.set(key, 1);
      }
      this.#posted += 1;
      log.info({ object: `${d.object.kind} ${namespace}/${d.object.name}`, type: d.type, reason: d.reason, repeat: true }, d.message);
    } catch (error) {
      // Lost Events are not worth blocking on; forget it so the next translation tries again.
      this.#reported.delete(key);
      log.warn({ err: error, reason: d.reason, object: `${namespace}/${d.object.name}` }, 'could not write the Event');
    }
  }

  #event(name: string, d: Diagnostic, now: Date): CoreV1Event {
    return {
      metadata: { name, namespace: d.object.namespace },
      involvedObject: {
        apiVersion: API_VERSIONS[d.object.kind],
        kind: d.object.kind,
        namespace: d.object.namespace,
        name: d.object.name,
        ...(d.object.uid === undefined ? {} : { uid: d.object.uid }),
      },
      type: d.type,
      reason: d.reason,
      // events.k8s.io caps a note at 1 KiB; kubectl describe shows long messages poorly anyway.
      message: d.message.length > 1000 ? `${d.message.slice(0, 997)}...` : d.message,
      source: { component: EVENT_SOURCE },
      reportingComponent: 'wsgate.io/ingress-controller',
      reportingInstance: this.#options.instance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
  }
}
