// Endpoint accounting, one per worker and outliving every reload: open connections per endpoint
// (this worker's and the others', for least-conn), passive ejection after failed connects, and
// the balancers' cursors. connect.ts records connects and opens, a connection's lease the close.

export interface EndpointRegistryOptions {
  now?: () => number;
  /** First ejection after a failed connect; each further failure doubles it. */
  ejectBaseMs?: number;
  ejectMaxMs?: number;
}

interface Ejection {
  /** Consecutive ejections, for the doubling. */
  failures: number;
  until: number;
}

/** One per worker, created once and handed to every snapshot's pools. */
export class EndpointRegistry {
  readonly #now: () => number;
  readonly #ejectBaseMs: number;
  readonly #ejectMaxMs: number;
  readonly #open = new Map<string, number>();
  #remote = new Map<string, number>();
  /** Whether other workers report counts at all (a pod with more than one worker). */
  #hasRemote = false;
  readonly #ejections = new Map<string, Ejection>();
  #lastSweep = -Infinity;
  readonly #cursors = new Map<string, number>();

  constructor(options: EndpointRegistryOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#ejectBaseMs = options.ejectBaseMs ?? 5_000;
    this.#ejectMaxMs = Math.max(options.ejectMaxMs ?? 60_000, this.#ejectBaseMs);
  }

  /** A connection to `key` was opened by this worker (call it as soon as pick() returns it). */
  connectionOpened(key: string): void {
    this.#open.set(key, (this.#open.get(key) ?? 0) + 1);
  }

  connectionClosed(key: string): void {
    const count = this.#open.get(key);
    if (count === undefined) return;
    if (count <= 1) this.#open.delete(key);
    else this.#open.set(key, count - 1);
  }

  connectSucceeded(key: string): void {
    this.#ejections.delete(key);
  }

  /**
   * A refused or timed-out connect sets the endpoint aside for ejectBase, doubling with each
   * ejection that follows the end of the previous one, up to ejectMax. Failures of attempts
   * that were already in flight while it was ejected are the same outage and do not escalate.
   */
  connectFailed(key: string): void {
    const now = this.#now();
    const previous = this.#ejections.get(key);
    if (previous !== undefined && now < previous.until) return;
    const continuing = previous !== undefined && now < previous.until + this.#ejectMaxMs;
    const failures = continuing ? previous.failures + 1 : 1;
    const duration = Math.min(this.#ejectBaseMs * 2 ** Math.min(failures - 1, 30), this.#ejectMaxMs);
    this.#ejections.set(key, { failures, until: now + duration });
    this.#sweep(now);
  }

  isEjected(key: string): boolean {
    const ejection = this.#ejections.get(key);
    return ejection !== undefined && this.#now() < ejection.until;
  }

  /** This worker's open counts, a copy to send to the other workers. */
  localCounts(): Map<string, number> {
    return new Map(this.#open);
  }

  /** The other workers' open counts summed per endpoint; replaces the previous report. */
  setRemoteCounts(counts: Map<string, number>): void {
    this.#remote = counts;
    this.#hasRemote = true;
  }

  /** Other workers report their counts: load() is partly a report, up to a report interval old. */
  get hasRemoteCounts(): boolean {
    return this.#hasRemote;
  }

  /** Open connections to `key` across every worker: what least-conn compares. */
  load(key: string): number {
    return (this.#open.get(key) ?? 0) + (this.#remote.get(key) ?? 0);
  }

  /** Balancer position of a pool, kept by name so a reload does not restart it. */
  cursor(poolName: string): number {
    return this.#cursors.get(poolName) ?? 0;
  }

  setCursor(poolName: string, value: number): void {
    this.#cursors.set(poolName, value);
  }

  /** Drops the cursors of pools that are gone (call after a reload with the new pool names). */
  retainPools(poolNames: Iterable<string>): void {
    const keep = new Set(poolNames);
    for (const name of this.#cursors.keys()) if (!keep.has(name)) this.#cursors.delete(name);
  }

  /** Endpoints that have not failed for a long while lose their history (no growth with churn). */
  #sweep(now: number): void {
    if (now - this.#lastSweep < this.#ejectMaxMs) return;
    this.#lastSweep = now;
    for (const [key, ejection] of this.#ejections) {
      if (now >= ejection.until + this.#ejectMaxMs) this.#ejections.delete(key);
    }
  }
}
