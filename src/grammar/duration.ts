// Durations as operators write them in annotations and snapshots: `500ms`, `5s`, `1m`, `1h`,
// and combinations such as `1m30s` (the Go time.ParseDuration subset that makes sense here).
import { accept, reject, type Parsed } from './result.ts';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) total += Number(amount) * UNIT_MS[unit!]!;
  return Math.round(total);
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export const DURATION_ACCEPTS = 'a duration such as 500ms, 5s, 1m or 1h (combinations like 1m30s too)';

/**
 * A duration in its normalised text (`60s` -> `1m`, `1.5s` -> `1500ms`). Zero only where it means
 * something (drain-timeout: close at once); elsewhere a zero timeout would fail every attempt.
 */
export function normaliseDuration(text: string, options: { allowZero: boolean }): Parsed<string> {
  const ms = parseDuration(text);
  if (ms === undefined) return reject(DURATION_ACCEPTS);
  if (ms === 0 && !options.allowZero) return reject('it must be greater than zero');
  return accept(formatDuration(ms));
}
