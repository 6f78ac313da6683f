// Message-rate limit per connection and direction (SPEC §6 max-messages-per-second,
// message-burst): a token bucket of whole data messages. The bucket refills from a coarse clock
// (one shared interval per worker updating a number), so the relay's hot path reads a variable,
// never the system clock; the refill is still exact over time, only its steps are 20 ms apart.

const COARSE_TICK_MS = 20;

let coarseNow = performance.now();
let users = 0;
let ticker: ReturnType<typeof setInterval> | undefined;

function tick(): void {
  coarseNow = performance.now();
}

function acquireClock(): void {
  if (users++ === 0) {
    coarseNow = performance.now();
    ticker = setInterval(tick, COARSE_TICK_MS);
    ticker.unref();
  }
}

function releaseClock(): void {
  if (--users === 0 && ticker !== undefined) {
    clearInterval(ticker);
    ticker = undefined;
  }
}

export interface MessageRateOptions {
  perSecond: number;
  /** Messages a sender may send at once after being quiet; at least 1. */
  burst: number;
  /** `client`: only what the client sends is limited; `both`: each direction has its own bucket. */
  direction: 'client' | 'both';
}

export class MessageLimiter {
  readonly #perMs: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;
  #released = false;

  constructor(options: MessageRateOptions) {
    acquireClock();
    this.#perMs = options.perSecond / 1000;
    this.#burst = options.burst;
    this.#tokens = options.burst;
    this.#last = coarseNow;
  }

  /** Spend `messages` tokens; false when the sender went over its rate. */
  take(messages: number): boolean {
    const now = coarseNow;
    if (now !== this.#last) {
      const refilled = this.#tokens + (now - this.#last) * this.#perMs;
      this.#tokens = refilled < this.#burst ? refilled : this.#burst;
      this.#last = now;
    }
    this.#tokens -= messages;
    return this.#tokens >= 0;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    releaseClock();
  }
}
