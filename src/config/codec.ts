// Reading and writing snapshots: YAML/JSON text in (with line:column on every error), canonical
// JSON and its hash out (the hash is the snapshot's identity: equal hashes skip a reload), and an
// atomic file write for the controller, whose readers must never see half a document.
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document, type YAMLError } from 'yaml';
import { ConfigError } from '../common/errors.ts';
import { formatIssue, type Issue, type PathSegment } from './schema.ts';
import { validateSnapshotIssues } from './validate.ts';
import type { Snapshot } from './snapshot.ts';

// ---- text ----

interface ParsedText {
  value: unknown;
  /** 1-based line and column of a place in the document, for error lines. */
  locate(path: readonly PathSegment[], at?: 'key'): { line: number; col: number } | undefined;
}

/** YAML 1.2 (so JSON too) to plain data; throws ConfigError with `file:line:col:` on syntax errors. */
export function parseSnapshotText(text: string, fileName?: string): unknown {
  return parseText(text, fileName).value;
}

function parseText(text: string, fileName?: string): ParsedText {
  const lineCounter = new LineCounter();
  // logLevel 'error': no process warnings for odd keys; uniqueKeys (the default) makes a repeated
  // key an error rather than a silent last-one-wins.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, logLevel: 'error' });
  const problems: YAMLError[] = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    const lines = problems.map((problem) => {
      const { line, col } = lineCounter.linePos(problem.pos[0]);
      return `${where(fileName, line, col)}syntax error: ${problem.message}`;
    });
    throw new ConfigError(lines);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // Alias expansion beyond maxAliasCount (the "billion laughs" document) ends up here.
    throw new ConfigError([`${fileName === undefined ? '' : `${fileName}: `}${error instanceof Error ? error.message : String(error)}`]);
  }
  return {
    value,
    locate(path, at) {
      const offset = offsetOf(doc, path, at);
      return offset === undefined ? undefined : lineCounter.linePos(offset);
    },
  };
}

function where(fileName: string | undefined, line: number, col: number): string {
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

// ---- files ----

/** What loading a snapshot file produced, and every file it read (for a watcher to stat). */
export interface LoadedSource {
  snapshot?: Snapshot;
  hash?: string;
  /** `file:line:col: path: message` lines; [] when `snapshot` is set. */
  errors: string[];
  /** The snapshot file and the certificate and key files it names, absolute. */
  files: string[];
}

/** Read + parse + resolve certFile/keyFile + validate, collecting every error instead of throwing. */
export async function loadSnapshotSource(path: string): Promise<LoadedSource> {
  const files = [resolve(path)];
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { errors: [`${path}: cannot read the file (${ioReason(error)})`], files };
  }
  let parsed: ParsedText;
  try {
    parsed = parseText(text, path);
  } catch (error) {
    if (error instanceof ConfigError) return { errors: error.errors, files };
    throw error;
  }
  const doc = parsed.value;
  const resolution = await resolveCertificateFiles(doc, dirname(resolve(path)));
  files.push(...resolution.files);
  const issues = [...resolution.issues, ...validateSnapshotIssues(doc).map((issue) => pointAtFile(issue, resolution.fromFile))];
  if (issues.length > 0) {
    const located = issues.map((issue) => ({ issue, pos: parsed.locate(issue.path, issue.at) }));
    // Stable sort: issues without a place (none in practice) keep their order at the end.
    located.sort((a, b) => (a.pos?.line ?? Infinity) - (b.pos?.line ?? Infinity) || (a.pos?.col ?? 0) - (b.pos?.col ?? 0));
    const errors = located.map(({ issue, pos }) => `${pos ? where(path, pos.line, pos.col) : `${path}: `}${formatIssue(issue)}`);
    return { errors, files };
  }
  const snapshot = doc as Snapshot;
  return { snapshot, hash: snapshotHash(snapshot), errors: [], files };
}

/** A snapshot file ready to serve; throws ConfigError listing every error. */
export async function loadSnapshotFile(path: string): Promise<Snapshot> {
  const loaded = await loadSnapshotSource(path);
  if (!loaded.snapshot) throw new ConfigError(loaded.errors);
  return loaded.snapshot;
}

interface Resolution {
  issues: Issue[];
  files: string[];
  /** formatted path of an inline field (`tls.certificates[0].cert`) -> the file its text came from */
  fromFile: Map<string, { field: string; file: string }>;
}

