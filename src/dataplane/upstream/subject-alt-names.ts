// BackendTLSPolicy subjectAltNames (GEP-1897): the backend's certificate must carry one of the
// listed names; the policy's hostname is then the SNI only. Built once per pool at compile.
import tls, { type PeerCertificate } from 'node:tls';
import { UpstreamAltNameError } from '../../common/errors.ts';

export type ServerIdentityCheck = (host: string, cert: PeerCertificate) => Error | undefined;

/** The names a certificate carries, by type (`DNS`, `URI`, `IP Address`); Node quotes a value holding a comma. */
export function certificateAltNames(text: string | undefined): { type: string; value: string }[] {
  const out: { type: string; value: string }[] = [];
  if (text === undefined) return out;
  const entry = /\s*([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:,|$)/gy;
  for (let match = entry.exec(text); match !== null && match[0] !== ''; match = entry.exec(text)) {
    const raw = match[2] ?? '';
    out.push({ type: match[1] ?? '', value: raw.startsWith('"') ? (JSON.parse(raw) as string) : raw });
  }
  return out;
}

export function subjectAltNameCheck(wanted: readonly string[]): ServerIdentityCheck {
  const hostnames = wanted.filter((name) => name.startsWith('DNS:')).map((name) => name.slice(4));
  const uris = new Set(wanted.filter((name) => name.startsWith('URI:')).map((name) => name.slice(4)));
  return (_host, cert) => {
    // checkServerIdentity applies the TLS host name rules (wildcards, case) to the DNS names.
    for (const name of hostnames) if (tls.checkServerIdentity(name, cert) === undefined) return undefined;
    if (uris.size > 0 && certificateAltNames(cert.subjectaltname).some((alt) => alt.type === 'URI' && uris.has(alt.value))) return undefined;
    return new UpstreamAltNameError(wanted, cert.subjectaltname);
  };
}
