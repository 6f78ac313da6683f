// SPEC §6 max-connections is per pod, and least-conn should see every worker's connections: so
// the primary holds the connection limits for all workers and fans out the endpoint counts. A
// worker asks over IPC (ipcAdmission); the primary answers and remembers what each worker holds,
// to give it back if the worker dies.
import { ConnectionLimits } from '../../dataplane/admission/limits.ts';
import type { Admission, AdmissionResult } from '../../dataplane/admission/admission.ts';
import type { AcquireRequest, EndpointCounts } from './messages.ts';
import { sendToPrimary } from './messages.ts';

const heldKey = (group: string, ip: string): string => `${group}\n${ip}`;

/** The primary's side: one set of limits, and per worker what it holds. */
export class HeldAdmission {
  readonly #limits = new ConnectionLimits();
  readonly #held = new Map<number, Map<string, number>>();

  acquire(workerId: number, request: AcquireRequest): AdmissionResult {
    const result = this.#limits.tryAcquire(request.group, request.max, request.ip, request.perClient);
    if (result === 'ok') {
      const held = this.#heldBy(workerId);
      const key = heldKey(request.group, request.ip);
      held.set(key, (held.get(key) ?? 0) + 1);
    }
    return result;
  }

  /** Only what this worker holds: a confused or restarted worker cannot free another's slots. */
  release(workerId: number, group: string, ip: string): void {
    const held = this.#heldBy(workerId);
    const key = heldKey(group, ip);
    const n = held.get(key) ?? 0;
    if (n === 0) return;
    this.#limits.release(group, ip);
    if (n === 1) held.delete(key);
    else held.set(key, n - 1);
  }

  /** A worker exited: everything it held is free again. */
  releaseAll(workerId: number): void {
    for (const [key, n] of this.#held.get(workerId) ?? []) {
      const [group, ip] = key.split('\n') as [string, string];
      for (let i = 0; i < n; i++) this.#limits.release(group, ip);
    }
    this.#held.delete(workerId);
  }

  #heldBy(workerId: number): Map<string, number> {
    let held = this.#held.get(workerId);
    if (held === undefined) this.#held.set(workerId, (held = new Map()));
    return held;
  }
}

/** Every worker's endpoint counts; each worker is told the sum of the others' (its own it knows). */
export class EndpointCountsFanOut {
  readonly #byWorker = new Map<number, Map<string, number>>();

  update(workerId: number, counts: EndpointCounts): void {
    this.#byWorker.set(workerId, new Map(counts));
  }

  drop(workerId: number): void {
    this.#byWorker.delete(workerId);
  }

  othersOf(workerId: number): EndpointCounts {
    const sum = new Map<string, number>();
    for (const [id, counts] of this.#byWorker) {
      if (id === workerId) continue;
      for (const [key, n] of counts) sum.set(key, (sum.get(key) ?? 0) + n);
    }
    return [...sum];
  }
}

/** The worker's side: limits asked of the primary; `settle` takes its answers. */
export function ipcAdmission(): Admission & { settle(id: number, result: AdmissionResult): void } {
  const pending = new Map<number, (result: AdmissionResult) => void>();
  let nextId = 0;
  return {
    acquire: (group, max, ip, perClient) =>
      new Promise<AdmissionResult>((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        sendToPrimary({ type: 'wsgate:acquire', id, group, max, ip, perClient });
      }),
    release: (group, ip) => sendToPrimary({ type: 'wsgate:release', group, ip }),
    settle: (id, result) => {
      pending.get(id)?.(result);
      pending.delete(id);
    },
  };
}
