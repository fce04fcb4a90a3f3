//! The values contract of `charts/codex-env`, as types: what `kubectl codex render` writes
//! for each phase, and (through [`super::schema`]) the chart's `values.schema.json`.
//!
//! The field order is the order of the written YAML, which the values digest covers: a
//! reordered field changes every environment's digest and re-installs every phase. Fields
//! with `skip_serializing_if` are written only when set, so that a stack using none of them
//! keeps the values (and Job names) it had before they existed. A few fields are part of the
//! contract for plain `helm install` only and never written by kubectl-codex
//! (`configMaps` items, `isolation.dns`, `global.workspace.create: true`).
//!
//! Each struct states its schema's `required` keys itself: what a hand-written values file
//! must give, which is less than what kubectl-codex always writes.

use super::schema::{
    DnsLabel, DnsSubdomain, EnvVarSource, KubeObject, LabelMap, ManifestObject, MountPath, NonEmptyLabelValue,
    NonEmptyString, PortName, Protocol, Quantity, QuantityMap, SecretData, Secrets, StringMap, VolumeName,
};
pub use super::shapes::{OrEmpty, Ordered};
use crate::config::isolation::PodSecurityLevel;
use crate::config::model::{
    AccessMode, EmptyDir, EnvSource, PodSecurityContext, PortRef, PullPolicy, Runtime, SecurityContext, Toleration,
    WorkloadKind,
};
use crate::config::phase::Phase;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Values contract of the codex-env chart (docs/chart-values.md).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(
    deny_unknown_fields,
    title = "codex-env values",
    extend("required" = ["global", "configMaps", "workloads", "extraManifests"])
)]
pub struct ChartValues {
    pub global: Global,
    /// Plain ConfigMaps, e.g. rendered config files (kubectl-codex writes none).
    pub config_maps: Vec<ConfigMapValues>,
    /// The units of this phase. Empty: the release renders no workload.
    pub workloads: Vec<WorkloadValues>,
    /// Full Kubernetes objects rendered as-is, with the chart's labels added.
    #[schemars(with = "Vec<ManifestObject>")]
    pub extra_manifests: Vec<Value>,
    /// Secrets by name (kubectl-codex: services.yaml `secrets`, in the first phase). data: base64
    /// values by key, as a Secret's data; digest: the content's salted digest, put on the Secret as
    /// codex-k8s.dev/content-digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Secrets")]
    pub secrets: Option<Ordered<SecretValues>>,
    /// The namespace's NetworkPolicy, ResourceQuota and LimitRange (kubectl-codex: the first
    /// phase only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "IsolationValues")]
    pub isolation: Option<IsolationValues>,
    /// `helm test` (templates/tests): kubectl-codex writes none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "TestValues")]
    pub tests: Option<TestValues>,
}

/// The `helm test` Pod, rendered only with an image.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "tests", deny_unknown_fields, transform = super::schema::nothing_required)]
pub struct TestValues {
    /// An image with `sh` and `nc` (e.g. busybox); empty: no test.
    pub image: String,
    /// The test Pod's ResourceRequirements.
    #[schemars(with = "KubeObject")]
    pub resources: Value,
}

/// What every object of the release shares.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(
    rename = "global",
    deny_unknown_fields,
    extend("required" = ["project", "env", "phase", "runtime", "labels", "imagePullPolicy", "securityContext", "workspace"])
)]
pub struct Global {
    /// Project name; becomes the `app.kubernetes.io/part-of` label.
    #[schemars(with = "NonEmptyLabelValue")]
    pub project: String,
    /// Environment name (e.g. dev, review-42).
    #[schemars(with = "NonEmptyLabelValue")]
    pub env: String,
    /// Slot the environment belongs to; may be empty.
    pub slot: String,
    /// Issue the environment belongs to; may be empty.
    pub issue: String,
    /// Phase this release deploys; becomes the `app.kubernetes.io/component` and
    /// `codex-k8s.dev/phase` labels.
    pub phase: Phase,
    /// Runtime flavour of the images.
    pub runtime: Runtime,
    /// Extra labels put on every object; never over the chart's own.
    #[schemars(with = "LabelMap")]
    pub labels: Ordered<String>,
    /// Pull policy of every container.
    pub image_pull_policy: PullPolicy,
    /// Pod Security level the namespace enforces. restricted: every pod and container gets the
    /// restricted profile's settings as defaults (runAsNonRoot, seccomp RuntimeDefault, no
    /// privilege escalation, all capabilities dropped); a unit's own securityContext wins.
    pub pod_security: PodSecurityLevel,
    /// Pod-level; applied to every pod that mounts the workspace.
    #[schemars(with = "KubeObject")]
    pub security_context: WorkspaceIdentity,
    pub workspace: WorkspaceClaim,
}

