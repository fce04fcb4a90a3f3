{{/*
Chart name. Also the app.kubernetes.io/name of objects that belong to no unit
(ConfigMaps, the workspace PVC, extraManifests).
*/}}
{{- define "codex-env.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Chart name and version, as used by the helm.sh/chart label.
*/}}
{{- define "codex-env.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Object name of a workload: resourceName, or the unit name when it is not set
(kubectl-codex always sets it; for Jobs it carries a spec digest).
Usage: include "codex-env.resourceName" $workload
*/}}
{{- define "codex-env.resourceName" -}}
{{- dig "resourceName" "" . | default .name }}
{{- end }}

{{/*
Selector labels. Deployment and StatefulSet selectors are immutable, so they
hold only what never changes for a unit within a release.
Usage: include "codex-env.selectorLabels" (dict "root" $ "name" $unitName)
*/}}
{{- define "codex-env.selectorLabels" -}}
app.kubernetes.io/name: {{ .name | quote }}
app.kubernetes.io/instance: {{ .root.Release.Name | quote }}
{{- end }}

{{/*
Labels that stay the same across upgrades of a release: the selector labels
plus project and phase. Used where Kubernetes forbids later changes
(StatefulSet volumeClaimTemplates).
Usage: include "codex-env.stableLabels" (dict "root" $ "name" $unitName)
*/}}
{{- define "codex-env.stableLabels" -}}
{{ include "codex-env.selectorLabels" . }}
app.kubernetes.io/part-of: {{ .root.Values.global.project | quote }}
app.kubernetes.io/component: {{ .root.Values.global.phase | quote }}
codex-k8s.dev/phase: {{ .root.Values.global.phase | quote }}
{{- end }}

{{/*
The label set every object carries (metadata and pod templates, never
selectors): global.labels first, then the chart's own labels on top, so a global label can never break a selector or produce a
duplicate key. Emitted via toYaml (sorted keys, values quoted as needed);
extra-manifests.yaml reads it back with fromYaml.
Usage: include "codex-env.labels" (dict "root" $ "name" $unitName)
*/}}
{{- define "codex-env.labels" -}}
{{- $root := .root -}}
{{- $own := dict
  "app.kubernetes.io/name" .name
  "app.kubernetes.io/instance" $root.Release.Name
  "app.kubernetes.io/part-of" $root.Values.global.project
  "app.kubernetes.io/component" $root.Values.global.phase
  "app.kubernetes.io/managed-by" $root.Release.Service
  "helm.sh/chart" (include "codex-env.chart" $root)
  "codex-k8s.dev/phase" $root.Values.global.phase
-}}
{{- /* As helm create has it; never in a selector (selectors are immutable, the
       version is not). */}}
{{- with $root.Chart.AppVersion }}
{{- $_ := set $own "app.kubernetes.io/version" . }}
{{- end }}
{{- toYaml (merge $own (deepCopy ($root.Values.global.labels | default dict))) }}
{{- end }}

{{/*
Service ports of a unit: servicePort (default: containerPort) forwards to the
container port by name.
Usage: include "codex-env.servicePorts" $ports
*/}}
{{- define "codex-env.servicePorts" -}}
{{- range . }}
- name: {{ .name | quote }}
  port: {{ dig "servicePort" .containerPort . | int }}
  targetPort: {{ .name | quote }}
  protocol: {{ dig "protocol" "TCP" . }}
{{- end }}
{{- end }}

{{/*
Name of the PVC behind a unit volume that is not a StatefulSet
volumeClaimTemplate: <resourceName>-<volume.name> for a Deployment, and
<name>-<volume.name> for a Job or CronJob, whose resourceName changes with its
spec digest while its data must stay on the same claim.
Usage: include "codex-env.volumeClaimName" (dict "workload" $w "volume" $v)
*/}}
{{- define "codex-env.volumeClaimName" -}}
{{- $base := .workload.name -}}
{{- if has .workload.kind (list "Deployment" "DaemonSet") }}{{ $base = include "codex-env.resourceName" .workload }}{{ end -}}
{{- printf "%s-%s" $base .volume.name }}
{{- end }}

{{/*
Source of a unit volume: "configMap", "secret", "emptyDir" or "claimName" (an
existing claim), by the key the volume sets; "" for a claim the unit owns
(pvc.yaml, or a StatefulSet volumeClaimTemplate). The schema allows one at most.
Usage: include "codex-env.volumeSource" $volume
*/}}
{{- define "codex-env.volumeSource" -}}
{{- $volume := . -}}
{{- range $key := list "configMap" "secret" "emptyDir" "claimName" }}
{{- if hasKey $volume $key }}{{ $key }}{{ end }}
{{- end }}
{{- end }}

