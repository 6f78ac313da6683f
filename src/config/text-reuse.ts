// The snapshot file read again and again (proxy --config): the text of each pool, route and
// certificate the controller wrote (its pretty canonical layout: one element per `    {` ... `    }`
// block of the top-level "pools" and "routes" arrays, `      {` ... of "tls"."certificates") is
// compared with the last read, and an element whose text is unchanged is the same (frozen) object
// as last time, not parsed again; the acceptor then knows its JSON text without stringifying it,
// and the data plane reuses what it compiled from it. A certificate naming certFile/keyFile is
// parsed afresh each time (the loader puts the files' text into it).
// Anything not in that layout, or anything doubtful (a repeated key, a chunk that does not parse,
// the region not being the top-level value), goes through parseText whole, with its errors.
import { markUnchanging } from './incremental.ts';
import { keysInText, keysInValue, parseText, parseYaml, type ParsedText } from './text.ts';

/**
 * The arrays read element by element: where each sits (`under` a top-level field, or at the top)
 * and its indentation in the pretty layout (elements are two spaces deeper).
 */
const REGIONS = [
  { key: 'pools', under: undefined, indent: '  ' },
  { key: 'routes', under: undefined, indent: '  ' },
  { key: 'certificates', under: 'tls', indent: '    ' },
] as const;
/** Stands in for a cut-out array in the rest of the document; a text containing it is read whole. */
const MARK = '\u0000wsgate-element-reuse';
const MARK_JSON = JSON.stringify(MARK);
const MARK_IN_TEXT = MARK_JSON.slice(1, 8);

export class SnapshotTextReader {
  /** Per region: element text -> the frozen object parsed from it, for the elements of the last read. */
  #last: Array<Map<string, object>> = REGIONS.map(() => new Map());
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
    const next: Array<Map<string, object>> = REGIONS.map(() => new Map());
    const cut = new Map<number, object[]>();
    const rest: string[] = [];
    let cursor = 0;
    let parsed = 0;
    let reused = 0;
    for (const [r, region] of REGIONS.entries()) {
      const inner = `${region.indent}  `;
      const open = `\n${region.indent}${JSON.stringify(region.key)}: [\n`;
      const closeArray = `\n${region.indent}]`;
      const closeElement = `\n${inner}}`;
      const at = text.indexOf(open, cursor);
      if (at < 0) continue;
      const bodyStart = at + open.length;
      const close = text.indexOf(closeArray, bodyStart);
      if (close < 0) return undefined;
      const chunks = text.slice(bodyStart, close).split(`${closeElement},\n`);
      const items: object[] = [];
      const last = chunks.length - 1;
      if (!chunks[last]!.endsWith(closeElement)) return undefined;
      // Each element's text without its closing line (the last one's cut off too): a slice of the
      // file's text, hashed where it lies, not a copy.
      chunks[last] = chunks[last]!.slice(0, -closeElement.length);
      for (const chunk of chunks) {
        if (!chunk.startsWith(`${inner}{\n`)) return undefined;
        let item = next[r]!.get(chunk) ?? this.#last[r]!.get(chunk);
        if (item === undefined) {
          let value: unknown;
          try {
            value = JSON.parse(`${chunk}${closeElement}`);
          } catch {
            return undefined;
          }
          if (value === null || typeof value !== 'object' || Array.isArray(value) || keysInText(chunk) !== keysInValue(value)) return undefined;
          parsed += 1;
          // A certificate naming files gets their text put in by the loader: a fresh object each time.
          if ('certFile' in value || 'keyFile' in value) {
            items.push(value);
            continue;
          }
          item = deepFreeze(value);
          markUnchanging(item);
        } else {
          reused += 1;
        }
        next[r]!.set(chunk, item);
        items.push(item);
      }
      rest.push(text.slice(cursor, at), `\n${region.indent}${JSON.stringify(region.key)}: ${MARK_JSON}`);
      cursor = close + closeArray.length;
      cut.set(r, items);
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
    // The cut-out text was the array in its place only if the mark came back there.
    const holder = (r: number): Record<string, unknown> | undefined => {
      const under = REGIONS[r]!.under;
      if (under === undefined) return doc;
      const parent = doc[under];
      return parent !== null && typeof parent === 'object' && !Array.isArray(parent) ? (parent as Record<string, unknown>) : undefined;
    };
    for (const r of cut.keys()) if (holder(r)?.[REGIONS[r]!.key] !== MARK) return undefined;
    for (const [r, items] of cut) holder(r)![REGIONS[r]!.key] = items;
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
