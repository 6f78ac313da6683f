// The Gateway API objects wsgate reads (gateway.networking.k8s.io, standard channel v1.3.0; the
// BackendTLSPolicy of that release is v1alpha3, experimental channel). Written from the CRDs'
// published OpenAPI: only the fields wsgate reads or writes, every one optional as it arrives
// from a cluster that may hold anything the CRD admits.

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
export const GATEWAY_CONTROLLER_NAME = 'wsgate.io/gateway-controller';
/** The CRD release the translator and the README are written against. */
export const GATEWAY_API_RELEASE = 'v1.3.0';

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: Date | string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** metav1.Condition, as every Gateway API status carries them. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

export interface GatewayClass {
  apiVersion?: string;
  kind?: 'GatewayClass';
  metadata?: ObjectMeta;
  spec?: { controllerName?: string; description?: string };
  status?: { conditions?: Condition[] };
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export interface SecretObjectReference {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
}

export interface Listener {
  name: string;
  hostname?: string;
  port: number;
  protocol: string;
  tls?: { mode?: 'Terminate' | 'Passthrough'; certificateRefs?: SecretObjectReference[] };
  allowedRoutes?: {
    namespaces?: { from?: 'Same' | 'All' | 'Selector'; selector?: LabelSelector };
    kinds?: { group?: string; kind: string }[];
  };
}

export interface ListenerStatus {
  name: string;
  supportedKinds: { group?: string; kind: string }[];
  attachedRoutes: number;
  conditions: Condition[];
}

export interface GatewayAddress {
  type?: 'IPAddress' | 'Hostname';
  value: string;
}

export interface GatewayStatus {
  addresses?: GatewayAddress[];
  conditions?: Condition[];
  listeners?: ListenerStatus[];
}

export interface Gateway {
  apiVersion?: string;
  kind?: 'Gateway';
  metadata?: ObjectMeta;
  spec?: { gatewayClassName?: string; listeners?: Listener[]; addresses?: GatewayAddress[] };
  status?: GatewayStatus;
}

export interface ParentReference {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
  port?: number;
}

export interface HTTPHeaderMatch {
  type?: 'Exact' | 'RegularExpression';
  name: string;
  value: string;
}

export interface HTTPQueryParamMatch {
  type?: 'Exact' | 'RegularExpression';
  name: string;
  value: string;
}

export interface HTTPRouteMatch {
  path?: { type?: 'Exact' | 'PathPrefix' | 'RegularExpression'; value?: string };
  headers?: HTTPHeaderMatch[];
  queryParams?: HTTPQueryParamMatch[];
  method?: string;
}

export interface HTTPHeader {
  name: string;
  value: string;
}

export interface HTTPHeaderFilter {
  set?: HTTPHeader[];
  add?: HTTPHeader[];
  remove?: string[];
}

export interface HTTPPathModifier {
  type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  replaceFullPath?: string;
  replacePrefixMatch?: string;
}

export interface HTTPRouteFilter {
  type: string;
  requestHeaderModifier?: HTTPHeaderFilter;
  responseHeaderModifier?: HTTPHeaderFilter;
  requestRedirect?: { scheme?: 'http' | 'https'; hostname?: string; path?: HTTPPathModifier; port?: number; statusCode?: 301 | 302 };
  urlRewrite?: { hostname?: string; path?: HTTPPathModifier };
}

export interface HTTPBackendRef {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
  weight?: number;
  filters?: HTTPRouteFilter[];
}

export interface HTTPRouteRule {
  name?: string;
  matches?: HTTPRouteMatch[];
  filters?: HTTPRouteFilter[];
  backendRefs?: HTTPBackendRef[];
}

export interface RouteParentStatus {
  parentRef: ParentReference;
  controllerName: string;
  conditions: Condition[];
}

export interface HTTPRoute {
  apiVersion?: string;
  kind?: 'HTTPRoute';
  metadata?: ObjectMeta;
  spec?: { parentRefs?: ParentReference[]; hostnames?: string[]; rules?: HTTPRouteRule[] };
  status?: { parents?: RouteParentStatus[] };
}

export interface ReferenceGrant {
  apiVersion?: string;
  kind?: 'ReferenceGrant';
  metadata?: ObjectMeta;
  spec?: {
    from?: { group: string; kind: string; namespace: string }[];
    to?: { group: string; kind: string; name?: string }[];
  };
}

export interface BackendTLSPolicy {
  apiVersion?: string;
  kind?: 'BackendTLSPolicy';
  metadata?: ObjectMeta;
  spec?: {
    targetRefs?: { group: string; kind: string; name: string; sectionName?: string }[];
    validation?: {
      caCertificateRefs?: { group: string; kind: string; name: string }[];
      wellKnownCACertificates?: string;
      hostname?: string;
      subjectAltNames?: { type?: string; hostname?: string; uri?: string }[];
    };
  };
  status?: { ancestors?: PolicyAncestorStatus[] };
}

/** gateway.networking.k8s.io PolicyAncestorStatus: one entry per ancestor and controller. */
export interface PolicyAncestorStatus {
  ancestorRef: ParentReference;
  controllerName: string;
  conditions: Condition[];
}

/** The Gateway API part of translate()'s input; every list optional (a cluster without the CRDs has none). */
export interface GatewayResources {
  gatewayClasses?: GatewayClass[];
  gateways?: Gateway[];
  httpRoutes?: HTTPRoute[];
  referenceGrants?: ReferenceGrant[];
  backendTLSPolicies?: BackendTLSPolicy[];
  /** For allowedRoutes.namespaces.from: Selector (namespace labels). */
  namespaces?: { metadata?: ObjectMeta }[];
}

/** The status the leader should write: desired, compared with what objects carry before a write. */
export interface GatewayStatuses {
  gatewayClasses: { name: string; generation: number; conditions: Condition[] }[];
  gateways: { namespace: string; name: string; status: GatewayStatus }[];
  httpRoutes: { namespace: string; name: string; parents: RouteParentStatus[] }[];
  /** Policies reached through wsgate's Gateways; `apiVersion` as read (the version to patch). */
  backendTLSPolicies: { namespace: string; name: string; apiVersion: string | undefined; ancestors: PolicyAncestorStatus[] }[];
}
