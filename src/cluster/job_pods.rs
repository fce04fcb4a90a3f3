//! A Job's work is done before its `Complete` condition says so.
//!
//! When a Job's container exits 0, the kubelet first tears the pod's sandbox down before it
//! reports the pod `Succeeded`, and the Job controller then batches pod updates before it sets
//! `Complete`: on the local cluster, 1.6 s after the migration had ended (measured with watches
//! on the pod and the Job). For a Job that runs one pod once, the pod's exit already decides
//! the outcome, so the gate takes that exit as the Job's completion and says so in the
//! evidence. Any other Job (several completions or parallel pods, suspended, or close to its
//! deadline, where the controller may still call it failed) waits for the condition.

use super::api;
use super::readiness::{job_state, UnitState};
use anyhow::Result;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ListParams};
use kube::Client;

/// The label the Job controller puts on the pods it creates.
const CONTROLLER_UID: &str = "batch.kubernetes.io/controller-uid";
/// Closer than this to `activeDeadlineSeconds`, a pod's exit may still lose to the deadline.
const DEADLINE_MARGIN_SECONDS: i64 = 10;

/// The Job's state: its conditions, or, for a Job that runs one pod once, that pod's exit.
pub async fn state(client: &Client, namespace: &str, job: &Job) -> Result<UnitState> {
    let state = job_state(job);
    let uid = job.metadata.uid.as_deref();
    let (UnitState::Pending(_), Some(uid)) = (&state, uid) else { return Ok(state) };
    if !runs_one_pod_once(job, Timestamp::now()) {
        return Ok(state);
    }
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let name = job.metadata.name.clone().unwrap_or_default();
    let list = api(pods.list(&ListParams::default().labels(&format!("{CONTROLLER_UID}={uid}"))).await, || {
        format!("listing pods of job {name}")
    })?;
    Ok(list.items.iter().find_map(exited_zero).map(UnitState::Ready).unwrap_or(state))
}

/// One completion, one pod at a time, running, and not about to hit its deadline.
fn runs_one_pod_once(job: &Job, now: Timestamp) -> bool {
    let Some(spec) = &job.spec else { return false };
    let single = spec.completions.unwrap_or(1) == 1 && spec.parallelism.unwrap_or(1) <= 1;
    if !single || spec.suspend == Some(true) {
        return false;
    }
    match spec.active_deadline_seconds {
        None => true,
        Some(deadline) => {
            let started = job.status.as_ref().and_then(|s| s.start_time.as_ref()).map(|t| t.0);
            started.is_some_and(|started| {
                let left = deadline - now.duration_since(started).as_secs();
                left > DEADLINE_MARGIN_SECONDS
            })
        }
    }
}

/// How the gate saw a pod whose every container ran to its end and exited 0; `None` for any
/// other pod (still running, a container failed, or not all reported yet). Init containers,
/// sidecars among them, do not count: the Job's outcome is its main containers'.
pub fn exited_zero(pod: &Pod) -> Option<String> {
    let containers = pod.spec.as_ref().map_or(0, |s| s.containers.len());
    let statuses = pod.status.as_ref()?.container_statuses.as_deref().unwrap_or_default();
    if containers == 0 || statuses.len() != containers {
        return None;
    }
    let mut finished: Option<Timestamp> = None;
    for status in statuses {
        let ended = status.state.as_ref()?.terminated.as_ref()?;
        if ended.exit_code != 0 {
            return None;
        }
        let at = ended.finished_at.as_ref().map(|t| t.0);
        finished = finished.max(at);
    }
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let at = finished.map(|t| format!(" at {t}")).unwrap_or_default();
    Some(format!("job's pod {name} exited 0{at}; its Complete condition follows"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(containers: &[&str], statuses: serde_json::Value) -> Pod {
        let containers: Vec<_> = containers.iter().map(|c| json!({"name": c, "image": "x"})).collect();
        serde_json::from_value(json!({
            "metadata": {"name": "migrate-abc-x1"},
            "spec": {"containers": containers, "restartPolicy": "Never"},
            "status": {"containerStatuses": statuses}
        }))
        .unwrap()
    }

    fn terminated(name: &str, code: i32) -> serde_json::Value {
        json!({"name": name, "image": "x", "imageID": "", "ready": false, "restartCount": 0,
               "state": {"terminated": {"exitCode": code, "finishedAt": "2026-12-07T14:57:56Z"}}})
    }

    fn running(name: &str) -> serde_json::Value {
        json!({"name": name, "image": "x", "imageID": "", "ready": true, "restartCount": 0,
               "state": {"running": {"startedAt": "2026-12-07T14:57:55Z"}}})
    }

    #[test]
    fn a_pod_whose_containers_all_exited_zero_has_done_the_jobs_work() {
        let done = pod(&["migrate"], json!([terminated("migrate", 0)]));
        assert_eq!(
            exited_zero(&done).as_deref(),
            Some("job's pod migrate-abc-x1 exited 0 at 2026-12-07T14:57:56Z; its Complete condition follows")
        );
        assert_eq!(exited_zero(&pod(&["migrate"], json!([terminated("migrate", 1)]))), None);
        assert_eq!(exited_zero(&pod(&["migrate"], json!([running("migrate")]))), None);
        // One of two containers still runs, or has not reported yet.
        assert_eq!(exited_zero(&pod(&["a", "b"], json!([terminated("a", 0), running("b")]))), None);
        assert_eq!(exited_zero(&pod(&["a", "b"], json!([terminated("a", 0)]))), None);
        assert_eq!(exited_zero(&pod(&["migrate"], json!([]))), None);
    }

    fn job(spec: serde_json::Value, started: Option<&str>) -> Job {
        let mut spec = spec;
        spec["template"] = json!({"spec": {"containers": []}});
        serde_json::from_value(json!({"metadata": {"name": "migrate-abc", "uid": "u1"}, "spec": spec,
                                      "status": {"startTime": started}}))
        .unwrap()
    }

    #[test]
    fn only_a_job_that_runs_one_pod_once_far_from_its_deadline_is_decided_by_its_pod() {
        let now: Timestamp = "2026-12-07T15:00:00Z".parse().unwrap();
        let started = Some("2026-12-07T14:59:00Z");
        assert!(runs_one_pod_once(&job(json!({}), started), now));
        assert!(runs_one_pod_once(&job(json!({"completions": 1, "parallelism": 1}), started), now));
        assert!(!runs_one_pod_once(&job(json!({"completions": 3}), started), now));
        assert!(!runs_one_pod_once(&job(json!({"parallelism": 2}), started), now));
        assert!(!runs_one_pod_once(&job(json!({"suspend": true}), started), now));
        // 600 s deadline, 60 s gone: far from it. 65 s deadline: 5 s left, too close.
        assert!(runs_one_pod_once(&job(json!({"activeDeadlineSeconds": 600}), started), now));
        assert!(!runs_one_pod_once(&job(json!({"activeDeadlineSeconds": 65}), started), now));
        assert!(!runs_one_pod_once(&job(json!({"activeDeadlineSeconds": 600}), None), now));
    }
}
