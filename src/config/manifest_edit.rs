//! Pure edits of rendered Kubernetes manifests, in their JSON form (`serde_json::Value`): finding
//! pod specs, mounting a volume everywhere, setting images, RFC 6902 JSON patches, strategic merge
//! patches, and small namespace / identity defaults. No I/O; every error says what is wrong in
//! words fit for a user.
//!
//! The strategic merge patch is a **subset** of what the API server implements, the part kubectl
//! users rely on:
//! - maps merge recursively, `null` deletes a key, scalars replace;
//! - lists whose elements are objects merge by a merge key: `name` for `containers`,
//!   `initContainers`, `volumes`, `volumeMounts`, `env`, `ports` (`containerPort` when the patch's
//!   ports have no `name`) and `imagePullSecrets`, and `name` for any other list whose patch
//!   elements are all objects with a `name`; every other list (scalars, objects without a merge
//!   key, an empty list) is replaced;
//! - a list element `{"$patch": "delete", <key>: ...}` removes that element, a list element
//!   `{"$patch": "replace"}` replaces the whole list with the other elements, a map with
//!   `"$patch": "replace"` replaces instead of merging, a map value `{"$patch": "delete"}` removes
//!   the key.
//!
//! Not supported (an error, never silently ignored): `$setElementOrder`, `$retainKeys`,
//! `$deleteFromPrimitiveList` and any other `$` directive; per-type patch strategies from the
//! OpenAPI schema beyond the keys listed above.

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

// ---------------------------------------------------------------------------------------------
// Pod specs

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

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str::<Value>(text).unwrap()
    }

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

// ---------------------------------------------------------------------------------------------
// Volumes

/// A container's volumeMount, as [`mount_everywhere`] writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeMount {
    pub name: String,
    pub mount_path: String,
    /// Omitted from the manifest when empty.
    pub sub_path: String,
    pub read_only: bool,
}

impl VolumeMount {
    fn to_json(&self) -> Value {
        let mut mount = Map::new();
        mount.insert("name".into(), Value::from(self.name.as_str()));
        mount.insert("mountPath".into(), Value::from(self.mount_path.as_str()));
        if !self.sub_path.is_empty() {
            mount.insert("subPath".into(), Value::from(self.sub_path.as_str()));
        }
        mount.insert("readOnly".into(), Value::Bool(self.read_only));
        Value::Object(mount)
    }
}

/// Puts `entry` into `list` in place of the entry with the same `name`, or at the end.
fn upsert_named(list: &mut Vec<Value>, name: &str, entry: Value) {
    match list.iter_mut().find(|e| e.get("name").and_then(Value::as_str) == Some(name)) {
        Some(existing) => *existing = entry,
        None => list.push(entry),
    }
}

/// Adds `volume` (a JSON object such as `{"name": "codex-workspace", "persistentVolumeClaim":
/// {"claimName": "x"}}`) to every pod spec of `object`, and `mount` to every container and every
/// initContainer of those pod specs. A volume or mount of the same name already present is
/// replaced, not duplicated. The volume's name is its `name`, or `mount.name` when it has none.
/// Returns how many pod specs were changed: every pod spec found (0 for an object without a pod
/// template); applying the same mount again still counts them.
pub fn mount_everywhere(object: &mut Value, volume: &Value, mount: &VolumeMount) -> usize {
    let mut volume = volume.clone();
    let volume_name = match volume.get("name").and_then(Value::as_str) {
        Some(name) => name.to_string(),
        None => {
            if let Some(map) = volume.as_object_mut() {
                map.insert("name".into(), Value::from(mount.name.as_str()));
            }
            mount.name.clone()
        }
    };
    let mount_json = mount.to_json();
    let mut changed = 0;
    for spec in pod_specs_mut(object) {
        let Some(spec) = spec.as_object_mut() else { continue };
        upsert_named(child_list(spec, "volumes"), &volume_name, volume.clone());
        for field in ["containers", "initContainers"] {
            let Some(containers) = spec.get_mut(field).and_then(Value::as_array_mut) else { continue };
            for container in containers.iter_mut().filter_map(Value::as_object_mut) {
                upsert_named(child_list(container, "volumeMounts"), &mount.name, mount_json.clone());
            }
        }
        changed += 1;
    }
    changed
}

