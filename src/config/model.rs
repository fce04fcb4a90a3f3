//! The services.yaml format: one typed definition, from which the JSON Schema is also generated.
//!
//! Every struct denies unknown fields, so a typo is an error instead of a silently ignored key.
//! Optional structures use `Option` and "exactly one of" choices are checked in `validate`,
//! not modelled as untagged enums: that keeps the schema's error messages precise.

use crate::plan::phase::Phase;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// The only `apiVersion` this release reads.
pub const API_VERSION: &str = "codex-k8s.dev/v1alpha1";
/// The only `kind` this release reads.
pub const KIND: &str = "ServiceStack";

/// A services.yaml document: the whole inventory of one project.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "kubectl-codex services.yaml")]
pub struct Document {
    /// Format version; must be `codex-k8s.dev/v1alpha1`.
    pub api_version: String,
    /// Must be `ServiceStack`.
    pub kind: String,
    pub project: Project,
    /// Named versions, available to templates as `versions.<name>`.
    #[serde(default)]
    pub versions: BTreeMap<String, ScalarString>,
    /// Environments by name; one may inherit another's settings with `from`.
    pub environments: BTreeMap<String, Environment>,
    /// Images by name; units refer to them by that name.
    #[serde(default)]
    pub images: BTreeMap<String, Image>,
    /// The shared workspace volume of every environment.
    #[serde(default)]
    pub workspace: Option<Workspace>,
    /// The agent job that works inside the environment.
    #[serde(default)]
    pub agent: Option<Agent>,
    /// Stateful dependencies and other infrastructure (phase defaults to `stateful`).
    #[serde(default)]
    pub infrastructure: Vec<Unit>,
    /// The project's own services (phase required).
    #[serde(default)]
    pub services: Vec<Unit>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Project {
    /// DNS-1123 label; used in namespaces, labels and release records.
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// How an environment runs its units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    /// Release images and commands.
    Prod,
    /// Dev image targets, dev commands, sources from the workspace, hot reload.
    Dev,
}

impl Runtime {
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Prod => "prod",
            Runtime::Dev => "dev",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

impl PullPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            PullPolicy::Always => "Always",
            PullPolicy::IfNotPresent => "IfNotPresent",
            PullPolicy::Never => "Never",
        }
    }
}

/// Settings of one environment. Unset fields come from the `from` environment, then defaults.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Environment {
    /// Name of the environment whose settings this one starts from.
    #[serde(default)]
    pub from: Option<String>,
    /// Namespace template, e.g. `{{ project }}-ai-{{ issue }}`. Default `{{ project }}-{{ env }}`.
    #[serde(default)]
    pub namespace: Option<String>,
    /// `prod` or `dev`. Default `prod`.
    #[serde(default)]
    pub runtime: Option<Runtime>,
    /// Idle time after which `gc` may delete the namespace, Go duration syntax. Default `8h`.
    #[serde(default, rename = "idleTTL")]
    pub idle_ttl: Option<String>,
    /// Registry host (and optional path) that built images are pushed to and pulled from.
    #[serde(default)]
    pub registry: Option<String>,
    /// Image pull policy of every workload. Default `IfNotPresent`.
    #[serde(default)]
    pub image_pull_policy: Option<PullPolicy>,
    /// Kinds never rendered in this environment, e.g. `[Ingress]` for slots.
    #[serde(default)]
    pub disable_kinds: Option<Vec<String>>,
}

/// An image: either an existing reference, or a build of ours.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Image {
    /// A complete image reference, e.g. `registry.example/pg:15`.
    #[serde(default, rename = "ref")]
    pub reference: Option<String>,
    /// Build instructions; the image is then `<registry>/<repository>:<tag>`.
    #[serde(default)]
    pub build: Option<Build>,
    /// Repository inside the environment's registry. Default `<project>/<image name>`.
    #[serde(default)]
    pub repository: Option<String>,
    /// Tag. Default: the environment's runtime (`prod` or `dev`).
    #[serde(default)]
    pub tag: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Build {
    /// Build context directory, relative to services.yaml.
    pub context: String,
    /// Dockerfile, relative to the context. Default `Dockerfile`.
    #[serde(default)]
    pub dockerfile: Option<String>,
    /// Dockerfile target per runtime.
    #[serde(default)]
    pub targets: Option<BuildTargets>,
    #[serde(default)]
    pub args: BTreeMap<String, ScalarString>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BuildTargets {
    #[serde(default)]
    pub prod: Option<String>,
    #[serde(default)]
    pub dev: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AccessMode {
    ReadWriteOnce,
    ReadWriteMany,
    ReadOnlyMany,
    ReadWriteOncePod,
}

impl AccessMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessMode::ReadWriteOnce => "ReadWriteOnce",
            AccessMode::ReadWriteMany => "ReadWriteMany",
            AccessMode::ReadOnlyMany => "ReadOnlyMany",
            AccessMode::ReadWriteOncePod => "ReadWriteOncePod",
        }
    }
}

