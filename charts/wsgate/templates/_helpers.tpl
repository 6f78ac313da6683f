{{/* Names */}}
{{- define "wsgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "wsgate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "wsgate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "wsgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wsgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "wsgate.labels" -}}
helm.sh/chart: {{ include "wsgate.chart" . }}
{{ include "wsgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: wsgate
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The namespace every namespaced object of the release goes into. */}}
{{- define "wsgate.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "wsgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "wsgate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "wsgate.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* NAMESPACE/NAME of the Service whose address goes into Ingress status. */}}
{{- define "wsgate.publishService" -}}
{{- default (printf "%s/%s" (include "wsgate.namespace" .) (include "wsgate.fullname" .)) .Values.config.publishService -}}
{{- end -}}

{{- define "wsgate.snapshotPath" -}}/run/wsgate/snapshot.json{{- end -}}

{{/* Whole seconds in a wsgate duration (500ms, 5s, 1m, 1h), rounded up. */}}
{{- define "wsgate.seconds" -}}
{{- $text := toString . -}}
{{- $digits := regexFind "^[0-9]+" $text -}}
{{- $unit := trimPrefix $digits $text -}}
{{- $n := int64 $digits -}}
{{- if eq $unit "ms" -}}{{ div (add $n 999) 1000 }}
{{- else if eq $unit "s" -}}{{ $n }}
{{- else if eq $unit "m" -}}{{ mul $n 60 }}
{{- else if eq $unit "h" -}}{{ mul $n 3600 }}
{{- else -}}{{ fail (printf "%q is not a duration such as 500ms, 5s, 1m or 1h" $text) }}
{{- end -}}
{{- end -}}

{{/*
The process exits at the latest shutdownTimeout after SIGTERM (SPEC §8), and never before
shutdownDelay: Kubernetes must not kill it sooner, or open connections lose their 1001.
*/}}
{{- define "wsgate.terminationGracePeriodSeconds" -}}
{{- $timeout := include "wsgate.seconds" .Values.config.shutdownTimeout | int64 -}}
{{- $delay := include "wsgate.seconds" .Values.config.shutdownDelay | int64 -}}
{{- add (max $timeout $delay) .Values.config.terminationGraceExtraSeconds -}}
{{- end -}}

{{/* Flags every wsgate command takes. */}}
{{- define "wsgate.commonArgs" -}}
- --log-level={{ .Values.config.logLevel }}
- --ingress-class={{ .Values.ingressClass.name }}
- --shutdown-delay={{ .Values.config.shutdownDelay }}
- --shutdown-timeout={{ .Values.config.shutdownTimeout }}
{{- with .Values.config.adminBindAddress }}
{{- /* The kubelet probes /healthz and /readyz on the pod IP: a loopback-only admin port fails them. */}}
{{- if or (hasPrefix "127." .) (eq . "::1") (eq . "localhost") }}
{{- fail (printf "config.adminBindAddress %q: the kubelet probes the admin port on the pod IP, so it must listen there (0.0.0.0, ::, or leave it empty); /config is already loopback-only without config.exposeConfig" .) }}
{{- end }}
- {{ printf "--admin-bind-address=%s" . | quote }}
{{- end }}
{{- if .Values.config.exposeConfig }}
- --expose-config
{{- end }}
{{- end -}}

