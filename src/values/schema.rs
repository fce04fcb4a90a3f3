//! `charts/codex-env/values.schema.json`, generated from [`ChartValues`].
//!
//! Draft-07, not 2020-12 like services.yaml's schema: Helm 3 before 3.18 validates values
//! with a draft-07 library, and kubectl-codex supports Helm from 3.13.
//!
//! The types below exist for the schema only: Kubernetes string formats shared by many
//! fields (each a definition), and objects the chart passes through as given.

use super::contract::{ChartValues, SecretValues};
use crate::labels;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::Value;
use std::borrow::Cow;

/// Where the chart's schema is committed, relative to the crate root.
pub const PATH: &str = "charts/codex-env/values.schema.json";

/// The chart's values schema as JSON.
pub fn schema() -> Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let mut schema =
        serde_json::to_value(generator.into_root_schema_for::<ChartValues>()).expect("a schema serialises");
    if let Value::Object(map) = &mut schema {
        // `$id` right after `$schema`, where readers look for it.
        let rest: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
        for (key, value) in rest {
            let is_meta = key == "$schema";
            map.insert(key, value);
            if is_meta {
                map.insert("$id".into(), "https://kubectl-codex/charts/codex-env/values.schema.json".into());
            }
        }
    }
    schema
}

/// The schema as committed: pretty JSON with a final newline.
pub fn schema_text() -> String {
    serde_json::to_string_pretty(&schema()).expect("a schema serialises") + "\n"
}

/// For structs all of whose fields may be left out.
pub fn nothing_required(schema: &mut Schema) {
    schema.remove("required");
}

/// A schema-only type: its name (a definition when `inline` is false) and its schema.
macro_rules! schema_type {
    ($(#[$doc:meta])* $ty:ident, $name:literal, inline: $inline:literal, |$generator:ident| $body:expr) => {
        $(#[$doc])*
        pub struct $ty;

        impl JsonSchema for $ty {
            fn inline_schema() -> bool {
                $inline
            }

            fn schema_name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }

            fn json_schema($generator: &mut SchemaGenerator) -> Schema {
                $body
            }
        }
    };
}

const DNS_LABEL_PATTERN: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

schema_type!(
    /// A DNS-1123 label (unit, container and volume names).
    DnsLabel, "dnsLabel", inline: false, |_g| json_schema!({
        "type": "string",
        "maxLength": 63,
        "pattern": DNS_LABEL_PATTERN,
        "description": "DNS-1123 label: lower-case alphanumerics and '-', at most 63 characters.",
    })
);

schema_type!(
    /// A DNS-1123 subdomain (ConfigMap, Secret and PVC names).
    DnsSubdomain, "dnsSubdomain", inline: false, |_g| json_schema!({
        "type": "string",
        "maxLength": 253,
        "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
        "description": "DNS-1123 subdomain (ConfigMap and PVC names).",
    })
);

schema_type!(
    LabelValue, "labelValue", inline: false, |_g| json_schema!({
        "type": "string",
        "maxLength": 63,
        "pattern": "^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$",
        "description": "Kubernetes label value.",
    })
);

schema_type!(
    /// A label value that may not be empty (project and environment names).
    NonEmptyLabelValue, "nonEmptyLabelValue", inline: true, |g| json_schema!({
        "allOf": [g.subschema_for::<LabelValue>()],
        "minLength": 1,
    })
);

schema_type!(
    Quantity, "quantity", inline: false, |_g| json_schema!({
        "type": "string",
        "pattern": "^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$",
        "description": "Storage quantity such as 1Gi or 500Mi.",
    })
);

schema_type!(
    /// LimitRange quantities by resource name: CPU in millicores too, and exponents.
    QuantityMap, "quantityMap", inline: true, |_g| json_schema!({
        "type": "object",
        "additionalProperties": {
            "type": "string",
            "pattern": "^[0-9.]+([KMGTPE]i|[numkMGTPE]|[eE][-+]?[0-9]+)?$",
        },
    })
);

schema_type!(
    StringMap, "stringMap", inline: false, |_g| json_schema!({
        "type": "object",
        "additionalProperties": {"type": "string"},
    })
);

schema_type!(
    LabelMap, "labelMap", inline: false, |g| json_schema!({
        "type": "object",
        "additionalProperties": g.subschema_for::<LabelValue>(),
        "description": "Kubernetes labels (keys are qualified names).",
    })
);

schema_type!(
    /// A Kubernetes object the chart passes through as given.
    KubeObject, "kubeObject", inline: false, |_g| json_schema!({
        "type": "object",
        "description": "A Kubernetes object (Probe, ResourceRequirements, SecurityContext, ...) passed through as-is; {} = none.",
    })
);

schema_type!(
    NonEmptyString, "nonEmptyString", inline: true, |_g| json_schema!({"type": "string", "minLength": 1})
);

schema_type!(
    /// A port name: a DNS-1123 label of at most 15 characters.
    PortName, "portName", inline: true, |_g| json_schema!({
        "type": "string",
        "maxLength": 15,
        "pattern": DNS_LABEL_PATTERN,
    })
);

schema_type!(
    /// The chart passes SCTP through although services.yaml has no way to ask for it.
    Protocol, "protocol", inline: true, |_g| json_schema!({"type": "string", "enum": ["TCP", "UDP", "SCTP"]})
);

schema_type!(MountPath, "mountPath", inline: true, |_g| json_schema!({"type": "string", "pattern": "^/"}));

schema_type!(
    /// A unit volume's name: the workspace mount's name is taken.
    VolumeName, "volumeName", inline: true, |g| json_schema!({
        "allOf": [g.subschema_for::<DnsLabel>(), {"not": {"const": labels::WORKSPACE_VOLUME}}],
    })
);

schema_type!(
    EmptyDirSource, "emptyDirSource", inline: true, |_g| json_schema!({
        "type": "object",
        "additionalProperties": false,
        "properties": {"medium": {"type": "string"}, "sizeLimit": {"type": "string"}},
    })
);

schema_type!(
    EnvVarSource, "envVarSource", inline: true, |_g| json_schema!({
        "type": "object",
        "description": "A Kubernetes EnvVarSource (secretKeyRef, configMapKeyRef, fieldRef, ...), passed through.",
        "minProperties": 1,
    })
);

schema_type!(
    /// An extra manifest: any Kubernetes object, with the fields the chart reads checked.
    ManifestObject, "manifestObject", inline: true, |g| json_schema!({
        "type": "object",
        "required": ["apiVersion", "kind", "metadata"],
        "properties": {
            "apiVersion": {"type": "string", "minLength": 1},
            "kind": {"type": "string", "minLength": 1},
            "metadata": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "labels": {"type": "object", "additionalProperties": g.subschema_for::<LabelValue>()},
                },
            },
        },
    })
);

