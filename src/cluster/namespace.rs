//! The environment's namespace: labels that find it again, annotations that carry its lease.

use super::{api, FIELD_MANAGER};
use crate::config::duration;
use crate::config::stack::Stack;
use crate::labels;
use anyhow::Result;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::Client;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// A namespace's `status.phase`. Kubernetes defines these two; a namespace without a status
/// yet is active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum NamespacePhase {
    Active,
    /// Being deleted: it takes no new objects until it is gone.
    Terminating,
}

impl NamespacePhase {
    pub fn of(phase: Option<&str>) -> Self {
        match phase {
            Some("Terminating") => NamespacePhase::Terminating,
            _ => NamespacePhase::Active,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NamespacePhase::Active => "Active",
            NamespacePhase::Terminating => "Terminating",
        }
    }
}

impl std::fmt::Display for NamespacePhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What we know about a managed namespace. Serialized without its name: a report flattens it
/// (`#[serde(flatten)]`) after its own `namespace` key, so the fields are written once here.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceInfo {
    #[serde(skip)]
    pub name: String,
    pub uid: String,
    pub phase: NamespacePhase,
    pub managed: bool,
    pub labels: BTreeMap<String, String>,
    pub last_activity: Option<String>,
    #[serde(rename = "idleTTL")]
    pub idle_ttl: Option<String>,
}

impl NamespaceInfo {
    pub fn from_object(ns: &Namespace) -> Self {
        let labels = ns.metadata.labels.clone().unwrap_or_default();
        let annotations = ns.metadata.annotations.clone().unwrap_or_default();
        NamespaceInfo {
            name: ns.metadata.name.clone().unwrap_or_default(),
            uid: ns.metadata.uid.clone().unwrap_or_default(),
            phase: NamespacePhase::of(ns.status.as_ref().and_then(|s| s.phase.as_deref())),
            managed: labels.get(labels::MANAGED_BY).map(String::as_str) == Some(labels::MANAGED_BY_VALUE),
            labels,
            last_activity: annotations.get(labels::LAST_ACTIVITY).cloned(),
            idle_ttl: annotations.get(labels::IDLE_TTL).cloned(),
        }
    }
}

/// Labels that identify an environment's namespace.
pub fn namespace_labels(stack: &Stack) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> =
        crate::values::environment_labels(stack).into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    out.insert(labels::MANAGED_BY.into(), labels::MANAGED_BY_VALUE.into());
    let level = stack.isolation.pod_security.as_str();
    for key in [labels::POD_SECURITY_ENFORCE, labels::POD_SECURITY_AUDIT, labels::POD_SECURITY_WARN] {
        out.insert(key.into(), level.into());
    }
    out
}

pub async fn get(client: &Client, name: &str) -> Result<Option<NamespaceInfo>> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let found = api(namespaces.get_opt(name).await, || format!("reading namespace {name}"))?;
    Ok(found.as_ref().map(NamespaceInfo::from_object))
}

/// Creates or updates the namespace, stamps `last-activity` with now and records the TTL.
/// Refuses a namespace that exists without our managed-by label: it is somebody else's.
pub async fn ensure(client: &Client, stack: &Stack, idle_ttl: &str) -> Result<NamespaceInfo> {
    if let Some(existing) = get(client, &stack.namespace).await? {
        anyhow::ensure!(
            existing.managed,
            "namespace {} exists but is not managed by kubectl-codex (no {}={} label); refusing to take it over",
            stack.namespace,
            labels::MANAGED_BY,
            labels::MANAGED_BY_VALUE
        );
    }
    touch(client, &stack.namespace, Some(stack), idle_ttl).await
}

/// Sets `last-activity` to now (and the labels, when a stack is given).
pub async fn touch(client: &Client, name: &str, stack: Option<&Stack>, idle_ttl: &str) -> Result<NamespaceInfo> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let mut metadata = json!({
        "name": name,
        "annotations": {
            labels::LAST_ACTIVITY: crate::clock::now_seconds(),
            labels::IDLE_TTL: idle_ttl,
        },
    });
    if let Some(stack) = stack {
        metadata["labels"] = json!(namespace_labels(stack));
    }
    let patch = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata});
    let applied =
        api(namespaces.patch(name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(&patch)).await, || {
            format!("applying namespace {name}")
        })?;
    Ok(NamespaceInfo::from_object(&applied))
}

/// Managed namespaces matching every given label.
pub async fn find(client: &Client, selector: &BTreeMap<String, String>) -> Result<Vec<NamespaceInfo>> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let mut all = selector.clone();
    all.insert(labels::MANAGED_BY.into(), labels::MANAGED_BY_VALUE.into());
    let selector = all.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
    let list = api(namespaces.list(&ListParams::default().labels(&selector)).await, || "listing namespaces".into())?;
    Ok(list.items.iter().map(NamespaceInfo::from_object).collect())
}

/// How long ago `last_activity` was, or why that cannot be told.
pub fn idle_for(last_activity: Option<&str>, now: Timestamp) -> Result<Duration, String> {
    let text = last_activity.ok_or("no last-activity annotation")?;
    let then: Timestamp = text.parse().map_err(|_| format!("last-activity {text:?} is not an RFC 3339 time"))?;
    let span = now.duration_since(then);
    if span.is_negative() {
        return Err(format!("last-activity {text} is in the future"));
    }
    Ok(Duration::from_secs(span.as_secs().max(0) as u64))
}

/// Parses the TTL annotation (Go duration).
pub fn ttl_of(idle_ttl: Option<&str>) -> Result<Duration, String> {
    let text = idle_ttl.ok_or("no idle-ttl annotation")?;
    duration::parse(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_namespace_serializes_its_fields_but_not_its_name() {
        let info = NamespaceInfo {
            name: "codex-dev-1".into(),
            uid: "u-1".into(),
            phase: NamespacePhase::Active,
            managed: true,
            labels: BTreeMap::from([("a".to_string(), "b".to_string())]),
            last_activity: None,
            idle_ttl: Some("8h".into()),
        };
        assert_eq!(
            serde_json::to_string(&info).unwrap(),
            r#"{"uid":"u-1","phase":"Active","managed":true,"labels":{"a":"b"},"lastActivity":null,"idleTTL":"8h"}"#
        );
        // As a report flattens it: the fields stand where the report puts them.
        #[derive(serde::Serialize)]
        struct Report {
            namespace: String,
            exists: bool,
            #[serde(flatten)]
            info: NamespaceInfo,
            after: u8,
        }
        let report = Report { namespace: info.name.clone(), exists: true, info, after: 1 };
        assert_eq!(
            serde_json::to_string(&report).unwrap(),
            r#"{"namespace":"codex-dev-1","exists":true,"uid":"u-1","phase":"Active","managed":true,"labels":{"a":"b"},"lastActivity":null,"idleTTL":"8h","after":1}"#
        );
    }
}
