// Snapshot text to plain data: YAML 1.2 (so JSON too), with line:column on every syntax error and
// a way back from a path in the data to its place in the text, for error lines.
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document, type YAMLError } from 'yaml';
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
