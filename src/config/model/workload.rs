//! The typed workload of a unit: what runs its pods, with which ports and resources.

use super::{
    Container, EnvFrom, EnvValue, PodSecurityContext, Probes, ScalarString, SecurityContext, Toleration, Volume,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
pub(super) struct WorkloadOverlay {
    kind: Option<WorkloadKind>,
    image: Option<String>,
    command: Option<Vec<String>>,
    args: Option<Vec<String>>,
    working_dir: Option<String>,
    env: Option<BTreeMap<String, Option<EnvValue>>>,
    env_from: Option<Vec<EnvFrom>>,
    ports: Option<Vec<Port>>,
    probes: Option<Probes>,
    resources: Option<Resources>,
    security_context: Option<SecurityContext>,
    volumes: Option<Vec<Volume>>,
    init_containers: Option<Vec<Container>>,
    containers: Option<Vec<Container>>,
    service_account_name: Option<String>,
    pod_security_context: Option<PodSecurityContext>,
    node_selector: Option<BTreeMap<String, Option<ScalarString>>>,
    tolerations: Option<Vec<Toleration>>,
    affinity: Option<serde_json::Map<String, serde_json::Value>>,
    pod_labels: Option<BTreeMap<String, Option<ScalarString>>>,
    pod_annotations: Option<BTreeMap<String, Option<ScalarString>>>,
    replicas: Option<u32>,
    schedule: Option<String>,
    backoff_limit: Option<u32>,
    dev: Option<DevOverride>,
}

/// What runs the unit's pods. A DaemonSet runs one pod on every node its `nodeSelector`,
/// `affinity` and `tolerations` allow, and has no `replicas`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
}

impl WorkloadKind {
    /// The kind named by a Kubernetes object's `kind` (the inverse of [`WorkloadKind::as_str`]).
    pub fn from_kind(kind: &str) -> Option<WorkloadKind> {
        [
            WorkloadKind::Deployment,
            WorkloadKind::StatefulSet,
            WorkloadKind::DaemonSet,
            WorkloadKind::Job,
            WorkloadKind::CronJob,
        ]
        .into_iter()
        .find(|k| k.as_str() == kind)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::Job => "Job",
            WorkloadKind::CronJob => "CronJob",
        }
    }
    /// Jobs and CronJobs run to completion; they get no Service.
    pub fn runs_to_completion(self) -> bool {
        matches!(self, WorkloadKind::Job | WorkloadKind::CronJob)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Workload {
    pub kind: WorkloadKind,
    /// An image name from `images`, or a full reference.
    pub image: String,
    #[serde(default)]
    pub command: Vec<String>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub working_dir: Option<String>,
    /// Environment variables of the main container: a scalar, or `{secretKeyRef}`,
    /// `{configMapKeyRef}` or `{fieldRef}`.
    #[serde(default)]
    pub env: BTreeMap<String, EnvValue>,
    /// Every key of a Secret or ConfigMap as environment variables of the main container.
    #[serde(default)]
    pub env_from: Vec<EnvFrom>,
    #[serde(default)]
    pub ports: Vec<Port>,
    #[serde(default)]
    pub probes: Option<Probes>,
    #[serde(default)]
    pub resources: Option<Resources>,
    /// Security context of the main container.
    #[serde(default)]
    pub security_context: Option<SecurityContext>,
    /// Volumes of the pod, mounted into the main container: a claim the unit owns (no
    /// source), or one of `configMap`, `secret`, `emptyDir`, `claimName`.
    #[serde(default)]
    pub volumes: Vec<Volume>,
    /// Containers run to completion, one after another, before the main container starts.
    #[serde(default)]
    pub init_containers: Vec<Container>,
    /// Sidecars: more containers of the pod, next to the main one (named like the unit).
    #[serde(default)]
    pub containers: Vec<Container>,
    /// ServiceAccount the pods run as. Default: the namespace's `default`.
    #[serde(default)]
    pub service_account_name: Option<String>,
    /// Pod security context. For a pod that mounts the workspace, the workspace's uid, gid
    /// and fsGroup win over `runAsUser`, `runAsGroup` and `fsGroup` set here.
    #[serde(default)]
    pub pod_security_context: Option<PodSecurityContext>,
    /// Node labels a node must have to run the pods.
    #[serde(default)]
    pub node_selector: BTreeMap<String, ScalarString>,
    /// Taints the pods tolerate.
    #[serde(default)]
    pub tolerations: Vec<Toleration>,
    /// A Kubernetes Affinity object (nodeAffinity, podAffinity, podAntiAffinity), passed through
    /// as written.
    #[serde(default)]
    pub affinity: Option<serde_json::Map<String, serde_json::Value>>,
    /// Labels of the pod template, under the chart's own; `app.kubernetes.io/name` and
    /// `app.kubernetes.io/instance` (the selector) are refused.
    #[serde(default)]
    pub pod_labels: BTreeMap<String, ScalarString>,
    /// Annotations of the pod template.
    #[serde(default)]
    pub pod_annotations: BTreeMap<String, ScalarString>,
    /// Deployment and StatefulSet. Default 1.
    #[serde(default)]
    pub replicas: Option<u32>,
    /// CronJob only: cron schedule.
    #[serde(default)]
    pub schedule: Option<String>,
    /// Job and CronJob. Default 2.
    #[serde(default)]
    pub backoff_limit: Option<u32>,
    /// What changes in `dev` runtime (command, args, env, working directory).
    #[serde(default)]
    pub dev: Option<DevOverride>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DevOverride {
    #[serde(default)]
    pub command: Option<Vec<String>>,
    #[serde(default)]
    pub args: Option<Vec<String>>,
    #[serde(default)]
    pub working_dir: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, ScalarString>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Protocol {
    #[serde(rename = "TCP")]
    Tcp,
    #[serde(rename = "UDP")]
    Udp,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Port {
    /// DNS-1123 label, at most 15 characters (a Kubernetes port name).
    pub name: String,
    /// Container port.
    #[schemars(range(min = 1, max = 65535))]
    pub port: u16,
    /// Port of the unit's Service. Default: the container port.
    #[serde(default)]
    #[schemars(range(min = 1, max = 65535))]
    pub service_port: Option<u16>,
    #[serde(default)]
    pub protocol: Option<Protocol>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Resources {
    #[serde(default)]
    pub requests: BTreeMap<String, ScalarString>,
    #[serde(default)]
    pub limits: BTreeMap<String, ScalarString>,
}
