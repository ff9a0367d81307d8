{{/* The chart's name, and the release-qualified name every resource starts with. */}}
{{- define "vibevoice.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "vibevoice.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* A service's resource name: <fullname>-<service>. Call with (dict "root" $ "name" $name). */}}
{{- define "vibevoice.componentName" -}}
{{- printf "%s-%s" (include "vibevoice.fullname" .root) .name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "vibevoice.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The app.kubernetes.io labels of one component. Call with (dict "root" $ "name" $name). */}}
{{- define "vibevoice.labels" -}}
helm.sh/chart: {{ include "vibevoice.chart" .root }}
{{ include "vibevoice.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: vibevoice
{{- end }}

{{- define "vibevoice.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vibevoice.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{/* repository@digest when a digest is given (the build's metadata), else repository:tag. */}}
{{- define "vibevoice.image" -}}
{{- if .digest }}
{{- printf "%s@%s" .repository .digest }}
{{- else }}
{{- printf "%s:%s" .repository (default .appVersion .tag) }}
{{- end }}
{{- end }}

{{/* The environment variable prefix of a service: VIBEVOICE_<NAME>_. */}}
{{- define "vibevoice.envPrefix" -}}
{{- printf "VIBEVOICE_%s_" (. | upper | replace "-" "_") }}
{{- end }}

{{/* The Secret holding a service's bearer tokens: auth.existingSecret, else the chart's own
     <fullname>-<service>-tokens. Call with (dict "root" $ "name" $name "svc" $svc). */}}
{{- define "vibevoice.tokensSecret" -}}
{{- if .svc.auth.existingSecret }}
{{- .svc.auth.existingSecret }}
{{- else }}
{{- printf "%s-tokens" (include "vibevoice.componentName" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* The environment variable (in the helm test pod) that carries a service's token. */}}
{{- define "vibevoice.testTokenEnv" -}}
{{- printf "VIBEVOICE_HELM_TEST_%s_TOKEN" (. | upper | replace "-" "_") }}
{{- end }}
