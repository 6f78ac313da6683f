// Label values that keep every wsgate_* series bounded (SPEC §9): whatever a client or backend
// sends, a label can only take a small, known set of values.

/**
 * The `code` label of wsgate_close_codes_total. Registered codes (RFC 6455 §7.4.1 and the IANA
 * registry, 1000-1015) and private-use codes (4000-4999, RFC 6455 §7.4.2) are kept as themselves;
 * the 3000-3999 range, registered to libraries and frameworks, collapses to `3xxx`; anything else
 * (including codes no endpoint may legally send) is `other`.
 */
export function closeCodeLabel(code: number): string {
  if (!Number.isInteger(code)) return 'other';
  if ((code >= 1000 && code <= 1015) || (code >= 4000 && code <= 4999)) return String(code);
  if (code >= 3000 && code <= 3999) return '3xxx';
  return 'other';
}

/** Kubernetes names never contain NUL, so it separates label values without ambiguity. */
export function labelKey(...values: string[]): string {
  return values.join('\u0000');
}
