// Connections the listeners could not take (SPEC §9 wsgate_accept_errors_total): counted by
// reason, logged at most once a second, never fatal.
//
// Why a file-descriptor budget: at the fd limit libuv's reserved-descriptor trick accepts and
// closes the waiting connections itself and never tells Node (strace shows accept4 = EMFILE, then
// close; no 'error' reaches net.Server), so refusals at the kernel limit are invisible from
// JavaScript. The listeners therefore refuse, through Node's maxConnections, before the process
// reaches its limit: each refusal is a 'drop' event, counted as `emfile`, and the descriptors
// kept in reserve are what an accepted connection still needs (its upstream socket, a reload).
// An accept failure Node does report ('error' on the server: ENFILE, ENOBUFS, ...) is counted by
// its errno; the server keeps listening after it, as net.js returns from onconnection.
import { readdirSync, readFileSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { logger } from '../../common/log.ts';

const log = logger('listener');

/** The bounded label values of wsgate_accept_errors_total; any other errno is `other`. */
export const ACCEPT_ERROR_REASONS = ['emfile', 'enfile', 'econnaborted', 'enobufs', 'enomem', 'eperm', 'other'] as const;
export type AcceptErrorReason = (typeof ACCEPT_ERROR_REASONS)[number];

export function acceptErrorReason(code: string | undefined): AcceptErrorReason {
  const reason = (code ?? '').toLowerCase();
  return (ACCEPT_ERROR_REASONS as readonly string[]).includes(reason) ? (reason as AcceptErrorReason) : 'other';
}

/** The at-most-once-a-second warn line: the first error at once, later ones summed per second. */
export class AcceptErrorLog {
  readonly #intervalMs: number;
  readonly #write: (count: number, reasons: Record<string, number>) => void;
  #pending = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(intervalMs = 1000, write?: (count: number, reasons: Record<string, number>) => void) {
    this.#intervalMs = intervalMs;
    this.#write = write ?? ((count, reasons) => log.warn({ count, reasons }, 'connections refused at accept (counted in wsgate_accept_errors_total)'));
  }

  record(reason: AcceptErrorReason): void {
    this.#pending.set(reason, (this.#pending.get(reason) ?? 0) + 1);
    if (this.#timer === undefined) this.#flush();
  }

  #flush(): void {
    if (this.#pending.size === 0) {
      this.#timer = undefined;
      return;
    }
    const reasons = Object.fromEntries(this.#pending);
    const count = [...this.#pending.values()].reduce((a, b) => a + b, 0);
    this.#pending = new Map();
    this.#write(count, reasons);
    // The window: errors until it ends go into the next line, written when it ends.
    this.#timer = setTimeout(() => this.#flush(), this.#intervalMs);
    this.#timer.unref();
  }
}

/** The soft RLIMIT_NOFILE and the descriptors open now, where /proc tells (Linux). */
function fdState(): { limit: number; open: number } | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const limit = Number(line?.split(/\s+/)[3]);
    if (!Number.isInteger(limit) || limit <= 0) return undefined;
    return { limit, open: readdirSync('/proc/self/fd').length };
  } catch {
    return undefined;
  }
}

/**
 * Watches both listeners: 'error' and 'drop' counted and logged, and one connection budget shared
 * by them so the process refuses (visibly) before the kernel does (invisibly).
 */
export function watchAcceptErrors(servers: Server[], count: (reason: AcceptErrorReason) => void): void {
  const errorLog = new AcceptErrorLog();
  const refused = (reason: AcceptErrorReason): void => {
    count(reason);
    errorLog.record(reason);
  };
  for (const server of servers) {
    // A server not yet listening failed to bind (EADDRINUSE ...): that is a ListenError for the
    // caller, not a refused connection.
    server.on('error', (error: NodeJS.ErrnoException) => {
      if (server.listening) refused(acceptErrorReason(error.code));
    });
    server.on('drop', () => refused('emfile'));
  }
  const fds = fdState();
  if (fds === undefined) return;
  // Two descriptors a connection (client and upstream), after what is open now and a slack for
  // files, IPC and the TLS/DNS machinery.
  const slack = Math.max(16, Math.floor(fds.limit / 16));
  const budget = Math.max(1, Math.floor((fds.limit - fds.open - slack) / 2));
  const own = new Map<Server, number>(servers.map((s) => [s, 0]));
  let total = 0;
  const apply = (): void => {
    // Node compares each server's own connection count with its maxConnections.
    for (const [server, mine] of own) server.maxConnections = Math.max(0, budget - (total - mine));
  };
  for (const server of servers) {
    // One listener per server, shared by its sockets ('close' comes once): no closure per connection.
    const onClose = (): void => {
      own.set(server, own.get(server)! - 1);
      total -= 1;
      apply();
    };
    server.on('connection', (socket: Socket) => {
      own.set(server, own.get(server)! + 1);
      total += 1;
      apply();
      socket.on('close', onClose);
    });
  }
  apply();
}
