// Message-rate limit per connection and direction (SPEC §6 max-messages-per-second,
// message-burst): a token bucket of whole data messages. The clock is read only on a read that
// completed a message (performance.now() is a fast call, tens of nanoseconds); an earlier coarse
// clock (a 20 ms interval per worker updating a number) woke the worker 50 times a second, which
// cost more than it saved (issue 13: measured with bench/instructions.ts --policy).

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

  constructor(options: MessageRateOptions) {
    this.#perMs = options.perSecond / 1000;
    this.#burst = options.burst;
    this.#tokens = options.burst;
    this.#last = performance.now();
  }

  /** Spend `messages` tokens; false when the sender went over its rate. */
  take(messages: number): boolean {
    const now = performance.now();
    const refilled = this.#tokens + (now - this.#last) * this.#perMs;
    this.#tokens = (refilled < this.#burst ? refilled : this.#burst) - messages;
    this.#last = now;
    return this.#tokens >= 0;
  }
}
