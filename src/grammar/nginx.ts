// ingress-nginx annotation values wsgate honours on an Ingress of its class (SPEC §6, migration),
// each read into the wsgate grammar it stands for.
import type { Balance } from '../config/snapshot.ts';
import { formatDuration } from './duration.ts';
import { parseKeyword } from './keyword.ts';
import { parsePositiveInteger } from './number.ts';
import { accept, reject, type Parsed } from './result.ts';

export const NGINX_SECONDS_ACCEPTS = 'a whole number of seconds greater than zero';
export const NGINX_HASH_BY_ACCEPTS = '$http_NAME, $cookie_NAME, $arg_NAME or $remote_addr';

/** ingress-nginx timeouts: whole seconds, as a wsgate duration. */
export function parseNginxSeconds(text: string): Parsed<string> {
  const seconds = parsePositiveInteger(text);
  return seconds.ok ? accept(formatDuration(seconds.value * 1000)) : reject(NGINX_SECONDS_ACCEPTS);
}

/** `upstream-hash-by` variables wsgate can honour, as a wsgate hash-by. */
export function parseNginxHashBy(text: string): Parsed<string> {
  if (text === '$remote_addr') return accept('client-ip');
  const match = /^\$(http|cookie|arg)_([A-Za-z0-9_-]+)$/.exec(text);
  if (match === null) return reject(NGINX_HASH_BY_ACCEPTS);
  const [, variable, name = ''] = match;
  // nginx spells the header X-User-Id as $http_x_user_id.
  if (variable === 'http') return accept(`header:${name.toLowerCase().replaceAll('_', '-')}`);
  return accept(variable === 'cookie' ? `cookie:${name}` : `query:${name}`);
}

export function parseNginxBalance(text: string): Parsed<Balance> {
  const word = parseKeyword(text, ['round_robin', 'ewma'] as const);
  if (!word.ok) return word;
  // EWMA picks the least loaded endpoint by latency; least-conn is wsgate's nearest equivalent.
  return accept(word.value === 'round_robin' ? 'round-robin' : 'least-conn');
}

/** `backend-protocol`: HTTPS means wss to the backend. Case-insensitive, as ingress-nginx reads it. */
export function parseNginxBackendProtocol(text: string): Parsed<boolean> {
  const word = parseKeyword(text.toUpperCase(), ['HTTP', 'HTTPS'] as const);
  return word.ok ? accept(word.value === 'HTTPS') : word;
}

/** `proxy-ssl-verify`: on or off, as ingress-nginx spells the nginx directive's values. */
export function parseNginxOnOff(text: string): Parsed<boolean> {
  const word = parseKeyword(text, ['on', 'off'] as const);
  return word.ok ? accept(word.value === 'on') : word;
}
