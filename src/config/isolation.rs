//! How one environment is fenced off from the others: its Pod Security level, who may connect
//! to its pods besides the namespace (`ingress`), where its pods may connect beyond the
//! namespace and cluster DNS (`egress`), and the resources it may consume.
//!
//! services.yaml states these per environment (`podSecurity`, `ingress`, `egress`, `quota`, inherited
//! through `from` like every other setting); [`resolve`] turns them into an [`Isolation`]
//! that the namespace labels (Pod Security admission), the first phase's chart values
//! (NetworkPolicy, ResourceQuota, LimitRange) and `check` read.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A Pod Security Standards level, enforced on the namespace by Pod Security admission.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PodSecurityLevel {
    /// No restriction at all (host namespaces, privileged containers).
    Privileged,
    /// Blocks known privilege escalations (privileged, host namespaces, hostPath, added capabilities).
    Baseline,
    /// The hardened profile: non-root, seccomp RuntimeDefault, no privilege escalation, all
    /// capabilities dropped. The default, and what the chart's pod defaults satisfy.
    #[default]
    Restricted,
}

impl PodSecurityLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            PodSecurityLevel::Privileged => "privileged",
            PodSecurityLevel::Baseline => "baseline",
            PodSecurityLevel::Restricted => "restricted",
        }
    }

    /// The level a namespace label names; `None` for anything else.
    pub fn parse(label: &str) -> Option<Self> {
        [PodSecurityLevel::Privileged, PodSecurityLevel::Baseline, PodSecurityLevel::Restricted]
            .into_iter()
            .find(|level| level.as_str() == label)
    }
}

/// What one environment may consume (a ResourceQuota), and what a container that states no
/// resources gets (a LimitRange), so one issue's environment cannot starve the cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Quota {
    /// Total CPU the environment's pods may request, a quantity, e.g. `"4"` or `2500m`.
    #[serde(default)]
    pub cpu: Option<String>,
    /// Total memory the environment's pods may request, a quantity, e.g. `8Gi`.
    #[serde(default)]
    pub memory: Option<String>,
    /// Pods that may exist at once (finished Job pods do not count).
    #[serde(default)]
    pub pods: Option<u32>,
    /// Total storage all PersistentVolumeClaims may request, a quantity, e.g. `20Gi`.
    #[serde(default)]
    pub storage: Option<String>,
    /// Requests (and an optional memory limit) for containers that state no resources.
    #[serde(default)]
    pub container_defaults: Option<ContainerDefaults>,
}

/// The LimitRange's defaults for a container without `resources`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContainerDefaults {
    /// CPU request, a quantity. Default `10m`: small on purpose, since a request only
    /// reserves; state `resources` on a unit to size it for real.
    #[serde(default)]
    pub cpu: Option<String>,
    /// Memory request, a quantity. Default `64Mi`.
    #[serde(default)]
    pub memory: Option<String>,
    /// Memory limit, a quantity. Default: none.
    #[serde(default)]
    pub memory_limit: Option<String>,
}

/// The objects the chart's templates/isolation.yaml installs with the first phase, by name.
pub const NETWORK_POLICY: &str = "codex-isolation";
/// The ResourceQuota installed when services.yaml declares a quota.
pub const RESOURCE_QUOTA: &str = "codex-quota";
/// The LimitRange installed with the quota.
pub const LIMIT_RANGE: &str = "codex-defaults";

/// Default CPU request of a container without resources, under a quota.
pub const DEFAULT_CONTAINER_CPU: &str = "10m";
/// Default memory request of a container without resources, under a quota.
pub const DEFAULT_CONTAINER_MEMORY: &str = "64Mi";

/// One peer of the environment's network policy, besides its own namespace (and, for egress,
/// cluster DNS): where its pods may connect to (`egress`), or who may connect to them
/// (`ingress`). services.yaml writes each as a string; [`peer_kind`] tells which one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Peer {
    /// An IP block (`10.0.0.0/8`, `192.0.2.7/32`).
    Cidr(String),
    /// Another environment of this file, by name, and the namespace it renders to.
    Environment { name: String, namespace: String },
    /// A namespace kubectl-codex does not manage (an ingress controller's, a shared
    /// registry's), written `namespace/<name>`.
    Namespace(String),
}

/// How services.yaml spells a namespace peer: `namespace/ingress-nginx`.
pub const NAMESPACE_PEER_PREFIX: &str = "namespace/";

/// What a written peer entry is, before environments are looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerKind<'a> {
    Cidr,
    /// `namespace/<name>` with a valid namespace name.
    Namespace(&'a str),
    /// Anything else: the name of an environment of this file, or a mistake.
    EnvironmentName,
}

/// Tells a CIDR and a `namespace/<name>` entry from an environment name.
pub fn peer_kind(entry: &str) -> PeerKind<'_> {
    if is_cidr(entry) {
        return PeerKind::Cidr;
    }
    match entry.strip_prefix(NAMESPACE_PEER_PREFIX) {
        Some(name) if is_namespace_name(name) => PeerKind::Namespace(name),
        _ => PeerKind::EnvironmentName,
    }
}

