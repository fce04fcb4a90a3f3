//! Volumes of a typed workload and where containers mount them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
