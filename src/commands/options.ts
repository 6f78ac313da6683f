// Command-line flags of SPEC §3. Every flag also reads from WSGATE_<NAME> (dashes as
// underscores); the flag wins over its variable.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { parseDuration } from '../grammar/duration.ts';
import { UsageError } from '../common/errors.ts';

export const COMMANDS = ['run', 'controller', 'proxy', 'check', 'demo'] as const;
export type Command = (typeof COMMANDS)[number];

export interface Options {
  command: Command;
  httpPort: number;
  httpsPort: number;
  adminPort: number;
  /** Address the traffic listeners bind (and the admin port, unless adminBindAddress). */
  bindAddress: string;
  /** Address the admin port binds; --bind-address when not given. */
  adminBindAddress: string;
  /** Serve /config to any client; without it only loopback clients get it (403 otherwise). */
  exposeConfig: boolean;
  /** The per-connection access line (SPEC §10). */
  accessLog: boolean;
  headerTimeoutMs: number;
  ingressClass: string;
  watchNamespace?: string;
  workers: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  publishService?: string;
  defaultCertSecret?: string;
  affinitySecret?: string;
  shutdownDelayMs: number;
  shutdownTimeoutMs: number;
  shutdownSpreadMs: number;
  electionNamespace?: string;
  /** The controller's writes (Events, status) per second and at once, as client-go's QPS / Burst. */
  kubeApiQps: number;
  kubeApiBurst: number;
  proxyProtocol: boolean;
  proxyProtocolTrustedCidrs: string[];
  kubeconfig?: string;
  config?: string;
  output?: string;
  once: boolean;
}

interface FlagSpec {
  type: 'string' | 'boolean';
  default?: string;
  doc: string;
  /** The commands that read it; absent: every command. Drives `wsgate COMMAND --help`. */
  commands?: readonly Command[];
}

// Who reads what, so each command's --help lists its own flags only.
const SERVING: readonly Command[] = ['run', 'proxy', 'demo'];
const ADMIN: readonly Command[] = ['run', 'proxy', 'controller', 'demo'];
const KUBERNETES: readonly Command[] = ['run', 'controller'];

