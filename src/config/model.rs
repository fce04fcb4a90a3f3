//! The services.yaml format: one typed definition, from which the JSON Schema is also generated.
//!
//! Every struct denies unknown fields, so a typo is an error instead of a silently ignored key.
//! Optional structures use `Option` and "exactly one of" choices are checked in `validate`,
//! not modelled as untagged enums: that keeps the schema's error messages precise.

use crate::config::phase::Phase;
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
    /// Values given when a command runs, read by templates as `inputs.<name>`: set by
    /// `--set name=value`, a `--values-file`, `CODEX_INPUT_<NAME>` or the default, in that order.
    #[serde(default)]
    pub inputs: BTreeMap<String, super::inputs::Input>,
    /// Secrets created in the environment's namespace in its first phase; units read them with
    /// env `{ secret: NAME, key: KEY }` or `envFrom: [{ secret: NAME }]`.
    #[serde(default)]
    pub secrets: BTreeMap<String, super::secrets::Secret>,
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
    /// Shared unit defaults by name: partial units (any unit field but `name`) that units
    /// start from when their `use` names them. Merged into the units while loading.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "BTreeMap<String, ComponentSchema>")]
    pub components: BTreeMap<String, serde_json::Value>,
    /// Other YAML files (paths or globs, relative to this file) deep-merged under this one:
    /// maps merge, lists and scalars replace, this file wins. Merged while loading.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imports: Vec<String>,
}

/// The schema of a component: a partial unit. `schema::schema()` replaces this placeholder by
/// the unit's own schema with `name` left out and every field reached through mappings
/// optional (see `schema::partial_unit`).
pub struct ComponentSchema;

impl JsonSchema for ComponentSchema {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Component".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "object" })
    }
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
    /// Cluster-scoped kinds (ClusterRole, StorageClass, CustomResourceDefinition, …) that units'
    /// manifests may install in this environment; `["*"]` allows every kind. Default: none.
    /// Such objects are shared by every environment of the cluster: see
    /// docs/services-yaml.md#cluster-scoped-objects for how they are owned and removed.
    #[serde(default)]
    pub allow_cluster_scoped: Option<Vec<String>>,
    /// Pod Security level the namespace enforces: `restricted` (default), `baseline` or
    /// `privileged`. Lower it only for units that cannot run restricted.
    #[serde(default)]
    pub pod_security: Option<super::isolation::PodSecurityLevel>,
    /// Who may open connections to the pods besides their own namespace: CIDRs
    /// (`10.20.0.0/16`), names of other environments of this file, or `namespace/<name>` for a
    /// namespace kubectl-codex does not manage (an ingress controller's). Default: nobody else.
    #[serde(default)]
    pub ingress: Option<Vec<String>>,
    /// Where pods may open connections beyond their own namespace and cluster DNS: CIDRs
    /// (`10.20.0.0/16`), names of other environments of this file (e.g. a shared registry), or
    /// `namespace/<name>`. Default: nothing more.
    #[serde(default)]
    pub egress: Option<Vec<String>>,
    /// Resources the environment may consume (a ResourceQuota), with defaults for containers
    /// that state none (a LimitRange). Default: no quota.
    #[serde(default)]
    pub quota: Option<super::isolation::Quota>,
}

/// An image: an existing reference, a build of ours, or a copy of another registry's image.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Image {
    /// A complete image reference, e.g. `registry.example/pg:15`.
    #[serde(default, rename = "ref")]
    pub reference: Option<String>,
    /// Build instructions; the image is then `<registry>/<repository>:<tag>`.
    #[serde(default)]
    pub build: Option<Build>,
    /// An image to copy into the environment's registry before deploying, e.g.
    /// `docker.io/library/redis:7-bookworm`; the image is then `<registry>/<repository>:<tag>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<String>,
    /// Repository inside the environment's registry. Default `<project>/<image name>`.
    #[serde(default)]
    pub repository: Option<String>,
    /// Tag. Default: the environment's runtime (`prod` or `dev`) for a build, the source's
    /// tag for a mirror.
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
    /// Build arguments; the values are templates.
    #[serde(default)]
    pub args: BTreeMap<String, ScalarString>,
    /// Named extra build contexts: name → directory relative to services.yaml (inside its
    /// directory). The Dockerfile reads them as `FROM name`, `COPY --from=name`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub contexts: BTreeMap<String, String>,
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
    /// The one identity every pod that mounts the workspace runs as. Defaults 10001.
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

