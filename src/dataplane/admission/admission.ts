// The admission interface of SPEC §6's connection limits: local in one process
// (admission/limits.ts), or held by the cluster primary for several workers (runtime/).
import type { AcquireResult } from './limits.ts';

export type AdmissionResult = AcquireResult;

/** Connection limits, local in one process or held by the cluster primary for several workers. */
export interface Admission {
  acquire(group: string, maxConnections: number | undefined, clientIp: string, maxPerClient: number | undefined): AdmissionResult | Promise<AdmissionResult>;
  release(group: string, clientIp: string): void;
}
