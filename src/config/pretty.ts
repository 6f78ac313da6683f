// The snapshot as the controller writes it (--output) and prints it (--once): canonical key order,
// indented for people, one trailing newline. Equal snapshots give equal bytes.
import { sortedCopy } from './canonical.ts';

export function prettyCanonicalJson(value: unknown): string {
  // The sorted copy indented directly: the same text as canonicalJson re-parsed and indented, at
  // a third of the work (the controller writes megabytes of it on every change at scale).
  return `${JSON.stringify(sortedCopy(value), null, 2)}\n`;
}

/** Containers above this depth are walked here; deeper ones go to the native stringify whole. */
const WALK_DEPTH = 3;

/**
 * prettyCanonicalJson for one snapshot after another (the controller's --output file), as UTF-8
 * bytes: the text of a pool, route or certificate whose canonical text (`canonicalText`, the
 * acceptor's) was in the last document is taken as it was, not sorted, indented and encoded
 * again, and the pieces are joined as bytes. The same bytes as prettyCanonicalJson.
 */
export class PrettyWriter {
  readonly #canonicalText: (element: object) => string | undefined;
  /** By depth (the indentation is part of the text): canonical text -> pretty bytes, for the elements of the last document. */
  #last: Array<Map<string, Buffer>> = [];
  #next: Array<Map<string, Buffer>> = [];
  #pieces: Buffer[] = [];
  /** Elements whose bytes came from the last document, in the last call. */
  reused = 0;

  constructor(canonicalText: (element: object) => string | undefined) {
    this.#canonicalText = canonicalText;
  }

  bytes(value: unknown): Buffer {
    this.#next = [];
    this.#pieces = [];
    this.reused = 0;
    // As prettyCanonicalJson's template, a value with no JSON form gives "undefined\n".
    if (!this.#at(value, '', 0)) this.#text('undefined');
    this.#text('\n');
    this.#last = this.#next;
    const out = Buffer.concat(this.#pieces);
    this.#pieces = [];
    return out;
  }

  /** Separators and indentation repeat thousands of times per document: encoded once each. */
  readonly #structure = new Map<string, Buffer>();

  #text(text: string): void {
    this.#pieces.push(Buffer.from(text, 'utf8'));
  }

  #mark(text: string): void {
    let bytes = this.#structure.get(text);
    if (bytes === undefined) this.#structure.set(text, (bytes = Buffer.from(text, 'utf8')));
    this.#pieces.push(bytes);
  }

  /** Adds JSON.stringify(sortedCopy(value), null, 2) for a value placed at `indent`; false (nothing added) when it has no JSON form. */
  #at(value: unknown, indent: string, depth: number): boolean {
    if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      value = (value as { toJSON(): unknown }).toJSON();
    }
    if (value === null || typeof value !== 'object') {
      const text = JSON.stringify(value) as string | undefined;
      if (text === undefined) return false;
      this.#text(text);
      return true;
    }
    const canonical = this.#canonicalText(value);
    if (canonical !== undefined) {
      const next = (this.#next[depth] ??= new Map());
      const found = this.#last[depth]?.get(canonical) ?? next.get(canonical);
      if (found !== undefined) this.reused += 1;
      const bytes = found ?? Buffer.from(native(value, indent), 'utf8');
      next.set(canonical, bytes);
      this.#pieces.push(bytes);
      return true;
    }
    if (depth >= WALK_DEPTH) {
      this.#text(native(value, indent));
      return true;
    }
    const inner = `${indent}  `;
    if (Array.isArray(value)) {
      if (value.length === 0) {
        this.#mark('[]');
        return true;
      }
      value.forEach((item: unknown, i) => {
        this.#mark(i === 0 ? `[\n${inner}` : `,\n${inner}`);
        if (!this.#at(item, inner, depth + 1)) this.#mark('null');
      });
      this.#mark(`\n${indent}]`);
      return true;
    }
    let first = true;
    for (const name of Object.keys(value).sort()) {
      const field = (value as Record<string, unknown>)[name];
      const mark = this.#pieces.length;
      this.#text(`${first ? '{' : ','}\n${inner}${JSON.stringify(name)}: `);
      if (this.#at(field, inner, depth + 1)) first = false;
      else this.#pieces.length = mark;
    }
    this.#mark(first ? '{}' : `\n${indent}}`);
    return true;
  }
}

function native(value: unknown, indent: string): string {
  const text = JSON.stringify(sortedCopy(value), null, 2);
  return indent === '' ? text : text.replaceAll('\n', `\n${indent}`);
}
