{{/*
Pod template (metadata + spec) shared by Deployment, StatefulSet, DaemonSet,
Job and CronJob, so the container block exists once.
podLabels go under the chart's labels: a key the chart sets (the selector
labels above all) keeps the chart's value.
Usage: include "codex-env.podTemplate" (dict "root" $ "workload" $w) | nindent N
*/}}
{{- define "codex-env.podTemplate" -}}
{{- $root := .root -}}
{{- $w := .workload -}}
{{- $labels := include "codex-env.labels" (dict "root" $root "name" $w.name) -}}
{{- with dig "podLabels" dict $w }}
{{- $labels = toYaml (merge ($labels | fromYaml) (deepCopy .)) }}
{{- end -}}
metadata:
  labels:
    {{- $labels | nindent 4 }}
  {{- with dig "podAnnotations" dict $w }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- /* trim: the spec starts with optional fields, i.e. a newline */}}
  {{- include "codex-env.podSpec" . | trim | nindent 2 }}
{{- end }}

{{/*
Pod spec of one unit.
- Job/CronJob pods use restartPolicy Never: a failed attempt stays visible as a
  failed pod and counts against backoffLimit instead of restarting in place.
- Pod securityContext: podSecurityContext, with global.securityContext (the
  workspace identity) merged in for pods that mount the workspace (the identity
  wins: files written there get the uid/gid/fsGroup the workspace expects) or
  own persistent volumes (podSecurityContext wins; fsGroup makes a fresh
  volume's root writable).
- Unit volumes: a StatefulSet mounts its volumeClaimTemplates by volume name;
  every other kind mounts the PVCs of pvc.yaml ("codex-env.volumeClaimName").
  Volumes with a source (configMap, secret, emptyDir, claimName) are pod
  volumes of every kind. The main container mounts every unit volume; init
  containers and sidecars mount what their volumeMounts name.
*/}}
{{- define "codex-env.podSpec" -}}
{{- $root := .root -}}
{{- $w := .workload -}}
{{- $g := $root.Values.global -}}
{{- $isJob := has $w.kind (list "Job" "CronJob") -}}
{{- $workspace := dig "workspace" nil $w -}}
{{- $volumes := dig "volumes" list $w -}}
{{- $ownsClaims := false -}}
{{- range $volumes }}
{{- if eq (include "codex-env.volumeSource" .) "" }}{{ $ownsClaims = true }}{{ end }}
{{- end }}
{{- $podSecurity := deepCopy (dig "podSecurityContext" dict $w) -}}
{{- $identity := deepCopy ($g.securityContext | default dict) -}}
{{- if $workspace }}
{{- $podSecurity = merge $identity $podSecurity }}
{{- else if $ownsClaims }}
{{- $podSecurity = merge $podSecurity $identity }}
{{- end }}
{{- with dig "serviceAccountName" "" $w }}
serviceAccountName: {{ . | quote }}
{{- end }}
{{- if $isJob }}
restartPolicy: Never
{{- end }}
{{- range $field := list "nodeSelector" "tolerations" "affinity" }}
{{- with dig $field nil $w }}
{{ $field }}:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
{{- with include "codex-env.podSecurityContext" (dict "root" $root "own" $podSecurity) }}
securityContext:
  {{- . | nindent 2 }}
{{- end }}
{{- with dig "initContainers" list $w }}
initContainers:
  {{- range . }}
  {{- include "codex-env.extraContainer" (dict "root" $root "container" .) | trim | nindent 2 }}
  {{- end }}
{{- end }}
containers:
  - name: {{ $w.name | quote }}
    image: {{ $w.image | quote }}
    imagePullPolicy: {{ $g.imagePullPolicy }}
    {{- with dig "command" list $w }}
    command:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with dig "args" list $w }}
    args:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with dig "workingDir" "" $w }}
    workingDir: {{ . | quote }}
    {{- end }}
    {{- with dig "env" list $w }}
    env:
      {{- include "codex-env.env" . | trim | nindent 6 }}
    {{- end }}
    {{- with dig "envFrom" list $w }}
    envFrom:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with dig "ports" list $w }}
    ports:
      {{- range . }}
      - name: {{ .name | quote }}
        containerPort: {{ .containerPort | int }}
        protocol: {{ dig "protocol" "TCP" . }}
      {{- end }}
    {{- end }}
    {{- /* Pass-through objects: rendered only when non-empty. */}}
    {{- range $field := list "readinessProbe" "livenessProbe" "startupProbe" "resources" }}
    {{- with dig $field dict $w }}
    {{ $field }}:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- end }}
    {{- with include "codex-env.containerSecurityContext" (dict "root" $root "own" (dig "securityContext" dict $w)) }}
    securityContext:
      {{- . | nindent 6 }}
    {{- end }}
    {{- if or $workspace $volumes }}
    volumeMounts:
      {{- with $workspace }}
      - name: codex-workspace
        mountPath: {{ .mountPath | quote }}
        {{- with dig "subPath" "" . }}
        subPath: {{ . | quote }}
        {{- end }}
        {{- if dig "readOnly" false . }}
        readOnly: true
        {{- end }}
      {{- end }}
      {{- range $volumes }}
      - name: {{ .name | quote }}
        mountPath: {{ .mountPath | quote }}
        {{- with dig "subPath" "" . }}
        subPath: {{ . | quote }}
        {{- end }}
        {{- if dig "readOnly" false . }}
        readOnly: true
        {{- end }}
      {{- end }}
    {{- end }}
  {{- range dig "sidecars" list $w }}
  {{- include "codex-env.extraContainer" (dict "root" $root "container" .) | trim | nindent 2 }}
  {{- end }}
{{- /* Pod volumes: the workspace claim, the unit's volumes with a source, and
       its own claims except for a StatefulSet, whose volumeClaimTemplates
       provide them per pod. */}}
{{- $podVolumes := list -}}
{{- if $workspace }}
{{- $podVolumes = append $podVolumes (dict "name" "codex-workspace" "persistentVolumeClaim" (dict "claimName" $g.workspace.claimName)) }}
{{- end }}
{{- range $v := $volumes }}
{{- $source := include "codex-env.volumeSource" $v }}
{{- if eq $source "configMap" }}
{{- $podVolumes = append $podVolumes (dict "name" $v.name "configMap" (dict "name" $v.configMap)) }}
{{- else if eq $source "secret" }}
{{- $podVolumes = append $podVolumes (dict "name" $v.name "secret" (dict "secretName" $v.secret)) }}
{{- else if eq $source "emptyDir" }}
{{- $podVolumes = append $podVolumes (dict "name" $v.name "emptyDir" ($v.emptyDir | default dict)) }}
{{- else if eq $source "claimName" }}
{{- $podVolumes = append $podVolumes (dict "name" $v.name "persistentVolumeClaim" (dict "claimName" $v.claimName)) }}
{{- else if ne $w.kind "StatefulSet" }}
{{- $claim := include "codex-env.volumeClaimName" (dict "workload" $w "volume" $v) }}
{{- $podVolumes = append $podVolumes (dict "name" $v.name "persistentVolumeClaim" (dict "claimName" $claim)) }}
{{- end }}
{{- end }}
{{- with $podVolumes }}
volumes:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
