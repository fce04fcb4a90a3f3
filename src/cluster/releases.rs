//! Helm release records, read straight from the Secrets Helm stores them in: one API call
//! tells a release's revision, status and our labels without running helm.

use super::api;
use anyhow::Result;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams};
use kube::Client;
use std::collections::BTreeMap;

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseRecord {
    pub name: String,
    pub revision: u32,
    /// Helm's status: deployed, failed, pending-install, pending-upgrade, superseded, …
    pub status: String,
    /// Helm's own storage labels plus the custom `--labels` we set.
    pub labels: BTreeMap<String, String>,
}

/// Latest revision of every release in `namespace` (or only of `release`).
pub async fn latest(client: &Client, namespace: &str, release: Option<&str>) -> Result<Vec<ReleaseRecord>> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let mut selector = "owner=helm".to_string();
    if let Some(name) = release {
        selector.push_str(&format!(",name={name}"));
    }
    let list = api(secrets.list_metadata(&ListParams::default().labels(&selector)).await, || {
        format!("listing Helm releases in {namespace}")
    })?;
    let mut newest: BTreeMap<String, ReleaseRecord> = BTreeMap::new();
    for item in list.items {
        let labels = item.metadata.labels.unwrap_or_default();
        let (Some(name), Some(revision)) =
            (labels.get("name"), labels.get("version").and_then(|v| v.parse::<u32>().ok()))
        else {
            continue;
        };
        let record = ReleaseRecord {
            name: name.clone(),
            revision,
            status: labels.get("status").cloned().unwrap_or_default(),
            labels: labels.clone(),
        };
        match newest.get(name) {
            Some(existing) if existing.revision >= revision => {}
            _ => {
                newest.insert(name.clone(), record);
            }
        }
    }
    Ok(newest.into_values().collect())
}