schema_type!(
    /// `secrets`: each Secret by its name.
    Secrets, "secrets", inline: true, |g| json_schema!({
        "type": "object",
        "propertyNames": g.subschema_for::<DnsSubdomain>(),
        "additionalProperties": g.subschema_for::<SecretValues>(),
    })
);

schema_type!(
    /// A Secret's data: base64 values by key.
    SecretData, "secretData", inline: true, |_g| json_schema!({
        "type": "object",
        "propertyNames": {"type": "string", "pattern": "^[-._a-zA-Z0-9]+$", "maxLength": 253},
        "additionalProperties": {"type": "string"},
    })
);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    /// Regenerate with `UPDATE_GOLDEN=1 cargo test --lib values::schema`.
    #[test]
    fn the_committed_chart_schema_is_the_generated_one() {
        let path = root().join(PATH);
        let generated = schema_text();
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &generated).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap();
        assert!(
            committed == generated,
            "{PATH} is stale: run `UPDATE_GOLDEN=1 cargo test --lib values::schema` and review the diff"
        );
    }

    fn validator() -> jsonschema::Validator {
        jsonschema::validator_for(&schema()).expect("the generated schema compiles")
    }

    fn yaml(path: &Path) -> Value {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_yaml::from_str(&text).unwrap()
    }

    /// Helm validates the chart's values.yaml merged with the given ones; merging maps key by
    /// key (lists replaced) as Helm does.
    fn merged(over: &Value) -> Value {
        fn merge(base: &mut Value, over: &Value) {
            match (base, over) {
                (Value::Object(base), Value::Object(over)) => {
                    for (key, value) in over {
                        merge(base.entry(key.clone()).or_insert(Value::Null), value);
                    }
                }
                (base, over) => *base = over.clone(),
            }
        }
        let mut values = yaml(&root().join("charts/codex-env/values.yaml"));
        merge(&mut values, over);
        values
    }

    #[test]
    fn the_chart_defaults_the_ci_values_and_every_golden_phase_pass_the_schema() {
        let validator = validator();
        let mut files = vec![root().join("charts/codex-env/ci/internal-values.yaml")];
        files.push(root().join("charts/codex-env/ci/stateful-values.yaml"));
        for dir in std::fs::read_dir(root().join("tests/golden")).unwrap() {
            for file in std::fs::read_dir(dir.unwrap().path()).unwrap() {
                let path = file.unwrap().path();
                if path.to_string_lossy().ends_with(".values.yaml") {
                    files.push(path);
                }
            }
        }
        assert!(files.len() > 10, "the golden phases are found");
        let defaults = yaml(&root().join("charts/codex-env/values.yaml"));
        assert!(validator.is_valid(&defaults), "values.yaml: {:?}", validator.validate(&defaults).err());
        for path in files {
            let values = merged(&yaml(&path));
            let errors: Vec<String> =
                validator.iter_errors(&values).map(|e| format!("{e} at {}", e.instance_path())).collect();
            assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        }
    }

    /// The constraints the hand-written schema had, each still refused.
    #[test]
    fn the_schema_refuses_what_the_chart_cannot_render() {
        let validator = validator();
        let workload = json!({"name": "api", "kind": "Deployment", "image": "api:1"});
        let with = |patch: Value| {
            let mut w = workload.clone();
            for (k, v) in patch.as_object().unwrap() {
                w[k] = v.clone();
            }
            merged(&json!({ "workloads": [w] }))
        };
        assert!(validator.is_valid(&with(json!({}))), "{:?}", validator.validate(&with(json!({}))).err());
        let refused = [
            ("an unknown workload key", with(json!({"replica": 2}))),
            ("a name that is no DNS label", with(json!({"name": "API"}))),
            ("an unknown kind", with(json!({"kind": "ReplicaSet"}))),
            ("a CronJob without a schedule", with(json!({"kind": "CronJob"}))),
            (
                "an Ingress on a Job",
                with(json!({"kind": "Job", "ports": [{"name": "http", "containerPort": 80}], "ingress": {}})),
            ),
            ("an Ingress without ports", with(json!({"ingress": {"host": "a"}}))),
            (
                "a port name over 15 characters",
                with(json!({"ports": [{"name": "a-very-long-port-name", "containerPort": 80}]})),
            ),
            ("port 0", with(json!({"ports": [{"name": "http", "containerPort": 0}]}))),
            (
                "the reserved volume name",
                with(json!({"volumes": [{"name": "codex-workspace", "mountPath": "/w", "size": "1Gi"}]})),
            ),
            (
                "two volume sources",
                with(json!({"volumes": [{"name": "v", "mountPath": "/v", "secret": "s", "configMap": "c"}]})),
            ),
            ("an owned claim without size", with(json!({"volumes": [{"name": "v", "mountPath": "/v"}]}))),
            (
                "a size with a source",
                with(json!({"volumes": [{"name": "v", "mountPath": "/v", "secret": "s", "size": "1Gi"}]})),
            ),
            ("a relative mount path", with(json!({"workspace": {"mountPath": "w"}}))),
            ("an env var with neither value", with(json!({"env": [{"name": "A"}]}))),
            (
                "an envFrom with both refs",
                with(json!({"envFrom": [{"secretRef": {"name": "a"}, "configMapRef": {"name": "b"}}]})),
            ),
            ("a sidecar without image", with(json!({"sidecars": [{"name": "proxy"}]}))),
            ("a null envFrom", with(json!({"envFrom": null}))),
            ("an unknown top-level key", merged(&json!({"workload": []}))),
            ("an unknown global key", merged(&json!({"global": {"namespace": "x"}}))),
            ("an empty project", merged(&json!({"global": {"project": ""}}))),
            ("an unknown phase", merged(&json!({"global": {"phase": "late"}}))),
            ("a bad workspace size", merged(&json!({"global": {"workspace": {"size": "lots"}}}))),
            (
                "an extra manifest without a name",
                merged(&json!({"extraManifests": [{"apiVersion": "v1", "kind": "X", "metadata": {}}]})),
            ),
            ("a secret key with a slash", merged(&json!({"secrets": {"db": {"data": {"a/b": "x"}}}}))),
            (
                "an egress entry of both kinds",
                merged(
                    &json!({"isolation": {"networkPolicy": {"egress": [{"cidr": "10.0.0.0/8", "environment": "e", "namespace": "n"}]}}}),
                ),
            ),
            (
                "a LimitRange without defaultRequest",
                merged(&json!({"isolation": {"limitRange": {"default": {"memory": "1Gi"}}}})),
            ),
        ];
        for (what, values) in refused {
            assert!(!validator.is_valid(&values), "{what} passes the schema");
        }
    }

    /// docs/chart-values.md names every key of the contract down to the workload's, so the
    /// generated schema and the document cannot drift apart unnoticed.
    #[test]
    fn every_top_level_global_and_workload_key_is_documented() {
        let docs = std::fs::read_to_string(root().join("docs/chart-values.md")).unwrap();
        let schema = schema();
        let keys = |pointer: &str| -> Vec<String> {
            let properties = schema.pointer(pointer).and_then(Value::as_object).unwrap_or_else(|| panic!("{pointer}"));
            properties.keys().cloned().collect()
        };
        let mut missing = Vec::new();
        for pointer in ["/properties", "/definitions/global/properties", "/definitions/workload/properties"] {
            for key in keys(pointer) {
                let documented =
                    docs.lines().any(|line| line.trim_start().trim_start_matches("- ").starts_with(&format!("{key}:")));
                if !documented {
                    missing.push(format!("{pointer}/{key}"));
                }
            }
        }
        assert!(missing.is_empty(), "not in docs/chart-values.md: {missing:?}");
    }
}
