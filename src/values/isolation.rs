//! The chart's `isolation` values: the NetworkPolicy, ResourceQuota and LimitRange of the
//! environment's namespace (templates/isolation.yaml), written into the first phase only.

use super::contract::{IsolationValues, LimitRangeValues, NetworkPolicyValues, PeerValues, QuotaValues};
use crate::config::isolation::{Isolation, Peer};
use std::collections::BTreeMap;

/// One policy peer as templates/isolation.yaml reads it: `cidr`, or the `namespace` to select
/// (with the `environment` it came from, for the reader of the values).
fn peer(peer: &Peer) -> PeerValues {
    match peer {
        Peer::Cidr(cidr) => PeerValues::Cidr { cidr: cidr.clone() },
        Peer::Environment { name, namespace } => {
            PeerValues::Environment { environment: name.clone(), namespace: namespace.clone() }
        }
        Peer::Namespace(namespace) => PeerValues::Namespace { namespace: namespace.clone() },
    }
}

/// `isolation` for the first phase's values. The policy is always on; the quota and its
/// LimitRange only when services.yaml declares a quota; `ingress` only when services.yaml lists
/// peers, so the values of environments without stay as they were.
pub fn values(isolation: &Isolation) -> IsolationValues {
    let peers = |peers: &[Peer]| peers.iter().map(peer).collect();
    let defaults = isolation.container_defaults.as_ref();
    IsolationValues {
        network_policy: NetworkPolicyValues {
            enabled: true,
            ingress: peers(&isolation.ingress),
            egress: peers(&isolation.egress),
        },
        // kubectl-codex leaves cluster DNS's whereabouts to the chart's default.
        dns: None,
        quota: defaults.map(|_| QuotaValues { hard: isolation.quota.clone() }),
        limit_range: defaults.map(|defaults| LimitRangeValues {
            default_request: BTreeMap::from([("cpu", defaults.cpu.clone()), ("memory", defaults.memory.clone())]),
            default: defaults.memory_limit.as_ref().map(|limit| BTreeMap::from([("memory", limit.clone())])),
        }),
    }
}
