// Diagnostics as translate() collects them: one per problem (duplicates folded), in a total order.
import type { V1Ingress } from '@kubernetes/client-node';
import { compareStrings, createdAt, namespacedName } from './order.ts';
import type { Diagnostic, DiagnosticObject, DiagnosticReason } from './types.ts';

export function ingressObject(ingress: V1Ingress): DiagnosticObject {
  const object: DiagnosticObject = {
    kind: 'Ingress',
    namespace: ingress.metadata?.namespace ?? 'default',
    name: ingress.metadata?.name ?? '',
  };
  if (ingress.metadata?.uid !== undefined) object.uid = ingress.metadata.uid;
  return object;
}

export class Diagnostics {
  readonly #byKey = new Map<string, Diagnostic>();

  add(object: DiagnosticObject, type: Diagnostic['type'], reason: DiagnosticReason, message: string): void {
    const diagnostic: Diagnostic = { type, reason, object, message };
    const key = [object.kind, object.namespace, object.name, reason, message].join('\u0000');
    if (!this.#byKey.has(key)) this.#byKey.set(key, diagnostic);
  }

  warn(object: DiagnosticObject, reason: DiagnosticReason, message: string): void {
    this.add(object, 'Warning', reason, message);
  }

  normal(object: DiagnosticObject, reason: DiagnosticReason, message: string): void {
    this.add(object, 'Normal', reason, message);
  }

  sorted(): Diagnostic[] {
    return [...this.#byKey.values()].sort(
      (a, b) =>
        compareStrings(a.object.namespace, b.object.namespace) ||
        compareStrings(a.object.name, b.object.name) ||
        compareStrings(a.object.kind, b.object.kind) ||
        compareStrings(a.reason, b.reason) ||
        compareStrings(a.message, b.message),
    );
  }
}

/** `a, b and 3 more`: event messages stay readable for an Ingress with hundreds of paths. */
export function summarise(items: readonly string[], limit = 10): string {
  if (items.length <= limit) return items.join(', ');
  return `${items.slice(0, limit).join(', ')} and ${items.length - limit} more`;
}

/** How a Conflict message names the Ingress that kept a route or TLS host, and why it won. */
export function describeWinner(winner: V1Ingress, loser: V1Ingress): string {
  const name = namespacedName(winner);
  return createdAt(winner) === createdAt(loser) ? `Ingress ${name} (as old; first by namespace/name)` : `older Ingress ${name}`;
}
