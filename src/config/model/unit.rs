//! A unit: a typed workload, manifests or both, with its phase, overlays, ingress and hooks.

use super::workload::WorkloadOverlay;
use super::{HttpCheck, TcpCheck, Workload, WorkspaceMount};
use crate::config::phase::Phase;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
