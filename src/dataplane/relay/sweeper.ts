// One shared timer for every per-connection deadline of the long-lived features (proxy pings,
// maximum lifetime): a timer per connection would cost an allocation and a heap entry each, and
// these deadlines need no better than a tenth of their period. The sweep runs only while a
// connection is registered; its tick follows the finest resolution any registered one asks for.

/** Something checked at every sweep; `now` is performance.now() read once for the whole sweep. */
export interface Sweepable {
  /** The coarsest tick this entry tolerates, in ms. */
  readonly resolutionMs: number;
  sweep(now: number): void;
}

const MIN_TICK_MS = 10;
const MAX_TICK_MS = 1000;

export class Sweeper {
  readonly #entries = new Set<Sweepable>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #tickMs = MAX_TICK_MS;

  get size(): number {
    return this.#entries.size;
  }

  add(entry: Sweepable): void {
    this.#entries.add(entry);
    const wanted = Math.min(MAX_TICK_MS, Math.max(MIN_TICK_MS, Math.floor(entry.resolutionMs)));
    if (this.#timer === undefined || wanted < this.#tickMs) this.#arm(wanted);
  }

  delete(entry: Sweepable): void {
    this.#entries.delete(entry);
    if (this.#entries.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#tickMs = MAX_TICK_MS;
    }
  }

  #arm(tickMs: number): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#tickMs = tickMs;
    this.#timer = setInterval(this.#sweep, tickMs);
    this.#timer.unref();
  }

  readonly #sweep = (): void => {
    const now = performance.now();
    // An entry may delete itself (its connection closes) while we iterate: Set iteration allows it.
    for (const entry of this.#entries) entry.sweep(now);
  };
}

/** The worker's sweeper: every relay of the process shares it. */
export const sharedSweeper = new Sweeper();
