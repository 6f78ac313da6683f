// Endpoint selection for one pool (SPEC §5 endpoints, §6 load-balance/hash-by, §7 retries).
// UpstreamPool is rebuilt with every snapshot and is cheap; EndpointRegistry holds what must
// outlive a reload: open connection counts, passive ejections and round-robin cursors.
import type { Balance, EndpointState, PoolWithDefaults } from '../../config/snapshot.ts';
import { compileHashKey, pickInTurn, pickLeastLoaded, type HashKeyReader } from './balancers.ts';
import { HashRing, hash32 } from './hashring.ts';
import { endpointKey, type EndpointRef, type PickContext } from './types.ts';

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

export class UpstreamPool {
  readonly name: string;
  readonly #registry: EndpointRegistry;
  readonly #balance: Balance;
  readonly #hashKey: HashKeyReader | undefined;
  /** Endpoints in state ready: the only ones that take new connections. */
  readonly #ready: EndpointRef[] = [];
  readonly #states = new Map<string, EndpointState>();
  readonly #hashBy: string | undefined;
  #ring: HashRing | undefined;

  /**
   * `pool.endpoints` lists each address once: translate merges an address that two
   * EndpointSlices list, and validateSnapshot refuses a snapshot that repeats one.
   */
  constructor(pool: PoolWithDefaults, registry: EndpointRegistry) {
    this.name = pool.name;
    this.#registry = registry;
    this.#balance = pool.balance;
    this.#hashBy = pool.hashBy;
    this.#hashKey = this.#balance === 'hash' && pool.hashBy !== undefined ? compileHashKey(pool.hashBy) : undefined;
    for (const endpoint of pool.endpoints) {
      const key = endpointKey(endpoint.address, endpoint.port);
      this.#states.set(key, endpoint.state);
      if (endpoint.state !== 'ready') continue;
      const ref: EndpointRef = { key, address: endpoint.address, port: endpoint.port };
      if (endpoint.name !== undefined) ref.name = endpoint.name;
      this.#ready.push(ref);
    }
  }

  /** What the pool was built with, for the compiled goldens and debugging. */
  describe(): { balance: Balance; hashBy?: string; endpoints: Array<{ key: string; state: EndpointState }> } {
    const endpoints = [...this.#states].map(([key, state]) => ({ key, state }));
    return { balance: this.#balance, ...(this.#hashBy === undefined ? {} : { hashBy: this.#hashBy }), endpoints };
  }

  hasReadyEndpoint(): boolean {
    return this.#ready.length > 0;
  }

  /** The state the snapshot gives `key`, undefined when it has left the pool (drain decisions). */
  stateOf(key: string): EndpointState | undefined {
    return this.#states.get(key);
  }

  /**
   * The next endpoint to try, never one in `tried`; undefined when none is left. Ejected
   * endpoints are passed over while an untried healthy one remains; when every remaining one is
   * ejected it is tried anyway, since an attempt beats a certain 503.
   */
  pick(ctx: PickContext, tried: ReadonlySet<string>): EndpointRef | undefined {
    const untried = tried.size === 0 ? this.#ready : this.#ready.filter((endpoint) => !tried.has(endpoint.key));
    if (untried.length === 0) return undefined;
    const healthy = untried.filter((endpoint) => !this.#registry.isEjected(endpoint.key));
    const eligible = healthy.length > 0 ? healthy : untried;
    if (this.#balance === 'round-robin') return this.#pickRoundRobin(eligible);
    if (this.#hashKey !== undefined) {
      const value = this.#hashKey(ctx);
      if (value !== undefined) return this.#pickByHash(value, eligible);
    }
    return this.#pickLeastConn(eligible);
  }

  stateCounts(): { ready: number; not_ready: number; terminating: number; ejected: number } {
    const counts = { ready: 0, not_ready: 0, terminating: 0, ejected: 0 };
    for (const [key, state] of this.#states) {
      if (state === 'not-ready') counts.not_ready += 1;
      else if (state === 'terminating') counts.terminating += 1;
      else if (this.#registry.isEjected(key)) counts.ejected += 1;
      else counts.ready += 1;
    }
    return counts;
  }

  #pickLeastConn(eligible: readonly EndpointRef[]): EndpointRef | undefined {
    const turn = this.#registry.cursor(this.name);
    this.#registry.setCursor(this.name, (turn + 1) % 0x7fffffff);
    return pickLeastLoaded(eligible, (key) => this.#registry.load(key), turn);
  }

  #pickRoundRobin(eligible: readonly EndpointRef[]): EndpointRef | undefined {
    const allowed = new Set(eligible);
    const start = this.#registry.cursor(this.name) % this.#ready.length;
    const index = pickInTurn(this.#ready, (endpoint) => allowed.has(endpoint), start);
    if (index === undefined) return undefined;
    this.#registry.setCursor(this.name, (index + 1) % this.#ready.length);
    return this.#ready[index];
  }

  #pickByHash(value: string, eligible: readonly EndpointRef[]): EndpointRef | undefined {
    this.#ring ??= new HashRing(this.#ready.map((endpoint) => endpoint.key));
    const allowed = new Set(eligible);
    const owner = this.#ring.lookup(hash32(value), (index) => allowed.has(this.#ready[index]!));
    return owner === undefined ? undefined : this.#ready[owner];
  }
}