{{/* Flags of the data plane (`proxy`, and `run`). */}}
{{- define "wsgate.proxyArgs" -}}
- --http-port={{ .Values.ports.http }}
- --https-port={{ .Values.ports.https }}
- --admin-port={{ .Values.ports.admin }}
- --header-timeout={{ .Values.config.headerTimeout }}
{{- if gt (int64 .Values.config.workers) 0 }}
- --workers={{ int64 .Values.config.workers }}
{{- end }}
{{- if .Values.config.proxyProtocol.enabled }}
- --proxy-protocol
{{- if .Values.config.proxyProtocol.trustedCidrs }}
- --proxy-protocol-trusted-cidrs={{ join "," .Values.config.proxyProtocol.trustedCidrs }}
{{- end }}
{{- end }}
{{- if not .Values.config.accessLog }}
- --access-log=false
{{- end }}
{{- range .Values.config.extraProxyArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}

{{/* Name of the Secret holding the affinity cookies' key (release namespace); empty: none. */}}
{{- define "wsgate.affinitySecretName" -}}
{{- if .Values.affinityKey.existingSecret -}}
{{- .Values.affinityKey.existingSecret -}}
{{- else if .Values.affinityKey.createSecret -}}
{{- printf "%s-affinity" (include "wsgate.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* Flags of the Kubernetes side (`controller`, and `run`). */}}
{{- define "wsgate.controllerArgs" -}}
- --publish-service={{ include "wsgate.publishService" . }}
- --election-namespace={{ include "wsgate.namespace" . }}
{{- with include "wsgate.affinitySecretName" . }}
- --affinity-secret={{ include "wsgate.namespace" $ }}/{{ . }}
{{- end }}
{{- with .Values.config.watchNamespace }}
- --watch-namespace={{ . }}
{{- end }}
{{- with .Values.config.defaultCertSecret }}
- --default-cert-secret={{ . }}
{{- end }}
{{- range .Values.config.extraControllerArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}

{{- define "wsgate.podEnv" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- end -}}

{{/* Liveness and readiness on the admin port named by the argument. */}}
{{- define "wsgate.probes" -}}
livenessProbe:
  httpGet:
    path: /healthz
    port: {{ . }}
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /readyz
    port: {{ . }}
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 2
startupProbe:
  httpGet:
    path: /healthz
    port: {{ . }}
  periodSeconds: 2
  failureThreshold: 30
{{- end -}}

{{/*
The service-account token, mounted by hand into the one container that talks to the API server
(the pod has automountServiceAccountToken: false), so the internet-facing proxy holds none.
*/}}
{{- define "wsgate.apiTokenMount" -}}
- name: kube-api-access
  mountPath: /var/run/secrets/kubernetes.io/serviceaccount
  readOnly: true
{{- end -}}

{{- define "wsgate.apiTokenVolume" -}}
- name: kube-api-access
  projected:
    # 0444 in decimal: YAML 1.1 and 1.2 read a leading-zero octal differently.
    defaultMode: 292
    sources:
      - serviceAccountToken:
          path: token
          expirationSeconds: 3607
      - configMap:
          name: kube-root-ca.crt
          items:
            - key: ca.crt
              path: ca.crt
      - downwardAPI:
          items:
            - path: namespace
              fieldRef:
                apiVersion: v1
                fieldPath: metadata.namespace
{{- end -}}

{{/* Mebibytes in a Kubernetes memory quantity (512Mi, 1Gi, 1G, 536870912), rounded down. */}}
{{- define "wsgate.mebibytes" -}}
{{- $text := toString . -}}
{{- $digits := regexFind "^[0-9]+" $text -}}
{{- $unit := trimPrefix $digits $text -}}
{{- $n := int64 $digits -}}
{{- $bytes := dict "" 1 "k" 1000 "Ki" 1024 "M" 1000000 "Mi" 1048576 "G" 1000000000 "Gi" 1073741824 "T" 1000000000000 "Ti" 1099511627776 -}}
{{- if not (hasKey $bytes $unit) -}}{{ fail (printf "memory limit %q: use an integer with k, Ki, M, Mi, G, Gi, T or Ti" $text) }}{{- end -}}
{{- div (mul $n (get $bytes $unit)) 1048576 -}}
{{- end -}}

{{/*
NODE_OPTIONS for a container, from its memory limit: V8's default old-space cap ignores the
cgroup limit, so a Node process can grow past it and be OOM-killed instead of collecting. The
cap is heapPercentOfMemoryLimit of the limit, shared by the processes that run in the
container (the proxy's workers; the primary is small and stays in the rest). Empty when there
is no limit, when the percentage is 0, or when extraEnv sets NODE_OPTIONS itself.
Argument: dict "resources" "extraEnv" "processes" "percent".
*/}}
{{- define "wsgate.nodeOptionsEnv" -}}
{{- $limit := dig "limits" "memory" "" .resources -}}
{{- $own := false -}}
{{- range .extraEnv }}{{ if eq .name "NODE_OPTIONS" }}{{ $own = true }}{{ end }}{{ end -}}
{{- if and $limit (gt (int64 .percent) 0) (not $own) -}}
{{- $mib := include "wsgate.mebibytes" $limit | int64 -}}
{{- $heap := div (div (mul $mib (int64 .percent)) 100) (max 1 (int64 .processes)) -}}
- name: NODE_OPTIONS
  value: --max-old-space-size={{ max 16 $heap }}
{{- end -}}
{{- end -}}

{{/* The env of a container: the pod fields, the derived NODE_OPTIONS, then extraEnv. */}}
{{- define "wsgate.containerEnv" -}}
{{- include "wsgate.podEnv" .root }}
{{- with include "wsgate.nodeOptionsEnv" (dict "resources" .resources "extraEnv" .extraEnv "processes" .processes "percent" .root.Values.config.heapPercentOfMemoryLimit) }}
{{ . }}
{{- end }}
{{- with .extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Processes sharing the proxy container's memory: its workers (0: wsgate picks, count 1). */}}
{{- define "wsgate.proxyProcesses" -}}
{{- max 1 (int64 .Values.config.workers) -}}
{{- end -}}

{{/* The pod runs more than one replica (a Deployment with replicas or an HPA above 1). */}}
{{- define "wsgate.manyReplicas" -}}
{{- if eq .Values.kind "Deployment" -}}
{{- if or (and .Values.autoscaling.enabled (gt (int64 .Values.autoscaling.maxReplicas) 1)) (and (not .Values.autoscaling.enabled) (gt (int64 .Values.replicaCount) 1)) -}}true{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Relabelings of the ServiceMonitor and PodMonitor. wsgate's own `namespace` and `service` labels
name the Ingress's backend (SPEC §9); honorLabels keeps them. The target's namespace and pod (the
controller's) are kept under names that cannot collide, as ingress-nginx does; the user's
relabelings come after.
*/}}
{{- define "wsgate.monitorRelabelings" -}}
- sourceLabels: [__meta_kubernetes_namespace]
  targetLabel: controller_namespace
- sourceLabels: [__meta_kubernetes_pod_name]
  targetLabel: controller_pod
{{- with .relabelings }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The scrape settings an endpoint of a ServiceMonitor or PodMonitor shares. */}}
{{- define "wsgate.monitorEndpoint" -}}
path: /metrics
interval: {{ .monitor.interval }}
{{- with .monitor.scrapeTimeout }}
scrapeTimeout: {{ . }}
{{- end }}
honorLabels: {{ .monitor.honorLabels }}
relabelings:
  {{- include "wsgate.monitorRelabelings" .monitor | nindent 2 }}
{{- with .monitor.metricRelabelings }}
metricRelabelings:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
