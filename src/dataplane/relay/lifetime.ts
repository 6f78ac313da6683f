// Maximum connection lifetime (SPEC §6 max-connection-lifetime, lifetime-jitter): 1001 to both
// sides once a connection has lived its lifetime, plus or minus the jitter, so connections made
// together (after a rollout, a reconnect storm) do not all end together either. Checked by the
// shared sweeper, not a timer per connection.
import { sharedSweeper, type Sweepable, type Sweeper } from './sweeper.ts';

export interface LifetimeOptions {
  lifetimeMs: number;
  /** Fraction of the lifetime, 0 <= jitter < 1: the deadline is uniform in lifetime x (1 +- jitter). */
  jitter: number;
}

export class Lifetime implements Sweepable {
  readonly resolutionMs: number;
  readonly deadline: number;
  readonly #onExpired: () => void;
  readonly #sweeper: Sweeper;
  #stopped = false;

  constructor(options: LifetimeOptions, onExpired: () => void, sweeper: Sweeper = sharedSweeper, random: () => number = Math.random) {
    const spread = options.lifetimeMs * options.jitter;
    this.deadline = performance.now() + options.lifetimeMs + spread * (2 * random() - 1);
    // Within a twentieth of the shortest lifetime it can draw: 2 s +- 10% ends within 90 ms late.
    this.resolutionMs = (options.lifetimeMs - spread) / 20;
    this.#onExpired = onExpired;
    this.#sweeper = sweeper;
    sweeper.add(this);
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#sweeper.delete(this);
  }

  sweep(now: number): void {
    if (now < this.deadline) return;
    this.stop();
    this.#onExpired();
  }
}
