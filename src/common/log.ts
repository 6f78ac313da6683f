// One pino logger for the process; modules take children with their own bindings.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

const root: Logger = pino({ level: process.env.WSGATE_LOG_LEVEL ?? 'info', base: { pid: process.pid } });

export function setLogLevel(level: LevelWithSilent): void {
  root.level = level;
}

export function logger(component: string): Logger {
  return root.child({ component });
}
