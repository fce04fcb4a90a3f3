//! The rows `status` shows, one per workload a phase release installed: its readiness, the
//! restarts of its pods' containers, its age and its latest event.
//!
//! Reading is split from judging: [`snapshot`] lists the namespace's workloads, pods and
//! events once, and the pure functions below ([`workloads_in`], [`restarts_of`],
//! [`last_event_of`]) turn those lists into rows, so they are tested on inline JSON.

use super::{api, readiness};
use crate::config::model::WorkloadKind;
use crate::config::phase::Phase;
use crate::labels;
use anyhow::Result;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ListParams};
use kube::Client;
use serde::Serialize;
use std::collections::BTreeMap;

/// A workload as listed, before its readiness is judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    pub phase: Phase,
    pub unit: String,
    pub kind: WorkloadKind,
    pub name: String,
    pub release: String,
    /// `spec.selector.matchLabels`: a pod carrying all of them is one of the workload's pods.
    pub pod_labels: BTreeMap<String, String>,
    pub created: Option<Timestamp>,
}

/// One row of `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitRow {
    pub phase: &'static str,
    pub name: String,
    pub kind: &'static str,
    /// `ready: …`, `not ready: …` or `failed: …`.
    pub state: String,
    pub ready: bool,
    pub restarts: i32,
    pub created_at: Option<String>,
    /// `Reason: message` of the newest event about the workload or one of its pods.
    pub last_event: Option<String>,
}

impl UnitRow {
    /// The parts whose change `status --watch` reports (age changes all the time).
    pub fn watched_parts(&self) -> (&str, i32, Option<&str>) {
        (&self.state, self.restarts, self.last_event.as_deref())
    }
}

/// Everything a row is made from, read in one pass over the namespace.
#[derive(Debug, Default)]
pub struct Listing {
    pub workloads: Vec<serde_json::Value>,
    pub pods: Vec<Pod>,
    pub events: Vec<Event>,
}

/// Lists the namespace once and judges every installed workload.
pub async fn snapshot(client: &Client, namespace: &str) -> Result<Vec<UnitRow>> {
    let listing = list(client, namespace).await?;
    let mut rows = Vec::new();
    for workload in workloads_in(&listing.workloads) {
        let unit = readiness::InstalledUnit {
            name: workload.unit.clone(),
            kind: workload.kind,
            resource_name: workload.name.clone(),
            release: workload.release.clone(),
        };
        let state = readiness::state(client, namespace, &unit).await?;
        rows.push(row(&workload, &state, &listing));
    }
    Ok(rows)
}

/// The rows of one phase release, as `status` prints them under the phase.
pub fn of_phase(rows: &[UnitRow], phase: Phase) -> Vec<&UnitRow> {
    rows.iter().filter(|r| r.phase == phase.as_str()).collect()
}

async fn list(client: &Client, namespace: &str) -> Result<Listing> {
    let params = ListParams::default();
    let mut listing = Listing::default();
    macro_rules! collect {
        ($t:ty, $what:literal) => {
            let found = api(Api::<$t>::namespaced(client.clone(), namespace).list(&params).await, || {
                format!("listing {} in {namespace}", $what)
            })?;
            for item in found.items {
                listing.workloads.push(serde_json::to_value(&item)?);
            }
        };
    }
    collect!(Deployment, "Deployments");
    collect!(StatefulSet, "StatefulSets");
    collect!(DaemonSet, "DaemonSets");
    collect!(Job, "Jobs");
    collect!(CronJob, "CronJobs");
    let pods = api(Api::<Pod>::namespaced(client.clone(), namespace).list(&params).await, || {
        format!("listing pods in {namespace}")
    })?;
    listing.pods = pods.items;
    let events = api(Api::<Event>::namespaced(client.clone(), namespace).list(&params).await, || {
        format!("listing events in {namespace}")
    })?;
    listing.events = events.items;
    Ok(listing)
}

/// The workloads a phase release installed, sorted by phase, unit and name. Objects of no
/// phase release (Jobs a CronJob started, anything installed by hand) are left out.
pub fn workloads_in(objects: &[serde_json::Value]) -> Vec<Workload> {
    let mut out: Vec<Workload> = objects.iter().filter_map(workload_of).collect();
    out.sort_by(|a, b| (a.phase, &a.unit, &a.name).cmp(&(b.phase, &b.unit, &b.name)));
    out
}

