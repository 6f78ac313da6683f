// What `/config` shows: the snapshot without its private keys.
import type { Snapshot } from './snapshot.ts';

/** A copy for display (`/config`) with every private key replaced by `<redacted>`. */
export function redactSnapshot(snapshot: Snapshot): Snapshot {
  const copy = structuredClone(snapshot);
  for (const cert of [...(copy.tls?.certificates ?? []), copy.tls?.defaultCertificate]) {
    if (cert?.key !== undefined) cert.key = '<redacted>';
  }
  if (copy.affinityKey !== undefined) copy.affinityKey = '<redacted>';
  return copy;
}
