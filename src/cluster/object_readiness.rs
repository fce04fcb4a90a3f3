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
mod tests;
