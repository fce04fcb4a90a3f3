//! The resolved stack: services.yaml for one environment, slot and issue, with inheritance,
//! overlays, templates and `when` conditions applied. Everything downstream reads only this.

use super::model::{
    AccessMode, Build, CodeUpdateStrategy, Hook, Ingress, PermissionRule, Port, Probes, PullPolicy, Resources, Runtime,
    Volume, WorkloadKind, WorkspaceMount,
};
use crate::plan::phase::Phase;
use serde::Serialize;
use std::collections::BTreeMap;

/// Which environment to resolve, and for which slot and issue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Selection {
    pub env: String,
    pub slot: String,
    pub issue: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stack {
    pub project: String,
    pub env: String,
    pub slot: String,
    pub issue: String,
    pub runtime: Runtime,
    pub namespace: String,
    /// Go duration, as it will be stored on the namespace.
    #[serde(rename = "idleTTL")]
    pub idle_ttl: String,
    pub registry: String,
    pub image_pull_policy: PullPolicy,
    pub disable_kinds: Vec<String>,
    pub workspace: WorkspaceSpec,
    pub agent: Option<AgentSpec>,
    pub images: BTreeMap<String, ResolvedImage>,
    /// Units in file order (infrastructure first); the plan orders them.
    pub units: Vec<ResolvedUnit>,
    /// sha256 of the canonical resolved stack plus the contents of its extra manifest files.
    pub input_digest: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceSpec {
    pub claim_name: String,
    pub size: String,
    pub access_mode: AccessMode,
    pub storage_class_name: String,
    pub uid: u32,
    pub gid: u32,
    pub fs_group: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentSpec {
    pub image: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub workspace: WorkspaceMount,
    pub permissions: Vec<PermissionRule>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedImage {
    /// The full reference units run.
    pub reference: String,
    /// Present when we build the image.
    pub build: Option<Build>,
    /// The Dockerfile target for this environment's runtime.
    pub target: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedUnit {
    pub name: String,
    pub phase: Phase,
    pub depends_on: Vec<String>,
    pub kind: WorkloadKind,
    /// Full image reference.
    pub image: String,
    /// The `images` entry it came from, if any.
    pub image_name: Option<String>,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub working_dir: Option<String>,
    pub env: BTreeMap<String, String>,
    pub ports: Vec<Port>,
    pub probes: Option<Probes>,
    pub resources: Option<Resources>,
    pub volumes: Vec<Volume>,
    pub replicas: u32,
    pub schedule: Option<String>,
    pub backoff_limit: u32,
    pub workspace: Option<WorkspaceMount>,
    pub code_update_strategy: CodeUpdateStrategy,
    pub ingress: Option<Ingress>,
    pub hooks: Vec<Hook>,
    /// Extra manifests (rendered and parsed), as an escape hatch.
    pub manifests: Vec<serde_json::Value>,
    /// Where the unit is declared, e.g. `services[3]`.
    pub source_path: String,
}
