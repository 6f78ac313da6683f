// The long-lived connection features' snapshot fields from an Ingress's policy (issue 13): what
// belongs to each connection of a route (pings, lifetime, message rate) and what to the pool its
// endpoints are counted in (per-endpoint caps, spread drains). Only set fields are written, so
// snapshots of Ingresses without these annotations stay as they were.
import type { IngressPolicy } from '../annotations/policy.ts';
import { DEFAULT_SESSION_COOKIE_NAME } from '../annotations/affinity.ts';
import type { CookieAffinity, Pool, RoutePolicy } from '../config/snapshot.ts';

export function longLivedRoutePolicy(policy: IngressPolicy): RoutePolicy {
  const route: RoutePolicy = {};
  if (policy.pingInterval !== undefined) {
    route.pingInterval = policy.pingInterval;
    if (policy.pingTimeout !== undefined) route.pingTimeout = policy.pingTimeout;
  }
  if (policy.maxConnectionLifetime !== undefined) {
    route.maxConnectionLifetime = policy.maxConnectionLifetime;
    if (policy.lifetimeJitter !== undefined) route.lifetimeJitter = policy.lifetimeJitter;
  }
  if (policy.maxMessagesPerSecond !== undefined) {
    route.maxMessagesPerSecond = policy.maxMessagesPerSecond;
    if (policy.messageBurst !== undefined) route.messageBurst = policy.messageBurst;
    if (policy.messageRateDirection !== undefined) route.messageRateDirection = policy.messageRateDirection;
  }
  return route;
}

export function longLivedPoolFields(policy: IngressPolicy): Partial<Pool> {
  const pool: Partial<Pool> = {};
  if (policy.maxConnectionsPerEndpoint !== undefined) pool.maxConnectionsPerEndpoint = policy.maxConnectionsPerEndpoint;
  if (policy.drainSpread !== undefined) pool.drainSpread = policy.drainSpread;
  if (policy.rebalance === true) {
    pool.rebalance = true;
    if (policy.rebalanceRate !== undefined) pool.rebalanceRate = policy.rebalanceRate;
    if (policy.rebalanceThreshold !== undefined) pool.rebalanceThreshold = policy.rebalanceThreshold;
  }
  if (policy.affinity === 'cookie') {
    const affinity: CookieAffinity = { mode: 'cookie', cookieName: policy.sessionCookieName ?? DEFAULT_SESSION_COOKIE_NAME };
    if (policy.sessionCookieMaxAge !== undefined) affinity.maxAge = policy.sessionCookieMaxAge;
    if (policy.sessionCookiePath !== undefined) affinity.path = policy.sessionCookiePath;
    if (policy.sessionCookieSameSite !== undefined) affinity.sameSite = policy.sessionCookieSameSite;
    if (policy.sessionCookieSecure === true) affinity.secure = true;
    pool.affinity = affinity;
  }
  return pool;
}
