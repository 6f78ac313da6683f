// A snapshot file as the proxy and `wsgate check` read it: the file, the certificate and key files
// it names (resolved relative to it, inlined so the served snapshot is self-contained), then the
// one accept (validate + hash), with every issue pointed at its line and column.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../common/errors.ts';
import { acceptSnapshot } from './accept.ts';
import type { SnapshotAcceptor } from './incremental.ts';
import { formatIssue, type Issue, type PathSegment } from './schema.ts';
import type { Snapshot } from './snapshot.ts';
import { parseText, where, type ParsedText } from './text.ts';
import type { SnapshotTextReader } from './text-reuse.ts';


/** What loading a snapshot file produced, and every file it read (for a watcher to stat). */
export interface LoadedSource {
  snapshot?: Snapshot;
  hash?: string;
  /** `file:line:col: path: message` lines; [] when `snapshot` is set. */
  errors: string[];
  /** The snapshot file and the certificate and key files it names, absolute. */
  files: string[];
}

/**
 * Read + parse + resolve certFile/keyFile + validate, collecting every error instead of throwing.
 * A watcher passes its acceptor, so that a reload validates only what changed since the last one,
 * and its reader, so that it parses only the pools and routes whose text changed.
 */
export async function loadSnapshotSource(path: string, acceptor?: SnapshotAcceptor, reader?: SnapshotTextReader): Promise<LoadedSource> {
  const files = [resolve(path)];
  let text: string;
  try {
    // Bytes decoded in one go: the streaming decoder readFile(path, 'utf8') uses costs several
    // times as much on a file of megabytes.
    text = (await readFile(path)).toString('utf8');
  } catch (error) {
    return { errors: [`${path}: cannot read the file (${ioReason(error)})`], files };
  }
  let parsed: ParsedText;
  try {
    parsed = reader === undefined ? parseText(text, path) : reader.parse(text, path);
  } catch (error) {
    if (error instanceof ConfigError) return { errors: error.errors, files };
    throw error;
  }
  const doc = parsed.value;
  const resolution = await resolveCertificateFiles(doc, dirname(resolve(path)));
  files.push(...resolution.files);
  const accepted = acceptor === undefined ? acceptSnapshot(doc) : acceptor.accept(doc);
  const issues = [...resolution.issues, ...(accepted.ok ? [] : accepted.issues.map((issue) => pointAtFile(issue, resolution.fromFile)))];
  if (issues.length > 0 || !accepted.ok) {
    const located = issues.map((issue) => ({ issue, pos: parsed.locate(issue.path, issue.at) }));
    // Stable sort: issues without a place (none in practice) keep their order at the end.
    located.sort((a, b) => (a.pos?.line ?? Infinity) - (b.pos?.line ?? Infinity) || (a.pos?.col ?? 0) - (b.pos?.col ?? 0));
    const errors = located.map(({ issue, pos }) => `${pos ? where(path, pos.line, pos.col) : `${path}: `}${formatIssue(issue)}`);
    return { errors, files };
  }
  return { snapshot: accepted.snapshot, hash: accepted.hash, errors: [], files };
}

/** A snapshot file ready to serve; throws ConfigError listing every error. */
export async function loadSnapshotFile(path: string): Promise<Snapshot> {
  const loaded = await loadSnapshotSource(path);
  if (!loaded.snapshot) throw new ConfigError(loaded.errors.map((line) => ({ where: '', message: line })));
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
