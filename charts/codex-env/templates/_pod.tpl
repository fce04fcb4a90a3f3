{{/*
Pod template (metadata + spec) shared by Deployment, StatefulSet, Job and
CronJob, so the container block exists once.
Usage: include "codex-env.podTemplate" (dict "root" $ "workload" $w) | nindent N
*/}}
{{- define "codex-env.podTemplate" -}}
{{- $root := .root -}}
{{- $w := .workload -}}
metadata:
  labels:
    {{- include "codex-env.labels" (dict "root" $root "name" $w.name) | nindent 4 }}
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
- global.securityContext is applied to pods that mount the workspace or own
  persistent volumes: files written there get the uid/gid/fsGroup the workspace
  expects, and fsGroup makes a fresh volume's root writable for that identity.
- Unit volumes: a StatefulSet mounts its volumeClaimTemplates by volume name;
  every other kind mounts the PVCs of pvc.yaml ("codex-env.volumeClaimName").
*/}}
{{- define "codex-env.podSpec" -}}
{{- $root := .root -}}
{{- $w := .workload -}}
{{- $g := $root.Values.global -}}
{{- $isJob := has $w.kind (list "Job" "CronJob") -}}
{{- $workspace := dig "workspace" nil $w -}}
{{- $volumes := dig "volumes" list $w -}}
{{- with dig "serviceAccountName" "" $w }}
serviceAccountName: {{ . | quote }}
{{- end }}
{{- if $isJob }}
restartPolicy: Never
{{- end }}
{{- if or $workspace $volumes }}
{{- with $g.securityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
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
      {{- range . }}
      - name: {{ .name | quote }}
        value: {{ .value | quote }}
      {{- end }}
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
    {{- range $field := list "readinessProbe" "livenessProbe" "startupProbe" "resources" "securityContext" }}
    {{- with dig $field dict $w }}
    {{ $field }}:
      {{- toYaml . | nindent 6 }}
    {{- end }}
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
      {{- end }}
    {{- end }}
{{- /* Pod volumes: the workspace claim, plus the unit's own claims except for a
       StatefulSet, whose volumeClaimTemplates provide them per pod. */}}
{{- $podVolumes := list -}}
{{- if $workspace }}
{{- $podVolumes = append $podVolumes (dict "name" "codex-workspace" "persistentVolumeClaim" (dict "claimName" $g.workspace.claimName)) }}
{{- end }}
{{- if ne $w.kind "StatefulSet" }}
{{- range $v := $volumes }}
{{- $claim := include "codex-env.volumeClaimName" (dict "workload" $w "volume" $v) }}
{{- $podVolumes = append $podVolumes (dict "name" $v.name "persistentVolumeClaim" (dict "claimName" $claim)) }}
{{- end }}
{{- end }}
{{- with $podVolumes }}
volumes:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
