// Command-line flags of SPEC §3. Every flag also reads from WSGATE_<NAME> (dashes as
// underscores); the flag wins over its variable.
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
  /** Address the listeners bind; the admin port included. */
  bindAddress: string;
  headerTimeoutMs: number;
  ingressClass: string;
  watchNamespace?: string;
  workers: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  publishService?: string;
  defaultCertSecret?: string;
  shutdownDelayMs: number;
  shutdownTimeoutMs: number;
  shutdownSpreadMs: number;
  electionNamespace?: string;
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
}

export const FLAGS: Record<string, FlagSpec> = {
  'http-port': { type: 'string', default: '8080', doc: 'plain HTTP (ws) listener port' },
  'https-port': { type: 'string', default: '8443', doc: 'HTTPS (wss) listener port' },
  'admin-port': { type: 'string', default: '9090', doc: '/metrics, /healthz, /readyz, /config' },
  'bind-address': { type: 'string', default: '0.0.0.0', doc: 'address every listener binds' },
  'header-timeout': { type: 'string', default: '10s', doc: 'time a client has to send its request head' },
  'ingress-class': { type: 'string', default: 'wsgate', doc: 'IngressClass name served' },
  'watch-namespace': { type: 'string', doc: 'only this namespace (default: all)' },
  workers: { type: 'string', doc: 'data plane worker processes (default: available cores)' },
  'log-level': { type: 'string', default: 'info', doc: 'fatal, error, warn, info, debug, trace or silent' },
  'publish-service': { type: 'string', doc: 'NS/NAME of the Service whose address goes into Ingress status' },
  'default-cert-secret': { type: 'string', doc: 'NS/NAME of the TLS Secret served when no host matches (default: self-signed)' },
  'shutdown-delay': { type: 'string', default: '5s', doc: 'after SIGTERM, keep accepting while /readyz fails' },
  'shutdown-timeout': { type: 'string', default: '30s', doc: 'after SIGTERM, exit even if connections remain' },
  'shutdown-spread': { type: 'string', default: '0s', doc: 'after SIGTERM, send the 1001s evenly over this window' },
  'election-namespace': { type: 'string', doc: 'namespace of the leader-election Lease' },
  'proxy-protocol': { type: 'boolean', doc: 'expect a PROXY protocol v1/v2 header' },
  'proxy-protocol-trusted-cidrs': { type: 'string', default: '', doc: 'comma list of CIDRs allowed to send PROXY headers' },
  kubeconfig: { type: 'string', doc: 'kubeconfig file (default: in-cluster)' },
  config: { type: 'string', doc: 'snapshot file (proxy, check)' },
  output: { type: 'string', doc: 'snapshot file to write (controller)' },
  once: { type: 'boolean', doc: 'list once, print the snapshot, exit (controller)' },
  help: { type: 'boolean', doc: 'show this help' },
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function envName(flag: string): string {
  return `WSGATE_${flag.toUpperCase().replaceAll('-', '_')}`;
}

function port(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--${flag}: "${text}" is not a port (0-65535)`);
  return n;
}

function duration(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`--${flag}: "${text}" is not a duration (like 500ms, 5s, 1m)`);
  return ms;
}

function namespacedName(flag: string, text: string | undefined): string | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(text)) {
    throw new UsageError(`--${flag}: "${text}" is not NAMESPACE/NAME`);
  }
  return text;
}

export function helpText(): string {
  const lines = [
    'usage: wsgate <command> [flags]',
    '',
    'commands:',
    '  run [--kubeconfig PATH]        controller + data plane in one process',
    '  controller --output FILE       controller only; writes FILE atomically on every change',
    '  controller --once              list the cluster once, print the snapshot, exit',
    '  proxy --config FILE            data plane only; serves FILE and hot-reloads it',
    '  check --config FILE            validate a snapshot/config file',
    '  demo                           self-contained demo (self-signed cert, built-in echo upstreams)',
    '',
    'flags (each also as WSGATE_<NAME>, a flag wins over its variable):',
  ];
  for (const [name, spec] of Object.entries(FLAGS)) {
    const def = spec.default !== undefined && spec.default !== '' ? ` (default ${spec.default})` : '';
    lines.push(`  --${name.padEnd(30)} ${spec.doc}${def}`);
  }
  return lines.join('\n');
}

type FlagValues = Record<string, string | boolean | undefined>;

/** A flag's text: the flag, else its WSGATE_* variable, else its default. */
interface FlagSource {
  text(flag: string): string | undefined;
  bool(flag: string): boolean;
}

function readArgv(argv: string[]): { values: FlagValues; positionals: string[] } {
  try {
    const parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(Object.entries(FLAGS).map(([k, v]) => [k, { type: v.type }])),
    });
    return { values: parsed.values as FlagValues, positionals: parsed.positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function flagSource(values: FlagValues, env: NodeJS.ProcessEnv): FlagSource {
  return {
    text: (flag) => {
      const v = values[flag];
      if (typeof v === 'string') return v;
      const fromEnv = env[envName(flag)];
      return fromEnv !== undefined ? fromEnv : FLAGS[flag]?.default;
    },
    bool: (flag) => {
      const v = values[flag];
      if (typeof v === 'boolean') return v;
      const fromEnv = env[envName(flag)];
      return fromEnv !== undefined && /^(1|true|yes|on)$/i.test(fromEnv);
    },
  };
}

/** With --help and no command, the command does not matter: `demo` stands in. */
function command(positionals: string[], help: boolean): Command {
  const [commandText, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  if (commandText === undefined && !help) throw new UsageError('a command is required (run, controller, proxy, check, demo)');
  if (commandText !== undefined && !(COMMANDS as readonly string[]).includes(commandText)) {
    throw new UsageError(`unknown command "${commandText}" (run, controller, proxy, check, demo)`);
  }
  return (commandText ?? 'demo') as Command;
}

function workerCount(text: string | undefined): number {
  const workers = text === undefined ? availableParallelism() : Number(text);
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw new UsageError(`--workers: "${text}" is not a worker count (1-256)`);
  return workers;
}

function logLevel(text: string | undefined): Options['logLevel'] {
  const level = text as Options['logLevel'];
  if (!LOG_LEVELS.includes(level)) throw new UsageError(`--log-level: "${level}" is not one of ${LOG_LEVELS.join(', ')}`);
  return level;
}

function cidrList(text: string | undefined): string[] {
  return (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function optionValues(command: Command, flags: FlagSource): Options {
  const { text, bool } = flags;
  // Checked before the rest, as they always were: with several bad flags, the same one is named.
  const workers = workerCount(text('workers'));
  const level = logLevel(text('log-level'));
  return {
    command,
    httpPort: port('http-port', text('http-port')!),
    httpsPort: port('https-port', text('https-port')!),
    adminPort: port('admin-port', text('admin-port')!),
    bindAddress: text('bind-address')!,
    headerTimeoutMs: duration('header-timeout', text('header-timeout')!),
    ingressClass: text('ingress-class')!,
    watchNamespace: text('watch-namespace') || undefined,
    workers,
    logLevel: level,
    publishService: namespacedName('publish-service', text('publish-service')),
    defaultCertSecret: namespacedName('default-cert-secret', text('default-cert-secret')),
    shutdownDelayMs: duration('shutdown-delay', text('shutdown-delay')!),
    shutdownTimeoutMs: duration('shutdown-timeout', text('shutdown-timeout')!),
    shutdownSpreadMs: duration('shutdown-spread', text('shutdown-spread')!),
    electionNamespace: text('election-namespace') || undefined,
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

/** Parses argv (without node and script); `env` supplies WSGATE_* fallbacks. Throws UsageError. */
export function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): Options & { help: boolean } {
  const { values, positionals } = readArgv(argv);
  const flags = flagSource(values, env);
  const help = flags.bool('help');
  const options = optionValues(command(positionals, help), flags);
  if (!help) requireCommandFlags(options);
  return { help, ...options };
}