fn workload_of(object: &serde_json::Value) -> Option<Workload> {
    let kind = WorkloadKind::from_kind(object.get("kind").and_then(|k| k.as_str())?)?;
    let metadata = object.get("metadata")?;
    // A CronJob's Jobs inherit its labels; the CronJob is the unit, they are its runs.
    let owners = metadata.get("ownerReferences").and_then(|o| o.as_array());
    if owners.into_iter().flatten().any(|o| o.get("kind").and_then(|k| k.as_str()) == Some("CronJob")) {
        return None;
    }
    let object_labels = metadata.get("labels");
    let label = |key: &str| object_labels.and_then(|l| l.get(key)).and_then(|v| v.as_str());
    let release = label(labels::INSTANCE)?;
    let phase = Phase::ORDER.into_iter().find(|p| labels::release_name(*p) == release)?;
    let name = metadata.get("name")?.as_str()?.to_string();
    // A manifest unit's objects name their unit; the chart's workloads are named by it.
    let unit = label(labels::UNIT).or_else(|| label(labels::NAME)).unwrap_or(&name).to_string();
    let pod_labels = object
        .pointer("/spec/selector/matchLabels")
        .and_then(|m| m.as_object())
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
        .unwrap_or_default();
    let created = metadata.get("creationTimestamp").and_then(|t| t.as_str()).and_then(|t| t.parse().ok());
    Some(Workload { phase, unit, kind, name, release: release.to_string(), pod_labels, created })
}

/// The workload's pods: those carrying every label of its selector. A workload without
/// match labels (a CronJob) claims no pod, rather than all of them.
pub fn pods_of<'a>(workload: &Workload, pods: &'a [Pod]) -> Vec<&'a Pod> {
    if workload.pod_labels.is_empty() {
        return Vec::new();
    }
    pods.iter()
        .filter(|pod| {
            let labels = pod.metadata.labels.as_ref();
            workload.pod_labels.iter().all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
        })
        .collect()
}

/// Container restarts summed over the workload's pods (init containers included: a crash
/// looping init container is what keeps many pods from starting).
pub fn restarts_of(workload: &Workload, pods: &[Pod]) -> i32 {
    pods_of(workload, pods)
        .iter()
        .filter_map(|pod| pod.status.as_ref())
        .flat_map(|status| {
            let main = status.container_statuses.iter().flatten();
            main.chain(status.init_container_statuses.iter().flatten())
        })
        .map(|c| c.restart_count)
        .sum()
}

/// `Reason: message` of the newest event about the workload itself or one of its pods.
pub fn last_event_of(workload: &Workload, pods: &[Pod], events: &[Event]) -> Option<String> {
    let pod_names: Vec<&str> = pods_of(workload, pods).iter().filter_map(|p| p.metadata.name.as_deref()).collect();
    events
        .iter()
        .filter(|e| {
            let name = e.involved_object.name.as_deref().unwrap_or("");
            let kind = e.involved_object.kind.as_deref().unwrap_or("");
            (kind == workload.kind.as_str() && name == workload.name) || (kind == "Pod" && pod_names.contains(&name))
        })
        .max_by_key(|e| event_time(e))
        .map(|e| {
            let message = e.message.as_deref().unwrap_or("").trim();
            format!("{}: {}", e.reason.as_deref().unwrap_or("Event"), one_line(message))
        })
}

