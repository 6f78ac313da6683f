// The annotations of cookie affinity (issue 13 feature 7; README "Long-lived connection
// features"): a proxy-issued cookie pins a client (Socket.IO, SignalR, SockJS polling, then the
// upgrade) to one endpoint while it is ready. With the ingress-nginx aliases of the same feature.
import { parseBoolean, parseKeyword } from '../grammar/keyword.ts';
import { POSITIVE_INTEGER_ACCEPTS, parsePositiveInteger } from '../grammar/number.ts';
import { accept, reject, type Parsed } from '../grammar/result.ts';
import type { LongLivedDefinition } from './long-lived.ts';
import type { PolicyField } from './policy.ts';

function define<F extends PolicyField>(definition: LongLivedDefinition<F>): LongLivedDefinition {
  return definition as unknown as LongLivedDefinition;
}

export const DEFAULT_SESSION_COOKIE_NAME = 'WSGATEAFFINITY';

const COOKIE_NAME_ACCEPTS = 'a cookie name (letters, digits, ! # $ % & \' * + - . ^ _ ` | ~)';
const COOKIE_PATH_ACCEPTS = 'a path starting with / (no ; , or spaces)';
const SAMESITE_ACCEPTS = 'Strict, Lax or None';

/** RFC 6265 §4.1.1: a cookie-name is an RFC 9110 token. */
export function parseCookieName(text: string): Parsed<string> {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,128}$/.test(text) ? accept(text) : reject(COOKIE_NAME_ACCEPTS);
}

/** RFC 6265 §4.1.1 path-value: any CHAR but CTLs and `;`; also no `,` or space, kept simple. */
export function parseCookiePath(text: string): Parsed<string> {
  return /^\/[\x21-\x2b\x2d-\x3a\x3c-\x7e]*$/.test(text) ? accept(text) : reject(COOKIE_PATH_ACCEPTS);
}

export function parseSameSite(text: string): Parsed<'Strict' | 'Lax' | 'None'> {
  // ingress-nginx and browsers read it case-insensitively; the snapshot spells it one way.
  const word = text.charAt(0).toUpperCase() + text.slice(1).toLowerCase();
  return parseKeyword(word, ['Strict', 'Lax', 'None'] as const);
}

const SHARED_DOCS = {
  name: 'With affinity: the cookie\'s name.',
  maxAge: 'With affinity: the cookie\'s Max-Age in seconds; absent: a session cookie (gone when the browser closes).',
  path: 'With affinity: the cookie\'s Path.',
  sameSite: 'With affinity: the cookie\'s SameSite attribute (None also needs session-cookie-secure).',
  secure: 'With affinity: `true` adds the Secure attribute (the cookie then travels over https only).',
};

export const AFFINITY_ANNOTATIONS: readonly LongLivedDefinition[] = [
  define({
    key: 'wsgate.io/affinity',
    field: 'affinity',
    accepts: 'cookie',
    defaultText: 'off',
    doc: '`cookie`: a request without a valid affinity cookie is balanced as usual and its answer (plain HTTP and the 101) sets a cookie naming its endpoint by an opaque HMAC (never the address); later requests with it go to that endpoint while it is ready, else they are balanced anew and get a new cookie.',
    parse: (text) => parseKeyword(text, ['cookie'] as const),
  }),
  define({ key: 'wsgate.io/session-cookie-name', field: 'sessionCookieName', accepts: COOKIE_NAME_ACCEPTS, defaultText: DEFAULT_SESSION_COOKIE_NAME, doc: SHARED_DOCS.name, parse: parseCookieName }),
  define({ key: 'wsgate.io/session-cookie-max-age', field: 'sessionCookieMaxAge', accepts: POSITIVE_INTEGER_ACCEPTS, defaultText: 'session cookie', doc: SHARED_DOCS.maxAge, parse: parsePositiveInteger }),
  define({ key: 'wsgate.io/session-cookie-path', field: 'sessionCookiePath', accepts: COOKIE_PATH_ACCEPTS, defaultText: '/', doc: SHARED_DOCS.path, parse: parseCookiePath }),
  define({ key: 'wsgate.io/session-cookie-samesite', field: 'sessionCookieSameSite', accepts: SAMESITE_ACCEPTS, defaultText: 'none set', doc: SHARED_DOCS.sameSite, parse: parseSameSite }),
  define({ key: 'wsgate.io/session-cookie-secure', field: 'sessionCookieSecure', accepts: 'true or false', defaultText: 'false', doc: SHARED_DOCS.secure, parse: parseBoolean }),
];

const NGINX = 'nginx.ingress.kubernetes.io/';

export const AFFINITY_NGINX_ALIASES: readonly LongLivedDefinition[] = [
  define({ key: `${NGINX}affinity`, field: 'affinity', aliasOf: 'wsgate.io/affinity', accepts: 'cookie', defaultText: '-', doc: 'The same cookie affinity, issued by wsgate.', parse: (text) => parseKeyword(text, ['cookie'] as const) }),
  define({
    key: `${NGINX}affinity-mode`,
    field: 'affinityMode',
    aliasOf: 'wsgate.io/affinity',
    accepts: 'balanced or persistent',
    defaultText: '-',
    // ingress-nginx's `balanced` re-pins some sessions on scale-out; wsgate never moves a pinned
    // session while its endpoint is ready (rebalance moves WebSocket connections instead).
    doc: 'Accepted, and both values behave alike: a cookie keeps its endpoint while that endpoint is ready.',
    parse: (text) => parseKeyword(text, ['balanced', 'persistent'] as const),
  }),
  define({ key: `${NGINX}session-cookie-name`, field: 'sessionCookieName', aliasOf: 'wsgate.io/session-cookie-name', accepts: COOKIE_NAME_ACCEPTS, defaultText: '-', doc: 'Same meaning (ingress-nginx\'s default name INGRESSCOOKIE is not carried over).', parse: parseCookieName }),
  define({ key: `${NGINX}session-cookie-max-age`, field: 'sessionCookieMaxAge', aliasOf: 'wsgate.io/session-cookie-max-age', accepts: POSITIVE_INTEGER_ACCEPTS, defaultText: '-', doc: 'Seconds.', parse: parsePositiveInteger }),
  define({ key: `${NGINX}session-cookie-expires`, field: 'sessionCookieMaxAge', aliasOf: 'wsgate.io/session-cookie-max-age', accepts: POSITIVE_INTEGER_ACCEPTS, defaultText: '-', doc: 'Seconds; sent as Max-Age (with session-cookie-max-age the larger wins).', parse: parsePositiveInteger }),
  define({ key: `${NGINX}session-cookie-path`, field: 'sessionCookiePath', aliasOf: 'wsgate.io/session-cookie-path', accepts: COOKIE_PATH_ACCEPTS, defaultText: '-', doc: 'Same meaning.', parse: parseCookiePath }),
  define({ key: `${NGINX}session-cookie-samesite`, field: 'sessionCookieSameSite', aliasOf: 'wsgate.io/session-cookie-samesite', accepts: SAMESITE_ACCEPTS, defaultText: '-', doc: 'Same meaning.', parse: parseSameSite }),
  define({ key: `${NGINX}session-cookie-secure`, field: 'sessionCookieSecure', aliasOf: 'wsgate.io/session-cookie-secure', accepts: 'true or false', defaultText: '-', doc: 'Same meaning.', parse: parseBoolean }),
];
