// Label values that keep every wsgate_* series bounded (SPEC §9): whatever a client or backend
// sends, a label can only take a small, known set of values.
import { isApplicationCode, isLibraryCode, isRegisteredCode } from '../dataplane/relay/close-codes.ts';

/**
 * The `code` label of wsgate_close_codes_total. Registered and private-use codes are kept as
 * themselves; the library range collapses to `3xxx`; anything else (including codes no endpoint
 * may legally send) is `other`.
 */
export function closeCodeLabel(code: number): string {
  if (isRegisteredCode(code) || isApplicationCode(code)) return String(code);
  if (isLibraryCode(code)) return '3xxx';
  return 'other';
}

/** Kubernetes names never contain NUL, so it separates label values without ambiguity. */
export function labelKey(...values: string[]): string {
  return values.join('\u0000');
}