/// The workspace identity: the owner of files written to the workspace.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceIdentity {
    pub run_as_user: u32,
    pub run_as_group: u32,
    pub fs_group: u32,
}

/// The shared source workspace claim.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "workspaceClaim", deny_unknown_fields)]
pub struct WorkspaceClaim {
    /// PVC name mounted by units that set `workspace`.
    #[schemars(with = "DnsSubdomain")]
    pub claim_name: String,
    /// true: this release creates the PVC (plain helm use); kubectl-codex creates it itself.
    pub create: bool,
    #[schemars(with = "Quantity")]
    pub size: String,
    pub access_mode: AccessMode,
    /// Empty: the cluster's default StorageClass.
    pub storage_class_name: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "configMap", deny_unknown_fields, extend("required" = ["name"]))]
pub struct ConfigMapValues {
    #[schemars(with = "DnsSubdomain")]
    pub name: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "StringMap")]
    pub data: BTreeMap<String, String>,
}

/// One unit's workload.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(
    rename = "workload",
    deny_unknown_fields,
    extend("required" = ["name", "kind", "image"]),
    extend("allOf" = [
        {
            "description": "A CronJob needs a schedule.",
            "if": {"properties": {"kind": {"const": "CronJob"}}},
            "then": {"required": ["schedule"], "properties": {"schedule": {"minLength": 1}}}
        },
        {
            "description": "An Ingress routes to the unit's Service: a Deployment, StatefulSet or DaemonSet with ports.",
            "if": {"required": ["ingress"], "properties": {"ingress": {"type": "object"}}},
            "then": {
                "required": ["ports"],
                "properties": {
                    "kind": {"enum": ["Deployment", "StatefulSet", "DaemonSet"]},
                    "ports": {"minItems": 1}
                }
            }
        }
    ])
)]
pub struct WorkloadValues {
    /// Unit name; also the Service name.
    #[schemars(with = "DnsLabel")]
    pub name: String,
    /// Object name; default: name. For Jobs kubectl-codex appends a spec digest.
    #[schemars(with = "DnsLabel")]
    pub resource_name: String,
    pub kind: WorkloadKind,
    /// Deployment, StatefulSet (ignored otherwise).
    pub replicas: u32,
    /// CronJob only.
    pub schedule: String,
    /// Job, CronJob.
    pub backoff_limit: u32,
    /// Job, CronJob; 0 = unset.
    pub active_deadline_seconds: u32,
    #[schemars(with = "NonEmptyString")]
    pub image: String,
    /// Empty: the image's entrypoint.
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub working_dir: String,
    pub env: Vec<EnvVar>,
    /// Non-empty: a Service named `name` (not for Job and CronJob).
    pub ports: Vec<ServicePort>,
    #[schemars(with = "KubeObject")]
    pub readiness_probe: ProbeValues,
    #[schemars(with = "KubeObject")]
    pub liveness_probe: ProbeValues,
    #[schemars(with = "KubeObject")]
    pub startup_probe: ProbeValues,
    #[schemars(with = "KubeObject")]
    pub resources: ResourcesValues,
    /// Container-level, passed through; `{}` = none.
    #[schemars(with = "KubeObject")]
    pub security_context: OrEmpty<SecurityContext>,
    #[schemars(with = "StringMap")]
    pub pod_annotations: BTreeMap<String, String>,
    /// Empty: the namespace's default.
    pub service_account_name: String,
    pub volumes: Vec<VolumeValues>,
    /// null: the workspace PVC is not mounted.
    pub workspace: Option<WorkspaceMountValues>,
    /// null: no Ingress.
    pub ingress: Option<IngressValues>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env_from: Vec<EnvFromValues>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub init_containers: Vec<ContainerValues>,
    /// Containers next to the main one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sidecars: Vec<ContainerValues>,
    /// Pod-level; merged with global.securityContext (which wins) for pods that mount the
    /// workspace, over it for pods that own claims.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "KubeObject")]
    pub pod_security_context: Option<PodSecurityContext>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "StringMap")]
    pub node_selector: BTreeMap<String, String>,
    /// Kubernetes Tolerations, passed through.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<KubeObject>")]
    pub tolerations: Vec<Toleration>,
    /// A Kubernetes Affinity, passed through.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "KubeObject")]
    pub affinity: Option<serde_json::Map<String, Value>>,
    /// Pod template labels, under the chart's own (which win).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "LabelMap")]
    pub pod_labels: BTreeMap<String, String>,
}

