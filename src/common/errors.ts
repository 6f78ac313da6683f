// The program's own failures (not user mistakes, which are diagnostics): one root class, one
// subclass per failure, a stable `code` that tests and logs rely on.

export class WsgateError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A snapshot or config file that cannot be read, parsed or validated. */
export class ConfigError extends WsgateError {
  readonly errors: string[];
  constructor(errors: string[], options?: { cause?: unknown }) {
    super('WSGATE_CONFIG_INVALID', errors.join('; '), options);
    this.errors = errors;
  }
}

/** A command-line flag or environment variable with a value that cannot be used. */
export class UsageError extends WsgateError {
  constructor(message: string) {
    super('WSGATE_ERR_USAGE', message);
  }
}

/** A port this process must listen on and cannot (in use, not permitted, no such address). */
export class ListenError extends WsgateError {
  /** Which listener: `admin`, `http`, `https`. */
  readonly listener: string;
  readonly host: string | undefined;
  readonly port: number;
  constructor(listener: string, host: string | undefined, port: number, cause: Error) {
    super('WSGATE_ERR_LISTEN', `cannot listen on the ${listener} port ${host ?? '*'}:${port}: ${cause.message}`, { cause });
    this.listener = listener;
    this.host = host;
    this.port = port;
  }
}
