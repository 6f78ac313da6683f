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
{{- default (printf "%s/%s" .Release.Namespace (include "wsgate.fullname" .)) .Values.config.publishService -}}
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
{{- range .Values.config.extraProxyArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}

{{/* Flags of the Kubernetes side (`controller`, and `run`). */}}
{{- define "wsgate.controllerArgs" -}}
- --publish-service={{ include "wsgate.publishService" . }}
- --election-namespace={{ .Release.Namespace }}
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
