//! `--manifest-units`: every other generated unit becomes manifest-only, the way real stacks
//! are written — five templated documents each (ServiceAccount, ConfigMap, Service,
//! Deployment, PodDisruptionBudget) and an `image` edit, instead of a typed `workload`.

use super::yaml::Node;

/// Documents per manifest-only unit.
pub const DOCUMENTS: usize = 5;

/// Keys of a typed unit that a manifest-only one keeps; the rest (workload, hooks, ingress,
/// overlays of workload fields) describe the typed workload it no longer has.
const KEPT: [&str; 6] = ["name", "description", "phase", "dependsOn", "when", "workspace"];

/// Turns every other unit of `units` (odd positions) into a manifest unit; returns the
/// manifest files to write next to services.yaml, as (relative path, content).
pub fn convert(units: &mut [Node]) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for unit in units.iter_mut().skip(1).step_by(2) {
        let Node::Map(entries) = unit else { continue };
        let name = match entries.iter().find(|(k, _)| k == "name") {
            Some((_, Node::Str(name))) => name.clone(),
            _ => continue,
        };
        let image = image_of(entries).unwrap_or_else(|| "postgres".into());
        entries.retain(|(k, _)| KEPT.contains(&k.as_str()));
        let path = format!("manifests/{name}.yaml");
        entries.push(("manifests".into(), Node::Seq(vec![Node::Str(path.clone())])));
        entries.push(("image".into(), Node::Map(vec![("name".into(), Node::Str(image))])));
        files.push((path, documents(&name)));
    }
    files
}

fn image_of(entries: &[(String, Node)]) -> Option<String> {
    let (_, Node::Map(workload)) = entries.iter().find(|(k, _)| k == "workload")? else { return None };
    match workload.iter().find(|(k, _)| k == "image")? {
        (_, Node::Str(image)) => Some(image.clone()),
        _ => None,
    }
}

fn documents(name: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: ServiceAccount
metadata:
  name: {name}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config
data:
  owner: "{{{{ project }}}}-{{{{ env }}}}"
  settings.yaml: |
    service: {name}
    level: info
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector: {{ app: {name} }}
  ports:
    - {{ name: http, port: 80, targetPort: 8080 }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 1
  selector:
    matchLabels: {{ app: {name} }}
  template:
    metadata:
      labels: {{ app: {name} }}
    spec:
      serviceAccountName: {name}
      containers:
        - name: {name}
          image: replaced
          ports:
            - {{ name: http, containerPort: 8080 }}
          envFrom:
            - configMapRef: {{ name: {name}-config }}
          volumeMounts:
            - {{ name: config, mountPath: /etc/{name} }}
      volumes:
        - name: config
          configMap: {{ name: {name}-config }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {name}
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {{ app: {name} }}
"#
    )
}
