//! Which format a stack file is written in: ours, or one of the two that `kubectl codex import`
//! converts. Decided from the parsed document alone, by shape, never by file name.

use serde_json::Value;

/// The header our own files carry (and codex-k8s ServiceStacks of Feb–Apr 2026 too, with
/// another layout: `metadata`/`spec`).
pub use crate::config::model::{API_VERSION, KIND};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StackFormat {
    /// kubectl-codex's own services.yaml.
    KubectlCodex,
    /// A codexctl services.yaml: no `apiVersion`, `project` a string.
    Codexctl,
    /// A codex-k8s / kodex ServiceStack: `metadata` and `spec`, whatever its apiVersion.
    ServiceStack { api_version: String },
    /// A kodex `ServiceStackDraft`: an inventory without environments or namespaces.
    ServiceStackDraft,
    /// None of these.
    Unknown,
}

/// The format of a parsed stack file.
pub fn detect(value: &Value) -> StackFormat {
    let Some(map) = value.as_object() else { return StackFormat::Unknown };
    let text = |key: &str| map.get(key).and_then(Value::as_str);
    if text("kind") == Some("ServiceStackDraft") {
        return StackFormat::ServiceStackDraft;
    }
    if map.get("spec").is_some_and(Value::is_object) && map.get("metadata").is_some_and(Value::is_object) {
        return StackFormat::ServiceStack { api_version: text("apiVersion").unwrap_or_default().to_string() };
    }
    if map.contains_key("apiVersion") || map.contains_key("kind") {
        return if map.contains_key("spec") || map.contains_key("metadata") {
            StackFormat::ServiceStack { api_version: text("apiVersion").unwrap_or_default().to_string() }
        } else {
            StackFormat::KubectlCodex
        };
    }
    let codexctl_keys = ["envFiles", "namespace", "baseDomain", "hooks", "codex", "state", "maxSlots", "registry"];
    if map.get("project").is_some_and(Value::is_string) || codexctl_keys.iter().any(|k| map.contains_key(*k)) {
        return StackFormat::Codexctl;
    }
    StackFormat::Unknown
}

/// For a file in a format we convert rather than read: one line saying what it is and how to
/// bring it over. None for our own format (and for what is no known format at all).
pub fn foreign_hint(value: &Value, file: &str) -> Option<String> {
    let what = match detect(value) {
        StackFormat::Codexctl => "a codexctl services.yaml (no apiVersion, `project` is a string)".to_string(),
        StackFormat::ServiceStack { api_version } => {
            let version = if api_version.is_empty() { String::new() } else { format!(" {api_version}") };
            format!("a codex-k8s ServiceStack{version} (`metadata` and `spec`)")
        }
        StackFormat::ServiceStackDraft => {
            return Some(String::from(
                "this file is a kodex ServiceStackDraft: an inventory without environments or namespaces, which \
                 kubectl-codex cannot deploy; write a services.yaml for it (see docs/services-yaml.md)",
            ))
        }
        StackFormat::KubectlCodex | StackFormat::Unknown => return None,
    };
    Some(format!(
        "this file is {what}, not a kubectl-codex services.yaml: convert it with `kubectl codex import {file} --out DIR`"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_format_is_told_by_its_shape() {
        assert_eq!(
            detect(&json!({"apiVersion": API_VERSION, "kind": KIND, "project": {"name": "x"}})),
            StackFormat::KubectlCodex
        );
        assert_eq!(detect(&json!({"project": "demo", "services": []})), StackFormat::Codexctl);
        assert_eq!(
            detect(&json!({"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": "x"}, "spec": {}})),
            StackFormat::ServiceStack { api_version: API_VERSION.into() }
        );
        assert_eq!(
            detect(&json!({"apiVersion": "kodex.works/v1alpha1", "kind": KIND, "metadata": {"name": "x"}, "spec": {}})),
            StackFormat::ServiceStack { api_version: "kodex.works/v1alpha1".into() }
        );
        assert_eq!(
            detect(&json!({"kind": "ServiceStackDraft", "metadata": {}, "spec": {}})),
            StackFormat::ServiceStackDraft
        );
        assert_eq!(detect(&json!({"hello": "world"})), StackFormat::Unknown);
        assert_eq!(detect(&json!(["a"])), StackFormat::Unknown);
    }

    #[test]
    fn a_foreign_file_gets_one_line_naming_the_import_command() {
        let hint = foreign_hint(&json!({"project": "demo"}), "services.yaml").unwrap();
        assert!(hint.contains("codexctl") && hint.contains("kubectl codex import services.yaml --out DIR"), "{hint}");
        assert!(
            foreign_hint(&json!({"apiVersion": API_VERSION, "kind": KIND, "project": {"name": "x"}}), "s").is_none()
        );
    }
}
