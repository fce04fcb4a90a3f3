//! When an arbitrary Kubernetes object counts as ready, the way kstatus (Flux, Argo CD, cli-utils)
//! reads it: pure rules over the object as the API server returns it (JSON), no I/O.
//!
//! Missing or malformed fields never panic: they read as their defaults, which mostly means
//! "pending".

use serde_json::Value;

/// What one object's status says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectState {
    /// Not ready yet; text says what is awaited.
    Pending(String),
    /// Ready; text says how it was observed (goes into evidence), e.g. "deployment available (2/2)".
    Ready(String),
    /// Cannot become ready without a change (a failed Job, a Stalled/Failed condition).
    Failed(String),
}

/// Which rule applies to a kind; also shown in `plan` ("rolled out", "complete", ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    RolledOut,
    Complete,
    Bound,
    Established,
    Conditions,
    PodReady,
}

impl Rule {
    /// The rule for objects of this apiVersion and kind. Only the API group of `api_version`
    /// counts, so `apps/v1` and an older `apps/v1beta2` get the same rule.
    pub fn for_kind(api_version: &str, kind: &str) -> Rule {
        let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
        match (group, kind) {
            ("apps" | "extensions", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") => Rule::RolledOut,
            ("batch", "Job") => Rule::Complete,
            ("", "PersistentVolumeClaim") => Rule::Bound,
            ("apiextensions.k8s.io", "CustomResourceDefinition") => Rule::Established,
            ("", "Pod") => Rule::PodReady,
            _ => Rule::Conditions,
        }
    }

    /// Short words for plan output.
    pub fn describe(self) -> &'static str {
        match self {
            Rule::RolledOut => "rolled out",
            Rule::Complete => "complete",
            Rule::Bound => "bound",
            Rule::Established => "established",
            Rule::Conditions => "Ready/Available condition or exists",
            Rule::PodReady => "ready",
        }
    }
}

/// The state of `object` (kind/apiVersion read from the object itself).
///
/// `wait_for_first_consumer`: for a PVC, whether its StorageClass binds on first consumer; then
/// a Pending claim counts as ready (the consumer's own pods are gated separately).
pub fn state(object: &Value, wait_for_first_consumer: bool) -> ObjectState {
    if let Some(lag) = generation_lag(object) {
        return lag;
    }
    let kind = text(object, "/kind");
    match Rule::for_kind(text(object, "/apiVersion"), kind) {
        Rule::RolledOut => match kind {
            "Deployment" => deployment(object),
            "StatefulSet" => stateful_set(object),
            "DaemonSet" => daemon_set(object),
            _ => replica_set(object),
        },
        Rule::Complete => job(object),
        Rule::Bound => claim(object, wait_for_first_consumer),
        Rule::Established => crd(object),
        Rule::PodReady => pod(object),
        Rule::Conditions => generic(object),
    }
}

/// The label selector (as `k=v,k2=v2`) of the pods an object owns, when it owns pods.
///
/// Workloads and Jobs: `spec.selector` (matchLabels, and matchExpressions in selector syntax);
/// a Job without one (not yet defaulted by the API server) falls back to `job-name=<name>`.
/// CronJobs (their Jobs own the pods), Pods and everything else: None.
pub fn pod_selector(object: &Value) -> Option<String> {
    let group = text(object, "/apiVersion").rsplit_once('/').map_or("", |(group, _)| group);
    match (group, text(object, "/kind")) {
        ("apps" | "extensions", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") => {
            label_selector(object.pointer("/spec/selector")?)
        }
        ("batch", "Job") => object.pointer("/spec/selector").and_then(label_selector).or_else(|| {
            let name = text(object, "/metadata/name");
            (!name.is_empty()).then(|| format!("job-name={name}"))
        }),
        _ => None,
    }
}

