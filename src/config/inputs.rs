//! `inputs:`: values a stack takes when a command runs instead of from the file — hosts,
//! storage classes, passwords. Each is set, first match wins, by `--set name=value`, a
//! `--values-file` entry, the environment variable `CODEX_INPUT_<NAME>`, or its default.
//! Templates read them as `inputs.<name>`.
//!
//! A secret input is never printed and never reaches a values file: templates outside
//! `secrets.<name>.data` do not see it (a template that names it is an error saying so), plans
//! and evidence show `<secret:NAME>`, and the input digest takes an HMAC of it keyed by the
//! namespace instead of the value.

use super::diagnostics::{excerpt, Diagnostic, Diagnostics};
use super::model::Document;
use super::path::FieldPath;
use super::source::SourceDocument;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Prefix of the environment variables that set inputs: `CODEX_INPUT_DBPASSWORD`.
pub const ENV_PREFIX: &str = "CODEX_INPUT_";

/// One declared input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Input {
    /// What the input is for; shown in the error when a required one is missing.
    #[serde(default)]
    pub description: Option<String>,
    /// `string`, `number` or `boolean`. Default: the type of `default`, else `string`.
    #[serde(default, rename = "type")]
    pub input_type: Option<InputType>,
    /// The value when nothing else sets it. Not allowed on secret or required inputs.
    #[serde(default)]
    #[schemars(with = "Option<ScalarSchema>")]
    pub default: Option<Value>,
    /// A command that resolves the file fails (exit 2) while the input is not set.
    #[serde(default)]
    pub required: bool,
    /// Never printed; templates outside `secrets.<name>.data` cannot read it.
    #[serde(default)]
    pub secret: bool,
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum ScalarSchema {
    Text(String),
    Number(f64),
    Flag(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum InputType {
    String,
    Number,
    Boolean,
}

impl InputType {
    pub fn as_str(self) -> &'static str {
        match self {
            InputType::String => "string",
            InputType::Number => "number",
            InputType::Boolean => "boolean",
        }
    }
}

impl Input {
    /// The declared type, else the default's, else string.
    pub fn value_type(&self) -> InputType {
        self.input_type.unwrap_or(match &self.default {
            Some(Value::Number(_)) => InputType::Number,
            Some(Value::Bool(_)) => InputType::Boolean,
            _ => InputType::String,
        })
    }
}

/// `CODEX_INPUT_` and the name in upper case, every character but letters and digits a `_`.
pub fn env_name(name: &str) -> String {
    let tail: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("{ENV_PREFIX}{tail}")
}

/// Whether templates can name it as `inputs.<name>`: letters, digits and `_`, not first a digit.
pub fn is_input_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

/// The placeholder that stands for a secret input wherever it would be shown.
pub fn placeholder(name: &str) -> String {
    format!("<secret:{name}>")
}

/// One `--values-file`, read with positions so its errors name its lines.
#[derive(Debug, Clone)]
pub struct ValuesFile {
    pub source: SourceDocument,
}

impl ValuesFile {
    /// Reads `bytes` (named `file` in messages); the document must be a mapping.
    pub fn read(file: &str, bytes: &[u8]) -> Result<ValuesFile, Diagnostics> {
        let source = super::source::read(file, bytes)?;
        if !source.value.is_object() {
            return Err(Diagnostics(vec![source.error_at(
                "",
                "a values file is a YAML mapping of input names to values, e.g. `registryHost: 127.0.0.1:5000`",
            )]));
        }
        Ok(ValuesFile { source })
    }
}

/// What the command line and the environment give, before it is matched to the declarations.
#[derive(Debug, Clone, Default)]
pub struct GivenInputs {
    /// `--set name=value`, in command-line order (a later one wins over an earlier one).
    pub set: Vec<(String, String)>,
    /// `--values-file`s, in command-line order (a later one wins over an earlier one).
    pub files: Vec<ValuesFile>,
    /// `CODEX_INPUT_*` variables of the environment, by variable name.
    pub env: BTreeMap<String, String>,
    /// A required input nobody set gets a stand-in value instead of an error (`validate`
    /// checks the file, not a deployment). Templates that decide the namespace or the
    /// registry still refuse one: a stand-in there would name the wrong environment.
    pub stand_ins: bool,
}

impl GivenInputs {
    /// Nothing given, required inputs with stand-ins (what `validate` checks with).
    pub fn stand_ins() -> GivenInputs {
        GivenInputs { stand_ins: true, ..Default::default() }
    }

    /// The `CODEX_INPUT_*` variables of this process.
    pub fn from_process_env() -> BTreeMap<String, String> {
        std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .filter(|(k, _)| k.starts_with(ENV_PREFIX))
            .collect()
    }

    /// `--set` names services.yaml does not declare (a usage error, exit 64).
    pub fn unknown_set_names(&self, document: &Document) -> Vec<String> {
        let mut unknown: Vec<String> =
            self.set.iter().filter(|(n, _)| !document.inputs.contains_key(n)).map(|(n, _)| n.clone()).collect();
        unknown.dedup();
        unknown
    }
}

/// Where an input's value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Origin {
    Set,
    ValuesFile(String),
    Env(String),
    Default,
    /// Optional, no default: the empty string.
    Unset,
    /// `validate` without a value for a required input.
    StandIn,
}

