// The words the data plane reports in (SPEC §7 failure reasons, SPEC §9 close sides and traffic).
// They belong to the handshake and relay code that produce them; metrics/ imports them from here.

/** SPEC §7's failure reasons, the `reason` label of wsgate_handshake_failures_total, in table order. */
export const FAILURE_REASONS = [
  'timeout',
  'bad_request',
  'bad_version',
  'no_route',
  'source_forbidden',
  'origin_forbidden',
  'limit',
  'no_endpoints',
  'upstream_connect',
  'upstream_timeout',
  'upstream_rejected',
  'tls',
] as const;

export type FailureReason = (typeof FAILURE_REASONS)[number];

/** Who ended a connection first (SPEC §9 `side`): a close frame's sender, or the proxy's own close. */
export type CloseSide = 'client' | 'upstream' | 'proxy';

/**
 * Plain mutable numbers the relay adds to per chunk and per message; they become
 * wsgate_bytes_total / wsgate_messages_total when Prometheus scrapes. `Up` is toward the backend
 * (direction="upstream"), `Down` toward the client (direction="downstream").
 */
export interface TrafficCounters {
  bytesUp: number;
  bytesDown: number;
  messagesUp: number;
  messagesDown: number;
}
