//! `gc`: deletes managed namespaces whose idle lease has expired — and nothing else, ever.

use super::ttl::{lease_status, LeaseStatus};
use crate::cluster::namespace::{NamespaceInfo, NamespacePhase};
use crate::cluster::{api, lease, namespace};
use anyhow::Result;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, Preconditions};
use kube::Client;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Deleted,
    WouldDelete,
    Kept,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub namespace: String,
    pub action: Action,
    pub lease: LeaseStatus,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub dry_run: bool,
    pub decisions: Vec<Decision>,
    /// Requests the sweep sent to the API server (counted in the client's HTTP stack, every
    /// retry attempt included), for its cost.
    pub api_requests: usize,
}

/// Which namespaces a sweep at `now` would delete, and why each one is kept otherwise.
/// Pure: `namespaces` is what a list returned.
pub fn judge(namespaces: &[NamespaceInfo], now: Timestamp) -> Vec<(NamespaceInfo, LeaseStatus, bool, String)> {
    let mut out: Vec<_> = namespaces
        .iter()
        .map(|ns| {
            let status = lease_status(ns.last_activity.as_deref(), ns.idle_ttl.as_deref(), now);
            let (delete, reason) = if !ns.managed {
                (false, "not managed by kubectl-codex".to_string())
            } else if ns.phase == NamespacePhase::Terminating {
                (false, "already being deleted".to_string())
            } else if status.is_expired() {
                (true, status.describe())
            } else {
                (false, status.describe())
            };
            (ns.clone(), status, delete, reason)
        })
        .collect();
    out.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    out
}

/// One sweep. Each deletion re-reads the namespace and deletes it only if it is unchanged
/// since (a `revise` that just touched it wins the race) and no run holds its lease.
pub async fn sweep(client: &Client, dry_run: bool, now: Timestamp) -> Result<Report> {
    let requests_before = crate::cluster::request_count::sent();
    let managed = namespace::find(client, &Default::default()).await?;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let mut decisions = Vec::new();
    for (ns, status, delete, reason) in judge(&managed, now) {
        if !delete {
            decisions.push(Decision { namespace: ns.name, action: Action::Kept, lease: status, reason });
            continue;
        }
        if dry_run {
            decisions.push(Decision { namespace: ns.name, action: Action::WouldDelete, lease: status, reason });
            continue;
        }
        if let Some((holder, _)) = lease::current_holder(client, &ns.name).await? {
            decisions.push(Decision {
                namespace: ns.name,
                action: Action::Kept,
                lease: status,
                reason: format!("a run is in progress ({holder})"),
            });
            continue;
        }
        let Some(fresh) = api(namespaces.get_opt(&ns.name).await, || format!("reading namespace {}", ns.name))? else {
            continue;
        };
        let info = NamespaceInfo::from_object(&fresh);
        let recheck = lease_status(info.last_activity.as_deref(), info.idle_ttl.as_deref(), now);
        if !info.managed || !recheck.is_expired() {
            decisions.push(Decision {
                namespace: ns.name,
                action: Action::Kept,
                lease: recheck.clone(),
                reason: format!("changed since listed: {}", recheck.describe()),
            });
            continue;
        }
        let preconditions = Preconditions {
            uid: fresh.metadata.uid.clone(),
            resource_version: fresh.metadata.resource_version.clone(),
        };
        match namespaces
            .delete(&ns.name, &DeleteParams { preconditions: Some(preconditions), ..Default::default() })
            .await
        {
            Ok(_) => decisions.push(Decision { namespace: ns.name, action: Action::Deleted, lease: status, reason }),
            Err(kube::Error::Api(e)) if e.code == 409 => decisions.push(Decision {
                namespace: ns.name,
                action: Action::Kept,
                lease: status,
                reason: "changed while deleting (someone used it); kept".into(),
            }),
            Err(e) => return Err(api::<()>(Err(e), || format!("deleting namespace {}", ns.name)).unwrap_err()),
        }
    }
    let api_requests = crate::cluster::request_count::sent() - requests_before;
    Ok(Report { dry_run, decisions, api_requests })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn ns(name: &str, managed: bool, last: Option<&str>, ttl: Option<&str>) -> NamespaceInfo {
        NamespaceInfo {
            name: name.into(),
            uid: String::new(),
            phase: NamespacePhase::Active,
            managed,
            labels: BTreeMap::new(),
            last_activity: last.map(str::to_string),
            idle_ttl: ttl.map(str::to_string),
        }
    }

    #[test]
    fn only_managed_expired_namespaces_are_deleted() {
        let now: Timestamp = "2026-11-27T12:00:00Z".parse().unwrap();
        let list = vec![
            ns("expired", true, Some("2026-11-27T10:00:00Z"), Some("1h")),
            ns("active", true, Some("2026-11-27T11:30:00Z"), Some("1h")),
            ns("lookalike", false, Some("2026-11-27T10:00:00Z"), Some("1h")),
            ns("unreadable", true, Some("noon"), Some("1h")),
            ns("no-activity", true, None, Some("1h")),
        ];
        let verdicts: BTreeMap<String, bool> = judge(&list, now).into_iter().map(|(n, _, d, _)| (n.name, d)).collect();
        let deleted: Vec<&str> = verdicts.iter().filter(|(_, d)| **d).map(|(n, _)| n.as_str()).collect();
        assert_eq!(deleted, ["expired"]);
    }
}
