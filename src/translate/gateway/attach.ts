// An HTTPRoute's parentRefs -> the listeners it attaches to, and each parent's Accepted
// condition with the HTTPRoute spec's reasons: NoMatchingParent (sectionName/port name no
// listener), NotAllowedByListeners (allowedRoutes refuses the namespace or kind),
// NoMatchingListenerHostname (no hostname in common).
import { compareStrings } from '../order.ts';
import type { RouteReason } from './conditions.ts';
import { intersectHostnames } from './hostnames.ts';
import type { ServedGateway, ServedListener } from './listeners.ts';
import { GATEWAY_GROUP, type HTTPRoute, type LabelSelector, type ParentReference } from './types.ts';

export interface Attachment {
  listener: ServedListener;
  /** Hosts the route serves through this listener ('' = any). */
  hosts: string[];
}

export interface ParentDecision {
  parentRef: ParentReference;
  attachments: Attachment[];
  accepted: { ok: boolean; reason: RouteReason; message: string };
}

export function labelsMatch(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (selector === undefined) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const expression of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, expression.key);
    const value = labels[expression.key];
    const inValues = has && (expression.values ?? []).includes(value!);
    if (expression.operator === 'In' && !inValues) return false;
    if (expression.operator === 'NotIn' && inValues) return false;
    if (expression.operator === 'Exists' && !has) return false;
    if (expression.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

function namespaceAllowed(listener: ServedListener, routeNamespace: string, namespaceLabels: (ns: string) => Record<string, string>): boolean {
  switch (listener.allowedNamespaces.from) {
    case 'All':
      return true;
    case 'Selector':
      return labelsMatch(listener.allowedNamespaces.selector, namespaceLabels(routeNamespace));
    default:
      return routeNamespace === listener.namespace;
  }
}

/** Decides each parentRef that names one of wsgate's Gateways; others are another controller's. */
export function attachRoute(
  route: HTTPRoute,
  routeHosts: readonly string[],
  gateways: ReadonlyMap<string, ServedGateway>,
  namespaceLabels: (ns: string) => Record<string, string>,
): ParentDecision[] {
  const routeNamespace = route.metadata?.namespace ?? 'default';
  const decisions: ParentDecision[] = [];
  for (const parentRef of route.spec?.parentRefs ?? []) {
    if ((parentRef.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (parentRef.kind ?? 'Gateway') !== 'Gateway') continue;
    const gateway = gateways.get(`${parentRef.namespace ?? routeNamespace}/${parentRef.name}`);
    if (gateway === undefined) continue;
    const refuse = (reason: RouteReason, message: string): ParentDecision => ({ parentRef, attachments: [], accepted: { ok: false, reason, message } });
    let candidates = gateway.listeners;
    if (parentRef.sectionName !== undefined) candidates = candidates.filter((l) => l.listener.name === parentRef.sectionName);
    if (parentRef.port !== undefined) candidates = candidates.filter((l) => l.listener.port === parentRef.port);
    if (candidates.length === 0) {
      const what = [parentRef.sectionName === undefined ? '' : `sectionName ${parentRef.sectionName}`, parentRef.port === undefined ? '' : `port ${parentRef.port}`].filter(Boolean).join(' and ');
      decisions.push(refuse('NoMatchingParent', `Gateway ${gateway.namespace}/${gateway.name} has no listener with ${what || 'any name'}`));
      continue;
    }
    const programmed = candidates.filter((l) => l.programmed);
    const allowed = programmed.filter((l) => l.allowsHttpRoute && namespaceAllowed(l, routeNamespace, namespaceLabels));
    if (allowed.length === 0) {
      const why = programmed.length === 0 ? `no matching listener is served (${candidates.map((l) => `${l.listener.name}: ${l.problem ?? 'not served'}`).join('; ')})` : `the listeners' allowedRoutes do not admit HTTPRoutes from namespace ${routeNamespace}`;
      decisions.push(refuse('NotAllowedByListeners', why));
      continue;
    }
    const attachments: Attachment[] = [];
    for (const listener of allowed) {
      const hosts = intersectHostnames(listener.hostname, routeHosts).sort(compareStrings);
      if (hosts.length > 0) attachments.push({ listener, hosts });
    }
    if (attachments.length === 0) {
      decisions.push(refuse('NoMatchingListenerHostname', `no hostname of the route matches a listener hostname (${allowed.map((l) => l.hostname ?? '*').join(', ')})`));
      continue;
    }
    decisions.push({ parentRef, attachments, accepted: { ok: true, reason: 'Accepted', message: `attached to ${attachments.map((a) => a.listener.listener.name).join(', ')}` } });
  }
  return decisions;
}