#[cfg(test)]
mod mount_tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str::<Value>(text).unwrap()
    }

    fn workspace(sub_path: &str) -> VolumeMount {
        VolumeMount {
            name: "codex-workspace".into(),
            mount_path: "/workspace".into(),
            sub_path: sub_path.into(),
            read_only: false,
        }
    }

    #[test]
    fn mounts_into_containers_and_init_containers() {
        let mut object = yaml(
            "
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      initContainers: [{name: init}]
      containers:
        - name: app
          volumeMounts: [{name: config, mountPath: /etc/app}]
        - name: sidecar
",
        );
        let volume = yaml("{name: codex-workspace, persistentVolumeClaim: {claimName: ws}}");
        assert_eq!(mount_everywhere(&mut object, &volume, &workspace("repo")), 1);
        let spec = &object["spec"]["template"]["spec"];
        assert_eq!(spec["volumes"], yaml("[{name: codex-workspace, persistentVolumeClaim: {claimName: ws}}]"));
        let mount = yaml("{name: codex-workspace, mountPath: /workspace, subPath: repo, readOnly: false}");
        assert_eq!(
            spec["containers"][0]["volumeMounts"],
            Value::Array(vec![yaml("{name: config, mountPath: /etc/app}"), mount.clone()])
        );
        assert_eq!(spec["containers"][1]["volumeMounts"], Value::Array(vec![mount.clone()]));
        assert_eq!(spec["initContainers"][0]["volumeMounts"], Value::Array(vec![mount]));
    }

    #[test]
    fn replaces_a_volume_and_mount_of_the_same_name() {
        let mut object = yaml(
            "
kind: CronJob
spec:
  jobTemplate:
    spec:
      template:
        spec:
          volumes:
            - {name: codex-workspace, emptyDir: {}}
            - {name: other, emptyDir: {}}
          containers:
            - name: job
              volumeMounts: [{name: codex-workspace, mountPath: /old, subPath: x, readOnly: true}]
",
        );
        let volume = yaml("{persistentVolumeClaim: {claimName: ws}}");
        let mut mount = workspace("");
        mount.read_only = true;
        assert_eq!(mount_everywhere(&mut object, &volume, &mount), 1);
        assert_eq!(mount_everywhere(&mut object, &volume, &mount), 1);
        let spec = object.pointer("/spec/jobTemplate/spec/template/spec").unwrap();
        assert_eq!(
            spec["volumes"],
            yaml("[{persistentVolumeClaim: {claimName: ws}, name: codex-workspace}, {name: other, emptyDir: {}}]")
        );
        assert_eq!(
            spec["containers"][0]["volumeMounts"],
            yaml("[{name: codex-workspace, mountPath: /workspace, readOnly: true}]")
        );
    }

    #[test]
    fn objects_without_pod_templates_are_left_alone() {
        let mut object = yaml("kind: Service\nspec: {ports: [{port: 80}]}");
        let before = object.clone();
        assert_eq!(mount_everywhere(&mut object, &yaml("{name: codex-workspace, emptyDir: {}}"), &workspace("")), 0);
        assert_eq!(object, before);
    }
}

// ---------------------------------------------------------------------------------------------
// Images

/// The containers `set_images` would change, as (list field, index), or why it cannot.
fn image_targets(object: &Value, containers: &[String]) -> Result<Vec<(&'static str, usize)>, EditError> {
    let (kind, name) = describe(object);
    let Some(spec) = pod_specs(object).into_iter().next() else {
        return Err(EditError::NoPodTemplate { kind, name });
    };
    let names = |field: &str| -> Vec<String> {
        let list = spec.get(field).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        list.iter().map(|c| c.get("name").and_then(Value::as_str).unwrap_or_default().to_string()).collect()
    };
    let (main, init) = (names("containers"), names("initContainers"));
    if main.is_empty() && (containers.is_empty() || init.is_empty()) {
        return Err(EditError::NoContainers { kind, name });
    }
    if containers.is_empty() {
        return Ok(vec![("containers", 0)]);
    }
    let mut targets = Vec::new();
    for wanted in containers {
        if let Some(index) = main.iter().position(|n| n == wanted) {
            targets.push(("containers", index));
        } else if let Some(index) = init.iter().position(|n| n == wanted) {
            targets.push(("initContainers", index));
        } else {
            let available = main.iter().chain(&init).filter(|n| !n.is_empty()).cloned().collect();
            return Err(EditError::NoSuchContainer { container: wanted.clone(), kind, name, available });
        }
    }
    Ok(targets)
}