/// The shared workspace PVC: one per namespace, mounted by every unit that declares it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Workspace {
    /// PVC name. Default `codex-workspace`.
    #[serde(default)]
    pub claim_name: Option<String>,
    /// Requested size, a Kubernetes quantity. Default `1Gi`.
    #[serde(default)]
    pub size: Option<String>,
    /// Default `ReadWriteMany`.
    #[serde(default)]
    pub access_mode: Option<AccessMode>,
    /// Empty: the cluster's default StorageClass.
    #[serde(default)]
    pub storage_class_name: Option<String>,
    /// The one identity every pod that mounts the workspace runs as. Defaults 1000.
    #[serde(default)]
    pub uid: Option<u32>,
    #[serde(default)]
    pub gid: Option<u32>,
    #[serde(default)]
    pub fs_group: Option<u32>,
}

/// The agent job: works inside the environment, on the shared workspace.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Agent {
    /// An image name from `images`, or a full reference.
    pub image: String,
    #[serde(default)]
    pub command: Vec<String>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, ScalarString>,
    /// Where the workspace is mounted in the agent. Default `/workspace`, read-write.
    #[serde(default)]
    pub workspace: Option<WorkspaceMount>,
    /// What the agent's ServiceAccount may do in its own namespace (RBAC PolicyRules).
    #[serde(default)]
    pub permissions: Vec<PermissionRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PermissionRule {
    #[serde(default)]
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub verbs: Vec<String>,
}

/// How a running unit picks up a change to its sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CodeUpdateStrategy {
    /// A watcher in the pod rebuilds or reloads from the workspace (dev runtime).
    HotReload,
    /// A new image is built and rolled out.
    Rebuild,
    /// The pod is restarted to pick up the change.
    Restart,
}

/// A unit: one workload (and its Service), deployed in one phase.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Unit {
    /// DNS-1123 label; the workload and its Service take this name.
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Deployment phase. Required for services; infrastructure defaults to `stateful`.
    #[serde(default)]
    pub phase: Option<Phase>,
    /// Units that must be ready first: the same or an earlier phase only.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Template that renders to `true` or `false`; the unit exists only when `true`.
    #[serde(default)]
    pub when: Option<String>,
    pub workload: Workload,
    /// The shared workspace mount of this unit; absent: not mounted.
    #[serde(default)]
    pub workspace: Option<WorkspaceMount>,
    /// Default `restart`.
    #[serde(default)]
    pub code_update_strategy: Option<CodeUpdateStrategy>,
    #[serde(default)]
    pub ingress: Option<Ingress>,
    /// Checks run after the phase is installed, before the next one starts.
    #[serde(default)]
    pub hooks: Option<Hooks>,
    /// Extra manifest files (relative to services.yaml), rendered with tera: an escape hatch.
    #[serde(default)]
    pub manifests: Vec<String>,
    /// Per-environment changes, merged over this unit (JSON merge patch semantics).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, UnitOverlay>")]
    pub overlays: BTreeMap<String, serde_json::Value>,
}

/// The shape of an overlay: any part of a unit, nothing required. Only used for the schema.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
struct UnitOverlay {
    description: Option<String>,
    depends_on: Option<Vec<String>>,
    when: Option<String>,
    workload: Option<WorkloadOverlay>,
    workspace: Option<WorkspaceMount>,
    code_update_strategy: Option<CodeUpdateStrategy>,
    ingress: Option<Ingress>,
    hooks: Option<Hooks>,
    manifests: Option<Vec<String>>,
}

#[derive(JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
struct WorkloadOverlay {
    kind: Option<WorkloadKind>,
    image: Option<String>,
    command: Option<Vec<String>>,
    args: Option<Vec<String>>,
    working_dir: Option<String>,
    env: Option<BTreeMap<String, Option<ScalarString>>>,
    ports: Option<Vec<Port>>,
    probes: Option<Probes>,
    resources: Option<Resources>,
    volumes: Option<Vec<Volume>>,
    replicas: Option<u32>,
    schedule: Option<String>,
    backoff_limit: Option<u32>,
    dev: Option<DevOverride>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    Job,
    CronJob,
}

