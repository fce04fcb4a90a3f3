//! Pure edits of rendered Kubernetes manifests, in their JSON form (`serde_json::Value`): finding
//! pod specs, mounting a volume everywhere, setting images, RFC 6902 JSON patches, strategic merge
//! patches, and small namespace / identity defaults. No I/O; every error says what is wrong in
//! words fit for a user.

mod image;
mod json_patch;
mod mount;
mod strategic_merge;

pub use image::{check_containers, set_images};
pub use json_patch::apply_json_patch;
pub use mount::{mount_everywhere, VolumeMount};
pub use strategic_merge::apply_strategic_merge;

use serde_json::{Map, Value};

/// Why an edit could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error(
        "{kind} {name} has no pod template (only Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job and CronJob \
         have one)"
    )]
    NoPodTemplate { kind: String, name: String },
    #[error("{kind} {name} has no containers")]
    NoContainers { kind: String, name: String },
    #[error("no container named \"{container}\" in {kind} {name}; it has: {}", available.join(", "))]
    NoSuchContainer { container: String, kind: String, name: String, available: Vec<String> },
    #[error("a JSON patch must be a list of operations, not {found}")]
    JsonPatchNotAList { found: String },
    #[error("JSON patch operation {index} ({op} \"{path}\"): {reason}")]
    JsonPatch { index: usize, op: String, path: String, reason: String },
    #[error("strategic merge patch at {}: {reason}", if path.is_empty() { "the top level" } else { path })]
    StrategicMerge { path: String, reason: String },
}

/// Where the pod spec of a kind lives, as a JSON pointer.
fn pod_spec_pointer(kind: &str) -> Option<&'static str> {
    match kind {
        "Pod" => Some("/spec"),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => Some("/spec/template/spec"),
        "CronJob" => Some("/spec/jobTemplate/spec/template/spec"),
        _ => None,
    }
}

/// Kinds that carry a pod template (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
/// CronJob), by `kind` string.
pub fn has_pod_template(kind: &str) -> bool {
    pod_spec_pointer(kind).is_some()
}

/// The pod specs inside an object, mutable: Pod `spec`; Deployment/StatefulSet/DaemonSet/
/// ReplicaSet/Job `spec.template.spec`; CronJob `spec.jobTemplate.spec.template.spec`. Empty for
/// other kinds, and when the spec is missing or not a map.
pub fn pod_specs_mut(object: &mut Value) -> Vec<&mut Value> {
    let Some(pointer) = object.get("kind").and_then(Value::as_str).and_then(pod_spec_pointer) else {
        return Vec::new();
    };
    object.pointer_mut(pointer).filter(|spec| spec.is_object()).into_iter().collect()
}

/// The pod specs inside an object, read-only (see [`pod_specs_mut`]).
pub fn pod_specs(object: &Value) -> Vec<&Value> {
    let Some(pointer) = object.get("kind").and_then(Value::as_str).and_then(pod_spec_pointer) else {
        return Vec::new();
    };
    object.pointer(pointer).filter(|spec| spec.is_object()).into_iter().collect()
}

/// "a map", "a list", ... for messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// "Deployment" and "api" for messages.
fn describe(object: &Value) -> (String, String) {
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("object");
    let name = object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("(unnamed)");
    (kind.to_string(), name.to_string())
}

/// `map[key]` as a mutable map, made a map (empty) first when missing or of another type.
fn child_map<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = map.entry(key.to_string()).or_insert(Value::Null);
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut().expect("just made a map")
}

/// `map[key]` as a mutable list, made a list (empty) first when missing or of another type.
fn child_list<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Vec<Value> {
    let slot = map.entry(key.to_string()).or_insert(Value::Null);
    if !slot.is_array() {
        *slot = Value::Array(Vec::new());
    }
    slot.as_array_mut().expect("just made a list")
}

#[cfg(test)]
mod pod_spec_tests {
    use super::*;