/// Sets the image of the named containers (containers or initContainers) of `object`'s pod spec;
/// `containers` empty = the first entry of `containers`. Error, with nothing changed, when a named
/// container does not exist (the message lists the names it has) or the object has no pod
/// template / no containers.
pub fn set_images(object: &mut Value, containers: &[String], image: &str) -> Result<(), EditError> {
    let targets = image_targets(object, containers)?;
    let Some(spec) = pod_specs_mut(object).into_iter().next() else { return Ok(()) };
    for (field, index) in targets {
        if let Some(container) = spec.get_mut(field).and_then(|l| l.get_mut(index)).and_then(Value::as_object_mut) {
            container.insert("image".into(), Value::from(image));
        }
    }
    Ok(())
}

/// Only checks what [`set_images`] would do (used by validation before an image reference is
/// final).
pub fn check_containers(object: &Value, containers: &[String]) -> Result<(), EditError> {
    image_targets(object, containers).map(drop)
}

#[cfg(test)]
mod image_tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str::<Value>(text).unwrap()
    }

    fn api() -> Value {
        yaml(
            "
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      initContainers: [{name: migrate, image: old-migrate}]
      containers:
        - {name: app, image: old-app}
        - {name: sidecar, image: old-sidecar}
",
        )
    }

    #[test]
    fn default_is_the_first_container() {
        let mut object = api();
        assert_eq!(check_containers(&object, &[]), Ok(()));
        set_images(&mut object, &[], "registry/app:1").unwrap();
        let spec = &object["spec"]["template"]["spec"];
        assert_eq!(spec["containers"][0]["image"], "registry/app:1");
        assert_eq!(spec["containers"][1]["image"], "old-sidecar");
        assert_eq!(spec["initContainers"][0]["image"], "old-migrate");
    }

    #[test]
    fn named_containers_include_init_containers() {
        let mut object = api();
        set_images(&mut object, &["migrate".into(), "sidecar".into()], "registry/app:2").unwrap();
        let spec = &object["spec"]["template"]["spec"];
        assert_eq!(spec["containers"][0]["image"], "old-app");
        assert_eq!(spec["containers"][1]["image"], "registry/app:2");
        assert_eq!(spec["initContainers"][0]["image"], "registry/app:2");
    }

    #[test]
    fn a_missing_name_lists_the_names_there_are_and_changes_nothing() {
        let mut object = api();
        let error = set_images(&mut object, &["app".into(), "x".into()], "i").unwrap_err();
        assert_eq!(error.to_string(), "no container named \"x\" in Deployment api; it has: app, sidecar, migrate");
        assert_eq!(object, api());
        assert_eq!(check_containers(&object, &["x".into()]), Err(error));
    }

    #[test]
    fn no_pod_template_or_no_containers() {
        let service = yaml("kind: Service\nmetadata: {name: web}\nspec: {}");
        let error = check_containers(&service, &[]).unwrap_err();
        assert_eq!(error, EditError::NoPodTemplate { kind: "Service".into(), name: "web".into() });
        assert!(error.to_string().starts_with("Service web has no pod template"));
        let mut pod = yaml("kind: Pod\nmetadata: {name: p}\nspec: {containers: []}");
        assert_eq!(set_images(&mut pod, &[], "i").unwrap_err().to_string(), "Pod p has no containers");
    }
}

// ---------------------------------------------------------------------------------------------
// JSON patch (RFC 6902)

