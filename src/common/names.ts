// Names shared by every layer: Kubernetes NS/NAME references, the one string order, and the
// status code of a Kubernetes client error.

export interface NamespacedName {
  namespace: string;
  name: string;
}

/** `ns/name` -> its parts, split at the first `/`; undefined without one. */
export function splitNamespacedName(text: string): NamespacedName | undefined {
  const slash = text.indexOf('/');
  if (slash === -1) return undefined;
  return { namespace: text.slice(0, slash), name: text.slice(slash + 1) };
}

/** The `ns/name` key of an object; a missing namespace is `default`, as the API server would set it. */
export function joinNamespacedName(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? 'default'}/${name ?? ''}`;
}

/** Plain code-unit order: localeCompare would depend on the machine's locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The HTTP status of a failed Kubernetes API call (client-node's ApiException.code). */
export function statusCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}