    #[test]
    fn finds_the_pod_spec_of_every_pod_template_kind() {
        let pod = yaml("kind: Pod\nspec: {containers: [{name: a}]}");
        assert_eq!(pod_specs(&pod), vec![&pod["spec"]]);
        for kind in ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"] {
            let object = yaml(&format!("kind: {kind}\nspec: {{template: {{spec: {{containers: [{{name: a}}]}}}}}}"));
            assert_eq!(pod_specs(&object), vec![&object["spec"]["template"]["spec"]], "{kind}");
            assert!(has_pod_template(kind));
        }
        let mut cron =
            yaml("kind: CronJob\nspec: {jobTemplate: {spec: {template: {spec: {containers: [{name: a}]}}}}}");
        let expected = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"].clone();
        assert_eq!(pod_specs(&cron), vec![&expected]);
        pod_specs_mut(&mut cron)[0]["hostname"] = Value::from("h");
        assert_eq!(cron.pointer("/spec/jobTemplate/spec/template/spec/hostname"), Some(&Value::from("h")));
        assert!(has_pod_template("Pod") && has_pod_template("CronJob"));
    }

    #[test]
    fn other_kinds_and_missing_specs_have_none() {
        assert!(pod_specs(&yaml("kind: Service\nspec: {ports: []}")).is_empty());
        assert!(pod_specs(&yaml("kind: Deployment\nspec: {replicas: 1}")).is_empty());
        assert!(pod_specs_mut(&mut yaml("kind: ConfigMap\ndata: {}")).is_empty());
        assert!(pod_specs(&yaml("spec: {}")).is_empty());
        assert!(!has_pod_template("Service") && !has_pod_template("deployment"));
    }
}

/// Sets `metadata.namespace` (creating `metadata` when missing). Does nothing to a non-map.
pub fn set_namespace(object: &mut Value, namespace: &str) {
    if let Some(map) = object.as_object_mut() {
        child_map(map, "metadata").insert("namespace".into(), Value::from(namespace));
    }
}

/// Sets pod-level `securityContext` `runAsUser`/`runAsGroup`/`fsGroup` in every pod spec, each
/// only where unset (so a manifest's own choice wins).
pub fn default_pod_identity(object: &mut Value, uid: u32, gid: u32, fs_group: u32) {
    for spec in pod_specs_mut(object) {
        let Some(spec) = spec.as_object_mut() else { continue };
        let context = child_map(spec, "securityContext");
        for (key, id) in [("runAsUser", uid), ("runAsGroup", gid), ("fsGroup", fs_group)] {
            let slot = context.entry(key).or_insert(Value::Null);
            if slot.is_null() {
                *slot = Value::from(id);
            }
        }
    }
}

#[cfg(test)]
mod namespace_identity_tests {
    use super::*;

    #[test]
    fn sets_the_namespace() {
        let mut object = yaml("kind: ConfigMap\nmetadata: {name: c, namespace: old}");
        set_namespace(&mut object, "team-a");
        assert_eq!(object, yaml("kind: ConfigMap\nmetadata: {name: c, namespace: team-a}"));
        let mut bare = yaml("kind: ConfigMap");
        set_namespace(&mut bare, "team-b");
        assert_eq!(bare, yaml("kind: ConfigMap\nmetadata: {namespace: team-b}"));
    }

    #[test]
    fn pod_identity_defaults_only_where_unset() {
        let mut job = yaml("kind: Job\nspec: {template: {spec: {securityContext: {runAsUser: 0}, containers: []}}}");
        default_pod_identity(&mut job, 1000, 1001, 1002);
        assert_eq!(
            job["spec"]["template"]["spec"]["securityContext"],
            yaml("{runAsUser: 0, runAsGroup: 1001, fsGroup: 1002}")
        );
        let mut pod = yaml("kind: Pod\nspec: {containers: []}");
        default_pod_identity(&mut pod, 1, 2, 3);
        assert_eq!(pod["spec"]["securityContext"], yaml("{runAsUser: 1, runAsGroup: 2, fsGroup: 3}"));
        let mut service = yaml("kind: Service\nspec: {}");
        default_pod_identity(&mut service, 1, 2, 3);
        assert_eq!(service, yaml("kind: Service\nspec: {}"));
    }
}

/// Test input: a manifest written as YAML.
#[cfg(test)]
fn yaml(text: &str) -> Value {
    serde_yaml::from_str::<Value>(text).unwrap()
}