/// A `metav1.LabelSelector` in the selector syntax of `?labelSelector=`; None when it is empty
/// or malformed (a wider selector than meant would gate on foreign pods).
fn label_selector(selector: &Value) -> Option<String> {
    let mut terms = Vec::new();
    if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
        for (key, value) in labels {
            terms.push(format!("{key}={}", value.as_str()?));
        }
    }
    for expression in selector.get("matchExpressions").and_then(Value::as_array).into_iter().flatten() {
        let key = expression.get("key").and_then(Value::as_str).filter(|key| !key.is_empty())?;
        let values = || -> Option<String> {
            let values = expression.get("values")?.as_array()?;
            let values: Option<Vec<&str>> = values.iter().map(Value::as_str).collect();
            Some(values?.join(","))
        };
        terms.push(match expression.get("operator").and_then(Value::as_str)? {
            "In" => format!("{key} in ({})", values()?),
            "NotIn" => format!("{key} notin ({})", values()?),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            _ => return None,
        });
    }
    (!terms.is_empty()).then(|| terms.join(","))
}

/// Pending while the controller has not yet seen the latest spec.
fn generation_lag(object: &Value) -> Option<ObjectState> {
    let observed = object.pointer("/status/observedGeneration")?.as_i64()?;
    let generation = object.pointer("/metadata/generation").and_then(Value::as_i64)?;
    (observed < generation)
        .then(|| ObjectState::Pending(format!("waiting for the controller to observe generation {generation}")))
}

fn deployment(object: &Value) -> ObjectState {
    if let Some(progressing) = condition(object, "Progressing") {
        if status_of(progressing) == "False" && text(progressing, "/reason") == "ProgressDeadlineExceeded" {
            return ObjectState::Failed(format!("progress deadline exceeded: {}", explain(progressing)));
        }
    }
    if let Some(failure) = condition(object, "ReplicaFailure") {
        let message = text(failure, "/message");
        if status_of(failure) == "True" && message.contains(super::readiness::POD_SECURITY_REFUSAL) {
            return ObjectState::Failed(format!("the API server refuses its pods: {message}"));
        }
    }
    let want = int(object, "/spec/replicas", 1);
    let replicas = int(object, "/status/replicas", 0);
    let updated = int(object, "/status/updatedReplicas", 0);
    let available = int(object, "/status/availableReplicas", 0);
    if updated < want {
        return ObjectState::Pending(format!("{updated}/{want} replicas updated"));
    }
    if replicas > updated {
        return ObjectState::Pending(format!("{} old replicas pending termination", replicas - updated));
    }
    if available < want {
        return ObjectState::Pending(format!("{available}/{want} replicas available"));
    }
    ObjectState::Ready(format!("deployment available ({available}/{want})"))
}

fn stateful_set(object: &Value) -> ObjectState {
    let want = int(object, "/spec/replicas", 1);
    let ready = int(object, "/status/readyReplicas", 0);
    let strategy = object.pointer("/spec/updateStrategy/type").and_then(Value::as_str).unwrap_or("RollingUpdate");
    if strategy != "OnDelete" {
        // A partition keeps the pods below it on the old revision on purpose.
        let partition = int(object, "/spec/updateStrategy/rollingUpdate/partition", 0).clamp(0, want.max(0));
        let updated = int(object, "/status/updatedReplicas", 0);
        if updated < want - partition {
            return ObjectState::Pending(format!("{updated}/{} replicas updated", want - partition));
        }
        let current = text(object, "/status/currentRevision");
        let update = text(object, "/status/updateRevision");
        if partition == 0 && !current.is_empty() && !update.is_empty() && current != update {
            return ObjectState::Pending(format!("revision {current} not yet replaced by {update}"));
        }
    }
    if ready < want {
        return ObjectState::Pending(format!("{ready}/{want} replicas ready"));
    }
    ObjectState::Ready(format!("statefulset ready ({ready}/{want})"))
}

fn daemon_set(object: &Value) -> ObjectState {
    if object.pointer("/status/desiredNumberScheduled").is_none() {
        return ObjectState::Pending("no status yet".into());
    }
    let desired = int(object, "/status/desiredNumberScheduled", 0);
    let updated = int(object, "/status/updatedNumberScheduled", 0);
    let available = int(object, "/status/numberAvailable", 0);
    if updated < desired {
        return ObjectState::Pending(format!("{updated}/{desired} pods updated"));
    }
    if available < desired {
        return ObjectState::Pending(format!("{available}/{desired} pods available"));
    }
    ObjectState::Ready(format!("daemonset available ({available}/{desired})"))
}

