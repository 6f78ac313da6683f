// The `wsgate` command (SPEC §3): argv -> one command (one file each), and how a failure ends
// the process. Commands are the only places where parts are wired together.
import { UsageError, WsgateError } from '../common/errors.ts';
import { logger, setLogLevel } from '../common/log.ts';
import { helpText, parseOptions, type Command, type Options } from './options.ts';
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

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (options.help) {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  setLogLevel(options.logLevel);
  if (isClusterWorker()) {
    await runClusterWorker(processOptions(options));
    process.exit(0);
  }
  return (await COMMAND_MAINS[options.command]())(options);
}

function fail(error: unknown): void {
  if (error instanceof UsageError) {
    process.stderr.write(`wsgate: ${error.message}\n\n${helpText()}\n`);
    process.exitCode = 2;
    return;
  }
  if (error instanceof WsgateError) {
    log.error({ code: error.code, err: error }, error.message);
    process.stderr.write(`wsgate: ${error.message}\n`);
  } else {
    log.fatal({ err: error }, 'wsgate failed');
  }
  process.exitCode = 1;
}

main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exitCode = code;
}, fail);
