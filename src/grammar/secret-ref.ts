// A reference to a Secret in an annotation (upstream-tls-ca-secret): `NAME` (the Ingress's own
// namespace) or `NS/NAME`, spelled as the API server names objects (lowercase DNS-1123), so a
// reference that no object can have is refused where it is written, not reported as missing.
import { isDnsName } from './host.ts';
import { accept, reject, type Parsed } from './result.ts';

export const SECRET_REF_ACCEPTS = 'a Secret name, or NAMESPACE/NAME';
export const NAMESPACED_SECRET_REF_ACCEPTS = 'NAMESPACE/NAME of a Secret';

function isNamespace(text: string): boolean {
  return !text.includes('.') && isDnsName(text);
}

/** `NAME` or `NS/NAME`, kept as written; the reader resolves `NAME` in its own namespace. */
export function parseSecretRef(text: string, options: { namespaceRequired?: boolean } = {}): Parsed<string> {
  const accepts = options.namespaceRequired === true ? NAMESPACED_SECRET_REF_ACCEPTS : SECRET_REF_ACCEPTS;
  const parts = text.split('/');
  if (parts.length === 1 && options.namespaceRequired !== true && isDnsName(text)) return accept(text);
  if (parts.length === 2 && isNamespace(parts[0]!) && isDnsName(parts[1]!)) return accept(text);
  return reject(accepts);
}
