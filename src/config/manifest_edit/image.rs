//! Setting the image of named containers (or init containers) of an object's pod templates.

use super::{describe, pod_specs, pod_specs_mut, EditError};
use serde_json::Value;

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
mod tests {
    use super::super::yaml;
    use super::*;

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