/// A unit: one typed workload (and its Service), or manifests alone, or both, deployed in one
/// phase.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Unit {
    /// DNS-1123 label; the workload and its Service take this name.
    pub name: String,
    /// Components (from the top-level `components`) this unit starts from, in order: a later
    /// one wins over an earlier one, and the unit's own fields over them all.
    #[serde(default, rename = "use", skip_serializing_if = "Vec::is_empty")]
    pub uses: Vec<String>,
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
    /// The typed workload. A unit without one consists of its `manifests` alone.
    #[serde(default)]
    pub workload: Option<Workload>,
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
    /// Manifest files (relative to services.yaml), rendered with tera: any Kubernetes objects,
    /// installed with the unit's phase release and gated on readiness one by one.
    #[serde(default)]
    pub manifests: Vec<String>,
    /// Sets the image of containers in the unit's manifests (manifest units).
    #[serde(default)]
    pub image: Option<ManifestImage>,
    /// Existing PersistentVolumeClaims mounted into every pod template of the unit's manifests.
    #[serde(default)]
    pub claims: Vec<ClaimMount>,
    /// Kinds removed from this unit's manifests, e.g. `[Ingress]`.
    #[serde(default)]
    pub drop_kinds: Vec<String>,
    /// Patches of the unit's rendered manifests, each on one object found by kind and name.
    #[serde(default)]
    pub patches: Vec<ManifestPatch>,
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
    image: Option<ManifestImage>,
    claims: Option<Vec<ClaimMount>>,
    drop_kinds: Option<Vec<String>>,
    patches: Option<Vec<ManifestPatch>>,
}

/// Which containers of a manifest unit run which image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ManifestImage {
    /// An image name from `images` (built, skipped when unchanged, pinned by digest), or a
    /// full reference.
    pub name: String,
    /// The object whose containers get the image: `Kind/name`, e.g. `StatefulSet/db`.
    /// Default: the object with a pod template named like the unit.
    #[serde(default)]
    pub target: Option<String>,
    /// Containers (or init containers) by name. Default: the first container.
    #[serde(default)]
    pub containers: Vec<String>,
}

/// An existing PersistentVolumeClaim mounted into every pod template of a manifest unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClaimMount {
    /// Name of the claim in the environment's namespace.
    pub claim_name: String,
    /// Absolute path in every container and init container.
    pub mount_path: String,
    #[serde(default)]
    pub sub_path: Option<String>,
    #[serde(default)]
    pub read_only: bool,
}

/// How a patch is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PatchType {
    /// RFC 6902 operations (`op`, `path`, `value`).
    Json,
    /// A strategic merge patch: maps merge, lists of named objects merge by `name`.
    Strategic,
}

/// One patch of a unit's rendered manifests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ManifestPatch {
    /// The object patched: `Kind/name`, e.g. `Deployment/api`. It must exist.
    pub target: String,
    /// Default `strategic`.
    #[serde(default, rename = "type")]
    pub patch_type: Option<PatchType>,
    /// A map (strategic) or a list of operations (json).
    pub patch: serde_json::Value,
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
pub struct Probes {
    #[serde(default)]
    pub readiness: Option<Probe>,
    #[serde(default)]
    pub liveness: Option<Probe>,
    #[serde(default)]
    pub startup: Option<Probe>,
}

/// A Kubernetes probe: an HTTP GET, a TCP connect or a command run in the container;
/// exactly one of `http`, `tcp`, `exec`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Probe {
    #[serde(default)]
    pub http: Option<HttpCheck>,
    #[serde(default)]
    pub tcp: Option<TcpCheck>,
    /// Runs `command` in the container (no shell unless the command is one); exit 0 passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecCheck>,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExecCheck {
    /// The command and its arguments, e.g. `[pg_isready, -U, codex]`.
    pub command: Vec<String>,
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

/// A volume of the unit's pods, mounted into the main container. At most one source
/// (`configMap`, `secret`, `emptyDir`, `claimName`); none: a PersistentVolumeClaim the unit
/// owns (`size`, `accessMode`, `storageClassName` apply to that one only).
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
    /// Source: the ConfigMap of this name, each key a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<String>,
    /// Source: the Secret of this name, each key a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Source: an empty directory that lives as long as the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_dir: Option<EmptyDir>,
    /// Source: an existing PersistentVolumeClaim of this name (neither created nor removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_name: Option<String>,
    /// Mount read-only. Default `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
}

