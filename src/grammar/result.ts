// The one result shape of every value grammar: the value in its normalised form (equal meanings
// give equal bytes), or a reason an operator can act on, saying what is accepted.

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

export function accept<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

export function reject<T>(reason: string): Parsed<T> {
  return { ok: false, reason };
}
