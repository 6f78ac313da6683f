// The catalogue of the program's own failures (user mistakes in Kubernetes objects are not here:
// those are diagnostics). One root class; one subclass per failure, each with a stable `code`
// that tests, logs and callers may rely on, a default message and the typed context it needs.
// Modelled on undici's lib/core/errors.js.

export type WsgateErrorCode =
  | 'WSGATE_ERR_CONFIG_INVALID'
  | 'WSGATE_ERR_USAGE'
  | 'WSGATE_ERR_TLS_CERTIFICATE'
  | 'WSGATE_ERR_INVALID_ARGUMENT'
  | 'WSGATE_ERR_UNSUPPORTED_KEY'
  | 'WSGATE_ERR_INFORMER_STOPPED'
  | 'WSGATE_ERR_UPSTREAM_CONNECT_TIMEOUT'
  | 'WSGATE_ERR_UPSTREAM_TIMEOUT'
  | 'WSGATE_ERR_UPSTREAM_ALTNAME'
  | 'WSGATE_ERR_CLIENT_GONE'
  | 'WSGATE_ERR_LISTEN';

export abstract class WsgateError extends Error {
  abstract readonly code: WsgateErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One problem of a config document, at a place in it where that is known. */
export interface ConfigProblem {
  /** `file:line:col: ` or `file: ` when the problem was found in a file; '' otherwise. */
  where: string;
  /** `routes[0].pool: ...`: the document path (when there is one) and what is wrong. */
  message: string;
}

/** A snapshot or config file that cannot be read, parsed, validated or compiled. */
export class ConfigError extends WsgateError {
  readonly code = 'WSGATE_ERR_CONFIG_INVALID';
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[], options?: { cause?: unknown }) {
    super(problems.map(lineOf).join('; '), options);
    this.problems = problems;
  }

  /** One line per problem, as `wsgate check` prints them. */
  get errors(): string[] {
    return this.problems.map(lineOf);
  }

  static of(message: string, where = ''): ConfigError {
    return new ConfigError([{ where, message }]);
  }
}

const lineOf = (problem: ConfigProblem): string => `${problem.where}${problem.message}`;

/** A command-line flag or environment variable with a value that cannot be used. */
export class UsageError extends WsgateError {
  readonly code = 'WSGATE_ERR_USAGE';
}

/** A snapshot certificate (or the default) that OpenSSL cannot load: bad PEM, or key and cert not a pair. */
export class CertificateError extends WsgateError {
  readonly code = 'WSGATE_ERR_TLS_CERTIFICATE';
  readonly certificate: string;
  constructor(certificate: string, message: string, options?: { cause?: unknown }) {
    super(`certificate ${certificate}: ${message}`, options);
    this.certificate = certificate;
  }
}

/** The program called one of its own functions wrongly: a bug, never a user's mistake. */
export class InvalidArgumentError extends WsgateError {
  readonly code = 'WSGATE_ERR_INVALID_ARGUMENT';
  readonly argument: string;
  constructor(argument: string, message: string) {
    super(`${argument}: ${message}`);
    this.argument = argument;
  }
}

/** A key the certificate issuer cannot sign with (the demo's and tests' CA). */
export class UnsupportedKeyError extends WsgateError {
  readonly code = 'WSGATE_ERR_UNSUPPORTED_KEY';
  readonly keyType: string;
  constructor(keyType: string) {
    super(`issuer key ${keyType} is not supported`);
    this.keyType = keyType;
  }
}

/** A list asked of an informer that has been stopped. */
export class InformerStoppedError extends WsgateError {
  readonly code = 'WSGATE_ERR_INFORMER_STOPPED';
  readonly kind: string;
  constructor(kind: string) {
    super(`${kind} informer stopped`);
    this.kind = kind;
  }
}

/** A TCP (or TLS) connect to an upstream endpoint that did not finish within connect-timeout. */
export class UpstreamConnectTimeoutError extends WsgateError {
  readonly code = 'WSGATE_ERR_UPSTREAM_CONNECT_TIMEOUT';
  readonly endpoint: string;
  readonly timeoutMs: number;
  constructor(endpoint: string, timeoutMs: number) {
    super(`connect to ${endpoint} timed out after ${timeoutMs}ms`);
    this.endpoint = endpoint;
    this.timeoutMs = timeoutMs;
  }
}

/** An upstream that accepted the connection but did not answer in time. */
export class UpstreamTimeoutError extends WsgateError {
  readonly code = 'WSGATE_ERR_UPSTREAM_TIMEOUT';
  readonly endpoint: string;
  constructor(endpoint: string, message = `upstream ${endpoint} did not answer in time`) {
    super(message);
    this.endpoint = endpoint;
  }
}

/** A backend certificate that carries none of a BackendTLSPolicy's subjectAltNames. */
export class UpstreamAltNameError extends WsgateError {
  readonly code = 'WSGATE_ERR_UPSTREAM_ALTNAME';
  readonly wanted: readonly string[];
  constructor(wanted: readonly string[], present: string | undefined) {
    super(`certificate carries none of the subject alternative names ${wanted.join(', ')} (it has ${present ?? 'none'})`);
    this.wanted = wanted;
  }
}

/** The client closed its connection while the proxy was still choosing or reaching an upstream. */
export class ClientGoneError extends WsgateError {
  readonly code = 'WSGATE_ERR_CLIENT_GONE';
  constructor() {
    super('client went away');
  }
}

/** A port this process must listen on and cannot (in use, not permitted, no such address). */
export class ListenError extends WsgateError {
  readonly code = 'WSGATE_ERR_LISTEN';
  /** Which listener: `admin`, `http`, `https`. */
  readonly listener: string;
  readonly host: string | undefined;
  readonly port: number;
  constructor(listener: string, host: string | undefined, port: number, cause: Error) {
    super(`cannot listen on the ${listener} port ${host ?? '*'}:${port}: ${cause.message}`, { cause });
    this.listener = listener;
    this.host = host;
    this.port = port;
  }
}
