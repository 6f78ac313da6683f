// A Kubernetes API server for tests: the real REST protocol over plain HTTP on 127.0.0.1, enough
// for kubectl and @kubernetes/client-node informers (discovery, list, watch, create, update,
// patch, delete, /status), with controls a real one lacks: stop, restart, compact, a request log.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import type { KubeObject } from './apiserver/types.ts';
import { ObjectStore } from './apiserver/store.ts';
import { findByPath, GATEWAY_API_GROUP, resolveResource, resourceForObject, type ResourceType } from './apiserver/resources.ts';
import { ObjectApi, toView } from './apiserver/objects.ts';
import { Lister, streamWatch, type OpenWatch } from './apiserver/query.ts';
import { applyPatch, jsonPatch, mergePatch, PatchError, strategicMergePatch } from './apiserver/patch.ts';
import { ApiError, badRequest, methodNotAllowed, notFound, statusOf, unsupportedMediaType } from './apiserver/status.ts';
import { toTable, wantsTable } from './apiserver/table.ts';
import { openApiV3GroupVersion, openApiV3Root } from './apiserver/openapi.ts';
import { coreVersions, group, groupList, resourceList, SERVER_VERSION } from './apiserver/discovery.ts';

export type { KubeObject } from './apiserver/types.ts';

export interface ApiServerOptions {
  /** 0 (the default) picks a free port; restart() reuses whichever was bound. */
  port?: number;
  /** The kubeconfig's bearer token; a request with any other token gets 401 (one with none is served). */
  token?: string;
  /** How often a watch with allowWatchBookmarks=true gets a BOOKMARK (default 60 s). */
  bookmarkIntervalMs?: number;
  /** Whether the Gateway API CRDs are installed (default true); false: their paths answer 404. */
  gatewayApi?: boolean;
}

/** One request as RBAC would see it (k8s.io/apiserver pkg/endpoints/request RequestInfo). */
export interface RequestRecord {
  method: string;
  path: string;
  query: string;
  /** get, list, watch, create, update, patch, delete, deletecollection; for non-resource paths the lowercase method. */
  verb: string;
  isResourceRequest: boolean;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  code: number;
  userAgent: string;
}

export interface ApiServer {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** Every request served, in arrival order (completed ones carry their status code; open watches 200). */
  readonly requests: readonly RequestRecord[];
  clearRequests(): void;
  /** Number of watch streams open right now. */
  readonly openWatches: number;
  /** Closes the listener and cuts every connection, open watches included, as a server going away. */
  stop(options?: { graceful?: boolean }): Promise<void>;
  /** Ends every open watch cleanly (the terminating chunk), as a server-side watch timeout does; the server stays up. */
  endWatches(): void;
  /** Listens again on the same port with the same objects; resourceVersions continue. */
  restart(): Promise<void>;
  /** Forgets history, so a watch from any older resourceVersion gets 410 Gone (Expired). */
  compact(): void;
  /** Creates or replaces an object directly (works while stopped too); returns it as stored. */
  apply(obj: KubeObject): KubeObject;
  /** `kind` may be "Ingress", "ingresses", "ingresses.networking.k8s.io" or "events.k8s.io/v1/Event". */
  remove(kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  list(kind: string, namespace?: string): KubeObject[];
  /** The current global resourceVersion. */
  readonly resourceVersion: string;
  /** Installs (true) or removes (false) the Gateway API CRDs; objects stored meanwhile stay. */
  setGatewayApi(installed: boolean): void;
  /**
   * From now on, every request for `resource` (a plural: "secrets") with one of `verbs` (default
   * list and watch) is answered with `code` (403 Forbidden as RBAC, 404 as a missing CRD, 5xx);
   * `undefined` lifts it. Counts each refusal in `refused`.
   */
  refuse(resource: string, code: number | undefined, verbs?: string[]): void;
  /** Requests answered by refuse(), by resource. */
  readonly refused: ReadonlyMap<string, number>;
}

const PATCH_TYPES = ['application/merge-patch+json', 'application/json-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

interface Route {
  resource: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
  watchPrefix: boolean;
}

class HttpError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`error decoding request body: ${(err as Error).message}`);
  }
}

