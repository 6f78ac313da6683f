// The controller's loop: cluster changes -> (debounced, behind the sync gate) translate ->
// validate -> deliver when the snapshot's hash changed. Diagnostics go out after every
// translation, whether or not the snapshot changed (their consumer deduplicates).
import { snapshotHash } from '../../config/canonical.ts';
import type { Snapshot } from '../../config/snapshot.ts';
import { validateSnapshot } from '../../config/validate.ts';
import { logger } from '../../common/log.ts';
import { translate } from '../../translate/translate.ts';
import { CONTROLLER_NAME, type Diagnostic, type LastGoodState } from '../../translate/types.ts';
import type { Clock } from '../../common/clock.ts';
import { Debouncer } from '../../common/debounce.ts';
import type { ResourceSource } from './informers/store.ts';

const log = logger('controller');

export interface ControllerOptions {
  clock: Clock;
  ingressClass: string;
  defaultCertSecret?: string;
  quietMs?: number;
  maxDelayMs?: number;
  /** A valid snapshot whose hash differs from the last delivered one. */
  deliver(snapshot: Snapshot, hash: string): void | Promise<void>;
  /** Translation produced a snapshot that failed validation (a translator bug, not a user mistake). */
  refused?(errors: string[]): void;
  /** Every translation's diagnostics. */
  diagnosed?(diagnostics: Diagnostic[]): void;
}

export interface RebuildOutcome {
  delivered: boolean;
  hash?: string;
  errors?: string[];
}

export class Controller {
  readonly #source: ResourceSource;
  readonly #options: ControllerOptions;
  readonly #debouncer: Debouncer;
  #lastGood: LastGoodState | undefined;
  #lastHash: string | undefined;
  #diagnostics: Diagnostic[] = [];
  #rebuilds = 0;
  #deliveries = 0;
  #delivering: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(source: ResourceSource, options: ControllerOptions) {
    this.#source = source;
    this.#options = options;
    this.#debouncer = new Debouncer({ clock: options.clock, quietMs: options.quietMs, maxDelayMs: options.maxDelayMs }, () => {
      if (!this.#closed) this.rebuild();
    });
  }

  /** Something in the cluster changed (or a kind finished listing). */
  notify(): void {
    if (this.#closed) return;
    this.#debouncer.trigger();
  }

  /** Translations run so far (not counting those held back by the sync gate). */
  get rebuilds(): number {
    return this.#rebuilds;
  }

  /** Snapshots handed to deliver(). */
  get deliveries(): number {
    return this.#deliveries;
  }

  get lastHash(): string | undefined {
    return this.#lastHash;
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

  /** Translates now; does nothing before every kind has listed (a partial view would drop routes). */
  rebuild(): RebuildOutcome {
    if (!this.#source.synced()) return { delivered: false };
    this.#rebuilds += 1;
    const result = translate(this.#source.resources(), {
      ingressClass: this.#options.ingressClass,
      controllerName: CONTROLLER_NAME,
      ...(this.#options.defaultCertSecret === undefined ? {} : { defaultCertSecret: this.#options.defaultCertSecret }),
      ...(this.#lastGood === undefined ? {} : { lastGood: this.#lastGood }),
    });
    this.#lastGood = result.lastGood;
    this.#diagnostics = result.diagnostics;
    this.#options.diagnosed?.(result.diagnostics);
    const validation = validateSnapshot(result.snapshot);
    if (!validation.ok) {
      log.error({ errors: validation.errors }, 'translated snapshot failed validation; the last one stays in effect');
      this.#options.refused?.(validation.errors);
      return { delivered: false, errors: validation.errors };
    }
    const hash = snapshotHash(validation.snapshot);
    if (hash === this.#lastHash) return { delivered: false, hash };
    this.#lastHash = hash;
    this.#deliveries += 1;
    const snapshot = validation.snapshot;
    // Deliveries run one after another, in order: a slow file write never lets an older snapshot
    // land after a newer one.
    this.#delivering = this.#delivering.then(async () => {
      try {
        await this.#options.deliver(snapshot, hash);
      } catch (error) {
        log.error({ err: error, hash }, 'delivering the snapshot failed');
        // Forget the hash so the next change (or retry) delivers again.
        if (this.#lastHash === hash) this.#lastHash = undefined;
        this.#options.refused?.([(error as Error).message]);
        this.#options.clock.after(1000, () => this.notify());
      }
    });
    log.info({ hash: hash.slice(0, 12), routes: snapshot.routes.length, pools: snapshot.pools.length }, 'snapshot rebuilt');
    return { delivered: true, hash };
  }
}