impl Volume {
    /// The source fields that are set, by their services.yaml names.
    pub fn sources(&self) -> Vec<&'static str> {
        let set = [
            ("configMap", self.config_map.is_some()),
            ("secret", self.secret.is_some()),
            ("emptyDir", self.empty_dir.is_some()),
            ("claimName", self.claim_name.is_some()),
        ];
        set.iter().filter(|(_, on)| *on).map(|(name, _)| *name).collect()
    }

    /// A claim the unit owns: a volume without a source.
    pub fn is_owned_claim(&self) -> bool {
        self.sources().is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EmptyDir {
    /// `Memory` for a tmpfs; default: the node's disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<String>,
    /// A Kubernetes quantity; the pod is evicted above it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_limit: Option<String>,
}

/// An init container or a sidecar of a typed workload.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Container {
    /// DNS-1123 label, unique among the pod's containers, not the unit's name (the main
    /// container's).
    pub name: String,
    /// An image name from `images` (built by `kubectl codex build` like the main image), or a
    /// full reference.
    pub image: String,
    #[serde(default)]
    pub command: Vec<String>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub working_dir: Option<String>,
    /// As the main container's `env`.
    #[serde(default)]
    pub env: BTreeMap<String, EnvValue>,
    #[serde(default)]
    pub env_from: Vec<EnvFrom>,
    /// Container ports; the unit's Service publishes the main container's ports only.
    #[serde(default)]
    pub ports: Vec<ContainerPort>,
    #[serde(default)]
    pub resources: Option<Resources>,
    #[serde(default)]
    pub security_context: Option<SecurityContext>,
    /// Volumes of `workload.volumes` mounted into this container.
    #[serde(default)]
    pub volume_mounts: Vec<VolumeMount>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContainerPort {
    /// DNS-1123 label, at most 15 characters.
    pub name: String,
    #[schemars(range(min = 1, max = 65535))]
    pub port: u16,
    #[serde(default)]
    pub protocol: Option<Protocol>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VolumeMount {
    /// The name of one of `workload.volumes`.
    pub name: String,
    /// Absolute path in the container.
    pub mount_path: String,
    #[serde(default)]
    pub sub_path: Option<String>,
    #[serde(default)]
    pub read_only: bool,
}

/// An environment variable's value: a scalar (`LOG_LEVEL: debug`), or a mapping with exactly
/// one of `secretKeyRef`, `configMapKeyRef`, `fieldRef`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EnvValue {
    Value(ScalarString),
    From(Box<EnvSource>),
}

impl EnvValue {
    /// The plain text, when it is not taken from elsewhere.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            EnvValue::Value(text) => Some(text.as_str()),
            EnvValue::From(_) => None,
        }
    }
}

/// One schema for both forms, told apart by type: a scalar, or a closed mapping. An `anyOf`
/// of the two would report a wrong mapping only as "does not match any allowed form".
impl JsonSchema for EnvValue {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "EnvValue".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A scalar read as text, or a mapping with exactly one source: `{ secret: NAME, key: KEY }` (a Secret of `secrets`), `{ configMap: NAME, key: KEY }`, `{ field: metadata.name }`, or the Kubernetes forms `secretKeyRef`, `configMapKeyRef`, `fieldRef`.",
            "type": ["string", "number", "boolean", "object"],
            "properties": {
                "secret": {"type": "string", "description": "A Secret declared in `secrets`."},
                "configMap": {"type": "string", "description": "Name of a ConfigMap."},
                "key": {"type": "string", "description": "The key, with `secret` or `configMap`."},
                "field": {"type": "string", "description": "A field of the pod, e.g. `metadata.name`."},
                "optional": {"type": "boolean", "description": "With `secret` or `configMap`: the pod starts even when the key is missing."},
                "secretKeyRef": generator.subschema_for::<KeySelector>(),
                "configMapKeyRef": generator.subschema_for::<KeySelector>(),
                "fieldRef": generator.subschema_for::<FieldSelector>(),
            },
            "additionalProperties": false,
        })
    }
}

/// Where an environment variable's value is read from (exactly one, checked by `validate`):
/// a short form (`secret` + `key`, `configMap` + `key`, `field`) or a Kubernetes one. A
/// resolved stack holds the Kubernetes form only ([`EnvSource::normalized`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<KeySelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<KeySelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_ref: Option<FieldSelector>,
    /// Short form: a Secret declared in `secrets`, with `key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Short form: a ConfigMap, with `key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Short form: a field of the pod, e.g. `metadata.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

