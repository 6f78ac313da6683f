// The annotations of the long-lived connection features (issue 13; README "Long-lived connection
// features"): proxy pings, lifetimes, message rates, per-endpoint caps, spread drains. Kept apart
// from registry.ts so the feature's keys read together; registry.ts lists them with the others.
import { DURATION_ACCEPTS, normaliseDuration } from '../grammar/duration.ts';
import { parseBoolean, parseKeyword } from '../grammar/keyword.ts';
import { POSITIVE_INTEGER_ACCEPTS, parsePositiveInteger } from '../grammar/number.ts';
import { accept, reject, type Parsed } from '../grammar/result.ts';
import type { IngressPolicy, PolicyField } from './policy.ts';

/** registry.ts's AnnotationDefinition, restated (registry.ts imports this module). */
export interface LongLivedDefinition<F extends PolicyField = PolicyField> {
  key: string;
  field: F;
  accepts: string;
  defaultText: string;
  doc: string;
  parse: (text: string) => Parsed<IngressPolicy[F]>;
  aliasOf?: string;
}

function define<F extends PolicyField>(definition: LongLivedDefinition<F>): LongLivedDefinition {
  return definition as unknown as LongLivedDefinition;
}

const PERCENT_ACCEPTS = 'a percentage from 0% to 99% (10%)';

/** `10%` -> 0.1; whole or decimal percentages below 100. */
export function parsePercent(text: string): Parsed<number> {
  const match = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (match === null) return reject(PERCENT_ACCEPTS);
  const percent = Number(match[1]);
  return percent < 100 ? accept(percent / 100) : reject('it must be below 100%');
}

const THRESHOLD_ACCEPTS = 'a factor greater than 1 (1.5)';

/** `1.5` -> 1.5; a plain decimal above 1. */
export function parseThreshold(text: string): Parsed<number> {
  if (!/^\d+(?:\.\d+)?$/.test(text)) return reject(THRESHOLD_ACCEPTS);
  const factor = Number(text);
  return factor > 1 ? accept(factor) : reject('it must be greater than 1');
}

export const LONG_LIVED_ANNOTATIONS: readonly LongLivedDefinition[] = [
  define({
    key: 'wsgate.io/ping-interval',
    field: 'pingInterval',
    accepts: `${DURATION_ACCEPTS}, greater than zero`,
    defaultText: 'off',
    doc: 'A side (client or upstream) that sent no byte for this long gets a ping from the proxy at a frame boundary; its pong is consumed, never forwarded. Keeps load-balancer and NAT paths warm and finds half-open peers.',
    parse: (text) => normaliseDuration(text, { allowZero: false }),
  }),
  define({
    key: 'wsgate.io/ping-timeout',
    field: 'pingTimeout',
    accepts: `${DURATION_ACCEPTS}, greater than zero`,
    defaultText: 'the ping-interval',
    doc: 'With ping-interval: no pong (nor any other byte) this long after a ping cuts that side\'s TCP (counted 1006 with side = the silent side, and in wsgate_ping_timeouts_total); the other side gets 1001 (client missing) or 1014 (upstream missing).',
    parse: (text) => normaliseDuration(text, { allowZero: false }),
  }),
  define({
    key: 'wsgate.io/max-connection-lifetime',
    field: 'maxConnectionLifetime',
    accepts: `${DURATION_ACCEPTS}, greater than zero`,
    defaultText: 'off',
    doc: 'A connection is closed with 1001 (both sides, at frame boundaries) after this long, plus or minus lifetime-jitter: long-lived connections are recycled and spread over the pool again.',
    parse: (text) => normaliseDuration(text, { allowZero: false }),
  }),
  define({
    key: 'wsgate.io/lifetime-jitter',
    field: 'lifetimeJitter',
    accepts: PERCENT_ACCEPTS,
    defaultText: '10%',
    doc: 'With max-connection-lifetime: each connection\'s lifetime is drawn uniformly within lifetime +- this share of it, so connections opened together do not all end together.',
    parse: parsePercent,
  }),
  define({
    key: 'wsgate.io/max-messages-per-second',
    field: 'maxMessagesPerSecond',
    accepts: POSITIVE_INTEGER_ACCEPTS,
    defaultText: 'unlimited',
    doc: 'Whole data messages per second a sender may send on one connection (control frames and fragments not counted apart): over it the sender gets close 1008 (policy violation) at a frame boundary, the other side 1001; counted `1008`/`proxy`.',
    parse: parsePositiveInteger,
  }),
  define({
    key: 'wsgate.io/message-burst',
    field: 'messageBurst',
    accepts: POSITIVE_INTEGER_ACCEPTS,
    defaultText: 'max-messages-per-second',
    doc: 'With max-messages-per-second: messages a sender may send at once after a quiet spell (the token bucket\'s size).',
    parse: parsePositiveInteger,
  }),
  define({
    key: 'wsgate.io/message-rate-direction',
    field: 'messageRateDirection',
    accepts: 'client or both',
    defaultText: 'client',
    doc: 'With max-messages-per-second: `client` limits what clients send; `both` limits the upstream too, each direction with its own budget.',
    parse: (text) => parseKeyword(text, ['client', 'both'] as const),
  }),
  define({
    key: 'wsgate.io/max-connections-per-endpoint',
    field: 'maxConnectionsPerEndpoint',
    accepts: POSITIVE_INTEGER_ACCEPTS,
    defaultText: 'unlimited',
    doc: 'Open connections per backend endpoint, across the pod\'s workers: a full endpoint takes no new connection; when every ready endpoint is full the answer is 503 `limit`.',
    parse: parsePositiveInteger,
  }),
  define({
    key: 'wsgate.io/drain-spread',
    field: 'drainSpread',
    accepts: `${DURATION_ACCEPTS}; 0s sends them at once`,
    defaultText: '0s',
    doc: 'The 1001s of a drain (connections to endpoints that turned terminating or left at one reload) go out evenly over this window, after drain-timeout, so their clients do not all reconnect at once.',
    parse: (text) => normaliseDuration(text, { allowZero: true }),
  }),
  define({
    key: 'wsgate.io/rebalance',
    field: 'rebalance',
    accepts: 'true or false',
    defaultText: 'false',
    doc: '`true`: while the busiest ready endpoint of the pool holds more than rebalance-threshold x the pool\'s mean of open connections (pod-wide), the proxy closes its connections with 1001, oldest first, at rebalance-rate, until it is back under; clients reconnect and least-conn places them on lighter endpoints. Counted in wsgate_rebalance_closes_total.',
    parse: parseBoolean,
  }),
  define({
    key: 'wsgate.io/rebalance-rate',
    field: 'rebalanceRate',
    accepts: POSITIVE_INTEGER_ACCEPTS,
    defaultText: '5',
    doc: 'With rebalance: connections closed per second per pool, for the whole pod.',
    parse: parsePositiveInteger,
  }),
  define({
    key: 'wsgate.io/rebalance-threshold',
    field: 'rebalanceThreshold',
    accepts: THRESHOLD_ACCEPTS,
    defaultText: '1.5',
    doc: 'With rebalance: how far above the pool\'s mean an endpoint may be before it is shed.',
    parse: parseThreshold,
  }),
];

