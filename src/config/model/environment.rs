//! One environment's settings and how it runs its units.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    pub pod_security: Option<crate::config::isolation::PodSecurityLevel>,
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
    pub quota: Option<crate::config::isolation::Quota>,
}
