// A route's compiled long-lived features -> the options of one relay, with the metric hooks.
import type { RouteMetrics } from '../../metrics/metrics.ts';
import type { LongLivedRoute } from '../long-lived.ts';
import type { RelayOptions } from './relay.ts';

export function longLivedRelayOptions(route: LongLivedRoute, metrics: RouteMetrics): Partial<RelayOptions> {
  const options: Partial<RelayOptions> = {};
  if (route.pings !== undefined) {
    options.pings = route.pings;
    options.onPingTimeout = (side) => metrics.pingTimedOut(side);
  }
  if (route.lifetime !== undefined) options.lifetime = route.lifetime;
  if (route.messageRate !== undefined) options.messageRate = route.messageRate;
  return options;
}
