// Hop-by-hop fields (RFC 9110 §7.6.1): they describe one connection, so a proxy never passes
// them on, in either direction. Each user says which of them it still owns.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'proxy-authenticate',
  'proxy-authorization',
]);

/** `lowerName` must already be lowercase. */
export function isHopByHop(lowerName: string): boolean {
  return HOP_BY_HOP.has(lowerName);
}
