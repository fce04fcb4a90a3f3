//! `revise`: which namespace a review round lands in, and why.
//!
//! The environment is found by its labels (project, env, issue). Active and within its idle
//! TTL: reuse it, deploying only what changed. Missing, being deleted, or expired: start a
//! fresh one (after the old one is gone).

use super::ttl::{lease_status, LeaseStatus};
use crate::cluster::api;
use crate::cluster::namespace::{self, NamespaceInfo, NamespacePhase};
use crate::config::stack::Stack;
use crate::labels;
use anyhow::{anyhow, Result};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams};
use kube::Client;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Path {
    /// The warm environment is reused.
    Reuse,
    /// There was none: a fresh one is created.
    Create,
    /// The old one expired or was being deleted: it is removed and a fresh one created.
    Recreate,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub path: Path,
    pub namespace: String,
    pub reason: String,
    pub lease: Option<LeaseStatus>,
}

/// Pure: the decision for the namespaces found by label (if any) at `now`.
pub fn decide(found: &[NamespaceInfo], planned_namespace: &str, now: Timestamp) -> Decision {
    let existing = found.iter().find(|n| n.name == planned_namespace).or_else(|| found.first());
    let Some(ns) = existing else {
        return Decision {
            path: Path::Create,
            namespace: planned_namespace.into(),
            reason: "no environment with these labels exists".into(),
            lease: None,
        };
    };
    if ns.phase == NamespacePhase::Terminating {
        return Decision {
            path: Path::Recreate,
            namespace: ns.name.clone(),
            reason: format!("namespace {} is being deleted; waiting for that, then starting afresh", ns.name),
            lease: None,
        };
    }
    let lease = lease_status(ns.last_activity.as_deref(), ns.idle_ttl.as_deref(), now);
    if lease.is_expired() {
        Decision {
            path: Path::Recreate,
            namespace: ns.name.clone(),
            reason: format!(
                "namespace {} (uid {}) {}; deleting it and starting afresh",
                ns.name,
                ns.uid,
                lease.describe()
            ),
            lease: Some(lease),
        }
    } else {
        Decision {
            path: Path::Reuse,
            namespace: ns.name.clone(),
            reason: format!("namespace {} (uid {}) is warm: {}", ns.name, ns.uid, lease.describe()),
            lease: Some(lease),
        }
    }
}

/// Labels that find an issue's environment.
pub fn selector(stack: &Stack) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        (labels::PROJECT.to_string(), stack.project.clone()),
        (labels::ENV.to_string(), stack.env.clone()),
    ]);
    if !stack.issue.is_empty() {
        labels.insert(labels::ISSUE.to_string(), stack.issue.clone());
    }
    labels
}

/// Looks the environment up and, for `Recreate`, removes the old namespace and waits until
/// it is gone. Returns the decision for the caller to deploy and record.
pub async fn prepare(client: &Client, stack: &Stack, timeout: Duration) -> Result<Decision> {
    let found = namespace::find(client, &selector(stack)).await?;
    let decision = decide(&found, &stack.namespace, Timestamp::now());
    if decision.path == Path::Recreate {
        let namespaces: Api<Namespace> = Api::all(client.clone());
        if decision.lease.as_ref().is_some_and(LeaseStatus::is_expired) {
            api(namespaces.delete(&decision.namespace, &DeleteParams::default()).await, || {
                format!("deleting expired namespace {}", decision.namespace)
            })?;
        }
        let started = Instant::now();
        while namespace::get(client, &decision.namespace).await?.is_some() {
            if started.elapsed() > timeout {
                return Err(anyhow!(
                    "namespace {} is still being deleted after {}s",
                    decision.namespace,
                    timeout.as_secs()
                ));
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    Ok(decision)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(name: &str, phase: NamespacePhase, last: &str, ttl: &str) -> NamespaceInfo {
        NamespaceInfo {
            name: name.into(),
            uid: "u1".into(),
            phase,
            managed: true,
            labels: BTreeMap::new(),
            last_activity: Some(last.into()),
            idle_ttl: Some(ttl.into()),
        }
    }

    fn now() -> Timestamp {
        "2026-11-27T12:00:00Z".parse().unwrap()
    }

    /// The decision for issue 19 when the one namespace found is `name`, in `phase`, last
    /// active at `last`, with an 8h idle TTL.
    fn decide_for(name: &str, phase: NamespacePhase, last: &str) -> Decision {
        decide(&[ns(name, phase, last, "8h")], "codex-ai-issue-19", now())
    }

    #[test]
    fn a_warm_environment_is_reused() {
        let d = decide_for("codex-ai-issue-19", NamespacePhase::Active, "2026-11-27T11:00:00Z");
        assert_eq!(d.path, Path::Reuse);
    }

    #[test]
    fn an_expired_environment_is_recreated() {
        let d = decide_for("codex-ai-issue-19", NamespacePhase::Active, "2026-11-27T03:59:59Z");
        assert_eq!(d.path, Path::Recreate);
        assert!(d.reason.contains("expired"));
    }

    #[test]
    fn a_terminating_environment_is_waited_for_then_recreated() {
        let d = decide_for("codex-ai-issue-19", NamespacePhase::Terminating, "2026-11-27T11:00:00Z");
        assert_eq!(d.path, Path::Recreate);
        assert!(d.lease.is_none(), "a terminating namespace is not deleted again");
    }

    #[test]
    fn no_environment_means_create() {
        assert_eq!(decide(&[], "codex-ai-issue-19", now()).path, Path::Create);
    }

    #[test]
    fn the_labelled_namespace_is_found_even_under_another_name() {
        let d = decide_for("codex-ai-old-name", NamespacePhase::Active, "2026-11-27T11:00:00Z");
        assert_eq!((d.path, d.namespace.as_str()), (Path::Reuse, "codex-ai-old-name"));
    }
}
