// The long-lived connection features of a route, compiled once per snapshot (issue 13): what each
// relay of the route is given (pings, lifetime, message rate). Pure, like compile.ts.
import { ConfigError } from '../common/errors.ts';
import { parseDuration } from '../grammar/duration.ts';
import type { Route, RoutePolicy } from '../config/snapshot.ts';
import type { KeepaliveOptions } from './relay/pings.ts';
import type { LifetimeOptions } from './relay/lifetime.ts';
import type { MessageRateOptions } from './relay/rate-limit.ts';

/** SPEC §6 lifetime-jitter default. */
export const DEFAULT_LIFETIME_JITTER = 0.1;

export interface LongLivedRoute {
  pings?: KeepaliveOptions;
  lifetime?: LifetimeOptions;
  messageRate?: MessageRateOptions;
}

export function compileLongLived(route: Route, policy: RoutePolicy): LongLivedRoute {
  const out: LongLivedRoute = {};
  if (policy.pingInterval !== undefined) {
    const intervalMs = positiveMs(route, 'pingInterval', policy.pingInterval);
    const timeoutMs = policy.pingTimeout === undefined ? intervalMs : positiveMs(route, 'pingTimeout', policy.pingTimeout);
    out.pings = { intervalMs, timeoutMs };
  }
  if (policy.maxConnectionLifetime !== undefined) {
    const jitter = policy.lifetimeJitter ?? DEFAULT_LIFETIME_JITTER;
    if (!(jitter >= 0 && jitter < 1)) throw ConfigError.of(`route ${route.host}${route.path}: lifetimeJitter ${jitter} is not a fraction from 0 to below 1`);
    out.lifetime = { lifetimeMs: positiveMs(route, 'maxConnectionLifetime', policy.maxConnectionLifetime), jitter };
  }
  if (policy.maxMessagesPerSecond !== undefined) {
    const perSecond = policy.maxMessagesPerSecond;
    out.messageRate = { perSecond, burst: policy.messageBurst ?? perSecond, direction: policy.messageRateDirection ?? 'client' };
  }
  return out;
}

function positiveMs(route: Route, field: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw ConfigError.of(`route ${route.host}${route.path}: ${field} ${JSON.stringify(text)} is not a duration greater than zero`);
  return ms;
}