impl WorkloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
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
    #[serde(default)]
    pub env: BTreeMap<String, ScalarString>,
    #[serde(default)]
    pub ports: Vec<Port>,
    #[serde(default)]
    pub probes: Option<Probes>,
    #[serde(default)]
    pub resources: Option<Resources>,
    /// Persistent volumes owned by this unit.
    #[serde(default)]
    pub volumes: Vec<Volume>,
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
pub struct Probes {
    #[serde(default)]
    pub readiness: Option<Probe>,
    #[serde(default)]
    pub liveness: Option<Probe>,
    #[serde(default)]
    pub startup: Option<Probe>,
}

/// A Kubernetes probe without shell: an HTTP GET or a TCP connect.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Probe {
    #[serde(default)]
    pub http: Option<HttpCheck>,
    #[serde(default)]
    pub tcp: Option<TcpCheck>,
    #[serde(default)]
    pub initial_delay_seconds: Option<u32>,
    #[serde(default)]
    pub period_seconds: Option<u32>,
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
    #[serde(default)]
    pub failure_threshold: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HttpCheck {
    /// Request path, starting with `/`.
    pub path: String,
    /// A container port number, or the name of one of the unit's ports.
    pub port: PortRef,
    /// Expected status code (hooks only). Default 200.
    #[serde(default)]
    pub expect_status: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TcpCheck {
    pub port: PortRef,
}

/// A port given by number or by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum PortRef {
    Number(u16),
    Name(String),
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Resources {
    #[serde(default)]
    pub requests: BTreeMap<String, ScalarString>,
    #[serde(default)]
    pub limits: BTreeMap<String, ScalarString>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Volume {
    pub name: String,
    /// Absolute path in the container.
    pub mount_path: String,
    #[serde(default)]
    pub sub_path: Option<String>,
    /// A Kubernetes quantity. Default `1Gi`.
    #[serde(default)]
    pub size: Option<String>,
    /// Default `ReadWriteOnce`.
    #[serde(default)]
    pub access_mode: Option<AccessMode>,
    #[serde(default)]
    pub storage_class_name: Option<String>,
}

/// Where and how a unit mounts the shared workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkspaceMount {
    /// Absolute path in the container. Default `/workspace`.
    #[serde(default)]
    pub mount_path: Option<String>,
    /// Relative directory of the workspace to mount; empty: all of it.
    #[serde(default)]
    pub sub_path: Option<String>,
    /// Explicit: every mount states whether it may write.
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Ingress {
    pub host: String,
    #[serde(default)]
    pub path: Option<String>,
    /// Name of one of the unit's ports. Default: the first port.
    #[serde(default)]
    pub port: Option<String>,
    #[serde(default)]
    pub class_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Hooks {
    /// Typed readiness checks (no shell): all must pass before the next phase starts.
    #[serde(default)]
    pub readiness: Vec<Hook>,
}

/// One readiness check; exactly one of `http`, `tcp`, `job`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Hook {
    /// GET through the unit's Service until the expected status answers.
    #[serde(default)]
    pub http: Option<HttpCheck>,
    /// Connect to the unit's Service port.
    #[serde(default)]
    pub tcp: Option<TcpCheck>,
    /// Run a one-off Job and require it to succeed.
    #[serde(default)]
    pub job: Option<JobCheck>,
    /// Give up after this long (Go duration). Default `2m`.
    #[serde(default)]
    pub timeout: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JobCheck {
    /// An image name from `images`, or a full reference.
    pub image: String,
    #[serde(default)]
    pub command: Vec<String>,
    #[serde(default)]
    pub args: Vec<String>,
}

/// A scalar read as text: `PORT: 8080` and `PORT: "8080"` mean the same thing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[schemars(with = "ScalarStringSchema")]
pub struct ScalarString(pub String);

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum ScalarStringSchema {
    Text(String),
    Number(f64),
    Flag(bool),
}

impl<'de> Deserialize<'de> for ScalarString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(s) => Ok(ScalarString(s)),
            serde_json::Value::Number(n) => Ok(ScalarString(n.to_string())),
            serde_json::Value::Bool(b) => Ok(ScalarString(b.to_string())),
            other => Err(serde::de::Error::custom(format!("expected a string, number or boolean, found {other}"))),
        }
    }
}

impl ScalarString {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