function isTrue(value: string | null): boolean {
  return value === 'true' || value === '1';
}

class TestApiServer implements ApiServer {
  readonly token: string;
  readonly #store = new ObjectStore();
  readonly #objects = new ObjectApi(this.#store);
  readonly #lister = new Lister(this.#store);
  readonly #watches = new Set<OpenWatch>();
  readonly #requests: RequestRecord[] = [];
  readonly #bookmarkIntervalMs: number;
  readonly #refusals = new Map<string, { code: number; verbs: Set<string> }>();
  readonly refused = new Map<string, number>();
  #server: Server | undefined;
  #port: number;
  #gatewayApi: boolean;

  constructor(options: ApiServerOptions) {
    this.#port = options.port ?? 0;
    this.token = options.token ?? 'wsgate-test-token';
    this.#bookmarkIntervalMs = options.bookmarkIntervalMs ?? 60_000;
    this.#gatewayApi = options.gatewayApi ?? true;
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      this.#objects.create(resolveResource('Namespace'), undefined, { metadata: { name } });
    }
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get requests(): readonly RequestRecord[] {
    return this.#requests;
  }

  get openWatches(): number {
    return this.#watches.size;
  }

  get resourceVersion(): string {
    return String(this.#store.revision);
  }

  setGatewayApi(installed: boolean): void {
    this.#gatewayApi = installed;
  }

  refuse(resource: string, code: number | undefined, verbs = ['list', 'watch']): void {
    if (code === undefined) this.#refusals.delete(resource);
    else this.#refusals.set(resource, { code, verbs: new Set(verbs) });
  }

  clearRequests(): void {
    this.#requests.length = 0;
  }

  async listen(): Promise<void> {
    const server = createServer((req, res) => void this.#handle(req, res));
    // Watches are long-lived; Node's default request timeouts would cut them.
    server.requestTimeout = 0;
    server.headersTimeout = 0;
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async stop(options: { graceful?: boolean } = {}): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    for (const watch of [...this.#watches]) {
      if (options.graceful) watch.end();
      else watch.cut();
    }
    this.#watches.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    if (options.graceful) server.closeIdleConnections();
    server.closeAllConnections();
    await closed;
  }

  endWatches(): void {
    for (const watch of [...this.#watches]) watch.end();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.listen();
  }

  compact(): void {
    this.#store.compact();
    this.#lister.forgetSnapshots();
  }

  apply(obj: KubeObject): KubeObject {
    const r = resourceForObject(obj);
    const namespace = r.namespaced ? (obj.metadata?.namespace ?? 'default') : undefined;
    const name = obj.metadata?.name ?? '';
    const exists = this.#store.get(r.storage, namespace, name) !== undefined;
    const body = { ...obj, metadata: { ...obj.metadata, resourceVersion: undefined } };
    const stored = exists ? this.#objects.update(r, namespace, name, body) : this.#objects.create(r, namespace, body);
    // Tests set status directly; a real client would go through the /status subresource.
    if (obj['status'] !== undefined && r.subresources.includes('status')) {
      return toView(r, this.#objects.update(r, namespace, name, { ...body, status: obj['status'] }, 'status'));
    }
    return toView(r, stored);
  }

  remove(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const r = resolveResource(kind);
    const removed = this.#store.remove(r.storage, r.namespaced ? namespace : undefined, name);
    return removed && toView(r, removed);
  }

  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const r = resolveResource(kind);
    const found = this.#store.get(r.storage, r.namespaced ? namespace : undefined, name);
    return found && toView(r, found);
  }

  list(kind: string, namespace?: string): KubeObject[] {
    const r = resolveResource(kind);
    return this.#store.list(r.storage, namespace).map((o) => toView(r, o));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const record: RequestRecord = {
      method: req.method ?? 'GET', path: url.pathname, query: url.search, verb: (req.method ?? 'GET').toLowerCase(),
      isResourceRequest: false, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '',
      code: 0, userAgent: req.headers['user-agent'] ?? '',
    };
    this.#requests.push(record);
    res.on('finish', () => (record.code = res.statusCode));
    try {
      // kubectl (client-go) sends no credentials over plain http (clientcmd only reads auth info
      // for TLS transports), so only a wrong token is refused.
      const auth = req.headers.authorization;
      if (auth !== undefined && auth !== `Bearer ${this.token}`) {
        send(res, 401, statusOf(401, 'Unauthorized', 'Unauthorized'));
        return;
      }
      await this.#route(req, res, url, record);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
      } else if (err instanceof ApiError) {
        send(res, err.status.code, err.status);
      } else if (err instanceof PatchError) {
        send(res, err.code, statusOf(err.code, err.code === 422 ? 'Invalid' : 'BadRequest', err.message));
      } else if (err instanceof HttpError) {
        res.writeHead(err.code, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(err.message);
      } else {
        send(res, 500, statusOf(500, 'InternalError', `Internal error occurred: ${(err as Error).message}`));
      }
    }
  }

  async #route(req: IncomingMessage, res: ServerResponse, url: URL, record: RequestRecord): Promise<void> {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const segments = path.split('/').filter((s) => s !== '');
    if (req.method === 'GET') {
      const fixed = this.#nonResource(path);
      if (fixed !== undefined) {
        send(res, 200, fixed);
        return;
      }
    }
    let groupName: string;
    let version: string;
    let rest: string[];
    if (segments[0] === 'api' && segments.length >= 2) {
      [groupName, version, rest] = ['', segments[1]!, segments.slice(2)];
    } else if (segments[0] === 'apis' && segments.length >= 3) {
      [groupName, version, rest] = [segments[1]!, segments[2]!, segments.slice(3)];
    } else {
      // Unknown non-resource paths, /openapi/v2 among them, are a plain 404 as on a real server.
      throw new HttpError(404, '404 page not found\n');
    }
    const route = this.#parseRoute(groupName, version, rest);
    const { resource: r, namespace, name, subresource } = route;
    const watch = route.watchPrefix || isTrue(url.searchParams.get('watch'));
    Object.assign(record, {
      isResourceRequest: true, apiGroup: groupName, apiVersion: version, resource: r.plural,
      subresource: subresource ?? '', namespace: namespace ?? '', name: name ?? '',
      verb: verbOf(req.method ?? 'GET', name !== undefined, watch),
    });
    const refusal = this.#refusals.get(r.plural);
    if (refusal !== undefined && refusal.verbs.has(record.verb)) {
      this.refused.set(r.plural, (this.refused.get(r.plural) ?? 0) + 1);
      const reason = refusal.code === 403 ? 'Forbidden' : refusal.code === 404 ? 'NotFound' : 'InternalError';
      const message = refusal.code === 403 ? `${r.plural} is forbidden: User "system:serviceaccount:wsgate:wsgate" cannot ${record.verb} resource "${r.plural}"` : `the server could not serve ${r.plural}`;
      send(res, refusal.code, statusOf(refusal.code, reason, message));
      return;
    }
    const q = url.searchParams;
    const dryRun = q.getAll('dryRun').length > 0;
    switch (record.verb) {
      case 'list': {
        const list = this.#lister.list(r, {
          namespace, labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined,
          limit: Number(q.get('limit') ?? 0), continue: q.get('continue') ?? undefined,
        });
        if (!wantsTable(req.headers.accept, r)) {
          send(res, 200, list);
          return;
        }
        const { resourceVersion, ...listMeta } = list.metadata as Record<string, unknown>;
        send(res, 200, toTable(list['items'] as KubeObject[], String(resourceVersion), listMeta));
        return;
      }
      case 'watch':
        this.#watch(r, res, q, namespace, name, wantsTable(req.headers.accept, r));
        return;
      case 'get':
        if (wantsTable(req.headers.accept, r)) {
          const obj = toView(r, this.#objects.get(r, namespace, name!));
          send(res, 200, toTable([obj], obj.metadata?.resourceVersion ?? ''));
          return;
        }
        send(res, 200, toView(r, this.#objects.get(r, namespace, name!)));
        return;
      case 'create': {
        const created = this.#objects.create(r, namespace, parseJson(await readBody(req)) as KubeObject, { dryRun });
        send(res, 201, toView(r, created));
        return;
      }
      case 'update': {
        const body = parseJson(await readBody(req)) as KubeObject;
        send(res, 200, toView(r, this.#objects.update(r, namespace, name!, body, subresource, { dryRun })));
        return;
      }
      case 'patch':
        await this.#patch(req, res, r, namespace, name!, subresource, dryRun);
        return;
      case 'delete': {
        const text = await readBody(req);
        const options = (text.trim() === '' ? {} : parseJson(text)) as { preconditions?: { uid?: string; resourceVersion?: string } };
        send(res, 200, this.#objects.delete(r, namespace, name!, options.preconditions ?? {}, { dryRun }));
        return;
      }
      case 'deletecollection': {
        await readBody(req);
        const page = this.#lister.list(r, { namespace, labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined });
        const items = page['items'] as KubeObject[];
        if (!dryRun) for (const item of items) this.#store.remove(r.storage, item.metadata?.namespace, item.metadata?.name ?? '');
        send(res, 200, { ...page, items });
        return;
      }
      default:
        throw methodNotAllowed();
    }
  }

  #nonResource(path: string): unknown {
    if (path === '/version') return SERVER_VERSION;
    if (path === '/api') return coreVersions(`127.0.0.1:${this.#port}`);
    if (path === '/apis') {
      const list = groupList();
      return this.#gatewayApi ? list : { ...list, groups: list.groups.filter((g) => g.name !== GATEWAY_API_GROUP) };
    }
    if (!this.#gatewayApi && path.startsWith(`/apis/${GATEWAY_API_GROUP}`)) throw new HttpError(404, '404 page not found\n');
    if (path === '/api/v1') return resourceList('', 'v1') ?? undefined;
    const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (m) {
      const doc = m[2] === undefined ? group(m[1]!) : resourceList(m[1]!, m[2]);
      if (!doc) throw new HttpError(404, '404 page not found\n');
      return doc;
    }
    if (path === '/openapi/v3') return openApiV3Root();
    if (path.startsWith('/openapi/v3/')) {
      const doc = openApiV3GroupVersion(path.slice('/openapi/v3/'.length));
      if (!doc) throw new HttpError(404, '404 page not found\n');
      return doc;
    }
    if (path === '/healthz' || path === '/livez' || path === '/readyz') return 'ok';
    return undefined;
  }

  #parseRoute(groupName: string, version: string, segments: string[]): Route {
    let rest = segments;
    const watchPrefix = rest[0] === 'watch';
    if (watchPrefix) rest = rest.slice(1);
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && NAMESPACE_SUBRESOURCES.has(rest[2]!))) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [plural, name, subresource, ...extra] = rest;
    const crdMissing = !this.#gatewayApi && groupName === GATEWAY_API_GROUP;
    const resource = plural === undefined || crdMissing ? undefined : findByPath(groupName, version, plural);
    if (!resource || extra.length > 0 || (subresource !== undefined && !resource.subresources.includes(subresource)) || (namespace !== undefined && !resource.namespaced)) {
      throw new ApiError(statusOf(404, 'NotFound', 'the server could not find the requested resource'));
    }
    return { resource, namespace, name, subresource, watchPrefix };
  }

  #watch(r: ResourceType, res: ServerResponse, q: URLSearchParams, namespace: string | undefined, name: string | undefined, table: boolean): void {
    let fieldSelector = q.get('fieldSelector') ?? undefined;
    // A watch on a named object is a watch of the collection narrowed to that name.
    if (name !== undefined) fieldSelector = [fieldSelector, `metadata.name=${name}`].filter(Boolean).join(',');
    const timeout = q.get('timeoutSeconds');
    const open: OpenWatch = streamWatch(this.#store, r, res, {
      namespace, labelSelector: q.get('labelSelector') ?? undefined, fieldSelector,
      resourceVersion: q.get('resourceVersion') ?? undefined,
      ...(timeout !== null ? { timeoutSeconds: Number(timeout) } : {}),
      allowWatchBookmarks: isTrue(q.get('allowWatchBookmarks')),
      bookmarkIntervalMs: this.#bookmarkIntervalMs,
      ...(table ? { render: (obj: KubeObject) => toTable([obj], obj.metadata?.resourceVersion ?? '') } : {}),
    }, () => this.#watches.delete(open));
    this.#watches.add(open);
  }

  async #patch(req: IncomingMessage, res: ServerResponse, r: ResourceType, namespace: string | undefined, name: string, subresource: string | undefined, dryRun: boolean): Promise<void> {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (!PATCH_TYPES.includes(contentType)) throw unsupportedMediaType(contentType);
    const text = await readBody(req);
    const body = contentType === 'application/apply-patch+yaml' ? parseYamlBody(text) : parseJson(text);
    const stored = this.#store.get(r.storage, namespace, name);
    if (!stored) {
      // Server-side apply creates what does not exist; every other patch needs an object.
      if (contentType !== 'application/apply-patch+yaml') throw notFound(r, name);
      const applied = body as KubeObject;
      send(res, 201, toView(r, this.#objects.create(r, namespace, { ...applied, metadata: { ...applied.metadata, name } }, { dryRun })));
      return;
    }
    const current = toView(r, stored);
    let patched: KubeObject;
    switch (contentType) {
      case 'application/merge-patch+json': patched = mergePatch(current, body) as KubeObject; break;
      case 'application/json-patch+json': patched = jsonPatch(current, body) as KubeObject; break;
      case 'application/strategic-merge-patch+json': patched = strategicMergePatch(current, body) as KubeObject; break;
      default: patched = applyPatch(current, body) as KubeObject;
    }
    // A resourceVersion the patch itself sets is a precondition (optimistic concurrency).
    const wanted = patched.metadata?.resourceVersion;
    const bodyForUpdate = wanted === current.metadata?.resourceVersion ? { ...patched, metadata: { ...patched.metadata, resourceVersion: undefined } } : patched;
    send(res, 200, toView(r, this.#objects.update(r, namespace, name, bodyForUpdate, subresource, { dryRun })));
  }
}

function parseYamlBody(text: string): unknown {
  try {
    return parseYaml(text);
  } catch (err) {
    throw badRequest(`error decoding YAML: ${(err as Error).message}`);
  }
}

function verbOf(method: string, named: boolean, watch: boolean): string {
  switch (method) {
    case 'GET': return watch ? 'watch' : named ? 'get' : 'list';
    case 'POST': if (named) throw methodNotAllowed(); return 'create';
    case 'PUT': if (!named) throw methodNotAllowed(); return 'update';
    case 'PATCH': if (!named) throw methodNotAllowed(); return 'patch';
    case 'DELETE': return named ? 'delete' : 'deletecollection';
    default: throw methodNotAllowed();
  }
}

export async function startApiServer(options: ApiServerOptions = {}): Promise<ApiServer> {
  const server = new TestApiServer(options);
  await server.listen();
  return server;
}
