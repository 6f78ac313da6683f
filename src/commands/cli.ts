// The `wsgate` command (SPEC §3): argv -> one command (one file each), and how a failure ends
// the process. Commands are the only places where parts are wired together.
import { UsageError, WsgateError } from '../common/errors.ts';
import { configureLogging, logger } from '../common/log.ts';
import { helpText, packageVersion, parseOptions, type Command, type Options } from './options.ts';
import { isClusterWorker, runClusterWorker } from '../runtime/workers/worker.ts';
import { processOptions } from './serve.ts';

const log = logger('cli');

/** Returns an exit code, or -1 for "keep running". */
type CommandMain = (options: Options) => Promise<number>;

// Loaded on demand: `proxy` and `check` never load the Kubernetes client.
const COMMAND_MAINS: Record<Command, () => Promise<CommandMain>> = {
  run: async () => (await import('./run.ts')).runCommand,
  controller: async () => (await import('./controller.ts')).controllerCommand,
  proxy: async () => (await import('./proxy.ts')).proxyCommand,
  check: async () => (await import('./check.ts')).checkCommand,
  demo: async () => (await import('./demo.ts')).demoCommand,
};

/** `check` and `controller --once` print data on stdout: their logs and errors go to stderr. */
function isOneShot(options: Options): boolean {
  return options.command === 'check' || (options.command === 'controller' && options.once);
}

/** Set once the command line is read: how fail() reports. */
let oneShot = false;

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (options.help) {
    process.stdout.write(`${helpText(options.typedCommand)}\n`);
    return 0;
  }
  if (options.version) {
    process.stdout.write(`wsgate ${packageVersion()}\n`);
    return 0;
  }
  oneShot = isOneShot(options);
  configureLogging({ level: options.logLevel, accessLog: options.accessLog, stream: oneShot ? 'stderr' : 'stdout' });
  if (isClusterWorker()) {
    await runClusterWorker(processOptions(options));
    process.exit(0);
  }
  return (await COMMAND_MAINS[options.command]())(options);
}

function fail(error: unknown): void {
  if (error instanceof UsageError) {
    // One line: a usage mistake in a CrashLoopBackOff log should not scroll past a page of help.
    process.stderr.write(`wsgate: ${error.message} (wsgate --help lists the flags)\n`);
    process.exitCode = 2;
    return;
  }
  // A readable line on stderr always (an API 403, ECONNREFUSED); the JSON line with the stack is
  // for the servers' log pipelines. A one-shot command is read by a person: the line alone.
  const message = readableMessage(error);
  if (!oneShot) {
    if (error instanceof WsgateError) log.error({ code: error.code, err: error }, error.message);
    else log.fatal({ err: error }, 'wsgate failed');
  }
  process.stderr.write(`wsgate: ${message}\n`);
  process.exitCode = 1;
}

/** undici says only "fetch failed"; the cause says what happened (connect ECONNREFUSED ...). */
function readableMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  return cause !== undefined && !error.message.includes(cause) ? `${error.message} (${cause})` : error.message;
}

main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exitCode = code;
}, fail);
