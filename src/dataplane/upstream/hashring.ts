// Consistent hashing for `hash-by` (SPEC §6): each member owns many points on a 32-bit ring, a
// key belongs to the first point at or after its hash. Adding a member takes roughly 1/n of the
// keys from the others; removing one hands only its own keys to their next points.
import { compareStrings } from '../../common/names.ts';

/** Points per member: enough that shares stay within a few percent of 1/n for small pools. */
export const VIRTUAL_NODES = 160;

/**
 * FNV-1a over UTF-16 code units followed by the murmur3 finalizer. FNV alone clusters for inputs
 * that differ only in their last characters (`10.0.0.1:80#1`, `#2`, ...); the finalizer spreads them.
 */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class HashRing {
  readonly #points: Uint32Array;
  /** Index into the members array given to the constructor, parallel to #points. */
  readonly #owners: Uint32Array;
  readonly #memberCount: number;

  /** `members` are stable identities (endpoint keys); their order does not change the ring. */
  constructor(members: readonly string[], virtualNodes = VIRTUAL_NODES) {
    this.#memberCount = members.length;
    const entries: { point: number; owner: number }[] = [];
    members.forEach((member, owner) => {
      for (let v = 0; v < virtualNodes; v++) entries.push({ point: hash32(`${member}#${v}`), owner });
    });
    // Ties between members on the same point go to the smaller identity, so the ring is the
    // same whatever order the snapshot lists the endpoints in.
    entries.sort((a, b) => a.point - b.point || compareStrings(members[a.owner]!, members[b.owner]!));
    this.#points = Uint32Array.from(entries, (e) => e.point);
    this.#owners = Uint32Array.from(entries, (e) => e.owner);
  }

  get size(): number {
    return this.#memberCount;
  }

  /**
   * The member owning `hash`, or the next one clockwise that `accept` takes (a retry skips the
   * endpoints already tried; an ejected endpoint's keys go to its successor). Undefined when
   * `accept` refuses every member (callers check that one is acceptable first: that walk is
   * the whole ring).
   */
  lookup(hash: number, accept: (owner: number) => boolean = () => true): number | undefined {
    const count = this.#points.length;
    if (count === 0) return undefined;
    const start = this.#firstPointAtOrAfter(hash);
    let lastRefused = -1;
    for (let step = 0; step < count; step++) {
      const owner = this.#owners[(start + step) % count]!;
      if (owner === lastRefused) continue;
      if (accept(owner)) return owner;
      lastRefused = owner;
    }
    return undefined;
  }

  #firstPointAtOrAfter(hash: number): number {
    let low = 0;
    let high = this.#points.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.#points[mid]! < hash) low = mid + 1;
      else high = mid;
    }
    return low === this.#points.length ? 0 : low;
  }
}
