//! The services.yaml format: one typed definition, from which the JSON Schema is also generated.
//!
//! Every struct denies unknown fields, so a typo is an error instead of a silently ignored key.
//! Optional structures use `Option` and "exactly one of" choices are checked in `validate`,
//! not modelled as untagged enums: that keeps the schema's error messages precise.

mod container;
mod env;
mod environment;
mod image;
mod probe;
mod scheduling;
mod security;
mod unit;
mod volume;
mod workload;
mod workspace;

pub use container::{Container, ContainerPort};
pub use env::{EnvFrom, EnvSource, EnvValue, FieldSelector, KeySelector};
pub use environment::{Environment, PullPolicy, Runtime};
pub use image::{Build, BuildTargets, Image};
pub use probe::{ExecCheck, HttpCheck, PortRef, Probe, Probes, TcpCheck};
pub use scheduling::{TaintEffect, Toleration, TolerationOperator};
pub use security::{Capabilities, PodSecurityContext, SeccompProfile, SeccompProfileType, SecurityContext};
pub use unit::{
    ClaimMount, CodeUpdateStrategy, Hook, Hooks, Ingress, JobCheck, ManifestImage, ManifestPatch, PatchType, Unit,
};
pub use volume::{AccessMode, EmptyDir, Volume, VolumeMount};
pub use workload::{DevOverride, Port, Protocol, Resources, Workload, WorkloadKind};
pub use workspace::{Agent, PermissionRule, Workspace, WorkspaceMount};

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
