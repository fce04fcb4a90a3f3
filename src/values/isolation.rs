//! The chart's `isolation` values: the NetworkPolicy, ResourceQuota and LimitRange of the
//! environment's namespace (templates/isolation.yaml), written into the first phase only.

use super::contract::{EgressValues, IsolationValues, LimitRangeValues, NetworkPolicyValues, QuotaValues};
use crate::config::isolation::{EgressTarget, Isolation};
use std::collections::BTreeMap;

/// `isolation` for the first phase's values. The policy is always on; the quota and its
/// LimitRange only when services.yaml declares a quota.
pub fn values(isolation: &Isolation) -> IsolationValues {
    let egress = isolation
        .egress
        .iter()
        .map(|target| match target {
            EgressTarget::Cidr(cidr) => EgressValues::Cidr { cidr: cidr.clone() },
            EgressTarget::Environment { name, namespace } => {
                EgressValues::Environment { environment: name.clone(), namespace: namespace.clone() }
            }
        })
        .collect();
    let defaults = isolation.container_defaults.as_ref();
    IsolationValues {
        network_policy: NetworkPolicyValues { enabled: true, egress },
        // kubectl-codex leaves cluster DNS's whereabouts to the chart's default.
        dns: None,
        quota: defaults.map(|_| QuotaValues { hard: isolation.quota.clone() }),
        limit_range: defaults.map(|defaults| LimitRangeValues {
            default_request: BTreeMap::from([("cpu", defaults.cpu.clone()), ("memory", defaults.memory.clone())]),
            default: defaults.memory_limit.as_ref().map(|limit| BTreeMap::from([("memory", limit.clone())])),
        }),
    }
}
