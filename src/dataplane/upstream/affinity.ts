// Cookie affinity (SPEC §6 `affinity: cookie`, issue 13 feature 7). The cookie names an endpoint by
// HMAC-SHA256(key, namespace/service/identity), truncated and base64url: opaque to the client (no
// address in clear), unforgeable without the key, and the same in every worker and replica that
// holds the key, so no state is shared. A cookie is mapped back by computing the value of each
// ready endpoint once per pool per snapshot, on its first request (a reload that changes a pool rebuilds it).
import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { logger } from '../../common/log.ts';
import type { CookieAffinity } from '../../config/snapshot.ts';
import type { EndpointRef } from './types.ts';

const log = logger('dataplane');

/** 16 bytes of HMAC: 128 bits, far beyond guessing, short enough for a cookie. */
const VALUE_BYTES = 16;

/**
 * Set by the primary for its workers (runtime/workers): without a snapshot key the workers of one
 * pod still agree with each other, though not with other replicas.
 */
export const FALLBACK_KEY_ENV = 'WSGATE_AFFINITY_FALLBACK_KEY';

let fallbackKey: Buffer | undefined;
let warned = false;

/** The snapshot's affinityKey, else this pod's own (with one warn that replicas will not agree). */
export function affinityKey(snapshotKey: string | undefined): Buffer {
  if (snapshotKey !== undefined) return Buffer.from(snapshotKey, 'base64');
  if (!warned) {
    warned = true;
    log.warn('cookie affinity without a shared key (controller --affinity-secret): each wsgate pod makes its own, so replicas will not agree on a cookie');
  }
  const inherited = process.env[FALLBACK_KEY_ENV];
  fallbackKey ??= inherited !== undefined && inherited !== '' ? Buffer.from(inherited, 'base64') : randomBytes(32);
  return fallbackKey;
}

/** The key a primary hands its workers when the snapshot carries none. */
export function newFallbackKey(): string {
  return randomBytes(32).toString('base64');
}

export class AffinityCookie {
  readonly name: string;
  /** `; Path=/; Max-Age=...; SameSite=...; Secure; HttpOnly`, built once. */
  readonly #attributes: string;
  readonly #key: Buffer;
  readonly #scope: string;
  /** value -> endpoint, for the ready endpoints only; value by endpoint key. */
  readonly #byValue = new Map<string, EndpointRef>();
  readonly #valueOf = new Map<string, string>();
  /** Filled on the first request (one HMAC per ready endpoint), not at every reload. */
  readonly #ready: readonly EndpointRef[];
  #filled = false;

  constructor(settings: CookieAffinity, key: Buffer, namespace: string, service: string, ready: readonly EndpointRef[]) {
    this.name = settings.cookieName;
    this.#key = key;
    this.#scope = `${namespace}/${service}/`;
    let attributes = `; Path=${settings.path ?? '/'}`;
    if (settings.maxAge !== undefined) attributes += `; Max-Age=${settings.maxAge}`;
    if (settings.sameSite !== undefined) attributes += `; SameSite=${settings.sameSite}`;
    if (settings.secure === true) attributes += '; Secure';
    this.#attributes = `${attributes}; HttpOnly`;
    this.#ready = ready;
  }

  #fill(): void {
    this.#filled = true;
    for (const endpoint of this.#ready) {
      const value = this.#hmac(endpoint);
      this.#byValue.set(value, endpoint);
      this.#valueOf.set(endpoint.key, value);
    }
  }

  /** The ready endpoint the request's cookie names; undefined without one, or forged, or gone. */
  pinned(headers: IncomingHttpHeaders): EndpointRef | undefined {
    const value = readCookie(headers.cookie, this.name);
    if (value === undefined) return undefined;
    if (!this.#filled) this.#fill();
    return this.#byValue.get(value);
  }

  /** The Set-Cookie value for `endpoint`, or undefined when the request already names it. */
  setCookieFor(endpoint: EndpointRef, headers: IncomingHttpHeaders): string | undefined {
    if (!this.#filled) this.#fill();
    const value = this.#valueOf.get(endpoint.key) ?? this.#hmac(endpoint);
    if (readCookie(headers.cookie, this.name) === value) return undefined;
    return `${this.name}=${value}${this.#attributes}`;
  }

  // A pod keeps its name across address changes and a Service's port is the pool's: the pod name
  // where the EndpointSlice gives one, else address:port.
  #hmac(endpoint: EndpointRef): string {
    const identity = endpoint.name ?? endpoint.key;
    return createHmac('sha256', this.#key).update(this.#scope + identity).digest().subarray(0, VALUE_BYTES).toString('base64url');
  }
}

/** RFC 6265 §5.4 Cookie header: `a=1; b=2`; the first of that name wins, as browsers order them. */
export function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join('; ') : header;
  for (const pair of text.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue;
    return pair.slice(eq + 1).trim();
  }
  return undefined;
}

/** The backend's 101 head with one Set-Cookie field added before its blank line. */
export function headWithSetCookie(head: Buffer, setCookie: string): Buffer {
  const end = head.indexOf('\r\n\r\n');
  if (end === -1) return head;
  return Buffer.concat([head.subarray(0, end + 2), Buffer.from(`Set-Cookie: ${setCookie}\r\n`, 'latin1'), head.subarray(end + 2)]);
}
