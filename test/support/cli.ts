// Running the real `wsgate` command in tests: free ports, the process, and its readiness.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { deadPort, eventually } from './proxy.ts';

export interface ListenPorts {
  http: number;
  https: number;
  admin: number;
}

export async function freePorts(): Promise<ListenPorts> {
  return { http: await deadPort(), https: await deadPort(), admin: await deadPort() };
}

/** The wsgate the process-level tests run: src/cli.ts, or the file WSGATE_TEST_CLI names (the bundle, dist/bundle/wsgate.cjs). */
export const CLI_SCRIPT = process.env.WSGATE_TEST_CLI ?? 'src/cli.ts';

/** The flags that put every listener of a wsgate process on 127.0.0.1 and the given ports. */
export function listenFlags(ports: ListenPorts): string[] {
  return ['--bind-address', '127.0.0.1', '--http-port', String(ports.http), '--https-port', String(ports.https), '--admin-port', String(ports.admin)];
}

export interface RunningWsgate {
  child: ChildProcess;
  /** Resolves with the exit code. */
  exit: Promise<number | null>;
}

/** Starts `wsgate ARGS` (CLI_SCRIPT, or `cli` when given) with the Node running the tests. */
export function spawnWsgate(args: string[], options: { cli?: string; stdio?: StdioOptions } = {}): RunningWsgate {
  const child = spawn(process.execPath, [options.cli ?? CLI_SCRIPT, ...args], { stdio: options.stdio ?? ['ignore', 'inherit', 'inherit'] });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exit };
}

export async function readyzStatus(adminPort: number): Promise<number | undefined> {
  try {
    return (await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status;
  } catch {
    return undefined;
  }
}

export function waitUntilReady(adminPort: number, what = 'wsgate ready'): Promise<void> {
  return eventually(async () => (await readyzStatus(adminPort)) === 200, what, 60_000);
}
