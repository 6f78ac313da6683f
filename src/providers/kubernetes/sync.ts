// The rebuild loop: cluster changes -> (debounced, behind the sync gate) translate -> accept
// (validate + hash) -> the sink, when the snapshot's hash changed. Diagnostics go out after every
// translation, whether or not the snapshot changed (their consumer deduplicates).
import { SnapshotAcceptor } from '../../config/incremental.ts';
import type { Snapshot } from '../../config/snapshot.ts';
import { logger } from '../../common/log.ts';
import { SecretCertificateCache } from '../../translate/secret-certificate.ts';
import { translate } from '../../translate/translate.ts';
import { TranslateMemo } from '../../translate/memo.ts';
import { CONTROLLER_NAME, type Diagnostic, type LastGoodState, type TranslateResult } from '../../translate/types.ts';
import type { Clock } from '../../common/clock.ts';
import { Debouncer } from '../../common/debounce.ts';
import type { SnapshotSink } from '../provider.ts';
import type { ClusterChange, ResourceSource } from './informers/store.ts';
import { References } from './references.ts';
import { withAffinityKey } from './affinity-key.ts';

const log = logger('controller');

export interface SnapshotSyncOptions {
  clock: Clock;
  ingressClass: string;
  defaultCertSecret?: string;
  /** `--affinity-secret` NS/NAME (affinity-key.ts). */
  affinitySecret?: string;
  quietMs?: number;
  maxDelayMs?: number;
  /** The first change after a quiet spell is rebuilt this soon (Debouncer leadMs). Default 5 ms. */
  leadMs?: number;
  /**
   * accept: a valid snapshot whose hash differs from the last accepted one. refuse: translation
   * produced a snapshot that failed validation (a translator bug, not a user mistake), or accept
   * threw.
   */
  sink: SnapshotSink;
  /** Every translation's diagnostics and the snapshot it produced (accepted or not). */
  translated?(diagnostics: Diagnostic[], snapshot: Snapshot, result: TranslateResult): void;
}

export type RebuildOutcome = { delivered: boolean; hash?: string };

export class SnapshotSync {
  readonly #source: ResourceSource;
  readonly #options: SnapshotSyncOptions;
  readonly #debouncer: Debouncer;
  #lastGood: LastGoodState | undefined;
  #lastHash: string | undefined;
  #diagnostics: Diagnostic[] = [];
  #rebuilds = 0;
  #ignored = 0;
  readonly #certificates = new SecretCertificateCache();
  /** Unchanged Ingresses give the same frozen routes and pools: the acceptor skips them by identity. */
  readonly #memo = new TranslateMemo();
  /** Validates and hashes only what changed since the last accepted snapshot. */
  readonly #acceptor = new SnapshotAcceptor();
  #translateMs = 0;
  /** What the last translation read; undefined before the first, when every change matters. */
  #references: References | undefined;
  #delivering: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(source: ResourceSource, options: SnapshotSyncOptions) {
    this.#source = source;
    this.#options = options;
    this.#debouncer = new Debouncer({ clock: options.clock, quietMs: options.quietMs, maxDelayMs: options.maxDelayMs, leadMs: options.leadMs ?? 5 }, () => {
      if (!this.#closed) this.rebuild();
    });
  }

  /**
   * Something in the cluster changed (or a kind finished listing: no change given). A Secret,
   * Service or EndpointSlice the last translation did not read changes nothing: no rebuild.
   */
  notify(change?: ClusterChange): void {
    if (this.#closed) return;
    if (this.#references !== undefined && !this.#references.matters(change)) {
      this.#ignored += 1;
      return;
    }
    this.#debouncer.trigger();
  }

  /** Wall time spent inside translate() so far, in ms (the bench reads it). */
  get translateMs(): number {
    return this.#translateMs;
  }

  /** Changes that did not start a rebuild, since nothing the last translation read was touched. */
  get ignored(): number {
    return this.#ignored;
  }

  /** Translations run so far (not counting those held back by the sync gate). */
  get rebuilds(): number {
    return this.#rebuilds;
  }

  get diagnostics(): readonly Diagnostic[] {
    return this.#diagnostics;
  }

  /** Resolves once every delivery started so far has finished. */
  settled(): Promise<void> {
    return this.#delivering;
  }

  close(): void {
    this.#closed = true;
    this.#debouncer.cancel();
  }

  /**
   * Translates now. What can happen, in order:
   * 0. (notify) A change to an object the last translation did not read: no rebuild at all.
   * 1. Some kind has not listed yet: nothing (a partial view would drop routes); its listing
   *    notifies again.
   * 2. Translation runs; its diagnostics (and snapshot) go out whatever follows.
   * 3. The snapshot fails validation: the sink's refuse gets the issues; the last one stays.
   * 4. The hash equals the last accepted one: nothing more to do.
   * 5. The snapshot is queued for the sink's accept, after any earlier one; if accept throws,
   *    the hash is forgotten and a rebuild is retried a second later.
   */
  rebuild(): RebuildOutcome {
    if (!this.#source.synced()) return { delivered: false };
    this.#rebuilds += 1;
    const resources = this.#source.resources();
    const started = performance.now();
    const result = translate(resources, {
      ingressClass: this.#options.ingressClass,
      controllerName: CONTROLLER_NAME,
      certificateCache: this.#certificates,
      memo: this.#memo,
      ...(this.#options.defaultCertSecret === undefined ? {} : { defaultCertSecret: this.#options.defaultCertSecret }),
      ...(this.#lastGood === undefined ? {} : { lastGood: this.#lastGood }),
    });
    this.#translateMs += performance.now() - started;
    this.#lastGood = result.lastGood;
    this.#references = References.of(resources, this.#options.defaultCertSecret, this.#options.affinitySecret);
    result.snapshot = withAffinityKey(result.snapshot, resources.secrets, this.#options.affinitySecret);
    this.#diagnostics = result.diagnostics;
    this.#options.translated?.(result.diagnostics, result.snapshot, result);
    const accepted = this.#acceptor.accept(result.snapshot);
    if (!accepted.ok) {
      log.error({ issues: accepted.issues }, 'translated snapshot failed validation; the last one stays in effect');
      this.#options.sink.refuse(accepted.issues);
      return { delivered: false };
    }
    const { snapshot, hash } = accepted;
    if (hash === this.#lastHash) return { delivered: false, hash };
    this.#lastHash = hash;
    // Deliveries run one after another, in order: a slow file write never lets an older snapshot
    // land after a newer one.
    this.#delivering = this.#delivering.then(async () => {
      try {
        await this.#options.sink.accept(snapshot, hash);
      } catch (error) {
        log.error({ err: error, hash }, 'delivering the snapshot failed');
        // Forget the hash so the next change (or retry) delivers again.
        if (this.#lastHash === hash) this.#lastHash = undefined;
        this.#options.sink.refuse([{ path: [], message: (error as Error).message }]);
        this.#options.clock.after(1000, () => this.notify());
      }
    });
    log.info({ hash: hash.slice(0, 12), routes: snapshot.routes.length, pools: snapshot.pools.length }, 'snapshot rebuilt');
    return { delivered: true, hash };
  }
}
