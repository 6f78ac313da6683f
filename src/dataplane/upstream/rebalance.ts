// Balance restored after scale-out (SPEC §6 rebalance, rebalance-rate, rebalance-threshold):
// least-conn places only new connections, so endpoints added later stay light while the old ones
// keep their long-lived connections. Here, a few times a second, each pool with rebalance on
// compares its busiest ready endpoint with the pool's mean (pod-wide counts, the registry's) and
// closes connections on it with 1001, oldest first, at rebalance-rate per second for the pod,
// until it is back under threshold x mean; the clients reconnect and least-conn places them.
//
// With several workers each decides alone, from its own exact counts and the others' as last
// reported (every 250 ms), so two of them acting on one stale view would both close the whole
// excess. Instead they act in rounds of ROUND_MS on the shared clock, once a round each, after
// the previous round's closes, reconnections and reports have settled; and each closes its share
// of the excess (in proportion to the connections it holds on that endpoint, rounded up or down
// at random so the shares add up to the excess on average). The rate budget grows between rounds,
// so the pod still closes at rebalance-rate. A single worker sees exact counts and acts every tick.
//
// An imbalance is acted on only once it has lasted SETTLE_MS: while clients are still arriving
// (a deploy, a reconnect wave) least-conn is spreading them, and a pool of a few connections is
// briefly "over 1.5x the mean" at every other arrival; shedding then would cut connections that
// had nowhere better to go.
import type { EndpointRegistry } from './registry.ts';

const TICK_MS = 200;
/** Longer than a report interval (workers/worker.ts COUNTS_INTERVAL_MS) and the reconnections after a close. */
export const ROUND_MS = 600;
/** How long an endpoint must stay over the limit before connections are shed. */
export const SETTLE_MS = 1000;

export interface RebalancePolicy {
  /** Closes per second for the whole pod (each worker takes its share). */
  ratePerSecond: number;
  /** An endpoint above threshold x the pool's mean is shed. */
  threshold: number;
}

/** What the rebalancer needs of a pool (compile.ts's CompiledPool). */
export interface RebalancedPool {
  name: string;
  rebalance?: RebalancePolicy;
  endpoints: { readyKeys(): string[] };
}

/** What the rebalancer needs of an open connection (state.ts's ProxiedConnection). */
export interface RebalancedConnection {
  poolName: string;
  endpointKey: string;
  relay: { close(code?: number): void; readonly ended: boolean };
  /** Counts the close in wsgate_rebalance_closes_total. */
  onRebalance?: () => void;
}

export interface RebalanceSource {
  readonly registry: EndpointRegistry;
  /** Open connections, oldest first (insertion order). */
  readonly connections: Iterable<RebalancedConnection>;
  pools(): Iterable<RebalancedPool>;
  /** Wall clock (ms), shared by the workers of a pod; Date.now unless a test sets it. */
  now?: () => number;
  /** [0, 1); Math.random unless a test sets it. */
  random?: () => number;
}

export class Rebalancer {
  readonly #source: RebalanceSource;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Fractional closes owed per pool, carried from tick to tick. */
  readonly #budget = new Map<string, number>();
  /** How long each pool has been over its limit without a break (ms of ticks). */
  readonly #overFor = new Map<string, number>();
  /** Closed by us and not yet ended: they still count in the registry. */
  readonly #closing = new Set<RebalancedConnection>();
  /** The round this worker last acted in (several workers only). */
  #round = -1;

  constructor(source: RebalanceSource) {
    this.#source = source;
  }

  /** Runs while some pool of the snapshot in effect has rebalance on. */
  update(anyPoolRebalances: boolean): void {
    if (anyPoolRebalances && this.#timer === undefined) {
      this.#timer = setInterval(() => this.tick(TICK_MS), TICK_MS);
      this.#timer.unref();
    } else if (!anyPoolRebalances && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#budget.clear();
      this.#overFor.clear();
    }
  }

  stop(): void {
    this.update(false);
  }

  tick(elapsedMs: number): void {
    for (const connection of this.#closing) if (connection.relay.ended) this.#closing.delete(connection);
    const local = this.#source.registry.localCounts();
    // Several workers: act on the first tick of each round only; in between, only the budgets grow.
    let act = true;
    if (this.#source.registry.hasRemoteCounts) {
      const round = Math.floor((this.#source.now ?? Date.now)() / ROUND_MS);
      act = round !== this.#round;
      this.#round = round;
    }
    for (const pool of this.#source.pools()) {
      if (pool.rebalance === undefined) continue;
      this.#rebalancePool(pool, pool.rebalance, local, elapsedMs, act);
    }
  }

  #rebalancePool(pool: RebalancedPool, policy: RebalancePolicy, local: Map<string, number>, elapsedMs: number, act: boolean): void {
    const ready = pool.endpoints.readyKeys();
    if (ready.length < 2) {
      this.#overFor.delete(pool.name);
      return;
    }
    const pending = new Map<string, number>();
    for (const c of this.#closing) if (c.poolName === pool.name) pending.set(c.endpointKey, (pending.get(c.endpointKey) ?? 0) + 1);
    const registry = this.#source.registry;
    let total = 0;
    let busiest = '';
    let busiestLoad = -1;
    for (const key of ready) {
      const load = registry.load(key) - (pending.get(key) ?? 0);
      total += load;
      if (load > busiestLoad) {
        busiest = key;
        busiestLoad = load;
      }
    }
    const limit = policy.threshold * (total / ready.length);
    if (busiestLoad <= limit) {
      this.#budget.delete(pool.name);
      this.#overFor.delete(pool.name);
      return;
    }
    const overFor = (this.#overFor.get(pool.name) ?? 0) + elapsedMs;
    this.#overFor.set(pool.name, overFor);
    if (overFor < SETTLE_MS) return;
    // This worker's share of the pod's rate: in proportion to the connections it holds there.
    const mine = (local.get(busiest) ?? 0) - (pending.get(busiest) ?? 0);
    if (mine <= 0) return;
    const share = Math.min(mine / Math.max(busiestLoad, 1), 1);
    let budget = (this.#budget.get(pool.name) ?? 0) + (policy.ratePerSecond * elapsedMs * share) / 1000;
    if (!act) {
      // Saved for the next round, up to a round's worth.
      this.#budget.set(pool.name, Math.min(budget, 1 + (policy.ratePerSecond * ROUND_MS * share) / 1000));
      return;
    }
    // Never more than needed to get under the limit: this worker's share of it when others hold the rest.
    const needed = Math.ceil(busiestLoad - limit) * share;
    let excess = Math.floor(needed) + ((this.#source.random ?? Math.random)() < needed - Math.floor(needed) ? 1 : 0);
    for (const connection of this.#source.connections) {
      if (budget < 1 || excess <= 0) break;
      if (connection.poolName !== pool.name || connection.endpointKey !== busiest) continue;
      if (connection.relay.ended || this.#closing.has(connection)) continue;
      this.#closing.add(connection);
      connection.onRebalance?.();
      connection.relay.close(1001);
      budget -= 1;
      excess -= 1;
    }
    // Unused budget does not pile up into a burst later.
    this.#budget.set(pool.name, Math.min(budget, 1));
  }
}