fn replica_set(object: &Value) -> ObjectState {
    let want = int(object, "/spec/replicas", 1);
    let available = int(object, "/status/availableReplicas", 0);
    if available < want {
        return ObjectState::Pending(format!("{available}/{want} replicas available"));
    }
    ObjectState::Ready(format!("replicaset available ({available}/{want})"))
}

fn job(object: &Value) -> ObjectState {
    if condition(object, "Complete").is_some_and(|c| status_of(c) == "True") {
        return ObjectState::Ready("job complete".into());
    }
    if let Some(failed) = condition(object, "Failed").filter(|c| status_of(c) == "True") {
        return ObjectState::Failed(format!("job failed: {}", explain(failed)));
    }
    if object.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
        return ObjectState::Pending("suspended".into());
    }
    let active = int(object, "/status/active", 0);
    let failed = int(object, "/status/failed", 0);
    ObjectState::Pending(format!("job running ({active} active, {failed} failed attempts)"))
}

fn claim(object: &Value, wait_for_first_consumer: bool) -> ObjectState {
    match text(object, "/status/phase") {
        "Bound" => ObjectState::Ready("bound".into()),
        "Lost" => ObjectState::Failed("claim lost: its volume no longer exists".into()),
        _ if wait_for_first_consumer => {
            let node = object
                .pointer("/metadata/annotations/volume.kubernetes.io~1selected-node")
                .and_then(Value::as_str)
                .filter(|node| !node.is_empty());
            match node {
                Some(node) => ObjectState::Ready(format!("consumer scheduled on {node}")),
                None => ObjectState::Ready("waits for its first consumer (WaitForFirstConsumer)".into()),
            }
        }
        _ => ObjectState::Pending("claim pending".into()),
    }
}

fn crd(object: &Value) -> ObjectState {
    if condition(object, "Established").is_some_and(|c| status_of(c) == "True") {
        return ObjectState::Ready("established".into());
    }
    if let Some(names) = condition(object, "NamesAccepted").filter(|c| status_of(c) == "False") {
        return ObjectState::Failed(format!("names not accepted: {}", explain(names)));
    }
    ObjectState::Pending("waiting for the Established condition".into())
}

fn pod(object: &Value) -> ObjectState {
    let phase = text(object, "/status/phase");
    match phase {
        "Succeeded" => return ObjectState::Ready("pod succeeded".into()),
        "Failed" => {
            let why = [text(object, "/status/reason"), text(object, "/status/message")]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(": ");
            return ObjectState::Failed(if why.is_empty() {
                "pod failed".into()
            } else {
                format!("pod failed: {why}")
            });
        }
        _ => {}
    }
    match condition(object, "Ready") {
        Some(ready) if status_of(ready) == "True" => ObjectState::Ready("pod ready".into()),
        Some(ready) => ObjectState::Pending(format!("pod not ready: {}", explain(ready))),
        None if phase.is_empty() => ObjectState::Pending("pod not ready: no status yet".into()),
        None => ObjectState::Pending(format!("pod not ready: phase {phase}")),
    }
}

/// Any kind without its own rule: the kstatus conditions (Stalled, Reconciling), then Ready,
/// then Available; an object without any of them is ready once it exists.
fn generic(object: &Value) -> ObjectState {
    for kind in ["Stalled", "Failed"] {
        if let Some(failed) = condition(object, kind).filter(|c| status_of(c) == "True") {
            return ObjectState::Failed(format!("{kind}: {}", explain(failed)));
        }
    }
    for kind in ["Ready", "Available"] {
        if let Some(found) = condition(object, kind) {
            return match status_of(found) {
                "True" => ObjectState::Ready(format!("condition {kind}=True")),
                status => {
                    let status = if status.is_empty() { "Unknown" } else { status };
                    ObjectState::Pending(format!("condition {kind}={status}: {}", explain(found)))
                }
            };
        }
    }
    if let Some(reconciling) = condition(object, "Reconciling").filter(|c| status_of(c) == "True") {
        return ObjectState::Pending(format!("reconciling: {}", explain(reconciling)));
    }
    ObjectState::Ready("exists".into())
}

/// The condition of this type in `status.conditions`.
fn condition<'a>(object: &'a Value, kind: &str) -> Option<&'a Value> {
    object
        .pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

