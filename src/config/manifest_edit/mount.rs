//! Mounting one volume into every container of every pod template of an object.

use super::{child_list, pod_specs_mut};
use serde_json::{Map, Value};

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
mod tests {
    use super::super::yaml;
    use super::*;

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
