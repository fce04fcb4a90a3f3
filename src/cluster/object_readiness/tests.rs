use super::*;

fn yaml(text: &str) -> Value {
    serde_yaml::from_str::<Value>(text).expect("test YAML")
}

fn of(text: &str) -> ObjectState {
    state(&yaml(text), false)
}

/// An object of `kind` in `api_version`; `fields` are its other top-level keys, as flow YAML.
fn object(api_version: &str, kind: &str, fields: &str) -> ObjectState {
    of(&format!("{{apiVersion: {api_version}, kind: {kind}, {fields}}}"))
}

fn apps(kind: &str, fields: &str) -> ObjectState {
    object("apps/v1", kind, fields)
}

/// An object whose status holds only `conditions` (the flow YAML of the list's items).
fn with_conditions(api_version: &str, kind: &str, conditions: &str) -> ObjectState {
    object(api_version, kind, &format!("status: {{conditions: [{conditions}]}}"))
}

fn ready(state: ObjectState) -> String {
    match state {
        ObjectState::Ready(text) => text,
        other => panic!("expected Ready, got {other:?}"),
    }
}

fn pending(state: ObjectState) -> String {
    match state {
        ObjectState::Pending(text) => text,
        other => panic!("expected Pending, got {other:?}"),
    }
}