const FILE_FIELDS = [
  ['certFile', 'cert'],
  ['keyFile', 'key'],
] as const;

/**
 * Replaces certFile/keyFile with the text of those files (relative to the snapshot's folder), in
 * place, so the served snapshot is self-contained and its hash changes when a file does.
 */
async function resolveCertificateFiles(doc: unknown, baseDir: string): Promise<Resolution> {
  const resolution: Resolution = { issues: [], files: [], fromFile: new Map() };
  const tls = asRecord(asRecord(doc)?.tls);
  if (!tls) return resolution;
  const targets: Array<[Record<string, unknown>, PathSegment[]]> = [];
  if (Array.isArray(tls.certificates)) {
    tls.certificates.forEach((cert, i) => {
      const record = asRecord(cert);
      if (record) targets.push([record, ['tls', 'certificates', i]]);
    });
  }
  const fallback = asRecord(tls.defaultCertificate);
  if (fallback) targets.push([fallback, ['tls', 'defaultCertificate']]);
  for (const [cert, at] of targets) {
    for (const [fileField, inlineField] of FILE_FIELDS) {
      const name = cert[fileField];
      // Both given is the validator's finding; leave the document as written for it.
      if (typeof name !== 'string' || name === '' || cert[inlineField] !== undefined) continue;
      const file = resolve(baseDir, name);
      resolution.files.push(file);
      try {
        cert[inlineField] = await readFile(file, 'utf8');
        delete cert[fileField];
        resolution.fromFile.set(formatIssue({ path: [...at, inlineField], message: '' }), { field: fileField, file: name });
      } catch (error) {
        resolution.issues.push({ path: [...at, fileField], message: `cannot read ${JSON.stringify(name)} (${ioReason(error)})` });
      }
    }
  }
  return resolution;
}

/** An issue about text that came from a file is reported on the certFile/keyFile the user wrote. */
function pointAtFile(issue: Issue, fromFile: Resolution['fromFile']): Issue {
  const source = fromFile.get(formatIssue({ path: issue.path, message: '' }));
  if (!source) return issue;
  return { path: [...issue.path.slice(0, -1), source.field], message: `${JSON.stringify(source.file)} ${issue.message}` };
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function ioReason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a folder';
  return error instanceof Error ? error.message : String(error);
}

// ---- identity ----

/** JSON with object keys sorted at every level and no whitespace: equal data, equal text. */
export function canonicalJson(value: unknown): string {
  const text = canonical(value);
  if (text === undefined) throw new TypeError(`canonicalJson: ${typeof value} has no JSON form`);
  return text;
}

function canonical(value: unknown): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(): unknown }).toJSON();
  }
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => canonical(item) ?? 'null').join(',')}]`;
  const parts: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const item = canonical((value as Record<string, unknown>)[key]);
    if (item !== undefined) parts.push(`${JSON.stringify(key)}:${item}`);
  }
  return `{${parts.join(',')}}`;
}

/** sha256 (hex) of the canonical JSON: the snapshot's version. */
export function snapshotHash(snapshot: Snapshot): string {
  return createHash('sha256').update(canonicalJson(snapshot)).digest('hex');
}

/** A copy for display (`/config`) with every private key replaced by `<redacted>`. */
export function redactSnapshot(snapshot: Snapshot): Snapshot {
  const copy = structuredClone(snapshot);
  for (const cert of [...(copy.tls?.certificates ?? []), copy.tls?.defaultCertificate]) {
    if (cert?.key !== undefined) cert.key = '<redacted>';
  }
  return copy;
}

// ---- atomic write ----

/**
 * Writes a file so readers see the old content or the new, never a mix: a temporary file in the
 * same folder (rename is atomic only within one file system), fsync, then rename over the target.
 * The default mode 0640 keeps private keys from other users; a pod's containers share a group
 * through fsGroup.
 */
export async function writeFileAtomic(path: string, data: string, options: { mode?: number } = {}): Promise<void> {
  const folder = dirname(path);
  const temp = join(folder, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', options.mode ?? 0o640);
  try {
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
  await syncFolder(folder);
}

/** Makes the rename itself durable; some systems cannot open a folder for this, which is fine. */
async function syncFolder(folder: string): Promise<void> {
  let handle;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch {
    // EISDIR/EPERM/EINVAL on platforms without directory fsync: the data itself is synced.
  } finally {
    await handle?.close();
  }
}
