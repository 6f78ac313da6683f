// Which Ingresses are wsgate's (SPEC §5, and the Kubernetes IngressClass rules): the class named in
// spec.ingressClassName, else the legacy annotation, else the default IngressClass.
import type { V1Ingress, V1IngressClass } from '@kubernetes/client-node';

export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';

export function ingressClassSelector(classes: readonly V1IngressClass[], className: string, controllerName: string): (ingress: V1Ingress) => boolean {
  const ours = classes.find((c) => c.metadata?.name === className && c.spec?.controller === controllerName);
  const oursIsDefault = ours?.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true';
  return (ingress) => {
    const named = ingress.spec?.ingressClassName;
    // The spec field takes precedence over the deprecated annotation (Kubernetes API docs).
    if (named !== undefined && named !== '') return ours !== undefined && named === className;
    const legacy = ingress.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION];
    if (legacy !== undefined) return legacy === className;
    return oursIsDefault;
  };
}