{{/*
PersistentVolumeClaim spec of a claim (a unit's owned volume, a StatefulSet
volumeClaimTemplate, the workspace): its accessMode, storageClassName (empty:
the cluster's default) and size.
The ReadWriteOnce default serves hand-written values only: kubectl-codex always
writes the accessMode (its own default, the same, lives in src/values).
Usage: include "codex-env.claimSpec" $claim | nindent N
*/}}
{{- define "codex-env.claimSpec" -}}
accessModes:
  - {{ dig "accessMode" "ReadWriteOnce" . }}
{{- with dig "storageClassName" "" . }}
storageClassName: {{ . | quote }}
{{- end }}
resources:
  requests:
    storage: {{ .size | quote }}
{{- end }}

{{/*
Spec of a Job, also a CronJob's jobTemplate spec: retries, deadline, pod template.
The backoffLimit default serves hand-written values only: kubectl-codex always
writes it, and its default (services.yaml's, 2) is this one.
Usage: include "codex-env.jobSpec" (dict "root" $ "workload" $w) | nindent N
*/}}
{{- define "codex-env.jobSpec" -}}
backoffLimit: {{ dig "backoffLimit" 2 .workload | int }}
{{- with dig "activeDeadlineSeconds" 0 .workload | int }}
activeDeadlineSeconds: {{ . }}
{{- end }}
template:
  {{- include "codex-env.podTemplate" . | nindent 2 }}
{{- end }}

{{/*
Container env entries: {name, value} renders value as a quoted string,
{name, valueFrom} passes the Kubernetes EnvVarSource through.
Usage: include "codex-env.env" $envList | trim | nindent N
*/}}
{{- define "codex-env.env" -}}
{{- range . }}
- name: {{ .name | quote }}
  {{- if hasKey . "valueFrom" }}
  valueFrom:
    {{- toYaml .valueFrom | nindent 4 }}
  {{- else }}
  value: {{ .value | quote }}
  {{- end }}
{{- end }}
{{- end }}

{{/*
An init container or sidecar: name, image and the global pull policy, then its
fields as given (empty ones left out).
Usage: include "codex-env.extraContainer" (dict "root" $ "container" $c) | trim | nindent N
*/}}
{{- define "codex-env.extraContainer" -}}
{{- $c := .container -}}
- name: {{ $c.name | quote }}
  image: {{ $c.image | quote }}
  imagePullPolicy: {{ .root.Values.global.imagePullPolicy }}
  {{- with dig "command" list $c }}
  command:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with dig "args" list $c }}
  args:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with dig "workingDir" "" $c }}
  workingDir: {{ . | quote }}
  {{- end }}
  {{- with dig "env" list $c }}
  env:
    {{- include "codex-env.env" . | trim | nindent 4 }}
  {{- end }}
  {{- range $field := list "envFrom" "ports" "resources" }}
  {{- with dig $field nil $c }}
  {{ $field }}:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- end }}
  {{- with include "codex-env.containerSecurityContext" (dict "root" .root "own" (dig "securityContext" dict $c)) }}
  securityContext:
    {{- . | nindent 4 }}
  {{- end }}
  {{- with dig "volumeMounts" nil $c }}
  volumeMounts:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/*
Pod Security "restricted" defaults (global.podSecurity: restricted), under what
the unit states (its own settings win, so a unit can still say what it needs):
- pod: runAsNonRoot, seccomp RuntimeDefault;
- every container: no privilege escalation, every capability dropped.
The restricted profile also wants a non-root UID: images that name a user by
name only need runAsUser (the workspace identity gives it to workspace pods).
Usage: include "codex-env.podSecurityContext" (dict "root" $ "own" $podSecurity)
       include "codex-env.containerSecurityContext" (dict "root" $ "own" $sc)
Both render the YAML body, or nothing when it is empty.
*/}}
{{- define "codex-env.podSecurityContext" -}}
{{- $own := deepCopy (.own | default dict) -}}
{{- if eq (.root.Values.global.podSecurity | default "restricted") "restricted" }}
{{- $own = merge $own (dict "runAsNonRoot" true "seccompProfile" (dict "type" "RuntimeDefault")) }}
{{- end }}
{{- with $own }}{{ toYaml . }}{{ end }}
{{- end }}

{{- define "codex-env.containerSecurityContext" -}}
{{- $own := deepCopy (.own | default dict) -}}
{{- if eq (.root.Values.global.podSecurity | default "restricted") "restricted" }}
{{- $own = merge $own (dict "allowPrivilegeEscalation" false "capabilities" (dict "drop" (list "ALL"))) }}
{{- end }}
{{- with $own }}{{ toYaml . }}{{ end }}
{{- end }}