impl Origin {
    pub fn describe(&self) -> String {
        match self {
            Origin::Set => "--set".into(),
            Origin::ValuesFile(file) => format!("--values-file {file}"),
            Origin::Env(name) => name.clone(),
            Origin::Default => "default".into(),
            Origin::Unset => "not set".into(),
            Origin::StandIn => "not set (stand-in)".into(),
        }
    }
}

/// One input with its value for this run.
#[derive(Clone)]
pub struct ResolvedInput {
    pub value: Value,
    pub secret: bool,
    pub origin: Origin,
}

impl std::fmt::Debug for ResolvedInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = if self.secret { Value::String("<secret>".into()) } else { self.value.clone() };
        f.debug_struct("ResolvedInput").field("value", &shown).field("origin", &self.origin).finish()
    }
}

/// Every declared input, with its value.
#[derive(Debug, Clone, Default)]
pub struct ResolvedInputs {
    pub values: BTreeMap<String, ResolvedInput>,
}

/// How an input is shown in plans, JSON and evidence: secret ones as `<secret:NAME>`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicInput {
    pub value: Value,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
    /// Where the value came from; not part of the input digest (the same value set two ways
    /// deploys the same thing).
    #[serde(skip)]
    pub from: String,
}

impl ResolvedInputs {
    /// The inputs templates see: all of them (`secrets.<name>.data`), or the non-secret ones.
    pub fn template_values(&self, with_secrets: bool) -> BTreeMap<String, Value> {
        self.values
            .iter()
            .filter(|(_, v)| with_secrets || !v.secret)
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect()
    }

    /// Names of the secret inputs, which plain templates do not see.
    pub fn secret_names(&self) -> Vec<String> {
        self.values.iter().filter(|(_, v)| v.secret).map(|(k, _)| k.clone()).collect()
    }

    /// Names of the inputs that hold a stand-in.
    pub fn stand_in_names(&self) -> Vec<String> {
        self.values.iter().filter(|(_, v)| v.origin == Origin::StandIn).map(|(k, _)| k.clone()).collect()
    }

    /// The values as shown to people: secret ones replaced by their placeholder.
    pub fn public(&self) -> BTreeMap<String, PublicInput> {
        self.values
            .iter()
            .map(|(name, input)| {
                let value = if input.secret { Value::String(placeholder(name)) } else { input.value.clone() };
                (name.clone(), PublicInput { value, secret: input.secret, from: input.origin.describe() })
            })
            .collect()
    }

    /// The secret values by name, with their placeholders (for scrubbing messages).
    pub fn secret_texts(&self) -> Vec<(String, String)> {
        self.values
            .iter()
            .filter(|(_, v)| v.secret)
            .map(|(name, input)| (text_of(&input.value), placeholder(name)))
            .collect()
    }
}

