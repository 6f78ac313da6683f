// The one IPC channel between the cluster primary and its workers, and every message on it: one
// envelope (`type: 'wsgate:...'`), so each side can tell ours from anything else on the channel.
// The metrics exchange is defined next to its aggregation (metrics/worker-aggregation.ts) and is
// part of this union.
import type { Worker } from 'node:cluster';
import type { PemPair } from '../../certs/selfsigned.ts';
import type { Snapshot } from '../../config/snapshot.ts';
import type { AdmissionResult } from '../../dataplane/admission/admission.ts';
import type { MetricsRequest, MetricsResponse } from '../../metrics/worker-aggregation.ts';

/** Open connections per endpoint key, as the least-conn balancer counts them. */
export type EndpointCounts = Array<[string, number]>;

export interface AcquireRequest {
  type: 'wsgate:acquire';
  id: number;
  group: string;
  max?: number;
  ip: string;
  perClient?: number;
}

export type ToWorker =
  | { type: 'wsgate:init'; defaultCertificate: PemPair; ticketKeys: string }
  | { type: 'wsgate:snapshot'; snapshot: Snapshot; hash: string }
  | { type: 'wsgate:acquired'; id: number; result: AdmissionResult }
  | { type: 'wsgate:remote-counts'; counts: EndpointCounts }
  | { type: 'wsgate:shutdown' }
  | MetricsRequest;

export type ToPrimary =
  | { type: 'wsgate:hello' }
  | { type: 'wsgate:listening' }
  | { type: 'wsgate:applied'; hash: string }
  | AcquireRequest
  | { type: 'wsgate:release'; group: string; ip: string }
  | { type: 'wsgate:counts'; counts: EndpointCounts }
  | MetricsResponse;

export type ChannelMessage = ToWorker | ToPrimary;

export function isChannelMessage(message: unknown): message is ChannelMessage {
  if (typeof message !== 'object' || message === null) return false;
  const type = (message as { type?: unknown }).type;
  return typeof type === 'string' && type.startsWith('wsgate:');
}

export function sendToWorker(worker: Worker, message: ToWorker): void {
  // A worker that is exiting has closed its end; what it would have been told no longer matters.
  if (worker.isConnected()) worker.send(message);
}

export function sendToPrimary(message: ToPrimary): void {
  if (process.connected) process.send!(message);
}
