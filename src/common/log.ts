// One pino logger for the process; modules take children with their own bindings (SPEC §10).
//
// The root is built at import with fixed, safe settings: modules create their children at import
// time, long before the command line is parsed, so nothing read here may be able to fail (an empty
// or misspelt WSGATE_LOG_LEVEL once crashed pino's constructor). The command applies the parsed
// options afterwards with configureLogging(); children follow the root's level.
import { pino, stdTimeFunctions, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Where log lines go: stdout for the servers, stderr for one-shot commands whose stdout is data. */
export type LogStream = 'stdout' | 'stderr';

// Log shippers (Loki, Datadog, Cloud Logging, ELK) and Traefik's JSON logs use a level name and
// an RFC 3339 time; pino's defaults are a number and epoch milliseconds.
const FORMAT = {
  formatters: { level: (label: string) => ({ level: label }) },
  timestamp: stdTimeFunctions.isoTime,
} as const;

const destinations: Record<LogStream, DestinationStream> = {
  stdout: pino.destination({ dest: 1, sync: true }),
  stderr: pino.destination({ dest: 2, sync: true }),
};

/** The one stream pino writes to; it forwards to the chosen destination, so children follow a switch. */
const switchable = { target: destinations.stdout, write(line: string) { this.target.write(line); } };

const root: Logger = pino({ level: 'info', base: { pid: process.pid }, ...FORMAT }, switchable);

/** Children that carry the per-connection access line (SPEC §10), silenced by --access-log=false. */
const accessLoggers: Logger[] = [];
let accessLogOn = true;

export interface LoggingOptions {
  level: LevelWithSilent;
  /** --access-log: false drops the per-connection line and nothing else. */
  accessLog?: boolean;
  stream?: LogStream;
}

export function configureLogging(options: LoggingOptions): void {
  root.level = options.level;
  switchable.target = destinations[options.stream ?? 'stdout'];
  accessLogOn = options.accessLog ?? true;
  for (const child of accessLoggers) applyAccessSwitch(child);
}

export function setLogLevel(level: LevelWithSilent): void {
  root.level = level;
  for (const child of accessLoggers) applyAccessSwitch(child);
}

/** `access` is the component of the per-connection lines; every other name logs as usual. */
export function logger(component: string): Logger {
  const child = root.child({ component });
  if (component === 'access') {
    accessLoggers.push(child);
    applyAccessSwitch(child);
  }
  return child;
}

function applyAccessSwitch(child: Logger): void {
  // A child given its own level no longer follows the root's, so set it back to the root's when on.
  child.level = accessLogOn ? root.level : 'silent';
}
