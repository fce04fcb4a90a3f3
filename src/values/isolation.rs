//! The chart's `isolation` values: the NetworkPolicy, ResourceQuota and LimitRange of the
//! environment's namespace (templates/isolation.yaml), written into the first phase only.

use crate::config::isolation::{EgressTarget, Isolation};
use serde_json::{json, Value};

/// `isolation` for the first phase's values. The policy is always on; the quota and its
/// LimitRange only when services.yaml declares a quota.
pub fn values(isolation: &Isolation) -> Value {
    let egress: Vec<Value> = isolation
        .egress
        .iter()
        .map(|target| match target {
            EgressTarget::Cidr(cidr) => json!({"cidr": cidr}),
            EgressTarget::Environment { name, namespace } => json!({"environment": name, "namespace": namespace}),
        })
        .collect();
    let mut values = json!({
        "networkPolicy": {"enabled": true, "egress": egress},
    });
    if let Some(defaults) = &isolation.container_defaults {
        values["quota"] = json!({"hard": isolation.quota});
        let mut limit_range = json!({"defaultRequest": {"cpu": defaults.cpu, "memory": defaults.memory}});
        if let Some(limit) = &defaults.memory_limit {
            limit_range["default"] = json!({"memory": limit});
        }
        values["limitRange"] = limit_range;
    }
    values
}