/// A value as a template renders it.
pub fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The rules about declarations that hold whatever is given: names, defaults, types.
pub fn check(document: &Document, source: &SourceDocument, errors: &mut Diagnostics) {
    let mut by_variable: BTreeMap<String, &str> = BTreeMap::new();
    for (name, input) in &document.inputs {
        let path = FieldPath::key("inputs", name);
        if !is_input_name(name) {
            errors.push(source.error_at_key(
                &path,
                format!(
                    "input name \"{}\" must be letters, digits and '_', not starting with a digit, so templates can read it as inputs.<name>",
                    excerpt(name)
                ),
            ));
            continue;
        }
        let variable = env_name(name);
        if let Some(other) = by_variable.insert(variable.clone(), name) {
            errors.push(source.error_at_key(
                &path,
                format!("inputs \"{other}\" and \"{name}\" are both set by {variable}; rename one"),
            ));
        }
        if let Some(default) = &input.default {
            let default_path = FieldPath::key(&path, "default");
            if input.secret {
                errors.push(source.error_at(
                    &default_path,
                    "a secret input has no default: it would sit in services.yaml in plain text; \
                     drop the default (and set the value with --set, a --values-file or the environment), \
                     or use `generate` in `secrets` for a random value",
                ));
            } else if input.required {
                errors.push(source.error_at(
                    &default_path,
                    "a required input has no default (a default makes it optional); drop one of the two",
                ));
            }
            if let Err(why) = typed(default, input.value_type()) {
                errors.push(source.error_at(&default_path, format!("wrong type for input \"{name}\": {why}")));
            }
        } else if !input.required && input.value_type() != InputType::String {
            errors.push(source.error_at(
                &path,
                format!(
                    "an optional {} input needs a default (an unset string input is \"\", a {} has no such value); add `default:` or `required: true`",
                    input.value_type().as_str(),
                    input.value_type().as_str()
                ),
            ));
        }
    }
}

/// `value` as an input of type `wanted`; strings convert the way `--set` does.
pub fn typed(value: &Value, wanted: InputType) -> Result<Value, String> {
    match (wanted, value) {
        (InputType::String, Value::String(_)) => Ok(value.clone()),
        (InputType::String, Value::Number(n)) => Ok(Value::String(n.to_string())),
        (InputType::String, Value::Bool(b)) => Ok(Value::String(b.to_string())),
        (InputType::Number, Value::Number(_)) => Ok(value.clone()),
        (InputType::Number, Value::String(text)) => parse_number(text)
            .ok_or_else(|| format!("\"{}\" is not a number (the input's type is number)", excerpt(text))),
        (InputType::Boolean, Value::Bool(_)) => Ok(value.clone()),
        (InputType::Boolean, Value::String(text)) => match text.as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("\"{}\" is not true or false (the input's type is boolean)", excerpt(text))),
        },
        (wanted, other) => Err(format!(
            "{} is {} and the input's type is {}",
            excerpt(&other.to_string()),
            kind_of(other),
            wanted.as_str()
        )),
    }
}

/// What a value is, in services.yaml's words (YAML says "mapping" where JSON patches say "map").
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "a mapping",
        other => super::manifest_edit::type_name(other),
    }
}

fn parse_number(text: &str) -> Option<Value> {
    let text = text.trim();
    if let Ok(n) = text.parse::<i64>() {
        return Some(Value::from(n));
    }
    let f: f64 = text.parse().ok()?;
    serde_json::Number::from_f64(f).map(Value::Number)
}

/// A stand-in for a required input nobody set (`validate` only).
fn stand_in(name: &str, wanted: InputType) -> Value {
    match wanted {
        InputType::String => Value::String(name.to_ascii_lowercase().replace('_', "-")),
        InputType::Number => Value::from(0),
        InputType::Boolean => Value::Bool(false),
    }
}

