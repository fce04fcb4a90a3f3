//! Is a unit ready? Read from the workload's own status, the way `kubectl rollout status` does.

use super::{api, stuck_container};
use crate::config::model::WorkloadKind;
use anyhow::Result;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use kube::Client;

/// A workload as installed by one phase release.
#[derive(Debug, Clone)]
pub struct InstalledUnit {
    pub name: String,
    pub kind: WorkloadKind,
    /// Object name (Jobs carry a spec digest suffix).
    pub resource_name: String,
    pub release: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitState {
    /// Not there yet, or still rolling out; the text says what is awaited.
    Pending(String),
    /// Ready; the text says how that was observed.
    Ready(String),
    /// Cannot become ready without a change (crash loop, image pull failure, failed Job).
    Failed(String),
}

pub async fn state(client: &Client, namespace: &str, unit: &InstalledUnit) -> Result<UnitState> {
    let what = || format!("reading {} {}", unit.kind.as_str(), unit.resource_name);
    let observed = match unit.kind {
        WorkloadKind::Deployment => {
            let api_: Api<Deployment> = Api::namespaced(client.clone(), namespace);
            match api(api_.get_opt(&unit.resource_name).await, what)? {
                None => UnitState::Pending("deployment not created yet".into()),
                Some(d) => {
                    let state = deployment_state(&d);
                    let observed = d.status.as_ref().and_then(|st| st.observed_generation).unwrap_or(0);
                    if observed < d.metadata.generation.unwrap_or(0) {
                        return Ok(state); // the revision annotation still names the old pods
                    }
                    return with_pod_failures(
                        client,
                        namespace,
                        unit,
                        state,
                        current_pods_of_deployment(client, namespace, unit, &d).await?,
                    )
                    .await;
                }
            }
        }
        WorkloadKind::StatefulSet => {
            let api_: Api<StatefulSet> = Api::namespaced(client.clone(), namespace);
            match api(api_.get_opt(&unit.resource_name).await, what)? {
                None => UnitState::Pending("statefulset not created yet".into()),
                Some(s) => {
                    let state = statefulset_state(&s);
                    // Only pods of the revision being rolled out: an old crash-looping pod
                    // must not fail the upgrade that replaces it.
                    let revision = s.status.as_ref().and_then(|st| st.update_revision.clone());
                    let filter = revision.map(|r| format!("controller-revision-hash={r}"));
                    return with_pod_failures(client, namespace, unit, state, filter).await;
                }
            }
        }
        WorkloadKind::DaemonSet => {
            let api_: Api<DaemonSet> = Api::namespaced(client.clone(), namespace);
            match api(api_.get_opt(&unit.resource_name).await, what)? {
                None => UnitState::Pending("daemonset not created yet".into()),
                Some(d) => return daemonset_unit_state(client, namespace, unit, &d).await,
            }
        }
        WorkloadKind::Job => {
            let api_: Api<Job> = Api::namespaced(client.clone(), namespace);
            match api(api_.get_opt(&unit.resource_name).await, what)? {
                None => UnitState::Pending("job not created yet".into()),
                Some(j) => super::job_pods::state(client, namespace, &j).await?,
            }
        }
        WorkloadKind::CronJob => {
            let api_: Api<CronJob> = Api::namespaced(client.clone(), namespace);
            match api(api_.get_opt(&unit.resource_name).await, what)? {
                None => UnitState::Pending("cronjob not created yet".into()),
                Some(_) => UnitState::Ready("cronjob exists".into()),
            }
        }
    };
    Ok(observed)
}

/// A pending unit whose current pods cannot recover is failed, not pending.
async fn with_pod_failures(
    client: &Client,
    namespace: &str,
    unit: &InstalledUnit,
    state: UnitState,
    extra_selector: Option<String>,
) -> Result<UnitState> {
    if let UnitState::Pending(waiting) = &state {
        if let Some(reason) = pod_failure(client, namespace, unit, extra_selector).await? {
            return Ok(UnitState::Failed(format!("{reason} (while waiting: {waiting})")));
        }
    }
    Ok(state)
}

/// The label selecting pods of the Deployment's newest ReplicaSet (its current revision).
async fn current_pods_of_deployment(
    client: &Client,
    namespace: &str,
    unit: &InstalledUnit,
    d: &Deployment,
) -> Result<Option<String>> {
    const REVISION: &str = "deployment.kubernetes.io/revision";
    let Some(revision) = d.metadata.annotations.as_ref().and_then(|a| a.get(REVISION)).cloned() else {
        return Ok(None);
    };
    let sets: Api<ReplicaSet> = Api::namespaced(client.clone(), namespace);
    let list = api(sets.list(&ListParams::default().labels(&selector(unit))).await, || {
        format!("listing ReplicaSets of {}", unit.name)
    })?;
    Ok(list
        .items
        .iter()
        .find(|rs| rs.metadata.annotations.as_ref().and_then(|a| a.get(REVISION)) == Some(&revision))
        .and_then(|rs| rs.metadata.labels.as_ref()?.get("pod-template-hash").cloned())
        .map(|hash| format!("pod-template-hash={hash}")))
}

/// A DaemonSet's state, failed when a pod of its current revision cannot recover.
async fn daemonset_unit_state(
    client: &Client,
    namespace: &str,
    unit: &InstalledUnit,
    d: &DaemonSet,
) -> Result<UnitState> {
    let state = daemonset_state(d);
    let observed = d.status.as_ref().and_then(|st| st.observed_generation).unwrap_or(0);
    if observed < d.metadata.generation.unwrap_or(0) {
        return Ok(state); // the newest ControllerRevision may not exist yet
    }
    let current = current_pods_of_daemonset(client, namespace, unit).await?;
    with_pod_failures(client, namespace, unit, state, current).await
}

/// The label selecting pods of the DaemonSet's current revision: the `controller-revision-hash`
/// of its newest ControllerRevision (the one with the highest `revision`). `None` (every pod of
/// the unit) when there is none yet.
async fn current_pods_of_daemonset(client: &Client, namespace: &str, unit: &InstalledUnit) -> Result<Option<String>> {
    const HASH: &str = "controller-revision-hash";
    let revisions: Api<ControllerRevision> = Api::namespaced(client.clone(), namespace);
    let list = api(revisions.list(&ListParams::default().labels(&selector(unit))).await, || {
        format!("listing ControllerRevisions of {}", unit.name)
    })?;
    let owned_by_unit = |r: &&ControllerRevision| {
        let owners = r.metadata.owner_references.as_deref().unwrap_or_default();
        owners.iter().any(|o| o.kind == "DaemonSet" && o.name == unit.resource_name)
    };
    Ok(list
        .items
        .iter()
        .filter(owned_by_unit)
        .max_by_key(|r| r.revision)
        .and_then(|r| r.metadata.labels.as_ref()?.get(HASH).cloned())
        .map(|hash| format!("{HASH}={hash}")))
}

/// Like `kubectl rollout status daemonset`: the controller saw the spec, every scheduled pod
/// runs it, and that many are available.
pub fn daemonset_state(d: &DaemonSet) -> UnitState {
    let status = d.status.clone().unwrap_or_default();
    if status.observed_generation.unwrap_or(0) < d.metadata.generation.unwrap_or(0) {
        return UnitState::Pending("waiting for the controller to observe the new spec".into());
    }
    let want = status.desired_number_scheduled;
    let updated = status.updated_number_scheduled.unwrap_or(0);
    let available = status.number_available.unwrap_or(0);
    if updated < want {
        UnitState::Pending(format!("{updated}/{want} pods updated"))
    } else if available < want {
        UnitState::Pending(format!("{available}/{want} updated pods available"))
    } else {
        UnitState::Ready(format!("daemonset rolled out ({available}/{want})"))
    }
}

/// Pod Security admission's refusals say this; no wait makes such a pod admissible.
pub(crate) const POD_SECURITY_REFUSAL: &str = "violates PodSecurity";

pub fn deployment_state(d: &Deployment) -> UnitState {
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let status = d.status.clone().unwrap_or_default();
    // The controller copies its ReplicaSet's pod-creation failure here. A quota that is
    // full may free up; a pod below the namespace's Pod Security level never will.
    let refused = status.conditions.iter().flatten().find(|c| {
        c.type_ == "ReplicaFailure"
            && c.status == "True"
            && c.message.as_deref().unwrap_or("").contains(POD_SECURITY_REFUSAL)
    });
    if let Some(condition) = refused {
        return UnitState::Failed(format!(
            "the API server refuses its pods: {}",
            condition.message.as_deref().unwrap_or_default()
        ));
    }
    let generation = d.metadata.generation.unwrap_or(0);
    if status.observed_generation.unwrap_or(0) < generation {
        return UnitState::Pending("waiting for the controller to observe the new spec".into());
    }
    let updated = status.updated_replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    let total = status.replicas.unwrap_or(0);
    if updated < want {
        UnitState::Pending(format!("{updated}/{want} replicas updated"))
    } else if total > updated {
        UnitState::Pending(format!("{} old replicas pending termination", total - updated))
    } else if available < want {
        UnitState::Pending(format!("{available}/{want} replicas available"))
    } else {
        UnitState::Ready(format!("deployment available ({available}/{want})"))
    }
}

pub fn statefulset_state(s: &StatefulSet) -> UnitState {
    let want = s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let status = s.status.clone().unwrap_or_default();
    if status.observed_generation.unwrap_or(0) < s.metadata.generation.unwrap_or(0) {
        return UnitState::Pending("waiting for the controller to observe the new spec".into());
    }
    let ready = status.ready_replicas.unwrap_or(0);
    let updated = status.updated_replicas.unwrap_or(0);
    if updated < want {
        UnitState::Pending(format!("{updated}/{want} replicas updated"))
    } else if ready < want {
        UnitState::Pending(format!("{ready}/{want} replicas ready"))
    } else {
        UnitState::Ready(format!("statefulset ready ({ready}/{want})"))
    }
}

pub fn job_state(j: &Job) -> UnitState {
    let conditions = j.status.as_ref().and_then(|s| s.conditions.clone()).unwrap_or_default();
    let holds = |kind: &str| conditions.iter().find(|c| c.type_ == kind && c.status == "True");
    if let Some(c) = holds("Complete") {
        return UnitState::Ready(format!(
            "job complete{}",
            c.last_transition_time.as_ref().map(|t| format!(" at {}", t.0)).unwrap_or_default()
        ));
    }
    if let Some(c) = holds("Failed") {
        return UnitState::Failed(format!(
            "job failed: {}",
            c.message.clone().or_else(|| c.reason.clone()).unwrap_or_default()
        ));
    }
    let active = j.status.as_ref().and_then(|s| s.active).unwrap_or(0);
    let failed = j.status.as_ref().and_then(|s| s.failed).unwrap_or(0);
    UnitState::Pending(format!("job running ({active} active, {failed} failed attempts)"))
}

/// Pods of a unit that cannot recover by waiting (see [`stuck_container`]).
async fn pod_failure(
    client: &Client,
    namespace: &str,
    unit: &InstalledUnit,
    extra_selector: Option<String>,
) -> Result<Option<String>> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let mut labels = selector(unit);
    if let Some(extra) = extra_selector {
        labels.push(',');
        labels.push_str(&extra);
    }
    let list =
        api(pods.list(&ListParams::default().labels(&labels)).await, || format!("listing pods of {}", unit.name))?;
    for pod in &list.items {
        if let Some((container, why)) = stuck_container::stuck_container(pod) {
            let name = pod.metadata.name.clone().unwrap_or_default();
            return Ok(Some(format!("pod {name} container {container}: {why}")));
        }
    }
    Ok(None)
}