fn failed(state: ObjectState) -> String {
    match state {
        ObjectState::Failed(text) => text,
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[test]
fn rules_by_kind() {
    assert_eq!(Rule::for_kind("apps/v1", "Deployment"), Rule::RolledOut);
    assert_eq!(Rule::for_kind("apps/v1", "StatefulSet"), Rule::RolledOut);
    assert_eq!(Rule::for_kind("apps/v1", "DaemonSet"), Rule::RolledOut);
    assert_eq!(Rule::for_kind("apps/v1", "ReplicaSet"), Rule::RolledOut);
    assert_eq!(Rule::for_kind("batch/v1", "Job"), Rule::Complete);
    assert_eq!(Rule::for_kind("v1", "PersistentVolumeClaim"), Rule::Bound);
    assert_eq!(Rule::for_kind("apiextensions.k8s.io/v1", "CustomResourceDefinition"), Rule::Established);
    assert_eq!(Rule::for_kind("v1", "Pod"), Rule::PodReady);
    assert_eq!(Rule::for_kind("v1", "ConfigMap"), Rule::Conditions);
    assert_eq!(Rule::for_kind("batch/v1", "CronJob"), Rule::Conditions);
    assert_eq!(Rule::for_kind("cert-manager.io/v1", "Certificate"), Rule::Conditions);
    // A CRD that happens to call its kind "Deployment" is not an apps Deployment.
    assert_eq!(Rule::for_kind("example.com/v1", "Deployment"), Rule::Conditions);
    assert_eq!(Rule::RolledOut.describe(), "rolled out");
    assert_eq!(Rule::Conditions.describe(), "Ready/Available condition or exists");
    assert_eq!(Rule::PodReady.describe(), "ready");
}

#[test]
fn a_lagging_observed_generation_is_pending_for_any_kind() {
    let lagging = of("
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, generation: 3}
spec: {replicas: 1}
status: {observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1}
");
    assert_eq!(pending(lagging), "waiting for the controller to observe generation 3");
    let custom = of("
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: tls, generation: 2}
status:
  observedGeneration: 1
  conditions: [{type: Ready, status: 'True'}]
");
    assert_eq!(pending(custom), "waiting for the controller to observe generation 2");
}

#[test]
fn deployment_ready_pending_failed() {
    let deployment = |fields: &str| apps("Deployment", fields);
    let available = deployment(
        "metadata: {name: web, generation: 2}, spec: {replicas: 2}, \
         status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2}",
    );
    assert_eq!(ready(available), "deployment available (2/2)");
    let updating = deployment("spec: {replicas: 2}, status: {replicas: 2, updatedReplicas: 1, availableReplicas: 2}");
    assert_eq!(pending(updating), "1/2 replicas updated");
    let old_left = deployment("spec: {replicas: 2}, status: {replicas: 3, updatedReplicas: 2, availableReplicas: 2}");
    assert_eq!(pending(old_left), "1 old replicas pending termination");
    let unavailable = deployment("status: {replicas: 1, updatedReplicas: 1}");
    assert_eq!(pending(unavailable), "0/1 replicas available");
    let deadline = of("
apiVersion: apps/v1
kind: Deployment
spec: {replicas: 2}
status:
  replicas: 3
  updatedReplicas: 1
  conditions:
  - {type: Progressing, status: 'False', reason: ProgressDeadlineExceeded, message: ReplicaSet \"web-5d\" has timed out progressing.}
");
    assert!(failed(deadline).contains("ProgressDeadlineExceeded"));
}

#[test]
fn a_deployment_whose_pods_pod_security_refuses_has_failed() {
    let refused = "
apiVersion: apps/v1
kind: Deployment
spec: {replicas: 1}
status:
  conditions:
  - type: ReplicaFailure
    status: 'True'
    reason: FailedCreate
    message: 'pods \"web-7c\" is forbidden: violates PodSecurity \"restricted:latest\": privileged'
";
    assert_eq!(
        failed(of(refused)),
        "the API server refuses its pods: pods \"web-7c\" is forbidden: violates PodSecurity \
             \"restricted:latest\": privileged"
    );
    // A full quota may free up: only the counts decide.
    let quota = refused.replace("violates PodSecurity", "exceeded quota");
    assert_eq!(pending(of(&quota)), "0/1 replicas updated");
}

#[test]
fn a_statefulset_partition_keeps_the_pods_below_it_on_the_old_revision() {
    let partitioned = "
apiVersion: apps/v1
kind: StatefulSet
spec: {replicas: 3, updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 2}}}
status: {replicas: 3, readyReplicas: 3, updatedReplicas: 1, currentRevision: db-7f, updateRevision: db-9a}
";
    assert_eq!(ready(of(partitioned)), "statefulset ready (3/3)");
    assert_eq!(pending(of(&partitioned.replace("updatedReplicas: 1", "updatedReplicas: 0"))), "0/1 replicas updated");
}

#[test]
fn statefulset_ready_and_pending() {
    let statefulset = |fields: &str| apps("StatefulSet", fields);
    let rolled = statefulset(
        "spec: {replicas: 3}, \
         status: {replicas: 3, readyReplicas: 3, updatedReplicas: 3, currentRevision: db-7f, updateRevision: db-7f}",
    );
    assert_eq!(ready(rolled), "statefulset ready (3/3)");
    let revision = statefulset(
        "spec: {replicas: 3}, \
         status: {replicas: 3, readyReplicas: 3, updatedReplicas: 3, currentRevision: db-7f, updateRevision: db-9a}",
    );
    assert!(pending(revision).contains("db-9a"));
    let updating = statefulset("spec: {replicas: 3}, status: {replicas: 3, readyReplicas: 3, updatedReplicas: 1}");
    assert_eq!(pending(updating), "1/3 replicas updated");
    let not_ready = statefulset("status: {replicas: 1, updatedReplicas: 1}");
    assert_eq!(pending(not_ready), "0/1 replicas ready");
    let on_delete = statefulset(
        "spec: {replicas: 2, updateStrategy: {type: OnDelete}}, \
         status: {replicas: 2, readyReplicas: 2, updatedReplicas: 0, currentRevision: db-7f, updateRevision: db-9a}",
    );
    assert_eq!(ready(on_delete), "statefulset ready (2/2)");
}

#[test]
fn daemonset_ready_and_pending() {
    let daemonset = |fields: &str| apps("DaemonSet", fields);
    let available = daemonset("status: {desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3}");
    assert_eq!(ready(available), "daemonset available (3/3)");
    let updating = daemonset("status: {desiredNumberScheduled: 3, updatedNumberScheduled: 2, numberAvailable: 3}");
    assert_eq!(pending(updating), "2/3 pods updated");
    let unavailable = daemonset("status: {desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 1}");
    assert_eq!(pending(unavailable), "1/3 pods available");
    assert_eq!(pending(of("{apiVersion: apps/v1, kind: DaemonSet, metadata: {name: agent}}")), "no status yet");
}

#[test]
fn replicaset_ready_and_pending() {
    let available = of("{apiVersion: apps/v1, kind: ReplicaSet, spec: {replicas: 2}, status: {availableReplicas: 2}}");
    assert_eq!(ready(available), "replicaset available (2/2)");
    let short = of("{apiVersion: apps/v1, kind: ReplicaSet, status: {replicas: 1}}");
    assert_eq!(pending(short), "0/1 replicas available");
}

#[test]
fn job_ready_pending_failed() {
    let complete = object(
        "batch/v1",
        "Job",
        "status: {succeeded: 1, conditions: [\
         {type: SuccessCriteriaMet, status: 'True'}, {type: Complete, status: 'True'}]}",
    );
    assert_eq!(ready(complete), "job complete");
    let running = of("{apiVersion: batch/v1, kind: Job, status: {active: 1, failed: 2}}");
    assert_eq!(pending(running), "job running (1 active, 2 failed attempts)");
    let suspended = of("{apiVersion: batch/v1, kind: Job, spec: {suspend: true}}");
    assert_eq!(pending(suspended), "suspended");
    let backoff = object(
        "batch/v1",
        "Job",
        "status: {failed: 7, conditions: [\
         {type: Failed, status: 'True', reason: BackoffLimitExceeded, \
         message: Job has reached the specified backoff limit}]}",
    );
    assert_eq!(failed(backoff), "job failed: BackoffLimitExceeded: Job has reached the specified backoff limit");
}

#[test]
fn claims_bound_pending_lost() {
    let bound = "{apiVersion: v1, kind: PersistentVolumeClaim, status: {phase: Bound}}";
    assert_eq!(ready(of(bound)), "bound");
    let waiting = "{apiVersion: v1, kind: PersistentVolumeClaim, status: {phase: Pending}}";
    assert_eq!(pending(of(waiting)), "claim pending");
    let lost = "{apiVersion: v1, kind: PersistentVolumeClaim, status: {phase: Lost}}";
    assert!(failed(of(lost)).starts_with("claim lost"));
}

#[test]
fn a_wait_for_first_consumer_claim_counts_as_ready() {
    let unclaimed = yaml("{apiVersion: v1, kind: PersistentVolumeClaim, status: {phase: Pending}}");
    assert_eq!(ready(state(&unclaimed, true)), "waits for its first consumer (WaitForFirstConsumer)");
    let scheduled = yaml(
        "
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
  annotations: {volume.kubernetes.io/selected-node: worker-2}
status: {phase: Pending}
",
    );
    assert_eq!(ready(state(&scheduled, true)), "consumer scheduled on worker-2");
    assert_eq!(pending(state(&scheduled, false)), "claim pending");
}

#[test]
fn crd_ready_pending_failed() {
    let crd = |conditions: &str| with_conditions("apiextensions.k8s.io/v1", "CustomResourceDefinition", conditions);
    let established = crd("{type: NamesAccepted, status: 'True'}, {type: Established, status: 'True'}");
    assert_eq!(ready(established), "established");
    let fresh = of("{apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition}");
    assert_eq!(pending(fresh), "waiting for the Established condition");
    let clash = crd("{type: NamesAccepted, status: 'False', reason: MultipleNamesNotAllowed, \
         message: '\"widgets\" is already in use'}, \
         {type: Established, status: 'False'}");
    assert!(failed(clash).contains("already in use"));
}

#[test]
fn pod_ready_pending_failed() {
    let running = object("v1", "Pod", "status: {phase: Running, conditions: [{type: Ready, status: 'True'}]}");
    assert_eq!(ready(running), "pod ready");
    assert_eq!(ready(of("{apiVersion: v1, kind: Pod, status: {phase: Succeeded}}")), "pod succeeded");
    let starting = object(
        "v1",
        "Pod",
        "status: {phase: Running, conditions: [{type: Ready, status: 'False', reason: ContainersNotReady}]}",
    );
    assert_eq!(pending(starting), "pod not ready: ContainersNotReady");
    let evicted = of("{apiVersion: v1, kind: Pod, status: {phase: Failed, reason: Evicted}}");
    assert_eq!(failed(evicted), "pod failed: Evicted");
}

#[test]
fn a_configmap_is_ready_once_it_exists() {
    let map = of("{apiVersion: v1, kind: ConfigMap, metadata: {name: settings}, data: {a: b}}");
    assert_eq!(ready(map), "exists");
}

#[test]
fn a_certificate_follows_its_ready_condition() {
    let certificate = |conditions: &str| {
        let fields = format!(
            "metadata: {{name: tls, generation: 1}}, status: {{observedGeneration: 1, conditions: [{conditions}]}}"
        );
        object("cert-manager.io/v1", "Certificate", &fields)
    };
    let issuing = certificate(
        "{type: Issuing, status: 'True'}, \
         {type: Ready, status: 'False', reason: DoesNotExist, message: Issuing certificate as Secret does not exist}",
    );
    assert_eq!(pending(issuing), "condition Ready=False: DoesNotExist: Issuing certificate as Secret does not exist");
    let issued = certificate("{type: Ready, status: 'True', reason: Ready}");
    assert_eq!(ready(issued), "condition Ready=True");
}

#[test]
fn available_counts_when_there_is_no_ready_condition() {
    let service = with_conditions(
        "apiregistration.k8s.io/v1",
        "APIService",
        "{type: Available, status: 'False', reason: MissingEndpoints}",
    );
    assert_eq!(pending(service), "condition Available=False: MissingEndpoints");
}

#[test]
fn a_stalled_or_failed_condition_fails() {
    let stalled = with_conditions(
        "helm.toolkit.fluxcd.io/v2",
        "HelmRelease",
        "{type: Ready, status: 'False', reason: InstallFailed}, \
         {type: Stalled, status: 'True', reason: RetriesExceeded, message: Failed to install after 1 attempt(s)}",
    );
    assert_eq!(failed(stalled), "Stalled: RetriesExceeded: Failed to install after 1 attempt(s)");
    let widget = |conditions: &str| with_conditions("example.com/v1", "Widget", conditions);
    let failed_condition = widget("{type: Failed, status: 'True', message: quota exceeded}");
    assert_eq!(failed(failed_condition), "Failed: quota exceeded");
    let reconciling = widget("{type: Reconciling, status: 'True', reason: Progressing}");
    assert_eq!(pending(reconciling), "reconciling: Progressing");
}

#[test]
fn garbage_never_panics() {
    for text in [
        "null",
        "42",
        "{kind: Deployment, apiVersion: apps/v1, spec: {replicas: many}, status: [1, 2]}",
        "{kind: Job, apiVersion: batch/v1, status: {conditions: {type: Complete}}}",
        "{kind: Pod, apiVersion: v1, status: {conditions: [7, null, {type: 3}]}}",
        "{kind: StatefulSet, apiVersion: apps/v1, spec: {updateStrategy: {rollingUpdate: {partition: 9}}}}",
        "{kind: PersistentVolumeClaim, apiVersion: v1, metadata: {annotations: 5}}",
        "{metadata: {generation: x}, status: {observedGeneration: 1}}",
    ] {
        let object = yaml(text);
        let _ = state(&object, true);
        let _ = pod_selector(&object);
    }
}

#[test]
fn selectors_of_the_pods_an_object_owns() {
    let deployment = yaml(
        "
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector:
    matchLabels: {app: web, tier: front}
    matchExpressions: [{key: track, operator: In, values: [stable, canary]}]
",
    );
    assert_eq!(pod_selector(&deployment).as_deref(), Some("app=web,tier=front,track in (stable,canary)"));
    let job = yaml(
        "
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  selector:
    matchLabels: {batch.kubernetes.io/controller-uid: 0c1e6f5a-0000-4000-8000-000000000001}
",
    );
    assert_eq!(
        pod_selector(&job).as_deref(),
        Some("batch.kubernetes.io/controller-uid=0c1e6f5a-0000-4000-8000-000000000001")
    );
    let undefaulted = yaml("{apiVersion: batch/v1, kind: Job, metadata: {name: migrate}, spec: {}}");
    assert_eq!(pod_selector(&undefaulted).as_deref(), Some("job-name=migrate"));
    let cron = yaml("{apiVersion: batch/v1, kind: CronJob, metadata: {name: nightly}, spec: {schedule: '@daily'}}");
    assert_eq!(pod_selector(&cron), None);
    let map = yaml("{apiVersion: v1, kind: ConfigMap, metadata: {name: settings}}");
    assert_eq!(pod_selector(&map), None);
    let pod = yaml("{apiVersion: v1, kind: Pod, metadata: {name: p, labels: {app: web}}}");
    assert_eq!(pod_selector(&pod), None);
    let empty = yaml("{apiVersion: apps/v1, kind: DaemonSet, spec: {selector: {}}}");
    assert_eq!(pod_selector(&empty), None);
}
