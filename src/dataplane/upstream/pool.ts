// Endpoint selection for one pool (SPEC §5 endpoints, §6 load-balance/hash-by, §7 retries).
// UpstreamPool is rebuilt with every snapshot and is cheap; what must outlive a reload (open
// connection counts, passive ejections, round-robin cursors) is the EndpointRegistry's.
import type { Balance, EndpointState, PoolWithDefaults } from '../../config/snapshot.ts';
import { compileHashKey, pickInTurn, pickLeastLoaded, type HashKeyReader } from './balancers.ts';
import { HashRing, hash32 } from './hashring.ts';
import type { EndpointRegistry } from './registry.ts';
import { belowCap } from './endpoint-counts.ts';
import { AffinityCookie } from './affinity.ts';
import { endpointKey, type EndpointRef, type PickContext } from './types.ts';

export class UpstreamPool {
  readonly name: string;
  readonly #registry: EndpointRegistry;
  readonly #balance: Balance;
  readonly #hashKey: HashKeyReader | undefined;
  /** Endpoints in state ready: the only ones that take new connections. */
  readonly #ready: EndpointRef[] = [];
  readonly #states = new Map<string, EndpointState>();
  /** By endpoint key: who the endpoint is for wsgate_upstream_endpoints (see gaugeEndpoints). */
  readonly #identities = new Map<string, string>();
  readonly #hashBy: string | undefined;
  /** SPEC §6 max-connections-per-endpoint (endpoint-counts.ts); undefined: no cap. */
  readonly maxPerEndpoint: number | undefined;
  #ring: HashRing | undefined;
  /** SPEC §6 affinity: cookie (affinity.ts); undefined: off. */
  readonly affinity: AffinityCookie | undefined;

  /**
   * `pool.endpoints` lists each address once: translate merges an address that two
   * EndpointSlices list, and validateSnapshot refuses a snapshot that repeats one.
   */
  constructor(pool: PoolWithDefaults, registry: EndpointRegistry, affinityKey?: Buffer) {
    this.name = pool.name;
    this.#registry = registry;
    this.#balance = pool.balance;
    this.#hashBy = pool.hashBy;
    this.maxPerEndpoint = pool.maxConnectionsPerEndpoint;
    this.#hashKey = this.#balance === 'hash' && pool.hashBy !== undefined ? compileHashKey(pool.hashBy) : undefined;
    for (const endpoint of pool.endpoints) {
      const key = endpointKey(endpoint.address, endpoint.port);
      this.#states.set(key, endpoint.state);
      // A pod (named) is one endpoint whatever port a pool uses; an unnamed entry is its address:port.
      this.#identities.set(key, endpoint.name === undefined ? key : `${endpoint.name}@${endpoint.address}`);
      if (endpoint.state !== 'ready') continue;
      const ref: EndpointRef = { key, address: endpoint.address, port: endpoint.port };
      if (endpoint.name !== undefined) ref.name = endpoint.name;
      this.#ready.push(ref);
    }
    const { affinity } = pool;
    this.affinity = affinity === undefined || affinityKey === undefined
      ? undefined
      : new AffinityCookie(affinity, affinityKey, pool.source?.namespace ?? '', pool.source?.service ?? pool.name, this.#ready);
  }

  /** What the pool was built with, for the compiled goldens and debugging. */
  describe(): { balance: Balance; hashBy?: string; endpoints: Array<{ key: string; state: EndpointState }> } {
    const endpoints = [...this.#states].map(([key, state]) => ({ key, state }));
    return { balance: this.#balance, ...(this.#hashBy === undefined ? {} : { hashBy: this.#hashBy }), endpoints };
  }

  /** Keys of the ready endpoints (rebalance.ts). */
  readyKeys(): string[] {
    return this.#ready.map((endpoint) => endpoint.key);
  }

  hasReadyEndpoint(): boolean {
    return this.#ready.length > 0;
  }

  /** Every ready endpoint holds max-connections-per-endpoint (503 `limit`). */
  allReadyFull(): boolean {
    return this.maxPerEndpoint !== undefined && this.#ready.length > 0 && belowCap(this.#ready, this.#registry, this.maxPerEndpoint).length === 0;
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
    const open = belowCap(this.#ready, this.#registry, this.maxPerEndpoint);
    const untried = tried.size === 0 ? open : open.filter((endpoint) => !tried.has(endpoint.key));
    if (untried.length === 0) return undefined;
    const healthy = untried.filter((endpoint) => !this.#registry.isEjected(endpoint.key));
    const eligible = healthy.length > 0 ? healthy : untried;
    // A cookie naming a ready endpoint this pick may still use wins over balancing; one that is
    // gone, not ready, full, ejected or forged is balanced as if absent (and gets a new cookie).
    const pinned = this.affinity?.pinned(ctx.headers);
    if (pinned !== undefined && eligible.includes(pinned)) return pinned;
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

  /**
   * Each endpoint with its state as wsgate_upstream_endpoints names it, and an identity that is the
   * same in every pool listing it, so the metric counts a Service's endpoint once (issue 11).
   */
  gaugeEndpoints(): Array<{ id: string; state: 'ready' | 'not_ready' | 'terminating' | 'ejected' }> {
    const out: Array<{ id: string; state: 'ready' | 'not_ready' | 'terminating' | 'ejected' }> = [];
    for (const [key, state] of this.#states) {
      const gaugeState = state === 'not-ready' ? 'not_ready' : state === 'terminating' ? 'terminating' : this.#registry.isEjected(key) ? 'ejected' : 'ready';
      out.push({ id: this.#identities.get(key)!, state: gaugeState });
    }
    return out;
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
