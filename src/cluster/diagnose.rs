//! What went wrong with a unit: its pods, their containers' states, recent events and the
//! last lines of their logs — what an engineer would otherwise collect by hand.

use super::readiness::{selector, InstalledUnit};
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ListParams, LogParams};
use kube::Client;

/// Log lines shown per container.
pub const LOG_LINES: i64 = 20;
/// Events shown per pod.
pub const EVENTS: usize = 8;

/// A readable report; never fails (diagnostics must not hide the original error).
pub async fn report(client: &Client, namespace: &str, unit: &InstalledUnit) -> String {
    pods_report(client, namespace, Some(&selector(unit)), &unit.name, &unit.resource_name).await
}

/// The same for any object: the pods `selector` picks (none: the object's events alone).
/// `what` names the owner in messages, `object` is the name whose events are shown.
pub async fn pods_report(client: &Client, namespace: &str, selector: Option<&str>, what: &str, object: &str) -> String {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let mut out = String::new();
    let Some(selector) = selector else {
        return events_of(client, namespace, object).await;
    };
    let list = match pods.list(&ListParams::default().labels(selector)).await {
        Ok(list) => list.items,
        Err(e) => return format!("  (could not list pods of {what}: {e})\n"),
    };
    if list.is_empty() {
        out.push_str(&format!("  no pods of {what} exist\n"));
        out.push_str(&events_of(client, namespace, object).await);
        return out;
    }
    for pod in list.iter().rev().take(3) {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let phase = pod.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default();
        out.push_str(&format!("  pod {name} ({phase})\n"));
        // Init containers first: one that fails keeps every other container from starting.
        let status = pod.status.as_ref();
        let mut statuses = status.and_then(|s| s.init_container_statuses.clone()).unwrap_or_default();
        statuses.extend(status.and_then(|s| s.container_statuses.clone()).unwrap_or_default());
        for status in &statuses {
            let state = status.state.as_ref();
            let detail = if let Some(w) = state.and_then(|s| s.waiting.as_ref()) {
                format!("waiting: {} {}", w.reason.clone().unwrap_or_default(), w.message.clone().unwrap_or_default())
            } else if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
                format!("terminated: {} (exit code {})", t.reason.clone().unwrap_or_default(), t.exit_code)
            } else {
                "running".to_string()
            };
            out.push_str(&format!(
                "    container {}: {} ; restarts {}\n",
                status.name,
                detail.trim(),
                status.restart_count
            ));
            let crashed = status.restart_count > 0 && state.is_some_and(|s| s.running.is_none());
            let params = LogParams {
                container: Some(status.name.clone()),
                tail_lines: Some(LOG_LINES),
                previous: crashed,
                ..Default::default()
            };
            match pods.logs(&name, &params).await {
                Ok(logs) if !logs.trim().is_empty() => {
                    out.push_str(&format!("    last log lines{}:\n", if crashed { " (previous run)" } else { "" }));
                    for line in logs.lines() {
                        out.push_str(&format!("      | {line}\n"));
                    }
                }
                Ok(_) => out.push_str("    (no log output)\n"),
                Err(e) => out.push_str(&format!("    (logs unavailable: {e})\n")),
            }
        }
        out.push_str(&events_of(client, namespace, &name).await);
    }
    out
}

async fn events_of(client: &Client, namespace: &str, object: &str) -> String {
    let events: Api<Event> = Api::namespaced(client.clone(), namespace);
    let params = ListParams::default().fields(&format!("involvedObject.name={object}"));
    let Ok(list) = events.list(&params).await else {
        return String::new();
    };
    let mut items = list.items;
    items.sort_by_key(|e| e.last_timestamp.as_ref().map(|t| t.0).or(e.event_time.as_ref().map(|t| t.0)));
    let mut out = String::new();
    if !items.is_empty() {
        out.push_str(&format!("    last events of {object}:\n"));
    }
    for event in items.iter().rev().take(EVENTS).rev() {
        out.push_str(&format!(
            "      {} {}: {}\n",
            event.type_.clone().unwrap_or_default(),
            event.reason.clone().unwrap_or_default(),
            event.message.clone().unwrap_or_default().trim()
        ));
    }
    out
}
