// Snapshot text to plain data: YAML 1.2 (so JSON too), with line:column on every syntax error and
// a way back from a path in the data to its place in the text, for error lines.
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { Document, YAMLError } from 'yaml';
import { ConfigError } from '../common/errors.ts';
import type { PathSegment } from './schema.ts';

export interface ParsedText {
  value: unknown;
  /** 1-based line and column of a place in the document, for error lines. */
  locate(path: readonly PathSegment[], at?: 'key'): { line: number; col: number } | undefined;
}

/** YAML 1.2 (so JSON too) to plain data; throws ConfigError with `file:line:col:` on syntax errors. */
export function parseSnapshotText(text: string, fileName?: string): unknown {
  return parseText(text, fileName).value;
}

export function parseText(text: string, fileName?: string): ParsedText {
  return parseJsonFast(text) ?? parseYaml(text, fileName);
}

/**
 * A JSON document (what the controller writes) through the native JSON.parse: the YAML parser
 * builds a node tree with ranges for every value, 100x slower and 50x the memory of the data at
 * thousands of routes. Anything JSON.parse refuses, and a repeated key (which JSON.parse would
 * silently resolve last-one-wins, while YAML 1.2 refuses it), goes the YAML way for its
 * line:column error. Places in the text are only looked up for error lines, so the YAML tree is
 * built then, and only then.
 */
function parseJsonFast(text: string): ParsedText | undefined {
  const start = firstNonSpace(text);
  if (text.charCodeAt(start) !== 0x7b /* { */) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (keysInText(text, start) !== keysInValue(value)) return undefined;
  let yaml: ParsedText | undefined;
  return {
    value,
    locate(path, at) {
      yaml ??= parseYaml(text);
      return yaml.locate(path, at);
    },
  };
}

function firstNonSpace(text: string): number {
  let i = 0;
  for (let c = text.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = text.charCodeAt(++i));
  return i;
}

/** Object keys in a JSON text that JSON.parse accepted: strings followed by a colon. */
export function keysInText(text: string, from = 0): number {
  let keys = 0;
  let i = text.indexOf('"', from);
  while (i >= 0) {
    // The closing quote is the next one not escaped by an odd run of backslashes.
    let end = text.indexOf('"', i + 1);
    for (;;) {
      let slashes = 0;
      while (text.charCodeAt(end - 1 - slashes) === 0x5c /* \ */) slashes++;
      if (slashes % 2 === 0) break;
      end = text.indexOf('"', end + 1);
    }
    let next = end + 1;
    while (text[next] === ' ' || text[next] === '\n' || text[next] === '\r' || text[next] === '\t') next++;
    if (text[next] === ':') keys++;
    i = text.indexOf('"', next);
  }
  return keys;
}

export function keysInValue(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  let keys = 0;
  if (Array.isArray(value)) {
    for (const item of value) keys += keysInValue(item);
    return keys;
  }
  for (const key in value) {
    keys += 1 + keysInValue((value as Record<string, unknown>)[key]);
  }
  return keys;
}

// The YAML parser is loaded on first use: a JSON snapshot (what the controller and the sidecar
// write) never needs it, and loading it costs the proxy about 9 MiB of RSS at rest (issue 9).
let yamlModule: typeof Yaml | undefined;
const yaml = (): typeof Yaml => (yamlModule ??= createRequire(import.meta.url)('yaml') as typeof Yaml);

export function parseYaml(text: string, fileName?: string): ParsedText {
  const { LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  // logLevel 'error': no process warnings for odd keys; uniqueKeys (the default) makes a repeated
  // key an error rather than a silent last-one-wins.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, logLevel: 'error' });
  const problems: YAMLError[] = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    throw new ConfigError(problems.map((problem) => {
      const { line, col } = lineCounter.linePos(problem.pos[0]);
      return { where: where(fileName, line, col), message: `syntax error: ${problem.message}` };
    }));
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // Alias expansion beyond maxAliasCount (the "billion laughs" document) ends up here.
    throw ConfigError.of(error instanceof Error ? error.message : String(error), fileName === undefined ? '' : `${fileName}: `);
  }
  return {
    value,
    locate(path, at) {
      const offset = offsetOf(doc, path, at);
      return offset === undefined ? undefined : lineCounter.linePos(offset);
    },
  };
}

export function where(fileName: string | undefined, line: number, col: number): string {
  return fileName === undefined ? `${line}:${col}: ` : `${fileName}:${line}:${col}: `;
}

/**
 * Start offset of the node at `path`, or of the deepest node that exists on the way (a missing
 * field is reported where its object starts).
 */
function offsetOf(doc: Document, path: readonly PathSegment[], at?: 'key'): number | undefined {
  const { isMap, isScalar, isSeq } = yaml();
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (const [i, seg] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      const keyOffset = rangeStart(pair.key);
      if (i === path.length - 1 && at === 'key') return keyOffset;
      node = pair.value;
      offset = rangeStart(node) ?? keyOffset;
    } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
      node = node.items[seg];
      offset = rangeStart(node) ?? offset;
    } else {
      break;
    }
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range?.[0];
}
