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
    super('WSGATE_USAGE', message);
  }
}