/// A DNS-1123 label, what Kubernetes accepts as a namespace name.
fn is_namespace_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// The resolved isolation of one environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Isolation {
    pub pod_security: PodSecurityLevel,
    /// Who may connect to the environment's pods besides the namespace itself.
    pub ingress: Vec<Peer>,
    /// Where the environment's pods may connect besides the namespace and cluster DNS.
    pub egress: Vec<Peer>,
    /// The ResourceQuota's `spec.hard`, empty when no quota is declared.
    pub quota: BTreeMap<String, String>,
    /// The LimitRange's container defaults; `None` when no quota is declared.
    pub container_defaults: Option<ResolvedContainerDefaults>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedContainerDefaults {
    pub cpu: String,
    pub memory: String,
    pub memory_limit: Option<String>,
}

/// The quota as ResourceQuota `hard` keys and its LimitRange defaults. Quantities are
/// checked by [`crate::config::validate`] before this runs.
pub fn resolve_quota(quota: Option<&Quota>) -> (BTreeMap<String, String>, Option<ResolvedContainerDefaults>) {
    let Some(quota) = quota else {
        return (BTreeMap::new(), None);
    };
    let mut hard = BTreeMap::new();
    let mut put = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            hard.insert(key.to_string(), value);
        }
    };
    put("requests.cpu", quota.cpu.clone());
    put("requests.memory", quota.memory.clone());
    put("pods", quota.pods.map(|p| p.to_string()));
    put("requests.storage", quota.storage.clone());
    let defaults = quota.container_defaults.clone().unwrap_or_default();
    let defaults = ResolvedContainerDefaults {
        cpu: defaults.cpu.unwrap_or_else(|| DEFAULT_CONTAINER_CPU.to_string()),
        memory: defaults.memory.unwrap_or_else(|| DEFAULT_CONTAINER_MEMORY.to_string()),
        memory_limit: defaults.memory_limit,
    };
    (hard, Some(defaults))
}

/// Whether `text` is an IPv4 or IPv6 CIDR (`10.0.0.0/8`, `fd00::/8`).
pub fn is_cidr(text: &str) -> bool {
    let Some((address, bits)) = text.split_once('/') else {
        return false;
    };
    let Ok(bits) = bits.parse::<u8>() else {
        return false;
    };
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => bits <= 32,
        Ok(std::net::IpAddr::V6(_)) => bits <= 128,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_are_told_from_names_and_addresses() {
        for good in ["10.0.0.0/8", "192.0.2.7/32", "fd00::/8", "0.0.0.0/0"] {
            assert!(is_cidr(good), "{good}");
        }
        for bad in ["10.0.0.0", "10.0.0.0/33", "registry", "10.0.0/8", "fd00::/129", "/8"] {
            assert!(!is_cidr(bad), "{bad}");
        }
    }

    #[test]
    fn peers_are_cidrs_namespaces_or_environment_names() {
        assert_eq!(peer_kind("10.0.0.0/8"), PeerKind::Cidr);
        assert_eq!(peer_kind("namespace/ingress-nginx"), PeerKind::Namespace("ingress-nginx"));
        for other in ["registry", "namespace/", "namespace/Ingress", "namespace/-x", "namespace/a/b"] {
            assert_eq!(peer_kind(other), PeerKind::EnvironmentName, "{other}");
        }
    }

    #[test]
    fn a_quota_becomes_hard_limits_and_container_defaults() {
        let quota = Quota {
            cpu: Some("2".into()),
            memory: Some("4Gi".into()),
            pods: Some(20),
            storage: None,
            container_defaults: Some(ContainerDefaults { memory_limit: Some("1Gi".into()), ..Default::default() }),
        };
        let (hard, defaults) = resolve_quota(Some(&quota));
        assert_eq!(
            hard.into_iter().collect::<Vec<_>>(),
            [("pods", "20"), ("requests.cpu", "2"), ("requests.memory", "4Gi")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        let defaults = defaults.unwrap();
        assert_eq!(
            (defaults.cpu.as_str(), defaults.memory.as_str()),
            (DEFAULT_CONTAINER_CPU, DEFAULT_CONTAINER_MEMORY)
        );
        assert_eq!(defaults.memory_limit.as_deref(), Some("1Gi"));
        assert_eq!(resolve_quota(None), (BTreeMap::new(), None));
    }

    #[test]
    fn levels_read_back_from_their_labels() {
        for level in [PodSecurityLevel::Privileged, PodSecurityLevel::Baseline, PodSecurityLevel::Restricted] {
            assert_eq!(PodSecurityLevel::parse(level.as_str()), Some(level));
        }
        assert_eq!(PodSecurityLevel::parse("strict"), None);
        assert!(PodSecurityLevel::Baseline < PodSecurityLevel::Restricted);
    }
}
