//! The shared workspace volume, the agent job that works on it, and how units mount it.

use super::{AccessMode, ScalarString};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
