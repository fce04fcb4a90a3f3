{{/* Name of every object of the release. */}}
{{- define "codex-gc.name" -}}
{{- printf "%s-codex-gc" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The app.kubernetes.io labels of every object. */}}
{{- define "codex-gc.labels" -}}
app.kubernetes.io/name: codex-gc
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