/// Matches what is given to the declarations: every input gets its value, or an error that
/// says how to set it.
pub fn resolve(
    document: &Document,
    source: &SourceDocument,
    given: &GivenInputs,
) -> Result<ResolvedInputs, Diagnostics> {
    let mut errors = Diagnostics::default();
    // Values files: every key must be declared, wherever the file came from.
    for file in &given.files {
        let Value::Object(entries) = &file.source.value else { continue };
        for key in entries.keys() {
            if !document.inputs.contains_key(key) {
                let known: Vec<&str> = document.inputs.keys().map(String::as_str).collect();
                errors.push(file.source.error_at_key(
                    &FieldPath::key("", key),
                    format!(
                        "services.yaml declares no input \"{}\"{}",
                        excerpt(key),
                        if known.is_empty() { String::new() } else { format!("; declared: {}", known.join(", ")) }
                    ),
                ));
            }
        }
    }
    let mut out = ResolvedInputs::default();
    for (name, input) in &document.inputs {
        let path = FieldPath::key("inputs", name);
        let wanted = input.value_type();
        let at_declaration = |message: String| source.error_at_key(&path, message);
        let found: Option<(Result<Value, Diagnostic>, Origin)> =
            if let Some((_, text)) = given.set.iter().rev().find(|(n, _)| n == name) {
                let value = typed(&Value::String(text.clone()), wanted)
                    .map_err(|why| at_declaration(format!("--set {name}=…: {why}")));
                Some((value, Origin::Set))
            } else if let Some((file, value)) =
                given.files.iter().rev().find_map(|f| f.source.value.get(name).map(|v| (f, v)))
            {
                let key_path = FieldPath::key("", name);
                let value = typed(value, wanted)
                    .map_err(|why| file.source.error_at(&key_path, format!("wrong type for input \"{name}\": {why}")));
                Some((value, Origin::ValuesFile(file.source.file.clone())))
            } else if let Some(text) = given.env.get(&env_name(name)) {
                let variable = env_name(name);
                let value = typed(&Value::String(text.clone()), wanted)
                    .map_err(|why| at_declaration(format!("{variable}: {why}")));
                Some((value, Origin::Env(variable)))
            } else {
                input.default.as_ref().map(|d| (typed(d, wanted).map_err(&at_declaration), Origin::Default))
            };
        let (value, origin) = match found {
            Some((Ok(value), origin)) => (value, origin),
            Some((Err(diagnostic), _)) => {
                errors.push(diagnostic);
                continue;
            }
            None if input.required && given.stand_ins => (stand_in(name, wanted), Origin::StandIn),
            None if input.required => {
                let about = input.description.as_deref().map(|d| format!(" ({})", excerpt(d))).unwrap_or_default();
                errors.push(at_declaration(format!(
                    "input \"{name}\"{about} is required and not set: pass --set {name}=…, put `{name}: …` in a --values-file, or set the environment variable {}",
                    env_name(name)
                )));
                continue;
            }
            None => (Value::String(String::new()), Origin::Unset),
        };
        out.values.insert(name.clone(), ResolvedInput { value, secret: input.secret, origin });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_variable_names() {
        assert_eq!(env_name("dbPassword"), "CODEX_INPUT_DBPASSWORD");
        assert_eq!(env_name("registry_host"), "CODEX_INPUT_REGISTRY_HOST");
        assert_eq!(env_name("a1"), "CODEX_INPUT_A1");
        assert!(is_input_name("dbPassword") && is_input_name("_x") && !is_input_name("1x") && !is_input_name("a-b"));
    }

    #[test]
    fn values_convert_to_their_type() {
        assert_eq!(typed(&Value::String("8080".into()), InputType::Number).unwrap(), Value::from(8080));
        assert_eq!(typed(&Value::String("1.5".into()), InputType::Number).unwrap(), serde_json::json!(1.5));
        assert!(typed(&Value::String("abc".into()), InputType::Number).is_err());
        assert_eq!(typed(&Value::String("true".into()), InputType::Boolean).unwrap(), Value::Bool(true));
        assert!(typed(&Value::String("yes".into()), InputType::Boolean).is_err());
        assert_eq!(typed(&Value::from(5), InputType::String).unwrap(), Value::String("5".into()));
        assert!(typed(&serde_json::json!({"a": 1}), InputType::String).is_err());
        assert!(typed(&serde_json::json!([1]), InputType::Number).unwrap_err().contains("a list"));
    }
}
