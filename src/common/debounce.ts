// Coalesces bursts of cluster changes into few rebuilds: fire `quietMs` after the last change, but
// never later than `maxDelayMs` after the first one of the batch (a steady trickle of EndpointSlice
// updates during a rollout must still reach the data plane). Contour's handler does the same.
// With `leadMs`, the first change after a quiet spell is not held back a quiet period: a lone
// change (a new Ingress) reaches the data plane at once, and a burst still costs few rebuilds.
import type { Clock, TimerHandle } from './clock.ts';

export interface DebounceOptions {
  clock: Clock;
  /** Quiet time after the last change. Default 100 ms. */
  quietMs?: number;
  /** Longest a change waits, counted from the first change of the batch. Default 500 ms. */
  maxDelayMs?: number;
  /**
   * Leading edge: a change that comes after `quietMs` without any fires after only this long
   * (what arrives meanwhile, the rest of one watch chunk, joins it); changes that follow within
   * `quietMs` of a fire are coalesced as usual. Absent: every batch waits out `quietMs`.
   */
  leadMs?: number;
}

export class Debouncer {
  readonly #clock: Clock;
  readonly #quietMs: number;
  readonly #maxDelayMs: number;
  readonly #leadMs: number | undefined;
  readonly #fire: () => void;
  #batchStartedAt: number | undefined;
  #lastFiredAt: number | undefined;
  /** The timer set is a leading fire. */
  #leading = false;
  #timer: TimerHandle | undefined;

  constructor(options: DebounceOptions, fire: () => void) {
    this.#clock = options.clock;
    this.#quietMs = options.quietMs ?? 100;
    this.#maxDelayMs = options.maxDelayMs ?? 500;
    this.#leadMs = options.leadMs;
    this.#fire = fire;
  }

  trigger(): void {
    const now = this.#clock.now();
    const idle = this.#batchStartedAt === undefined && (this.#lastFiredAt === undefined || now - this.#lastFiredAt >= this.#quietMs);
    if (idle && this.#leadMs !== undefined) {
      // The first change after a quiet spell: at once (nearly), not a quiet period late.
      this.#batchStartedAt = now;
      this.#leading = true;
      this.#schedule(this.#leadMs);
      return;
    }
    // A change that joins a leading fire already due goes out with it.
    if (this.#leading) return;
    this.#batchStartedAt ??= now;
    const due = Math.min(now + this.#quietMs, this.#batchStartedAt + this.#maxDelayMs);
    this.#schedule(Math.max(0, due - now));
  }

  #schedule(ms: number): void {
    this.#timer?.cancel();
    this.#timer = this.#clock.after(ms, () => {
      this.#timer = undefined;
      this.#leading = false;
      this.#batchStartedAt = undefined;
      this.#lastFiredAt = this.#clock.now();
      this.#fire();
    });
  }

  cancel(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#leading = false;
    this.#batchStartedAt = undefined;
  }
}