impl EnvSource {
    /// The sources that are set, by their services.yaml names.
    pub fn sources(&self) -> Vec<&'static str> {
        let set = [
            ("secretKeyRef", self.secret_key_ref.is_some()),
            ("configMapKeyRef", self.config_map_key_ref.is_some()),
            ("fieldRef", self.field_ref.is_some()),
            ("secret", self.secret.is_some()),
            ("configMap", self.config_map.is_some()),
            ("field", self.field.is_some()),
        ];
        set.iter().filter(|(_, on)| *on).map(|(name, _)| *name).collect()
    }

    /// The Secret or ConfigMap key it reads, in either form: (is a Secret, name, key).
    pub fn object_key(&self) -> Option<(bool, &str, &str)> {
        let key = self.key.as_deref().unwrap_or_default();
        if let Some(name) = &self.secret {
            return Some((true, name, key));
        }
        if let Some(name) = &self.config_map {
            return Some((false, name, key));
        }
        if let Some(selector) = &self.secret_key_ref {
            return Some((true, &selector.name, &selector.key));
        }
        self.config_map_key_ref.as_ref().map(|s| (false, s.name.as_str(), s.key.as_str()))
    }

    /// The Kubernetes form of a short one (checked by `validate`); a Kubernetes one as it is.
    pub fn normalized(self) -> EnvSource {
        let selector = |name: String, key: Option<String>, optional: Option<bool>| KeySelector {
            name,
            key: key.unwrap_or_default(),
            optional,
        };
        let EnvSource { secret_key_ref, config_map_key_ref, field_ref, secret, config_map, key, field, optional } =
            self;
        EnvSource {
            secret_key_ref: secret_key_ref.or_else(|| secret.map(|n| selector(n, key.clone(), optional))),
            config_map_key_ref: config_map_key_ref.or_else(|| config_map.map(|n| selector(n, key.clone(), optional))),
            field_ref: field_ref.or_else(|| field.map(|field_path| FieldSelector { field_path })),
            ..EnvSource::default()
        }
    }
}

/// One key of a Secret or ConfigMap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KeySelector {
    /// Name of the Secret or ConfigMap.
    pub name: String,
    pub key: String,
    /// The pod starts even when the object or key is missing. Default `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

/// A field of the pod, e.g. `metadata.name`, `status.podIP`, `spec.nodeName`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FieldSelector {
    pub field_path: String,
}

/// Every key of a Secret or a ConfigMap as an environment variable: exactly one of
/// `secret` (a Secret declared in `secrets`), `configMap`, `secretRef`, `configMapRef`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvFrom {
    /// Name of a Secret declared in `secrets`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Name of a ConfigMap (as `configMapRef`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<String>,
    /// Name of a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<String>,
    /// Name of a ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<String>,
    /// Put before every variable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// The pod starts even when the object is missing. Default `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

impl EnvFrom {
    /// The Kubernetes form: `secret` becomes `secretRef`, `configMap` `configMapRef`.
    pub fn normalized(self) -> EnvFrom {
        EnvFrom {
            secret_ref: self.secret_ref.or(self.secret),
            config_map_ref: self.config_map_ref.or(self.config_map),
            secret: None,
            config_map: None,
            prefix: self.prefix,
            optional: self.optional,
        }
    }
}

/// The common fields of a Kubernetes PodSecurityContext.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodSecurityContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_user: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_group: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_non_root: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fs_group: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seccomp_profile: Option<SeccompProfile>,
}

/// The common fields of a Kubernetes (container) SecurityContext.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecurityContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_user: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_group: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_non_root: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_root_filesystem: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_privilege_escalation: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Capabilities>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seccomp_profile: Option<SeccompProfile>,
}

/// Linux capabilities added to and dropped from the container, e.g. `drop: [ALL]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Capabilities {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drop: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SeccompProfile {
    #[serde(rename = "type")]
    pub profile_type: SeccompProfileType,
    /// Localhost only: the profile's path on the node, relative to the kubelet's seccomp directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub localhost_profile: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SeccompProfileType {
    RuntimeDefault,
    Unconfined,
    Localhost,
}

/// A taint the pods tolerate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Toleration {
    /// Taint key; empty with `operator: Exists`: every taint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Default `Equal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<TolerationOperator>,
    /// With `Equal` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Empty: every effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<TaintEffect>,
    /// With `effect: NoExecute` only: how long the pod stays bound after the taint appears.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toleration_seconds: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TolerationOperator {
    Exists,
    Equal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
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
