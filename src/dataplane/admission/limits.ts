// `max-connections` (503) and `max-connections-per-client` (429) of SPEC §6, counted per Ingress
// across the pod's workers. Pure and synchronous with plain strings and numbers in and out, so
// one instance can live in the cluster primary and answer workers over IPC. It lives across
// reloads: connections opened under the previous snapshot still count against the new limits.
import { canonicalClientIp } from '../../grammar/client-address.ts';

export type AcquireResult = 'ok' | 'max-connections' | 'max-connections-per-client';

interface GroupCounts {
  total: number;
  perClient: Map<string, number>;
}

export class ConnectionLimits {
  readonly #groups = new Map<string, GroupCounts>();

  /**
   * Takes a slot for one connection of `groupKey` (`namespace/ingress`) from `clientIp`, or
   * says which limit refuses it. Call it for every connection of a route, limited or not, so the
   * counts are right when a reload adds a limit; pair every 'ok' with exactly one release().
   */
  tryAcquire(groupKey: string, maxConnections: number | undefined, clientIp: string, maxPerClient: number | undefined): AcquireResult {
    const client = canonicalClientIp(clientIp);
    const group = this.#groups.get(groupKey);
    const total = group?.total ?? 0;
    if (maxConnections !== undefined && total >= maxConnections) return 'max-connections';
    const mine = group?.perClient.get(client) ?? 0;
    if (maxPerClient !== undefined && mine >= maxPerClient) return 'max-connections-per-client';
    if (group === undefined) {
      this.#groups.set(groupKey, { total: 1, perClient: new Map([[client, 1]]) });
    } else {
      group.total = total + 1;
      group.perClient.set(client, mine + 1);
    }
    return 'ok';
  }

  /** Gives back a slot taken by tryAcquire(); an unknown group or client is ignored. */
  release(groupKey: string, clientIp: string): void {
    const group = this.#groups.get(groupKey);
    if (group === undefined) return;
    const client = canonicalClientIp(clientIp);
    const mine = group.perClient.get(client);
    if (mine === undefined) return;
    if (mine <= 1) group.perClient.delete(client);
    else group.perClient.set(client, mine - 1);
    group.total -= 1;
    if (group.total <= 0) this.#groups.delete(groupKey);
  }

  /** Open connections counted for `groupKey`, or for one client of it. */
  active(groupKey: string, clientIp?: string): number {
    const group = this.#groups.get(groupKey);
    if (group === undefined) return 0;
    return clientIp === undefined ? group.total : (group.perClient.get(canonicalClientIp(clientIp)) ?? 0);
  }

  /** Groups holding at least one connection (what a leak check looks at). */
  get groupCount(): number {
    return this.#groups.size;
  }
}
