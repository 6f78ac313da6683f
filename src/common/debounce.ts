// Coalesces bursts of cluster changes into few rebuilds: fire `quietMs` after the last change, but
// never later than `maxDelayMs` after the first one of the batch (a steady trickle of EndpointSlice
// updates during a rollout must still reach the data plane). Contour's handler does the same.
import type { Clock, TimerHandle } from './clock.ts';

export interface DebounceOptions {
  clock: Clock;
  /** Quiet time after the last change. Default 100 ms. */
  quietMs?: number;
  /** Longest a change waits, counted from the first change of the batch. Default 500 ms. */
  maxDelayMs?: number;
}

export class Debouncer {
  readonly #clock: Clock;
  readonly #quietMs: number;
  readonly #maxDelayMs: number;
  readonly #fire: () => void;
  #batchStartedAt: number | undefined;
  #timer: TimerHandle | undefined;

  constructor(options: DebounceOptions, fire: () => void) {
    this.#clock = options.clock;
    this.#quietMs = options.quietMs ?? 100;
    this.#maxDelayMs = options.maxDelayMs ?? 500;
    this.#fire = fire;
  }

  trigger(): void {
    const now = this.#clock.now();
    this.#batchStartedAt ??= now;
    const due = Math.min(now + this.#quietMs, this.#batchStartedAt + this.#maxDelayMs);
    this.#timer?.cancel();
    this.#timer = this.#clock.after(Math.max(0, due - now), () => {
      this.#timer = undefined;
      this.#batchStartedAt = undefined;
      this.#fire();
    });
  }

  cancel(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#batchStartedAt = undefined;
  }
}
