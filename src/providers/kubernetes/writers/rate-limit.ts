// The controller's writes to the API server (Events, Ingress status) go through one token bucket,
// as client-go's clients do (QPS and burst, `--kube-api-qps` / `--kube-api-burst`): a start or a
// leadership change with thousands of Ingresses must not send thousands of writes in a second.
// Lists and watches are not limited: they are few and long-lived.
import type { Clock } from '../../../common/clock.ts';

export interface RateLimit {
  /** Sustained writes per second. */
  qps: number;
  /** Writes allowed at once after a quiet time. */
  burst: number;
}

/** client-go's defaults for a controller's client (rest.Config QPS 20, Burst 30 in most controllers). */
export const DEFAULT_RATE_LIMIT: RateLimit = { qps: 20, burst: 30 };

export class TokenBucket {
  readonly #clock: Clock;
  readonly #qps: number;
  readonly #burst: number;
  #tokens: number;
  #updatedAt: number;
  /** Takers in arrival order: each gets the next token. */
  #waiting: Promise<void> = Promise.resolve();
  #taken = 0;

  constructor(clock: Clock, limit: RateLimit = DEFAULT_RATE_LIMIT) {
    this.#clock = clock;
    this.#qps = limit.qps;
    this.#burst = Math.max(1, limit.burst);
    this.#tokens = this.#burst;
    this.#updatedAt = clock.now();
  }

  /** Tokens handed out so far. */
  get taken(): number {
    return this.#taken;
  }

  /** Resolves when the caller may write: at once while tokens last, then one every 1/qps s. */
  take(): Promise<void> {
    const turn = this.#waiting.then(() => this.#next());
    this.#waiting = turn;
    return turn;
  }

  async #next(): Promise<void> {
    this.#refill();
    if (this.#tokens < 1) {
      const waitMs = Math.ceil(((1 - this.#tokens) / this.#qps) * 1000);
      await new Promise<void>((resolve) => this.#clock.after(waitMs, resolve));
      this.#refill();
    }
    this.#tokens = Math.max(0, this.#tokens - 1);
    this.#taken += 1;
  }

  #refill(): void {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#updatedAt) / 1000) * this.#qps);
    this.#updatedAt = now;
  }
}