/// "a map", "a list", ... for messages.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// Applies an RFC 6902 JSON patch: operations add, remove, replace, move, copy, test; JSON-pointer
/// paths with `~0`/`~1` escapes and `-` for array append. All or nothing: on error `target` is
/// unchanged, and the error names the failing operation (index from 0) and path.
pub fn apply_json_patch(target: &mut Value, operations: &Value) -> Result<(), EditError> {
    let Some(operations) = operations.as_array() else {
        return Err(EditError::JsonPatchNotAList { found: type_name(operations).to_string() });
    };
    let mut work = target.clone();
    for (index, operation) in operations.iter().enumerate() {
        apply_operation(&mut work, operation).map_err(|reason| EditError::JsonPatch {
            index,
            op: operation.get("op").and_then(Value::as_str).unwrap_or("?").to_string(),
            path: operation.get("path").and_then(Value::as_str).unwrap_or_default().to_string(),
            reason,
        })?;
    }
    *target = work;
    Ok(())
}

fn apply_operation(doc: &mut Value, operation: &Value) -> Result<(), String> {
    let fields =
        operation.as_object().ok_or_else(|| format!("an operation must be a map, not {}", type_name(operation)))?;
    let text = |key: &str| match fields.get(key) {
        Some(Value::String(s)) => Ok(s.as_str()),
        Some(other) => Err(format!("\"{key}\" must be a string, not {}", type_name(other))),
        None => Err(format!("the operation has no \"{key}\"")),
    };
    let value = || fields.get("value").ok_or_else(|| "the operation has no \"value\"".to_string());
    let op = text("op")?;
    let path = parse_pointer(text("path")?)?;
    match op {
        "add" => add(doc, &path, value()?.clone()),
        "remove" => remove(doc, &path).map(drop),
        "replace" => {
            let new = value()?.clone();
            *get_mut(doc, &path)? = new;
            Ok(())
        }
        "move" => {
            let from = parse_pointer(text("from")?)?;
            if path.len() > from.len() && path.starts_with(&from) {
                return Err(format!("cannot move \"{}\" into itself", pointer_text(&from)));
            }
            let moved = remove(doc, &from)?;
            add(doc, &path, moved)
        }
        "copy" => {
            let copied = get(doc, &parse_pointer(text("from")?)?)?.clone();
            add(doc, &path, copied)
        }
        "test" => {
            let (actual, expected) = (get(doc, &path)?, value()?);
            if actual == expected {
                Ok(())
            } else {
                Err(format!("test failed: the value is {actual}, not {expected}"))
            }
        }
        other => Err(format!("unknown operation \"{other}\" (expected add, remove, replace, move, copy or test)")),
    }
}

/// The reference tokens of a JSON pointer, unescaped (`~1` is `/`, `~0` is `~`).
fn parse_pointer(pointer: &str) -> Result<Vec<String>, String> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(format!("\"{pointer}\" is not a JSON pointer (it must be empty or start with '/')"));
    };
    rest.split('/')
        .map(|token| {
            let mut out = String::with_capacity(token.len());
            let mut chars = token.chars();
            while let Some(c) = chars.next() {
                if c != '~' {
                    out.push(c);
                    continue;
                }
                match chars.next() {
                    Some('0') => out.push('~'),
                    Some('1') => out.push('/'),
                    _ => return Err(format!("\"{pointer}\" has a '~' not followed by 0 or 1")),
                }
            }
            Ok(out)
        })
        .collect()
}

/// Tokens back to a JSON pointer, for messages.
fn pointer_text(tokens: &[String]) -> String {
    tokens.iter().map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1"))).collect()
}

/// An array index token: digits, no leading zero.
fn parse_index(token: &str, tokens: &[String]) -> Result<usize, String> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    if !digits || (token.len() > 1 && token.starts_with('0')) {
        return Err(format!("\"{}\": \"{token}\" is not a list index", pointer_text(tokens)));
    }
    token.parse().map_err(|_| format!("\"{}\": index {token} is too large", pointer_text(tokens)))
}

