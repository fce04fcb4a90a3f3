//! Init containers and sidecars of a typed workload.

use super::{EnvFrom, EnvValue, Protocol, Resources, SecurityContext, VolumeMount};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