/// The label selector of a unit's pods (the chart's selector labels).
pub fn selector(unit: &InstalledUnit) -> String {
    format!("{}={},{}={}", crate::labels::NAME, unit.name, crate::labels::INSTANCE, unit.release)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn daemonset(generation: i64, status: serde_json::Value) -> DaemonSet {
        serde_json::from_value(json!({
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "agent", "generation": generation},
            "spec": {
                "selector": {"matchLabels": {"app.kubernetes.io/name": "agent"}},
                "template": {"spec": {"containers": [{"name": "agent", "image": "agent:1"}]}}
            },
            "status": status,
        }))
        .unwrap()
    }

    fn status(observed: i64, desired: i32, updated: i32, available: i32) -> serde_json::Value {
        json!({
            "observedGeneration": observed,
            "currentNumberScheduled": desired,
            "desiredNumberScheduled": desired,
            "numberMisscheduled": 0,
            "numberReady": available,
            "updatedNumberScheduled": updated,
            "numberAvailable": available,
        })
    }

    #[test]
    fn a_daemonset_is_pending_until_the_controller_observed_its_generation() {
        let state = daemonset_state(&daemonset(3, status(2, 2, 2, 2)));
        assert_eq!(state, UnitState::Pending("waiting for the controller to observe the new spec".into()));
    }

    #[test]
    fn a_daemonset_waits_for_every_scheduled_pod_to_be_updated() {
        assert_eq!(daemonset_state(&daemonset(2, status(2, 3, 1, 3))), UnitState::Pending("1/3 pods updated".into()));
    }

    #[test]
    fn a_daemonset_waits_for_the_updated_pods_to_be_available() {
        assert_eq!(
            daemonset_state(&daemonset(2, status(2, 3, 3, 2))),
            UnitState::Pending("2/3 updated pods available".into())
        );
    }

    #[test]
    fn a_rolled_out_daemonset_is_ready() {
        assert_eq!(
            daemonset_state(&daemonset(2, status(2, 3, 3, 3))),
            UnitState::Ready("daemonset rolled out (3/3)".into())
        );
    }

    #[test]
    fn a_daemonset_on_no_node_is_ready_with_nothing_to_roll_out() {
        assert_eq!(
            daemonset_state(&daemonset(1, status(1, 0, 0, 0))),
            UnitState::Ready("daemonset rolled out (0/0)".into())
        );
    }

    #[test]
    fn a_deployment_whose_pods_pod_security_refuses_has_failed() {
        let deployment: Deployment = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "generation": 1},
            "spec": {"replicas": 1, "selector": {}, "template": {}},
            "status": {"observedGeneration": 1, "conditions": [{
                "type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                "message": "pods \"web-1\" is forbidden: violates PodSecurity \"restricted:latest\": privileged",
            }]},
        }))
        .unwrap();
        let UnitState::Failed(why) = deployment_state(&deployment) else { panic!("not failed") };
        assert!(why.contains("violates PodSecurity \"restricted:latest\": privileged"), "{why}");
        // A full quota may free up: still pending.
        let mut waiting = deployment.clone();
        waiting.status.as_mut().unwrap().conditions.as_mut().unwrap()[0].message =
            Some("pods \"web-1\" is forbidden: exceeded quota: codex-quota".into());
        assert!(matches!(deployment_state(&waiting), UnitState::Pending(_)));
    }

    #[test]
    fn a_daemonset_without_status_is_pending() {
        let mut d = daemonset(
            1,
            json!({"desiredNumberScheduled": 0, "currentNumberScheduled": 0, "numberMisscheduled": 0, "numberReady": 0}),
        );
        d.status = None;
        assert!(matches!(daemonset_state(&d), UnitState::Pending(_)));
    }

    fn from_yaml<T: serde::de::DeserializeOwned>(text: &str) -> T {
        serde_yaml::from_str(text).expect("test YAML")
    }

    const ROLLED_OUT_DEPLOYMENT: &str = "
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, generation: 2}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template: {spec: {containers: [{name: web, image: 'web:1'}]}}
status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2}
";

    /// The rolled-out Deployment with `status` merged over its status.
    fn deployment_with(status: &str) -> Deployment {
        with_status(ROLLED_OUT_DEPLOYMENT, status)
    }

    /// The object `base` describes, with `status` merged over its status.
    fn with_status<T: serde::de::DeserializeOwned>(base: &str, status: &str) -> T {
        let mut object: serde_json::Value = from_yaml(base);
        let changes: serde_json::Value = from_yaml(status);
        for (key, value) in changes.as_object().unwrap() {
            object["status"][key] = value.clone();
        }
        serde_json::from_value(object).unwrap()
    }

    #[test]
    fn a_rolled_out_deployment_is_ready() {
        assert_eq!(
            deployment_state(&from_yaml(ROLLED_OUT_DEPLOYMENT)),
            UnitState::Ready("deployment available (2/2)".into())
        );
    }

    #[test]
    fn a_deployment_is_pending_until_the_controller_observed_its_generation() {
        assert_eq!(
            deployment_state(&deployment_with("{observedGeneration: 1}")),
            UnitState::Pending("waiting for the controller to observe the new spec".into())
        );
    }

    #[test]
    fn a_deployment_waits_for_updated_then_old_gone_then_available_replicas() {
        assert_eq!(
            deployment_state(&deployment_with("{updatedReplicas: 1}")),
            UnitState::Pending("1/2 replicas updated".into())
        );
        assert_eq!(
            deployment_state(&deployment_with("{replicas: 3}")),
            UnitState::Pending("1 old replicas pending termination".into())
        );
        assert_eq!(
            deployment_state(&deployment_with("{availableReplicas: 1}")),
            UnitState::Pending("1/2 replicas available".into())
        );
    }

    #[test]
    fn a_deployment_without_replicas_or_status_wants_one_replica() {
        let created: Deployment = from_yaml(
            "
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, generation: 1}
spec: {selector: {matchLabels: {app: web}}, template: {}}
",
        );
        assert_eq!(
            deployment_state(&created),
            UnitState::Pending("waiting for the controller to observe the new spec".into())
        );
        let mut observed = created.clone();
        observed.metadata.generation = None;
        assert_eq!(deployment_state(&observed), UnitState::Pending("0/1 replicas updated".into()));
    }

    /// This rule reads counts only: an exceeded progress deadline leaves the unit pending, and the
    /// pods' own failures (`with_pod_failures`) or the phase's timeout decide.
    #[test]
    fn a_deployment_past_its_progress_deadline_is_still_pending() {
        let stuck = deployment_with(
            "
availableReplicas: 0
conditions:
- {type: Progressing, status: 'False', reason: ProgressDeadlineExceeded, message: ReplicaSet \"web-5d\" has timed out progressing.}
",
        );
        assert_eq!(deployment_state(&stuck), UnitState::Pending("0/2 replicas available".into()));
    }

    #[test]
    fn a_pod_security_refusal_fails_the_deployment_before_any_count_is_read() {
        let refused = "
observedGeneration: 1
updatedReplicas: 0
conditions:
- type: ReplicaFailure
  status: 'True'
  reason: FailedCreate
  message: 'pods \"web-7c\" is forbidden: violates PodSecurity \"restricted:latest\": runAsNonRoot != true'
";
        let UnitState::Failed(why) = deployment_state(&deployment_with(refused)) else { panic!("not failed") };
        assert_eq!(
            why,
            "the API server refuses its pods: pods \"web-7c\" is forbidden: violates PodSecurity \"restricted:latest\": \
             runAsNonRoot != true"
        );
        // A condition that no longer holds is history, not a refusal.
        let resolved = deployment_with(&refused.replace("status: 'True'", "status: 'False'"));
        assert_eq!(
            deployment_state(&resolved),
            UnitState::Pending("waiting for the controller to observe the new spec".into())
        );
    }

    const ROLLED_OUT_STATEFULSET: &str = "
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, generation: 4}
spec:
  replicas: 3
  serviceName: db
  selector: {matchLabels: {app: db}}
  template: {spec: {containers: [{name: db, image: 'postgres:17'}]}}