/// A plain value (always rendered quoted) or a value taken from elsewhere.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(
    rename = "envVar",
    deny_unknown_fields,
    extend("required" = ["name"]),
    extend("oneOf" = [{"required": ["value"]}, {"required": ["valueFrom"]}])
)]
pub struct EnvVar {
    #[schemars(with = "NonEmptyString")]
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "EnvVarSource")]
    pub value_from: Option<EnvSource>,
}

/// A Kubernetes EnvFromSource: every key of a Secret or a ConfigMap.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(
    rename = "envFrom",
    deny_unknown_fields,
    transform = super::schema::nothing_required,
    extend("oneOf" = [{"required": ["secretRef"]}, {"required": ["configMapRef"]}])
)]
pub struct EnvFromValues {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "EnvFromRef")]
    pub secret_ref: Option<EnvFromRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "EnvFromRef")]
    pub config_map_ref: Option<EnvFromRef>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "envFromRef", deny_unknown_fields, extend("required" = ["name"]))]
pub struct EnvFromRef {
    #[schemars(with = "DnsSubdomain")]
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub optional: Option<bool>,
}

/// A port of the main container, published by the unit's Service.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "port", deny_unknown_fields, extend("required" = ["name", "containerPort"]))]
pub struct ServicePort {
    /// IANA service name: also the Service port name and targetPort.
    #[schemars(with = "PortName")]
    pub name: String,
    #[schemars(range(min = 1, max = 65535))]
    pub container_port: u16,
    /// Default: containerPort.
    #[schemars(range(min = 1, max = 65535))]
    pub service_port: u16,
    #[schemars(with = "Protocol", extend("default" = "TCP"))]
    pub protocol: &'static str,
}

/// A Kubernetes Probe; `{}` = none.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeValues {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_get: Option<HttpGet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_socket: Option<TcpSocket>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_delay_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_threshold: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HttpGet {
    pub path: String,
    pub port: PortRef,
}

#[derive(Debug, Clone, Serialize)]
pub struct TcpSocket {
    pub port: PortRef,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExecAction {
    pub command: Vec<String>,
}

/// Kubernetes ResourceRequirements; `{}` = none.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ResourcesValues {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub requests: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<String, String>,
}

/// A unit volume: a claim the workload owns (size, accessMode, storageClassName), or one
/// source (configMap, secret, emptyDir, claimName).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(
    rename = "volume",
    deny_unknown_fields,
    extend("required" = ["name", "mountPath"]),
    extend("allOf" = [
        {
            "description": "At most one source.",
            "not": {"anyOf": [
                {"required": ["configMap", "secret"]},
                {"required": ["configMap", "emptyDir"]},
                {"required": ["configMap", "claimName"]},
                {"required": ["secret", "emptyDir"]},
                {"required": ["secret", "claimName"]},
                {"required": ["emptyDir", "claimName"]}
            ]}
        },
        {
            "description": "Without a source the volume is an owned claim, which needs a size; with one, the claim fields do not apply.",
            "if": {"not": {"anyOf": [
                {"required": ["configMap"]},
                {"required": ["secret"]},
                {"required": ["emptyDir"]},
                {"required": ["claimName"]}
            ]}},
            "then": {"required": ["size"]},
            "else": {"properties": {"size": false, "accessMode": false, "storageClassName": false}}
        }
    ])
)]
pub struct VolumeValues {
    /// Volume name; codex-workspace is reserved for the workspace mount.
    #[schemars(with = "VolumeName")]
    pub name: String,
    #[schemars(with = "MountPath")]
    pub mount_path: String,
    pub sub_path: String,
    /// An owned claim's size.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Quantity")]
    pub size: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "AccessMode", extend("default" = "ReadWriteOnce"))]
    pub access_mode: Option<AccessMode>,
    /// Empty: the cluster default.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub storage_class_name: Option<String>,
    /// Source: a ConfigMap of this name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "DnsSubdomain")]
    pub config_map: Option<String>,
    /// Source: a Secret of this name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "DnsSubdomain")]
    pub secret: Option<String>,
    /// Source: a Kubernetes EmptyDirVolumeSource.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "super::schema::EmptyDirSource")]
    pub empty_dir: Option<EmptyDir>,
    /// Source: an existing PersistentVolumeClaim (not created).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "DnsSubdomain")]
    pub claim_name: Option<String>,
    /// Mount read-only; written only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