fn get<'a>(doc: &'a Value, tokens: &[String]) -> Result<&'a Value, String> {
    let mut current = doc;
    for (depth, token) in tokens.iter().enumerate() {
        let next = match current {
            Value::Object(map) => map.get(token),
            Value::Array(list) => list.get(parse_index(token, &tokens[..=depth])?),
            _ => None,
        };
        current = next.ok_or_else(|| format!("nothing at \"{}\"", pointer_text(&tokens[..=depth])))?;
    }
    Ok(current)
}

fn get_mut<'a>(doc: &'a mut Value, tokens: &[String]) -> Result<&'a mut Value, String> {
    let mut current = doc;
    for (depth, token) in tokens.iter().enumerate() {
        let next = match current {
            Value::Object(map) => map.get_mut(token),
            Value::Array(list) => list.get_mut(parse_index(token, &tokens[..=depth])?),
            _ => None,
        };
        current = next.ok_or_else(|| format!("nothing at \"{}\"", pointer_text(&tokens[..=depth])))?;
    }
    Ok(current)
}

fn add(doc: &mut Value, tokens: &[String], value: Value) -> Result<(), String> {
    let Some((last, parent_tokens)) = tokens.split_last() else {
        *doc = value;
        return Ok(());
    };
    match get_mut(doc, parent_tokens)? {
        Value::Object(map) => {
            map.insert(last.clone(), value);
        }
        Value::Array(list) if last == "-" => list.push(value),
        Value::Array(list) => {
            let index = parse_index(last, tokens)?;
            if index > list.len() {
                return Err(format!("index {index} is past the end of the list (length {})", list.len()));
            }
            list.insert(index, value);
        }
        other => return Err(format!("\"{}\" is {}, not a map or list", pointer_text(parent_tokens), type_name(other))),
    }
    Ok(())
}

fn remove(doc: &mut Value, tokens: &[String]) -> Result<Value, String> {
    let Some((last, parent_tokens)) = tokens.split_last() else {
        return Err("cannot remove the whole document".to_string());
    };
    let removed = match get_mut(doc, parent_tokens)? {
        Value::Object(map) => map.shift_remove(last),
        Value::Array(list) => {
            let index = parse_index(last, tokens)?;
            (index < list.len()).then(|| list.remove(index))
        }
        _ => None,
    };
    removed.ok_or_else(|| format!("nothing at \"{}\"", pointer_text(tokens)))
}