/** The one option table: parsing, WSGATE_* variables, defaults and every --help come from it. */
export const FLAGS: Record<string, FlagSpec> = {
  'http-port': { type: 'string', default: '8080', doc: 'plain HTTP (ws) listener port', commands: SERVING },
  'https-port': { type: 'string', default: '8443', doc: 'HTTPS (wss) listener port', commands: SERVING },
  'admin-port': { type: 'string', default: '9090', doc: '/metrics, /healthz, /readyz, /config', commands: ADMIN },
  'bind-address': { type: 'string', default: '0.0.0.0', doc: 'address the listeners bind (the admin port too, unless --admin-bind-address)', commands: ADMIN },
  'admin-bind-address': { type: 'string', doc: 'address the admin port binds (default: --bind-address)', commands: ADMIN },
  'expose-config': { type: 'boolean', doc: 'serve /config to any client (default: loopback clients only, 403 for others)', commands: ADMIN },
  'header-timeout': { type: 'string', default: '10s', doc: 'time a client has to send its request head', commands: SERVING },
  'ingress-class': { type: 'string', default: 'wsgate', doc: 'IngressClass name served', commands: KUBERNETES },
  'watch-namespace': { type: 'string', doc: 'only this namespace (default: all)', commands: KUBERNETES },
  workers: { type: 'string', doc: 'data plane worker processes (default: available cores)', commands: SERVING },
  'log-level': { type: 'string', default: 'info', doc: 'fatal, error, warn, info, debug, trace or silent (any case)' },
  'access-log': { type: 'boolean', default: 'true', doc: 'one log line per connection end; false drops that line alone', commands: SERVING },
  'publish-service': { type: 'string', doc: 'NS/NAME of the Service whose address goes into Ingress status', commands: KUBERNETES },
  'default-cert-secret': { type: 'string', doc: 'NS/NAME of the TLS Secret served when no host matches (default: self-signed)', commands: KUBERNETES },
  'affinity-secret': { type: 'string', doc: 'NS/NAME of the Opaque Secret whose affinity.key (16+ bytes) keys affinity cookies, the same for every replica (default: none; each pod makes its own)', commands: KUBERNETES },
  'shutdown-delay': { type: 'string', default: '5s', doc: 'after SIGTERM, keep accepting while /readyz fails', commands: SERVING },
  'shutdown-timeout': { type: 'string', default: '30s', doc: 'after SIGTERM, exit even if connections remain', commands: SERVING },
  'shutdown-spread': { type: 'string', default: '0s', doc: 'after SIGTERM, send the 1001s evenly over this window', commands: SERVING },
  'election-namespace': { type: 'string', doc: 'namespace of the leader-election Lease', commands: KUBERNETES },
  'kube-api-qps': { type: 'string', default: '20', doc: 'controller writes to the API (Events, status) per second', commands: KUBERNETES },
  'kube-api-burst': { type: 'string', default: '30', doc: 'controller writes to the API allowed at once', commands: KUBERNETES },
  'proxy-protocol': { type: 'boolean', doc: 'expect a PROXY protocol v1/v2 header', commands: SERVING },
  'proxy-protocol-trusted-cidrs': { type: 'string', default: '', doc: 'comma list of CIDRs allowed to send PROXY headers', commands: SERVING },
  kubeconfig: { type: 'string', doc: 'kubeconfig file (default: in-cluster)', commands: KUBERNETES },
  config: { type: 'string', doc: 'snapshot file', commands: ['proxy', 'check'] },
  output: { type: 'string', doc: 'snapshot file to write (with --once: the complete snapshot, mode 0600, then exit)', commands: ['controller'] },
  once: { type: 'boolean', doc: 'list once, print the snapshot (private keys redacted), exit', commands: ['controller'] },
  version: { type: 'boolean', doc: 'print the version and exit' },
  help: { type: 'boolean', doc: 'show this help' },
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const COMMAND_USAGE: Record<Command, string> = {
  run: 'run [--kubeconfig PATH]        controller + data plane in one process',
  controller: 'controller --output FILE       controller only; writes FILE atomically on every change',
  proxy: 'proxy --config FILE            data plane only; serves FILE and hot-reloads it',
  check: 'check --config FILE            validate a snapshot/config file',
  demo: 'demo                           self-contained demo (self-signed cert, built-in echo upstreams)',
};
const ONCE_USAGE = 'controller --once [--output FILE]  list the cluster once, print the snapshot (keys redacted) or write FILE, exit';

export function envName(flag: string): string {
  return `WSGATE_${flag.toUpperCase().replaceAll('-', '_')}`;
}

/** `origin` names the flag or variable the text came from. */
function port(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag}: "${text}" is not a port (0-65535)`);
  return n;
}

function duration(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`${flag}: "${text}" is not a duration (like 500ms, 5s, 1m)`);
  return ms;
}

function namespacedName(flag: string, text: string | undefined): string | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(text)) {
    throw new UsageError(`${flag}: "${text}" is not NAMESPACE/NAME`);
  }
  return text;
}

function flagLine(name: string, spec: FlagSpec): string {
  const def = spec.default !== undefined && spec.default !== '' ? ` (default ${spec.default})` : '';
  return `  --${name.padEnd(30)} ${spec.doc}${def}`;
}

/** `wsgate --help` (no command): every command and every flag; with a command: its flags only. */
export function helpText(command?: Command): string {
  const usage = command === undefined ? ['usage: wsgate <command> [flags]', '', 'commands:'] : [`usage: wsgate ${command} [flags]`, ''];
  const commands = command === undefined ? COMMANDS : [command];
  for (const c of commands) {
    usage.push(`  ${COMMAND_USAGE[c]}`);
    if (c === 'controller') usage.push(`  ${ONCE_USAGE}`);
  }
  usage.push('', 'flags (each also as WSGATE_<NAME>, a flag wins over its variable; booleans also as --no-<name> and --<name>=false):');
  for (const [name, spec] of Object.entries(FLAGS)) {
    if (command === undefined || spec.commands === undefined || spec.commands.includes(command)) usage.push(flagLine(name, spec));
  }
  return usage.join('\n');
}

/** package.json's version, the one `wsgate --version` prints (src/ and dist/ sit at the same depth). */
export function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

type FlagValues = Record<string, string | boolean | undefined>;

/** A flag's text: the flag, else its WSGATE_* variable, else its default. */
interface FlagSource {
  text(flag: string): string | undefined;
  bool(flag: string): boolean;
  /** How a message names where a value came from: `--http-port` or `WSGATE_HTTP_PORT`. */
  origin(flag: string): string;
}

const BOOLEAN_TRUE = /^(1|true|yes|on)$/i;
const BOOLEAN_FALSE = /^(0|false|no|off)$/i;

/**
 * `--access-log=false` is how operators (and Helm charts) spell a boolean off; parseArgs only knows
 * `--access-log` and `--no-access-log`, so `--NAME=VALUE` of a boolean flag is rewritten first.
 */
function normaliseBooleans(argv: string[]): string[] {
  return argv.map((arg) => {
    const match = /^--([a-z-]+)=(.*)$/s.exec(arg);
    if (match === null || FLAGS[match[1]!]?.type !== 'boolean') return arg;
    const [, name, value] = match as unknown as [string, string, string];
    if (BOOLEAN_TRUE.test(value)) return `--${name}`;
    if (BOOLEAN_FALSE.test(value)) return `--no-${name}`;
    throw new UsageError(`--${name}: "${value}" is not true or false`);
  });
}

function readArgv(argv: string[]): { values: FlagValues; positionals: string[] } {
  const args = normaliseBooleans(argv);
  try {
    const parsed = parseArgs({
      args,
      allowPositionals: true,
      allowNegative: true,
      strict: true,
      options: Object.fromEntries(Object.entries(FLAGS).map(([k, v]) => [k, { type: v.type }])),
    });
    return { values: parsed.values as FlagValues, positionals: parsed.positionals };
  } catch (error) {
    // parseArgs explains at length; the first sentence is the one line a usage error gets.
    throw new UsageError((error as Error).message.split('\n', 1)[0]!.replace(/\. To specify a positional.*$/, ''));
  }
}

function flagSource(values: FlagValues, env: NodeJS.ProcessEnv): FlagSource {
  // An empty variable (`WSGATE_LOG_LEVEL=` in a manifest) means "not set", as for most tools.
  const fromEnv = (flag: string): string | undefined => {
    const v = env[envName(flag)];
    return v === undefined || v.trim() === '' ? undefined : v;
  };
  return {
    text: (flag) => {
      const v = values[flag];
      if (typeof v === 'string') return v;
      return fromEnv(flag) ?? FLAGS[flag]?.default;
    },
    bool: (flag) => {
      const v = values[flag];
      if (typeof v === 'boolean') return v;
      const text = fromEnv(flag) ?? FLAGS[flag]?.default;
      if (text === undefined) return false;
      if (BOOLEAN_TRUE.test(text)) return true;
      if (BOOLEAN_FALSE.test(text)) return false;
      throw new UsageError(`${envName(flag)}: "${text}" is not true or false`);
    },
    origin: (flag) => (values[flag] === undefined && fromEnv(flag) !== undefined ? envName(flag) : `--${flag}`),
  };
}

/** With --help or --version and no command, the command does not matter: `demo` stands in. */
function command(positionals: string[], anyCommand: boolean): Command {
  const [commandText, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  if (commandText === undefined && !anyCommand) throw new UsageError('a command is required (run, controller, proxy, check, demo)');
  if (commandText !== undefined && !(COMMANDS as readonly string[]).includes(commandText)) {
    throw new UsageError(`unknown command "${commandText}" (run, controller, proxy, check, demo)`);
  }
  return (commandText ?? 'demo') as Command;
}

function workerCount(origin: string, text: string | undefined): number {
  const workers = text === undefined ? availableParallelism() : Number(text);
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw new UsageError(`${origin}: "${text}" is not a worker count (1-256)`);
  return workers;
}

/** Level names in any case (`INFO`, Traefik's spelling, is `info`). */
function logLevel(origin: string, text: string | undefined): Options['logLevel'] {
  const level = (text ?? '').trim().toLowerCase() as Options['logLevel'];
  if (!LOG_LEVELS.includes(level)) throw new UsageError(`${origin}: "${text}" is not one of ${LOG_LEVELS.join(', ')}`);
  return level;
}

/** `--kube-api-qps 5`, `--kube-api-burst 10`: a rate above 0 (a burst: a whole number of writes). */
function positiveNumber(flag: string, value: string, whole = false): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || (whole && !Number.isInteger(n))) {
    throw new UsageError(`--${flag}: "${value}" is not ${whole ? 'a whole number' : 'a number'} above 0`);
  }
  return n;
}

function cidrList(text: string | undefined): string[] {
  return (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function optionValues(command: Command, flags: FlagSource): Options {
  const { text, bool, origin } = flags;
  const named = (flag: string, parse: (label: string, value: string) => number): number => parse(origin(flag), text(flag)!);
  // Checked before the rest, as they always were: with several bad flags, the same one is named.
  const workers = workerCount(origin('workers'), text('workers'));
  const level = logLevel(origin('log-level'), text('log-level'));
  const bindAddress = text('bind-address')!;
  return {
    command,
    httpPort: named('http-port', port),
    httpsPort: named('https-port', port),
    adminPort: named('admin-port', port),
    bindAddress,
    adminBindAddress: text('admin-bind-address') || bindAddress,
    exposeConfig: bool('expose-config'),
    accessLog: bool('access-log'),
    headerTimeoutMs: named('header-timeout', duration),
    ingressClass: text('ingress-class')!,
    watchNamespace: text('watch-namespace') || undefined,
    workers,
    logLevel: level,
    publishService: namespacedName(origin('publish-service'), text('publish-service')),
    defaultCertSecret: namespacedName(origin('default-cert-secret'), text('default-cert-secret')),
    affinitySecret: namespacedName(origin('affinity-secret'), text('affinity-secret')),
    shutdownDelayMs: named('shutdown-delay', duration),
    shutdownTimeoutMs: named('shutdown-timeout', duration),
    shutdownSpreadMs: named('shutdown-spread', duration),
    electionNamespace: text('election-namespace') || undefined,
    kubeApiQps: positiveNumber('kube-api-qps', text('kube-api-qps')!),
    kubeApiBurst: positiveNumber('kube-api-burst', text('kube-api-burst')!, true),
    proxyProtocol: bool('proxy-protocol'),
    proxyProtocolTrustedCidrs: cidrList(text('proxy-protocol-trusted-cidrs')),
    kubeconfig: text('kubeconfig') || undefined,
    config: text('config') || undefined,
    output: text('output') || undefined,
    once: bool('once'),
  };
}

/** The flags each command cannot do without. */
function requireCommandFlags(options: Options): void {
  const { command } = options;
  if ((command === 'proxy' || command === 'check') && !options.config) throw new UsageError(`${command} needs --config FILE`);
  if (command === 'controller' && !options.output && !options.once) throw new UsageError('controller needs --output FILE or --once');
}

export interface ParsedCommandLine extends Options {
  help: boolean;
  version: boolean;
  /** The command typed, if any: `wsgate proxy --help` lists proxy's flags alone. */
  typedCommand?: Command;
}

/** Parses argv (without node and script); `env` supplies WSGATE_* fallbacks. Throws UsageError. */
export function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): ParsedCommandLine {
  const { values, positionals } = readArgv(argv);
  // --help and --version answer even when other flags are wrong: that is when they are needed.
  const help = values.help === true;
  const version = values.version === true;
  const typed = command(positionals, help || version);
  const typedCommand = positionals.length > 0 ? typed : undefined;
  const flags = flagSource(values, env);
  if (help || version) {
    let options: Options;
    try {
      options = optionValues(typed, flags);
    } catch {
      options = optionValues(typed, flagSource({}, {}));
    }
    return { help, version, ...(typedCommand === undefined ? {} : { typedCommand }), ...options };
  }
  const options = optionValues(typed, flags);
  requireCommandFlags(options);
  return { help, version, ...(typedCommand === undefined ? {} : { typedCommand }), ...options };
}
