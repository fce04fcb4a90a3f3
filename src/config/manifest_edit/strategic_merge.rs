//! Strategic merge patches.
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

use super::{type_name, EditError};
use serde_json::{Map, Value};

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
mod tests {
    use super::super::yaml;
    use super::*;

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
