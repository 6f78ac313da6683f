// Renders charts/wsgate the way `helm template` does, with the Go renderer in ./renderer (Go's
// text/template + sprig, as Helm), and validates the merged values against values.schema.json
// as Helm does before rendering.
//
//   npx node test/helm/render.ts                      print the default render (like helm template)
//   npx node test/helm/render.ts -f my-values.yaml    with values files
//   npx node test/helm/render.ts --write-manifests    regenerate manifests/ (and manifests/monitoring/) from the defaults
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import type { ErrorObject } from 'ajv';
import { parseAllDocuments, stringify } from 'yaml';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const chartDir = join(repoRoot, 'charts/wsgate');
export const manifestsDir = join(repoRoot, 'manifests');
export const monitoringManifestsDir = join(manifestsDir, 'monitoring');

/** The values manifests/monitoring/ is rendered with: the Operator objects and the dashboard on. */
export const monitoringValues = { metrics: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true }, dashboard: { enabled: true } } };
const monitoringTemplates = ['servicemonitor.yaml', 'prometheusrule.yaml', 'dashboard-configmap.yaml'];
const rendererDir = join(dirname(fileURLToPath(import.meta.url)), 'renderer');

/**
 * The values manifests/ is rendered with besides the defaults: no random affinity key committed
 * for everyone to share; the controller reads `wsgate-affinity`, which a kubectl user creates
 * (README "Long-lived connection features"; without it each pod keys its own cookies).
 */
export const manifestsValues = { affinityKey: { createSecret: false, existingSecret: 'wsgate-affinity' } };

/** The release `manifests/` holds: `helm install wsgate ./charts/wsgate -n wsgate`. */
export const defaultRelease = { name: 'wsgate', namespace: 'wsgate' } as const;

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface RenderedTemplate {
  /** `wsgate/templates/<file>` as Helm prints it in `# Source:` lines. */
  source: string;
  content: string;
}

export interface Rendered {
  values: Record<string, unknown>;
  templates: RenderedTemplate[];
  objects: KubeObject[];
  notes: string;
}

export interface RenderOptions {
  releaseName?: string;
  namespace?: string;
  /** Values files, later wins (`helm -f`). */
  valuesFiles?: string[];
  /** Values given inline, applied after the files (written to a temporary values file). */
  values?: Record<string, unknown>;
  /** Extra API versions for `.Capabilities.APIVersions`. */
  apiVersions?: string[];
  /** Objects the chart's `lookup` finds, as on `helm upgrade` against a cluster holding them; default none (`helm template`). */
  lookup?: KubeObject[];
}

export class ValuesSchemaError extends Error {
  readonly errors: ErrorObject[];
  constructor(errors: ErrorObject[]) {
    super(`values don't meet the chart's values.schema.json:\n${errors.map(describeSchemaError).join('\n')}`);
    this.name = 'ValuesSchemaError';
    this.errors = errors;
  }
}

function describeSchemaError(e: ErrorObject): string {
  const where = e.instancePath === '' ? '(root)' : e.instancePath;
  const extra = e.keyword === 'additionalProperties' ? `: ${String((e.params as { additionalProperty: string }).additionalProperty)}` : '';
  return `- ${where}: ${e.message ?? e.keyword}${extra}`;
}

/** Go environment for an offline GOPATH build against Debian's golang-*-dev packages. */
function goEnv(cacheDir: string): NodeJS.ProcessEnv {
  return { ...process.env, GOPATH: '/usr/share/gocode', GO111MODULE: 'off', GOFLAGS: '', GOCACHE: cacheDir, GOTOOLCHAIN: 'local' };
}

let builtRenderer: string | undefined;

/** Builds the Go renderer once per source version; the binary is cached under the temp dir. */
export function buildRenderer(): string {
  if (builtRenderer) return builtRenderer;
  const hash = createHash('sha256');
  for (const file of readdirSync(rendererDir).filter((f) => f.endsWith('.go')).sort()) {
    hash.update(file).update(readFileSync(join(rendererDir, file)));
  }
  const dir = join(tmpdir(), 'wsgate-helm-renderer');
  const binary = join(dir, `render-${hash.digest('hex').slice(0, 16)}`);
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true });
    // Built under a unique name and renamed, so test files building at once never see half a binary.
    const partial = `${binary}.${process.pid}.partial`;
    try {
      execFileSync('go', ['build', '-o', partial, '.'], { cwd: rendererDir, env: goEnv(join(dir, 'gocache')), stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(`building the chart renderer failed (needs Debian's golang-go, golang-github-masterminds-sprig-dev, golang-gopkg-yaml.v3-dev):\n${stderr}`, { cause: err });
    }
    renameSync(partial, binary);
  }
  builtRenderer = binary;
  return binary;
}

let schemaValidator: ReturnType<Ajv['compile']> | undefined;

export function validateValues(values: unknown): void {
  if (!schemaValidator) {
    const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as Record<string, unknown>;
    // Helm's validator ignores $schema's draft; ajv's default draft-07 matches the file.
    schemaValidator = new Ajv({ allErrors: true, strict: false }).compile(schema);
  }
  if (!schemaValidator(values)) throw new ValuesSchemaError(schemaValidator.errors ?? []);
}

