//! Images: existing references, builds of ours, copies of other registries' images.

use super::ScalarString;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
