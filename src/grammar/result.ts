// The one result shape of every value grammar: the value in its normalised form, or why the text
// is not one, phrased for an operator (what is accepted).
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

export function parsed<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

export function refused<T>(reason: string): Parsed<T> {
  return { ok: false, reason };
}