/// Where the workload mounts the workspace PVC.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "workspaceMount", deny_unknown_fields, extend("required" = ["mountPath"]))]
pub struct WorkspaceMountValues {
    #[schemars(with = "MountPath")]
    pub mount_path: String,
    pub sub_path: String,
    pub read_only: bool,
}

/// The unit's Ingress.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "ingress", deny_unknown_fields, transform = super::schema::nothing_required)]
pub struct IngressValues {
    /// Empty: every host.
    pub host: String,
    /// Prefix path; empty or default: /.
    #[schemars(regex(pattern = r"^(/.*)?$"))]
    pub path: String,
    /// Name of the unit port to route to; empty: the first port.
    pub port: String,
    /// Empty: the cluster's default IngressClass.
    pub class_name: String,
}

/// An init container or sidecar; fields are passed through in the Kubernetes Container shape.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "container", deny_unknown_fields, extend("required" = ["name", "image"]))]
pub struct ContainerValues {
    /// Unique among the pod's containers; not the workload's name.
    #[schemars(with = "DnsLabel")]
    pub name: String,
    #[schemars(with = "NonEmptyString")]
    pub image: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub working_dir: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env_from: Vec<EnvFromValues>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ContainerPortValues>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "KubeObject")]
    pub resources: Option<ResourcesValues>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "KubeObject")]
    pub security_context: Option<SecurityContext>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMountValues>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "containerPort", deny_unknown_fields, extend("required" = ["name", "containerPort"]))]
pub struct ContainerPortValues {
    #[schemars(with = "PortName")]
    pub name: String,
    #[schemars(range(min = 1, max = 65535))]
    pub container_port: u16,
    #[schemars(with = "Protocol")]
    pub protocol: &'static str,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "volumeMount", deny_unknown_fields, extend("required" = ["name", "mountPath"]))]
pub struct VolumeMountValues {
    /// One of the workload's volumes.
    #[schemars(with = "DnsLabel")]
    pub name: String,
    #[schemars(with = "MountPath")]
    pub mount_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub sub_path: Option<String>,
    /// Written only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

/// One Secret of `secrets`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "secret", deny_unknown_fields, transform = super::schema::nothing_required)]
pub struct SecretValues {
    pub digest: String,
    #[schemars(with = "SecretData")]
    pub data: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "isolation", deny_unknown_fields, transform = super::schema::nothing_required)]
pub struct IsolationValues {
    pub network_policy: NetworkPolicyValues,
    /// Where cluster DNS runs (the chart's default; kubectl-codex writes none).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "DnsValues")]
    pub dns: Option<DnsValues>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "QuotaValues")]
    pub quota: Option<QuotaValues>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "LimitRangeValues")]
    pub limit_range: Option<LimitRangeValues>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "networkPolicy", deny_unknown_fields, transform = super::schema::nothing_required)]
pub struct NetworkPolicyValues {
    /// true: one NetworkPolicy over every pod.
    pub enabled: bool,
    /// Who may connect besides the namespace; written only when services.yaml lists peers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<PeerValues>,
    /// Besides the namespace and cluster DNS.
    pub egress: Vec<PeerValues>,
}

/// An IP block, another environment's namespace, or a namespace by name.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "peer", deny_unknown_fields)]
pub enum PeerValues {
    Cidr { cidr: String },
    Environment { environment: String, namespace: String },
    Namespace { namespace: String },
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "dns", deny_unknown_fields)]
pub struct DnsValues {
    pub namespace: String,
    #[schemars(with = "StringMap")]
    pub pod_labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "quota", deny_unknown_fields, transform = super::schema::nothing_required)]
pub struct QuotaValues {
    /// ResourceQuota `spec.hard`.
    #[schemars(with = "StringMap")]
    pub hard: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "limitRange", deny_unknown_fields, extend("required" = ["defaultRequest"]))]
pub struct LimitRangeValues {
    #[schemars(with = "QuantityMap")]
    pub default_request: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "QuantityMap")]
    pub default: Option<BTreeMap<&'static str, String>>,
}