/// When an event last happened: its series' last time, else its last timestamp, else when it
/// was first seen (events.k8s.io writers set only `eventTime`).
fn event_time(e: &Event) -> Option<Timestamp> {
    e.series
        .as_ref()
        .and_then(|s| s.last_observed_time.as_ref().map(|t| t.0))
        .or_else(|| e.last_timestamp.as_ref().map(|t| t.0))
        .or_else(|| e.event_time.as_ref().map(|t| t.0))
        .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn row(workload: &Workload, state: &readiness::UnitState, listing: &Listing) -> UnitRow {
    let (state, ready) = match state {
        readiness::UnitState::Ready(how) => (format!("ready: {how}"), true),
        readiness::UnitState::Pending(what) => (format!("not ready: {what}"), false),
        readiness::UnitState::Failed(why) => (format!("failed: {why}"), false),
    };
    UnitRow {
        phase: workload.phase.as_str(),
        name: workload.unit.clone(),
        kind: workload.kind.as_str(),
        state,
        ready,
        restarts: restarts_of(workload, &listing.pods),
        created_at: workload.created.map(|t| t.to_string()),
        last_event: last_event_of(workload, &listing.pods, &listing.events),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(name: &str, release: &str) -> serde_json::Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "creationTimestamp": "2026-12-06T10:00:00Z",
                "labels": {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": release}},
            "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": release}}}
        })
    }

    fn pod(name: &str, unit: &str, restarts: &[i32], init_restarts: &[i32]) -> Pod {
        let statuses = |r: &[i32]| -> Vec<serde_json::Value> {
            r.iter().enumerate().map(|(i, n)| json!({"name": format!("c{i}"), "image": "x", "imageID": "", "ready": true, "restartCount": n})).collect()
        };
        serde_json::from_value(json!({
            "metadata": {"name": name, "labels": {"app.kubernetes.io/name": unit, "app.kubernetes.io/instance": "codex-internal", "pod-template-hash": "abc"}},
            "status": {"containerStatuses": statuses(restarts), "initContainerStatuses": statuses(init_restarts)}
        }))
        .unwrap()
    }

    fn event(kind: &str, name: &str, reason: &str, message: &str, last: &str) -> Event {
        serde_json::from_value(json!({
            "metadata": {"name": format!("{name}.{reason}")},
            "involvedObject": {"kind": kind, "name": name},
            "reason": reason, "message": message, "lastTimestamp": last
        }))
        .unwrap()
    }

    #[test]
    fn workloads_of_phase_releases_are_rows_in_phase_order_and_others_are_left_out() {
        let mut by_hand = deployment("by-hand", "someone-else");
        by_hand["kind"] = json!("Job");
        let mut cron_run = deployment("nightly-29411", "codex-internal");
        cron_run["kind"] = json!("Job");
        cron_run["metadata"]["ownerReferences"] = json!([{"kind": "CronJob", "name": "nightly"}]);
        let found = workloads_in(&[
            deployment("web", "codex-frontend"),
            deployment("greeter", "codex-internal"),
            by_hand,
            cron_run,
            json!({"kind": "ConfigMap", "metadata": {"name": "x", "labels": {"app.kubernetes.io/instance": "codex-internal"}}}),
        ]);
        let names: Vec<(&str, &str)> = found.iter().map(|w| (w.phase.as_str(), w.unit.as_str())).collect();
        assert_eq!(names, vec![("internal", "greeter"), ("frontend", "web")]);
        assert_eq!(found[0].created.map(|t| t.to_string()).as_deref(), Some("2026-12-06T10:00:00Z"));
    }

    #[test]
    fn a_manifest_units_workload_is_named_by_its_unit_label() {
        let mut object = deployment("pg-primary", "codex-stateful");
        object["metadata"]["labels"]["codex-k8s.dev/unit"] = json!("postgres");
        assert_eq!(workloads_in(&[object])[0].unit, "postgres");
    }

    #[test]
    fn restarts_sum_the_containers_and_init_containers_of_the_workloads_pods_only() {
        let greeter = &workloads_in(&[deployment("greeter", "codex-internal")])[0];
        let pods = [
            pod("greeter-1", "greeter", &[2, 1], &[3]),
            pod("greeter-2", "greeter", &[1], &[]),
            pod("catalog-1", "catalog", &[9], &[]),
        ];
        assert_eq!(restarts_of(greeter, &pods), 7);
    }

    #[test]
    fn a_workload_without_match_labels_claims_no_pod() {
        let mut cron = deployment("nightly", "codex-internal");
        cron["kind"] = json!("CronJob");
        cron["spec"] = json!({});
        let nightly = &workloads_in(&[cron])[0];
        assert!(pods_of(nightly, &[pod("nightly-1", "nightly", &[4], &[])]).is_empty());
    }

    #[test]
    fn the_last_event_is_the_newest_about_the_workload_or_its_pods() {
        let greeter = &workloads_in(&[deployment("greeter", "codex-internal")])[0];
        let pods = [pod("greeter-1", "greeter", &[0], &[])];
        let events = [
            event("Deployment", "greeter", "ScalingReplicaSet", "Scaled up", "2026-12-06T10:00:01Z"),
            event("Pod", "greeter-1", "BackOff", "Back-off\n  restarting failed container", "2026-12-06T10:00:09Z"),
            event("Pod", "catalog-1", "Killing", "newer, but another unit's", "2026-12-06T10:00:30Z"),
            event("Pod", "greeter-1", "Pulled", "older", "2026-12-06T10:00:05Z"),
        ];
        assert_eq!(
            last_event_of(greeter, &pods, &events).as_deref(),
            Some("BackOff: Back-off restarting failed container")
        );
        assert_eq!(last_event_of(greeter, &[], &events[..1]).as_deref(), Some("ScalingReplicaSet: Scaled up"));
        assert_eq!(last_event_of(greeter, &pods, &events[2..3]), None);
    }
}