#[cfg(test)]
mod json_patch_tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str::<Value>(text).unwrap()
    }

    fn patched(doc: &str, patch: &str) -> Result<Value, EditError> {
        let mut target = yaml(doc);
        apply_json_patch(&mut target, &yaml(patch)).map(|()| target)
    }

    #[test]
    fn add_replace_remove() {
        let doc = "{metadata: {name: a}, spec: {replicas: 1, args: [x, z]}}";
        let result = patched(
            doc,
            "
- {op: add, path: /metadata/labels, value: {app: a}}
- {op: add, path: /spec/args/1, value: y}
- {op: add, path: /spec/args/-, value: end}
- {op: replace, path: /spec/replicas, value: 3}
- {op: remove, path: /metadata/name}
- {op: remove, path: /spec/args/0}
",
        );
        assert_eq!(result, Ok(yaml("{metadata: {labels: {app: a}}, spec: {replicas: 3, args: [y, z, end]}}")));
        assert_eq!(patched(doc, "[{op: add, path: '', value: 1}]"), Ok(Value::from(1)));
    }

    #[test]
    fn move_copy_test() {
        let doc = "{a: {b: 1}, list: [1, 2]}";
        let result = patched(
            doc,
            "
- {op: test, path: /a/b, value: 1}
- {op: copy, from: /a, path: /c}
- {op: move, from: /list/0, path: /list/-}
- {op: move, from: /a/b, path: /d}
",
        );
        assert_eq!(result, Ok(yaml("{a: {}, list: [2, 1], c: {b: 1}, d: 1}")));
        let error = patched(doc, "[{op: move, from: /a, path: /a/b/c}]").unwrap_err();
        assert!(error.to_string().contains("into itself"), "{error}");
    }

    #[test]
    fn escaped_pointers() {
        let doc = "{metadata: {annotations: {'example.com/a~b': old}}}";
        let result = patched(
            doc,
            "
- {op: test, path: /metadata/annotations/example.com~1a~0b, value: old}
- {op: replace, path: /metadata/annotations/example.com~1a~0b, value: new}
- {op: add, path: /metadata/annotations/x~1y, value: z}
",
        );
        assert_eq!(result, Ok(yaml("{metadata: {annotations: {'example.com/a~b': new, 'x/y': z}}}")));
        let error = patched(doc, "[{op: remove, path: /metadata/a~2}]").unwrap_err();
        assert!(error.to_string().contains("'~' not followed by 0 or 1"), "{error}");
    }

    #[test]
    fn failures_name_the_operation_and_change_nothing() {
        let doc = "{spec: {replicas: 1, list: [a]}}";
        let mut target = yaml(doc);
        let patch = yaml("[{op: replace, path: /spec/replicas, value: 5}, {op: test, path: /spec/replicas, value: 2}]");
        let error = apply_json_patch(&mut target, &patch).unwrap_err();
        assert_eq!(
            error.to_string(),
            "JSON patch operation 1 (test \"/spec/replicas\"): test failed: the value is 5, not 2"
        );
        assert_eq!(target, yaml(doc));
        let cases = [
            (
                "[{op: remove, path: /spec/missing}]",
                "operation 0 (remove \"/spec/missing\"): nothing at \"/spec/missing\"",
            ),
            ("[{op: replace, path: /x/y, value: 1}]", "nothing at \"/x\""),
            ("[{op: add, path: /spec/list/5, value: 1}]", "past the end"),
            ("[{op: add, path: /spec/list/01, value: 1}]", "not a list index"),
            ("[{op: add, path: /spec/replicas/x, value: 1}]", "is a number, not a map or list"),
            ("[{op: add, path: /spec/x}]", "no \"value\""),
            ("[{op: copy, path: /spec/x}]", "no \"from\""),
            ("[{op: frob, path: /spec}]", "unknown operation \"frob\""),
            ("[{op: add, path: spec, value: 1}]", "not a JSON pointer"),
            ("[{op: remove, path: ''}]", "whole document"),
            ("[{op: add, path: /spec/x, value: 1}, {op: test, path: /spec/x, value: 1}, 3]", "operation 2 (? \"\")"),
        ];
        for (patch, expected) in cases {
            let error = patched(doc, patch).unwrap_err().to_string();
            assert!(error.contains(expected), "{patch}: {error}");
        }
        assert_eq!(
            patched(doc, "{op: add}").unwrap_err().to_string(),
            "a JSON patch must be a list of operations, not a map"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Strategic merge patch (subset, see the module doc)

/// Lists merged by `name` (`ports` also by `containerPort`) whatever their elements look like.
const NAME_KEYED_LISTS: &[&str] =
    &["containers", "initContainers", "volumes", "volumeMounts", "env", "ports", "imagePullSecrets"];

/// Applies a strategic merge patch (the subset described in the module doc) to `target`. All or
/// nothing: on error `target` is unchanged.
pub fn apply_strategic_merge(target: &mut Value, patch: &Value) -> Result<(), EditError> {
    let Some(patch) = patch.as_object() else {
        let reason = format!("a strategic merge patch must be a map, not {}", type_name(patch));
        return Err(EditError::StrategicMerge { path: String::new(), reason });
    };
    let mut work = target.clone();
    merge_map(&mut work, patch, "")?;
    *target = work;
    Ok(())
}

fn merge_error(path: &str, reason: String) -> EditError {
    EditError::StrategicMerge { path: path.to_string(), reason }
}

/// The `$patch` directive of a map, if any.
fn directive(map: &Map<String, Value>) -> Option<&Value> {
    map.get("$patch")
}

fn merge_map(target: &mut Value, patch: &Map<String, Value>, path: &str) -> Result<(), EditError> {
    match directive(patch) {
        None => {}
        Some(Value::String(s)) if s == "replace" => {
            let mut replacement = patch.clone();
            replacement.shift_remove("$patch");
            *target = Value::Object(replacement);
            return Ok(());
        }
        Some(other) => {
            return Err(merge_error(path, format!("\"$patch: {other}\" is not supported here (only \"replace\")")));
        }
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let map = target.as_object_mut().expect("just made a map");
    for (key, value) in patch {
        let child_path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
        if key.starts_with('$') {
            let reason = format!("the directive \"{key}\" is not supported (only \"$patch\")");
            return Err(merge_error(&child_path, reason));
        }
        match value {
            Value::Null => drop(map.shift_remove(key)),
            Value::Object(sub) if directive(sub).and_then(Value::as_str) == Some("delete") => {
                drop(map.shift_remove(key))
            }
            Value::Object(sub) => merge_map(map.entry(key.clone()).or_insert(Value::Null), sub, &child_path)?,
            Value::Array(items) => merge_list(map.entry(key.clone()).or_insert(Value::Null), items, key, &child_path)?,
            scalar => drop(map.insert(key.clone(), scalar.clone())),
        }
    }
    Ok(())
}

/// The merge keys of the list `field` given the patch's elements, tried in order, or None to
/// replace the list.
fn merge_keys(field: &str, items: &[Value], path: &str) -> Result<Option<&'static [&'static str]>, EditError> {
    if items.is_empty() || !items.iter().all(Value::is_object) {
        return Ok(None);
    }
    let keys: &'static [&'static str] = if field == "ports" { &["name", "containerPort"] } else { &["name"] };
    let keyed = |item: &Value| keys.iter().any(|key| item.get(*key).is_some_and(|v| !v.is_null()));
    if items.iter().all(keyed) {
        return Ok(Some(keys));
    }
    if NAME_KEYED_LISTS.contains(&field) {
        let key = if field == "ports" { "a name or a containerPort" } else { "a name" };
        return Err(merge_error(path, format!("every element needs {key} (the merge key of {field})")));
    }
    Ok(None)
}

/// Where in `list` the element matching `element` is: the first key the element has whose value
/// some list entry shares.
fn find_element(list: &[Value], element: &Map<String, Value>, keys: &[&str]) -> Option<usize> {
    keys.iter()
        .filter_map(|key| element.get(*key).filter(|id| !id.is_null()).map(|id| (key, id)))
        .find_map(|(key, id)| list.iter().position(|existing| existing.get(*key) == Some(id)))
}

fn merge_list(target: &mut Value, items: &[Value], field: &str, path: &str) -> Result<(), EditError> {
    let is_replace = |item: &Value| item.get("$patch").and_then(Value::as_str) == Some("replace");
    if items.iter().any(is_replace) {
        *target = Value::Array(items.iter().filter(|item| !is_replace(item)).cloned().collect());
        return Ok(());
    }
    let Some(keys) = merge_keys(field, items, path)? else {
        *target = Value::Array(items.to_vec());
        return Ok(());
    };
    if !target.is_array() {
        *target = Value::Array(Vec::new());
    }
    let list = target.as_array_mut().expect("just made a list");
    for element in items.iter().filter_map(Value::as_object) {
        let (key, id) =
            keys.iter().find_map(|k| element.get(*k).filter(|v| !v.is_null()).map(|v| (k, v))).expect("keyed");
        let element_path = match id {
            Value::String(s) => format!("{path}[{key}={s}]"),
            other => format!("{path}[{key}={other}]"),
        };
        let found = find_element(list, element, keys);
        match (directive(element).and_then(Value::as_str), found) {
            (Some("delete"), Some(index)) => drop(list.remove(index)),
            (Some("delete"), None) => {}
            (Some("replace") | None, Some(index)) => merge_map(&mut list[index], element, &element_path)?,
            (Some("replace") | None, None) => {
                let mut added = Value::Null;
                merge_map(&mut added, element, &element_path)?;
                list.push(added);
            }
            (Some(other), _) => {
                let reason = format!("\"$patch: {other}\" is not supported (only delete, replace)");
                return Err(merge_error(&element_path, reason));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod strategic_merge_tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str::<Value>(text).unwrap()
    }

    const API: &str = "
kind: Deployment
metadata: {name: api, labels: {app: api, tier: web}}
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: app
          image: app:1
          args: [serve, --port=80]
          env: [{name: A, value: '1'}, {name: B, value: '2'}]
          ports: [{containerPort: 80, protocol: TCP}]
        - name: sidecar
          image: sidecar:1
        - name: debug
          image: debug:1
";

    fn merged(patch: &str) -> Result<Value, EditError> {
        let mut target = yaml(API);
        apply_strategic_merge(&mut target, &yaml(patch)).map(|()| target)
    }

    #[test]
    fn containers_merge_by_name() {
        let result = merged(
            "
spec:
  template:
    spec:
      containers:
        - name: sidecar
          image: sidecar:2
        - name: app
          env: [{name: B, value: changed}, {name: C, value: '3'}]
          ports: [{containerPort: 80, name: http}]
        - {$patch: delete, name: debug}
        - {name: extra, image: extra:1}
",
        )
        .unwrap();
        let expected = yaml(
            "
- name: app
  image: app:1
  args: [serve, --port=80]
  env: [{name: A, value: '1'}, {name: B, value: changed}, {name: C, value: '3'}]
  ports: [{containerPort: 80, protocol: TCP, name: http}]
- {name: sidecar, image: sidecar:2}
- {name: extra, image: extra:1}
",
        );
        assert_eq!(result["spec"]["template"]["spec"]["containers"], expected);
        assert_eq!(result["spec"]["replicas"], 2);
    }

    #[test]
    fn null_deletes_and_scalar_lists_are_replaced() {
        let result = merged(
            "
metadata: {labels: {tier: null, team: core}}
spec:
  replicas: null
  template: {spec: {containers: [{name: app, args: [run], image: null}]}}
",
        )
        .unwrap();
        assert_eq!(result["metadata"]["labels"], yaml("{app: api, team: core}"));
        assert!(result["spec"].get("replicas").is_none());
        let app = &result["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(app["args"], yaml("[run]"));
        assert!(app.get("image").is_none());
    }

    #[test]
    fn replace_directives_and_lists_without_a_merge_key() {
        let result = merged(
            "
metadata: {labels: {$patch: replace, only: this}}
spec:
  template:
    spec:
      tolerations: [{key: k, operator: Exists}]
      containers:
        - $patch: replace
        - {name: solo, image: solo:1}
",
        )
        .unwrap();
        assert_eq!(result["metadata"]["labels"], yaml("{only: this}"));
        assert_eq!(result["spec"]["template"]["spec"]["tolerations"], yaml("[{key: k, operator: Exists}]"));
        assert_eq!(result["spec"]["template"]["spec"]["containers"], yaml("[{name: solo, image: solo:1}]"));
        let unknown = merged("spec: {template: {spec: {readinessGates: [{name: a}]}}}").unwrap();
        assert_eq!(unknown["spec"]["template"]["spec"]["readinessGates"], yaml("[{name: a}]"));
        let removed = merged("spec: {template: {$patch: delete}}").unwrap();
        assert_eq!(removed["spec"], yaml("{replicas: 2}"));
    }

    #[test]
    fn errors_say_where_and_change_nothing() {
        let mut target = yaml(API);
        let patch = yaml("spec: {template: {spec: {containers: [{image: x}]}}}");
        let error = apply_strategic_merge(&mut target, &patch).unwrap_err();
        assert_eq!(
            error.to_string(),
            "strategic merge patch at spec.template.spec.containers: every element needs a name (the merge key of \
             containers)"
        );
        assert_eq!(target, yaml(API));
        let order = merged("spec: {template: {spec: {$setElementOrder/containers: [{name: app}]}}}").unwrap_err();
        assert!(order.to_string().contains("\"$setElementOrder/containers\" is not supported"), "{order}");
        let top = apply_strategic_merge(&mut target, &yaml("[1]")).unwrap_err();
        assert_eq!(
            top.to_string(),
            "strategic merge patch at the top level: a strategic merge patch must be a map, not a list"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Namespace and pod identity

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

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str::<Value>(text).unwrap()
    }

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
