// The snapshot file read again and again (proxy --config): the text of each pool and route the
// controller wrote (its pretty canonical layout: one element per `    {` ... `    }` block of the
// top-level "pools" and "routes" arrays) is compared with the last read, and an element whose
// text is unchanged is the same (frozen) object as last time, not parsed again; the acceptor then
// knows its JSON text without stringifying it, and the data plane reuses what it compiled from it.
// Anything not in that layout, or anything doubtful (a repeated key, a chunk that does not parse,
// the region not being the top-level value), goes through parseText whole, with its errors.
import { markUnchanging } from './incremental.ts';
import { keysInText, keysInValue, parseText, parseYaml, type ParsedText } from './text.ts';

const ARRAYS = ['pools', 'routes'] as const;
/** Stands in for a cut-out array in the rest of the document; a text containing it is read whole. */
const MARK = '\u0000wsgate-element-reuse';
const MARK_JSON = JSON.stringify(MARK);
const MARK_IN_TEXT = MARK_JSON.slice(1, 8);
/** How the pretty layout closes an element of a top-level array. */
const CLOSE = '\n    }';

export class SnapshotTextReader {
  /** Element text -> the frozen object parsed from it, for the elements of the last read. */
  #last = new Map<string, object>();
  /** Elements of the last read that were parsed, and taken from the read before. */
  readonly stats = { parsed: 0, reused: 0, whole: 0 };

  parse(text: string, fileName?: string): ParsedText {
    const fast = this.#inLayout(text);
    if (fast !== undefined) return fast;
    this.stats.whole += 1;
    return parseText(text, fileName);
  }

  #inLayout(text: string): ParsedText | undefined {
    if (!text.startsWith('{\n') || text.includes(MARK_IN_TEXT)) return undefined;
    const next = new Map<string, object>();
    const cut = new Map<string, object[]>();
    const rest: string[] = [];
    let cursor = 0;
    let parsed = 0;
    let reused = 0;
    for (const key of ARRAYS) {
      const open = `\n  ${JSON.stringify(key)}: [\n`;
      const at = text.indexOf(open, cursor);
      if (at < 0) continue;
      const bodyStart = at + open.length;
      const close = text.indexOf('\n  ]', bodyStart);
      if (close < 0) return undefined;
      const chunks = text.slice(bodyStart, close).split('\n    },\n');
      const items: object[] = [];
      const last = chunks.length - 1;
      if (!chunks[last]!.endsWith(CLOSE)) return undefined;
      // Each element's text without its closing line (the last one's cut off too): a slice of the
      // file's text, hashed where it lies, not a copy.
      chunks[last] = chunks[last]!.slice(0, -CLOSE.length);
      for (const chunk of chunks) {
        if (!chunk.startsWith('    {\n')) return undefined;
        let item = next.get(chunk) ?? this.#last.get(chunk);
        if (item === undefined) {
          let value: unknown;
          try {
            value = JSON.parse(`${chunk}${CLOSE}`);
          } catch {
            return undefined;
          }
          if (value === null || typeof value !== 'object' || Array.isArray(value) || keysInText(chunk) !== keysInValue(value)) return undefined;
          item = deepFreeze(value as object);
          markUnchanging(item);
          parsed += 1;
        } else {
          reused += 1;
        }
        next.set(chunk, item);
        items.push(item);
      }
      rest.push(text.slice(cursor, at), `\n  ${JSON.stringify(key)}: ${MARK_JSON}`);
      cursor = close + '\n  ]'.length;
      cut.set(key, items);
    }
    if (cut.size === 0) return undefined;
    rest.push(text.slice(cursor));
    const skeleton = rest.join('');
    let value: unknown;
    try {
      value = JSON.parse(skeleton);
    } catch {
      return undefined;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value) || keysInText(skeleton) !== keysInValue(value)) return undefined;
    const doc = value as Record<string, unknown>;
    // The cut-out text was the top-level array only if the mark came back there.
    for (const key of cut.keys()) if (doc[key] !== MARK) return undefined;
    for (const [key, items] of cut) doc[key] = items;
    this.#last = next;
    this.stats.parsed = parsed;
    this.stats.reused = reused;
    let yaml: ParsedText | undefined;
    return {
      value: doc,
      locate(path, at) {
        yaml ??= parseYaml(text);
        return yaml.locate(path, at);
      },
    };
  }
}

function deepFreeze<T extends object>(value: T): T {
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    if (item !== null && typeof item === 'object') deepFreeze(item);
  }
  return Object.freeze(value);
}
