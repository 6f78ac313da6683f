// Every WebSocket close code the proxy reads, sends or reports (RFC 6455 §7.4), and the one place
// that says which ranges a code falls in (what the metric label keeps, SPEC §9).

/** Shutdown, drain, idle timeout, and the receiver's side of an oversized frame. */
export const CLOSE_GOING_AWAY = 1001;
/** A close payload of one byte cannot hold a status code; the receiver fails the connection with it. */
export const CLOSE_PROTOCOL_ERROR = 1002;
/** A close frame that carries no status code (§7.4.1: never sent, only reported). */
export const CLOSE_NO_STATUS = 1005;
/** TCP ended with no close frame (§7.4.1: never sent, only reported). */
export const CLOSE_ABNORMAL = 1006;
/** The sender of a frame over max-message-size (SPEC §6). */
export const CLOSE_MESSAGE_TOO_BIG = 1009;
/** RFC 6455 §7.4.1: a message that violates the endpoint's policy (max-messages-per-second). */
export const CLOSE_POLICY_VIOLATION = 1008;
/** To the client when the upstream went away without a close frame: the server behind the gateway is lost. */
export const CLOSE_BAD_GATEWAY = 1014;

/** Codes of RFC 6455 §7.4.1 and the IANA registry. */
export function isRegisteredCode(code: number): boolean {
  return Number.isInteger(code) && code >= 1000 && code <= 1015;
}

/** 3000-3999: registered to libraries and frameworks (RFC 6455 §7.4.2). */
export function isLibraryCode(code: number): boolean {
  return Number.isInteger(code) && code >= 3000 && code <= 3999;
}

/** 4000-4999: private use by applications (RFC 6455 §7.4.2). */
export function isApplicationCode(code: number): boolean {
  return Number.isInteger(code) && code >= 4000 && code <= 4999;
}
