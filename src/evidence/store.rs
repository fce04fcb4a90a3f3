//! Evidence records live in the namespace as labelled ConfigMaps, one per run.

use super::record::EvidenceRecord;
use crate::cluster::{api, FIELD_MANAGER};
use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::Client;
use serde_json::json;

const DATA_KEY: &str = "record.json";

pub fn config_map_name(run_id: &str) -> String {
    format!("codex-evidence-{run_id}")
}

/// Writes (or rewrites) the record; called after every phase so a killed run leaves a trail.
pub async fn save(client: &Client, record: &EvidenceRecord) -> Result<()> {
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), &record.namespace);
    let name = config_map_name(&record.run_id);
    let object = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "labels": {
                (crate::labels::EVIDENCE): "run",
                crate::labels::MANAGED_BY: crate::labels::MANAGED_BY_VALUE,
                crate::labels::PROJECT: record.project,
                crate::labels::ENV: record.env,
            },
        },
        "data": {DATA_KEY: serde_json::to_string_pretty(record)?},
    });
    api(maps.patch(&name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(&object)).await, || {
        format!("saving evidence {name}")
    })?;
    Ok(())
}

/// Every record in the namespace, oldest first.
pub async fn load_all(client: &Client, namespace: &str) -> Result<Vec<EvidenceRecord>> {
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let list =
        api(maps.list(&ListParams::default().labels(&format!("{}=run", crate::labels::EVIDENCE))).await, || {
            format!("listing evidence in {namespace}")
        })?;
    let mut records = Vec::new();
    for map in list.items {
        let name = map.metadata.name.clone().unwrap_or_default();
        let Some(text) = map.data.as_ref().and_then(|d| d.get(DATA_KEY)) else { continue };
        let record: EvidenceRecord =
            serde_json::from_str(text).with_context(|| format!("evidence {name} is not a valid record"))?;
        records.push(record);
    }
    records.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.run_id.cmp(&b.run_id)));
    Ok(records)
}
