//! The chart's `isolation` values: the NetworkPolicy, ResourceQuota and LimitRange of the
//! environment's namespace (templates/isolation.yaml), written into the first phase only.

use crate::config::isolation::{Isolation, Peer};
use serde_json::{json, Value};

/// One policy peer as templates/isolation.yaml reads it: `cidr`, or the `namespace` to select
/// (with the `environment` it came from, for the reader of the values).
fn peer(peer: &Peer) -> Value {
    match peer {
        Peer::Cidr(cidr) => json!({"cidr": cidr}),
        Peer::Environment { name, namespace } => json!({"environment": name, "namespace": namespace}),
        Peer::Namespace(namespace) => json!({"namespace": namespace}),
    }
}

/// `isolation` for the first phase's values. The policy is always on; the quota and its
/// LimitRange only when services.yaml declares a quota. `ingress` is written only when
/// services.yaml lists peers, so the values of environments without stay as they were.
pub fn values(isolation: &Isolation) -> Value {
    let egress: Vec<Value> = isolation.egress.iter().map(peer).collect();
    let mut values = json!({
        "networkPolicy": {"enabled": true, "egress": egress},
    });
    if !isolation.ingress.is_empty() {
        values["networkPolicy"]["ingress"] = isolation.ingress.iter().map(peer).collect();
    }
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
