// SPEC §6 affinity: the HMAC key every replica must share, from the Opaque Secret named by
// `--affinity-secret NS/NAME` (key `affinity.key`; the chart creates it). It travels in the
// snapshot like certificates (affinityKey, redacted on /config). A Secret that is missing or
// holds fewer than 16 bytes leaves the key out: each proxy then makes its own, and says so.
import type { V1Secret } from '@kubernetes/client-node';
import { logger } from '../../common/log.ts';
import { splitNamespacedName } from '../../common/names.ts';
import type { Snapshot } from '../../config/snapshot.ts';

export const AFFINITY_KEY_FIELD = 'affinity.key';
const MIN_KEY_BYTES = 16;
const log = logger('controller');
/** The --affinity-secret last warned about: once per stretch without a usable key, not at every translation. */
let warned: string | undefined;

export function withAffinityKey(snapshot: Snapshot, secrets: readonly V1Secret[], affinitySecret: string | undefined): Snapshot {
  if (affinitySecret === undefined) return snapshot;
  const ref = splitNamespacedName(affinitySecret);
  const secret = secrets.find((s) => s.metadata?.namespace === ref?.namespace && s.metadata?.name === ref?.name);
  const data = secret?.data?.[AFFINITY_KEY_FIELD];
  if (data === undefined || Buffer.from(data, 'base64').length < MIN_KEY_BYTES) {
    if (warned === affinitySecret) return snapshot;
    warned = affinitySecret;
    log.warn({ secret: affinitySecret, key: AFFINITY_KEY_FIELD }, `--affinity-secret has no ${AFFINITY_KEY_FIELD} of at least ${MIN_KEY_BYTES} bytes; affinity cookies will differ between replicas`);
    return snapshot;
  }
  warned = undefined;
  // Kubernetes gives Secret data as base64 already: the snapshot's encoding, normalised.
  return { ...snapshot, affinityKey: Buffer.from(data, 'base64').toString('base64') };
}
