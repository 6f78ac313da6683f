// The part of the Prometheus Operator's monitoring.coreos.com/v1 CRD schemas that the chart
// uses (ServiceMonitor, PodMonitor, PrometheusRule), with the CRDs' own types and patterns. kubernetes-models
// covers built-in kinds only; the `@kubernetes-models/prometheus-operator` package would cover
// these in full if it is ever added to devDependencies. Fields the chart does not use are absent,
// so a field added to the chart must be added here too, from the CRD, which is the point.

const duration = { type: 'string', pattern: '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$' };
const stringMap = { type: 'object', additionalProperties: { type: 'string' } };

const objectMeta = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$', maxLength: 253 },
    namespace: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 },
    labels: stringMap,
    annotations: stringMap,
  },
};

const labelSelector = {
  type: 'object',
  additionalProperties: false,
  properties: {
    matchLabels: stringMap,
    matchExpressions: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'operator'],
        properties: { key: { type: 'string' }, operator: { type: 'string' }, values: { type: 'array', items: { type: 'string' } } },
      },
    },
  },
};

// RelabelConfig of the CRDs (monitoring.coreos.com/v1), as the Operator validates it.
const relabelConfigs = {
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    properties: {
      action: {
        type: 'string',
        enum: ['replace', 'Replace', 'keep', 'Keep', 'drop', 'Drop', 'hashmod', 'HashMod', 'labelmap', 'LabelMap', 'labeldrop', 'LabelDrop', 'labelkeep', 'LabelKeep', 'lowercase', 'Lowercase', 'uppercase', 'Uppercase', 'keepequal', 'KeepEqual', 'dropequal', 'DropEqual'],
      },
      modulus: { type: 'integer', format: 'int64' },
      regex: { type: 'string' },
      replacement: { type: 'string' },
      separator: { type: 'string' },
      sourceLabels: { type: 'array', items: { type: 'string', pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$' } },
      targetLabel: { type: 'string' },
    },
  },
};

// The scrape settings ServiceMonitor endpoints and PodMonitor podMetricsEndpoints share.
const scrapeEndpointFields = {
  port: { type: 'string' },
  path: { type: 'string' },
  scheme: { type: 'string', enum: ['http', 'https'] },
  interval: duration,
  scrapeTimeout: duration,
  honorLabels: { type: 'boolean' },
  relabelings: relabelConfigs,
  metricRelabelings: relabelConfigs,
};

function kind(apiKind: string, spec: object): object {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['apiVersion', 'kind', 'metadata', 'spec'],
    properties: {
      apiVersion: { const: 'monitoring.coreos.com/v1' },
      kind: { const: apiKind },
      metadata: objectMeta,
      spec,
    },
  };
}

const serviceMonitor = kind('ServiceMonitor', {
  type: 'object',
  additionalProperties: false,
  required: ['selector'],
  properties: {
    jobLabel: { type: 'string' },
    selector: labelSelector,
    namespaceSelector: {
      type: 'object',
      additionalProperties: false,
      properties: { any: { type: 'boolean' }, matchNames: { type: 'array', items: { type: 'string' } } },
    },
    endpoints: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          ...scrapeEndpointFields,
          targetPort: { anyOf: [{ type: 'integer' }, { type: 'string' }] },
        },
      },
    },
  },
});

const podMonitor = kind('PodMonitor', {
  type: 'object',
  additionalProperties: false,
  required: ['selector'],
  properties: {
    jobLabel: { type: 'string' },
    selector: labelSelector,
    namespaceSelector: {
      type: 'object',
      additionalProperties: false,
      properties: { any: { type: 'boolean' }, matchNames: { type: 'array', items: { type: 'string' } } },
    },
    podMetricsEndpoints: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, properties: scrapeEndpointFields },
    },
  },
});

const prometheusRule = kind('PrometheusRule', {
  type: 'object',
  additionalProperties: false,
  properties: {
    groups: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', minLength: 1 },
          interval: duration,
          rules: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['expr'],
              properties: {
                alert: { type: 'string' },
                record: { type: 'string' },
                expr: { anyOf: [{ type: 'integer' }, { type: 'string' }] },
                for: duration,
                keep_firing_for: { type: 'string', minLength: 1 },
                labels: stringMap,
                annotations: stringMap,
              },
            },
          },
        },
      },
    },
  },
});

export const prometheusOperatorSchemas: Record<string, object> = {
  'monitoring.coreos.com/v1/ServiceMonitor': serviceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': prometheusRule,
  'monitoring.coreos.com/v1/PodMonitor': podMonitor,
};