export function renderChart(options: RenderOptions = {}): Rendered {
  const binary = buildRenderer();
  const args = ['--chart', chartDir, '--name', options.releaseName ?? defaultRelease.name, '--namespace', options.namespace ?? defaultRelease.namespace];
  for (const file of options.valuesFiles ?? []) args.push('-f', resolve(file));
  let inlineDir: string | undefined;
  if (options.values) {
    inlineDir = join(tmpdir(), `wsgate-values-${process.pid}-${Math.random().toString(36).slice(2)}`);
    mkdirSync(inlineDir);
    const file = join(inlineDir, 'values.yaml');
    writeFileSync(file, stringify(options.values));
    args.push('-f', file);
  }
  for (const api of options.apiVersions ?? []) args.push('--api-versions', api);
  if (options.lookup) {
    inlineDir ??= join(tmpdir(), `wsgate-values-${process.pid}-${Math.random().toString(36).slice(2)}`);
    mkdirSync(inlineDir, { recursive: true });
    const file = join(inlineDir, 'lookup.json');
    writeFileSync(file, JSON.stringify(options.lookup));
    args.push('--lookup', file);
  }
  let stdout: string;
  try {
    stdout = execFileSync(binary, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`rendering the chart failed: ${stderr.trim()}`, { cause: err });
  } finally {
    if (inlineDir) rmSync(inlineDir, { recursive: true, force: true });
  }
  const out = JSON.parse(stdout) as { values: Record<string, unknown>; templates: RenderedTemplate[]; notes: string; error?: string };
  validateValues(out.values);
  if (out.error) throw new Error(`rendering the chart failed: ${out.error}`);
  const objects: KubeObject[] = [];
  for (const t of out.templates) objects.push(...parseObjects(t.content, t.source));
  return { values: out.values, templates: out.templates, objects, notes: out.notes };
}

export function parseObjects(text: string, source: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]?.message ?? 'YAML error'}`);
    const value = doc.toJS() as KubeObject | null;
    if (value !== null) objects.push(value);
  }
  return objects;
}

/**
 * A render without Helm's bookkeeping labels: applied with kubectl or kustomize, nothing manages
 * the objects as a Helm release, and `managed-by: Helm` would make `helm` tools claim them.
 */
export function withoutHelmLabels(content: string): string {
  return content.replace(/^[ \t]*(helm\.sh\/chart: .*|app\.kubernetes\.io\/managed-by: Helm)\n/gm, '');
}

/** manifests/ as file name -> content: one file per chart template, the namespace and the Kustomization. */
export function manifestFiles(rendered: Rendered): Map<string, string> {
  const header = '# Generated from charts/wsgate with default values by `npx node test/helm/render.ts --write-manifests`: do not edit.\n';
  const files = new Map<string, string>();
  // The namespace sorts first so `kubectl apply -f manifests/` creates it before what it holds.
  files.set('00-namespace.yaml', `${header}apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${defaultRelease.namespace}\n  labels:\n    app.kubernetes.io/part-of: wsgate\n`);
  for (const t of rendered.templates) {
    const name = t.source.replace(/^wsgate\/templates\//, '').replaceAll('/', '-');
    files.set(name, `${header}# Source: ${t.source}\n${withoutHelmLabels(t.content).replace(/^\s*\n/, '').replace(/\s*$/, '\n')}`);
  }
  const resources = [...files.keys()].sort();
  // Named `Kustomization` (a name kustomize looks for) rather than kustomization.yaml, because
  // `kubectl apply -f manifests/` reads every *.yaml in the folder and has no kind Kustomization.
  files.set('Kustomization', `${header}apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${resources.map((r) => `  - ${r}\n`).join('')}`);
  return files;
}

/**
 * manifests/monitoring/ as file name -> content: a kustomize Component with the ServiceMonitor,
 * PrometheusRule and dashboard ConfigMap of the default release, for `components:` next to
 * `resources: [manifests]` where the Prometheus Operator runs.
 */
export function monitoringManifestFiles(rendered: Rendered): Map<string, string> {
  const header = '# Generated from charts/wsgate with the Prometheus Operator objects and dashboard on, by `npx node test/helm/render.ts --write-manifests`: do not edit.\n';
  const files = new Map<string, string>();
  for (const t of rendered.templates) {
    const name = t.source.replace(/^wsgate\/templates\//, '');
    if (!monitoringTemplates.includes(name)) continue;
    files.set(name, `${header}# Source: ${t.source}\n${withoutHelmLabels(t.content).replace(/^\s*\n/, '').replace(/\s*$/, '\n')}`);
  }
  const resources = [...files.keys()].sort();
  files.set('kustomization.yaml', `${header}apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n${resources.map((r) => `  - ${r}\n`).join('')}`);
  return files;
}

function writeFolder(dir: string, files: Map<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const existing of readdirSync(dir)) {
    if ((existing.endsWith('.yaml') || existing === 'Kustomization') && !files.has(existing)) rmSync(join(dir, existing));
  }
  for (const [name, content] of files) writeFileSync(join(dir, name), content);
}

export function writeManifests(): string[] {
  const files = manifestFiles(renderChart({ values: manifestsValues }));
  writeFolder(manifestsDir, files);
  const monitoring = monitoringManifestFiles(renderChart({ values: monitoringValues }));
  writeFolder(monitoringManifestsDir, monitoring);
  return [...files.keys(), ...[...monitoring.keys()].map((k) => `monitoring/${k}`)];
}

function main(argv: string[]): void {
  if (argv.includes('--write-manifests')) {
    for (const name of writeManifests()) process.stdout.write(`manifests/${name}\n`);
    return;
  }
  const valuesFiles: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if ((argv[i] === '-f' || argv[i] === '--values') && argv[i + 1]) valuesFiles.push(argv[++i] as string);
  }
  const rendered = renderChart({ valuesFiles });
  for (const t of rendered.templates) process.stdout.write(`---\n# Source: ${t.source}\n${t.content.trim()}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