fn status_of(condition: &Value) -> &str {
    text(condition, "/status")
}

/// "Reason: message" of a condition, or whichever of the two it has.
fn explain(condition: &Value) -> String {
    let reason = text(condition, "/reason");
    let message = text(condition, "/message");
    match (reason.is_empty(), message.is_empty()) {
        (false, false) => format!("{reason}: {message}"),
        (false, true) => reason.to_string(),
        (true, false) => message.to_string(),
        (true, true) => "no reason given".to_string(),
    }
}

fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

fn int(value: &Value, pointer: &str, default: i64) -> i64 {
    value.pointer(pointer).and_then(Value::as_i64).unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str::<Value>(text).expect("test YAML")
    }

    fn of(text: &str) -> ObjectState {
        state(&yaml(text), false)
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
        let available = of("
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, generation: 2}
spec: {replicas: 2}
status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2}
");
        assert_eq!(ready(available), "deployment available (2/2)");
        let updating = of("
apiVersion: apps/v1
kind: Deployment
spec: {replicas: 2}
status: {replicas: 2, updatedReplicas: 1, availableReplicas: 2}
");
        assert_eq!(pending(updating), "1/2 replicas updated");
        let old_left = of("
apiVersion: apps/v1
kind: Deployment
spec: {replicas: 2}
status: {replicas: 3, updatedReplicas: 2, availableReplicas: 2}
");
        assert_eq!(pending(old_left), "1 old replicas pending termination");
        let unavailable = of("
apiVersion: apps/v1
kind: Deployment
status: {replicas: 1, updatedReplicas: 1}
");
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
        assert_eq!(
            pending(of(&partitioned.replace("updatedReplicas: 1", "updatedReplicas: 0"))),
            "0/1 replicas updated"
        );
    }

    #[test]
    fn statefulset_ready_and_pending() {
        let rolled = of("
apiVersion: apps/v1
kind: StatefulSet
spec: {replicas: 3}
status: {replicas: 3, readyReplicas: 3, updatedReplicas: 3, currentRevision: db-7f, updateRevision: db-7f}
");
        assert_eq!(ready(rolled), "statefulset ready (3/3)");
        let revision = of("
apiVersion: apps/v1
kind: StatefulSet
spec: {replicas: 3}
status: {replicas: 3, readyReplicas: 3, updatedReplicas: 3, currentRevision: db-7f, updateRevision: db-9a}
");
        assert!(pending(revision).contains("db-9a"));
        let updating = of("
apiVersion: apps/v1
kind: StatefulSet
spec: {replicas: 3}
status: {replicas: 3, readyReplicas: 3, updatedReplicas: 1}
");
        assert_eq!(pending(updating), "1/3 replicas updated");
        let not_ready = of("
apiVersion: apps/v1
kind: StatefulSet
status: {replicas: 1, updatedReplicas: 1}
");
        assert_eq!(pending(not_ready), "0/1 replicas ready");
        let on_delete = of("
apiVersion: apps/v1
kind: StatefulSet
spec: {replicas: 2, updateStrategy: {type: OnDelete}}
status: {replicas: 2, readyReplicas: 2, updatedReplicas: 0, currentRevision: db-7f, updateRevision: db-9a}
");
        assert_eq!(ready(on_delete), "statefulset ready (2/2)");
    }

    #[test]
    fn daemonset_ready_and_pending() {
        let available = of("
apiVersion: apps/v1
kind: DaemonSet
status: {desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3}
");
        assert_eq!(ready(available), "daemonset available (3/3)");
        let updating = of("
apiVersion: apps/v1
kind: DaemonSet
status: {desiredNumberScheduled: 3, updatedNumberScheduled: 2, numberAvailable: 3}
");
        assert_eq!(pending(updating), "2/3 pods updated");
        let unavailable = of("
apiVersion: apps/v1
kind: DaemonSet
status: {desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 1}
");
        assert_eq!(pending(unavailable), "1/3 pods available");
        assert_eq!(pending(of("{apiVersion: apps/v1, kind: DaemonSet, metadata: {name: agent}}")), "no status yet");
    }

    #[test]
    fn replicaset_ready_and_pending() {
        let available =
            of("{apiVersion: apps/v1, kind: ReplicaSet, spec: {replicas: 2}, status: {availableReplicas: 2}}");
        assert_eq!(ready(available), "replicaset available (2/2)");
        let short = of("{apiVersion: apps/v1, kind: ReplicaSet, status: {replicas: 1}}");
        assert_eq!(pending(short), "0/1 replicas available");
    }

    #[test]
    fn job_ready_pending_failed() {
        let complete = of("
apiVersion: batch/v1
kind: Job
status:
  succeeded: 1
  conditions: [{type: SuccessCriteriaMet, status: 'True'}, {type: Complete, status: 'True'}]
");
        assert_eq!(ready(complete), "job complete");
        let running = of("{apiVersion: batch/v1, kind: Job, status: {active: 1, failed: 2}}");
        assert_eq!(pending(running), "job running (1 active, 2 failed attempts)");
        let suspended = of("{apiVersion: batch/v1, kind: Job, spec: {suspend: true}}");
        assert_eq!(pending(suspended), "suspended");
        let backoff = of("
apiVersion: batch/v1
kind: Job
status:
  failed: 7
  conditions:
  - {type: Failed, status: 'True', reason: BackoffLimitExceeded, message: Job has reached the specified backoff limit}
");
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
        let established = of("
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
status:
  conditions: [{type: NamesAccepted, status: 'True'}, {type: Established, status: 'True'}]
");
        assert_eq!(ready(established), "established");
        let fresh = of("{apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition}");
        assert_eq!(pending(fresh), "waiting for the Established condition");
        let clash = of("
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
status:
  conditions:
  - {type: NamesAccepted, status: 'False', reason: MultipleNamesNotAllowed, message: '\"widgets\" is already in use'}
  - {type: Established, status: 'False'}
");
        assert!(failed(clash).contains("already in use"));
    }

    #[test]
    fn pod_ready_pending_failed() {
        let running = of("
apiVersion: v1
kind: Pod
status:
  phase: Running
  conditions: [{type: Ready, status: 'True'}]
");
        assert_eq!(ready(running), "pod ready");
        assert_eq!(ready(of("{apiVersion: v1, kind: Pod, status: {phase: Succeeded}}")), "pod succeeded");
        let starting = of("
apiVersion: v1
kind: Pod
status:
  phase: Running
  conditions: [{type: Ready, status: 'False', reason: ContainersNotReady}]
");
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
        let issuing = of("
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: tls, generation: 1}
status:
  observedGeneration: 1
  conditions:
  - {type: Issuing, status: 'True'}
  - {type: Ready, status: 'False', reason: DoesNotExist, message: Issuing certificate as Secret does not exist}
");
        assert_eq!(
            pending(issuing),
            "condition Ready=False: DoesNotExist: Issuing certificate as Secret does not exist"
        );
        let issued = of("
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: tls, generation: 1}
status:
  observedGeneration: 1
  conditions: [{type: Ready, status: 'True', reason: Ready}]
");
        assert_eq!(ready(issued), "condition Ready=True");
    }

    #[test]
    fn available_counts_when_there_is_no_ready_condition() {
        let service = of("
apiVersion: apiregistration.k8s.io/v1
kind: APIService
status:
  conditions: [{type: Available, status: 'False', reason: MissingEndpoints}]
");
        assert_eq!(pending(service), "condition Available=False: MissingEndpoints");
    }

    #[test]
    fn a_stalled_or_failed_condition_fails() {
        let stalled = of("
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
status:
  conditions:
  - {type: Ready, status: 'False', reason: InstallFailed}
  - {type: Stalled, status: 'True', reason: RetriesExceeded, message: Failed to install after 1 attempt(s)}
");
        assert_eq!(failed(stalled), "Stalled: RetriesExceeded: Failed to install after 1 attempt(s)");
        let failed_condition = of("
apiVersion: example.com/v1
kind: Widget
status:
  conditions: [{type: Failed, status: 'True', message: quota exceeded}]
");
        assert_eq!(failed(failed_condition), "Failed: quota exceeded");
        let reconciling = of("
apiVersion: example.com/v1
kind: Widget
status:
  conditions: [{type: Reconciling, status: 'True', reason: Progressing}]
");
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
}