status: {observedGeneration: 4, replicas: 3, readyReplicas: 3, updatedReplicas: 3}
";

    fn statefulset_with(status: &str) -> StatefulSet {
        with_status(ROLLED_OUT_STATEFULSET, status)
    }

    #[test]
    fn statefulset_generation_then_updated_then_ready_replicas() {
        assert_eq!(
            statefulset_state(&from_yaml(ROLLED_OUT_STATEFULSET)),
            UnitState::Ready("statefulset ready (3/3)".into())
        );
        assert_eq!(
            statefulset_state(&statefulset_with("{observedGeneration: 3}")),
            UnitState::Pending("waiting for the controller to observe the new spec".into())
        );
        assert_eq!(
            statefulset_state(&statefulset_with("{updatedReplicas: 2}")),
            UnitState::Pending("2/3 replicas updated".into())
        );
        assert_eq!(
            statefulset_state(&statefulset_with("{readyReplicas: 1}")),
            UnitState::Pending("1/3 replicas ready".into())
        );
        // Updated counts before ready: a rollout in progress says so first.
        assert_eq!(
            statefulset_state(&statefulset_with("{updatedReplicas: 0, readyReplicas: 0}")),
            UnitState::Pending("0/3 replicas updated".into())
        );
    }

    fn job(status: &str) -> Job {
        from_yaml(&format!(
            "
apiVersion: batch/v1
kind: Job
metadata: {{name: migrate-3f2a}}
spec: {{backoffLimit: 2, template: {{spec: {{restartPolicy: Never, containers: [{{name: migrate, image: 'migrate:1'}}]}}}}}}
status: {status}
"
        ))
    }

    #[test]
    fn a_complete_job_is_ready_and_says_when() {
        let complete = job("{succeeded: 1, conditions: [{type: SuccessCriteriaMet, status: 'True'}, \
             {type: Complete, status: 'True', lastTransitionTime: '2026-12-07T08:00:00Z'}]}");
        assert_eq!(job_state(&complete), UnitState::Ready("job complete at 2026-12-07T08:00:00Z".into()));
        let untimed = job("{conditions: [{type: Complete, status: 'True'}]}");
        assert_eq!(job_state(&untimed), UnitState::Ready("job complete".into()));
    }

    #[test]
    fn a_job_past_its_backoff_limit_has_failed() {
        let failed = job("{failed: 3, conditions: [{type: Failed, status: 'True', reason: BackoffLimitExceeded, \
             message: Job has reached the specified backoff limit}]}");
        assert_eq!(
            job_state(&failed),
            UnitState::Failed("job failed: Job has reached the specified backoff limit".into())
        );
        // Without a message the reason says it.
        let terse = job("{conditions: [{type: Failed, status: 'True', reason: DeadlineExceeded}]}");
        assert_eq!(job_state(&terse), UnitState::Failed("job failed: DeadlineExceeded".into()));
    }

    #[test]
    fn a_job_retrying_within_its_backoff_limit_is_pending() {
        let retrying = job("{active: 1, failed: 2}");
        assert_eq!(job_state(&retrying), UnitState::Pending("job running (1 active, 2 failed attempts)".into()));
        // Conditions that do not hold count for nothing.
        let not_yet =
            job("{active: 1, conditions: [{type: Complete, status: 'False'}, {type: Failed, status: 'False'}]}");
        assert_eq!(job_state(&not_yet), UnitState::Pending("job running (1 active, 0 failed attempts)".into()));
        let mut unstarted = job("{}");
        unstarted.status = None;
        assert_eq!(job_state(&unstarted), UnitState::Pending("job running (0 active, 0 failed attempts)".into()));
    }
}
