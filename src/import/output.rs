//! Writing the result: `services.yaml`, the converted manifests at their relative paths, and
//! `inputs.example.yaml`. Files are written only when the whole import succeeded, so a failed
//! import leaves the output directory as it was.

use super::context::{Importer, InputDecl};
use super::report::Action;
use crate::config::format::{API_VERSION, KIND};
use serde_json::{json, Map, Value};
use std::path::Path;

/// File names the import writes into its output directory.
pub const STACK_FILE: &str = "services.yaml";
pub const INPUTS_EXAMPLE_FILE: &str = "inputs.example.yaml";

/// Words in an input name that mark its value as a secret: such values never leave the
/// source's env files.
const SECRET_WORDS: [&str; 6] = ["PASSWORD", "TOKEN", "SECRET", "KEY", "CREDENTIAL", "PAT"];

pub fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|word| upper.contains(word))
}

/// The whole stack document in our field order, with the inputs the templates read.
pub fn stack_document(imp: &mut Importer, body: Map<String, Value>) -> Value {
    let mut doc = Map::new();
    doc.insert("apiVersion".into(), json!(API_VERSION));
    doc.insert("kind".into(), json!(KIND));
    let mut body = body;
    for key in ["project", "versions"] {
        if let Some(value) = body.shift_remove(key) {
            doc.insert(key.into(), value);
        }
    }
    let inputs = input_declarations(imp);
    if !inputs.is_empty() {
        doc.insert("inputs".into(), Value::Object(inputs));
    }
    for (key, value) in body {
        doc.insert(key, value);
    }
    Value::Object(doc)
}

/// The default an input gets in services.yaml: one the source states outside templates, else
/// the literal default every use agrees on.
fn default_of(imp: &Importer, name: &str, decl: &InputDecl) -> Option<String> {
    imp.known_defaults.get(name).cloned().or_else(|| if decl.conflicting { None } else { decl.default.clone() })
}

fn input_declarations(imp: &mut Importer) -> Map<String, Value> {
    let mut out = Map::new();
    let declared: Vec<(String, InputDecl)> = imp.inputs.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    for (name, decl) in declared {
        let mut input = Map::new();
        let default = default_of(imp, &name, &decl);
        input.insert("default".into(), json!(default.clone().unwrap_or_default()));
        let uses = decl.used_at.join(", ");
        input.insert("description".into(), json!(format!("read at {uses}")));
        let how = match (&default, decl.conflicting) {
            (_, true) => "uses give different defaults: each use keeps its own, the input defaults to \"\"".to_string(),
            (Some(default), _) => format!("default \"{default}\""),
            (None, _) => "no default in the source (\"\")".to_string(),
        };
        let first = decl.used_at.first().cloned().unwrap_or_default();
        imp.note(
            first,
            format!("inputs.{name}"),
            Action::Converted,
            format!("a value from outside the file is the input {name} ({how})"),
        );
        out.insert(name, Value::Object(input));
    }
    out
}

/// inputs.example.yaml: every input with its default, an env file's value, or a placeholder,
/// each with a comment naming the lines that read it. Usable as `--values-file`.
pub fn inputs_example(imp: &Importer) -> String {
    let mut text = String::from(
        "# Inputs of the imported stack, one per value it reads from outside the file.\n\
         # Use as is or edit: kubectl codex plan --env ENV --values-file inputs.example.yaml\n\
         # (or --set NAME=VALUE, or the environment variable CODEX_INPUT_<NAME>).\n",
    );
    if imp.inputs.is_empty() {
        text.push_str("{}\n");
        return text;
    }
    for (name, decl) in &imp.inputs {
        let from_env_file = imp.env_defaults.get(name);
        let (value, origin) = match (from_env_file, default_of(imp, name, decl)) {
            (Some((_, file)), _) if looks_secret(name) => {
                (placeholder(name), format!("placeholder; the value in {file} looks secret and is not copied"))
            }
            (Some((value, file)), _) => (value.clone(), format!("from {file}")),
            (None, Some(default)) if !default.is_empty() => (default, "the default".to_string()),
            // Unset, the source tool renders an empty string: the same here.
            _ => (String::new(), "empty, as the source renders it unset; set the real value".to_string()),
        };
        text.push_str(&format!("# {name}: read at {} ({origin})\n", decl.used_at.join(", ")));
        let line = crate::values::yaml::to_string(&json!({ name: value }));
        text.push_str(&line);
    }
    text
}

/// A stand-in that works where a name or host is expected.
fn placeholder(name: &str) -> String {
    let lower: String =
        name.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    format!("example-{}", lower.trim_matches('-'))
}

/// The header of the written services.yaml.
pub fn stack_header(source: &str, format: &str) -> String {
    format!(
        "# Imported by `kubectl codex import` from {source} ({format}).\n\
         # The report (`kubectl codex import … -o json`) lists what was mapped, converted and not carried.\n"
    )
}

/// Writes the files under `out`, creating directories; returns the relative names written.
/// `stack` is None when services.yaml itself could not be converted.
pub fn write_parts(
    out: &Path,
    stack: Option<&str>,
    manifests: &std::collections::BTreeMap<String, String>,
    example: &str,
) -> std::io::Result<Vec<String>> {
    std::fs::create_dir_all(out)?;
    let mut written = Vec::new();
    if let Some(stack) = stack {
        std::fs::write(out.join(STACK_FILE), stack)?;
        written.push(STACK_FILE.to_string());
    }
    for (relative, text) in manifests {
        let target = out.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, text)?;
        written.push(relative.clone());
    }
    std::fs::write(out.join(INPUTS_EXAMPLE_FILE), example)?;
    written.push(INPUTS_EXAMPLE_FILE.to_string());
    Ok(written)
}
