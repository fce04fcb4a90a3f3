//! The JSON Schema of services.yaml, generated from the model, and structural validation with it.
//!
//! Validating against the schema before typed parsing reports *every* structural problem at
//! once (serde stops at the first), each at the exact field.

use super::diagnostics::{excerpt, Diagnostics};
use super::model::Document;
use super::path::FieldPath;
use super::source::SourceDocument;
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;
use std::sync::OnceLock;

/// The schema as a JSON value (what `kubectl codex schema` prints).
pub fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        // No `null` alternative for optional fields: keeps the schema free of `anyOf`
        // wrappers, whose errors would only say "not valid under any of the schemas".
        let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
        let mut schema =
            serde_json::to_value(generator.into_root_schema_for::<Document>()).expect("a generated schema serialises");
        // Overlays keep their `null` alternatives: in a merge patch, null deletes a field.
        let overlays: Vec<(String, Value)> = ["UnitOverlay", "WorkloadOverlay"]
            .iter()
            .filter_map(|name| schema.pointer(&format!("/$defs/{name}")).map(|v| (name.to_string(), v.clone())))
            .collect();
        drop_null_alternatives(&mut schema);
        for (name, definition) in overlays {
            schema["$defs"][name] = definition;
        }
        partial_unit(&mut schema);
        if let Value::Object(map) = &mut schema {
            map.insert("$id".into(), Value::String("https://codex-k8s.dev/schemas/services.schema.json".into()));
        }
        schema
    })
}

/// Defines `$defs/Component`, the schema of a component: a unit without `name`, in which
/// nothing reached through mappings is required, since a component's mappings are merged with
/// the unit's (and other components') and may hold any part of them. List items stay whole:
/// a list replaces the one underneath, so what it holds must stand on its own. Each struct
/// reached that way gets a `Partial…` twin; the unit as merged is checked with the full schema.
fn partial_unit(schema: &mut Value) {
    let Some(Value::Object(defs)) = schema.get("$defs").cloned() else { return };
    let mut created = serde_json::Map::new();
    let mut component = defs.get("Unit").cloned().unwrap_or_default();
    partial(&mut component, &defs, &mut created);
    if let Value::Object(map) = &mut component {
        if let Some(Value::Object(properties)) = map.get_mut("properties") {
            properties.shift_remove("name");
        }
        map.insert(
            "description".into(),
            Value::String(
                "A component: shared defaults of units, any unit field but `name`, none required. \
                 A unit whose `use` names it starts from it."
                    .into(),
            ),
        );
    }
    created.insert("Component".into(), component);
    for (name, definition) in created {
        schema["$defs"][name] = definition;
    }
}

/// Makes the schema `node` partial in place (see [`partial_unit`]), adding the `Partial…`
/// definitions it refers to into `created`.
fn partial(node: &mut Value, defs: &serde_json::Map<String, Value>, created: &mut serde_json::Map<String, Value>) {
    let Value::Object(map) = node else { return };
    if let Some(Value::String(reference)) = map.get("$ref") {
        let name = reference.trim_start_matches("#/$defs/").to_string();
        // Overlays are all optional already (and keep their nulls: they are merge patches).
        let is_struct = defs.get(&name).is_some_and(|d| d.get("properties").is_some());
        if is_struct && !name.ends_with("Overlay") {
            let twin = format!("Partial{name}");
            if !created.contains_key(&twin) {
                created.insert(twin.clone(), Value::Null);
                let mut definition = defs[&name].clone();
                partial(&mut definition, defs, created);
                created.insert(twin.clone(), definition);
            }
            map.insert("$ref".into(), Value::String(format!("#/$defs/{twin}")));
        }
    }
    map.remove("required");
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        properties.values_mut().for_each(|p| partial(p, defs, created));
    }
    if let Some(additional @ Value::Object(_)) = map.get_mut("additionalProperties") {
        partial(additional, defs, created);
    }
    for keyword in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(branches)) = map.get_mut(keyword) {
            branches.iter_mut().for_each(|b| partial(b, defs, created));
        }
    }
}

/// Turns `anyOf: [X, {type: null}]` into `X` and `type: [T, "null"]` into `T`, everywhere.
fn drop_null_alternatives(node: &mut Value) {
    match node {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types[0].clone();
                    map.insert("type".into(), only);
                }
            }
            let is_null = |v: &Value| v.get("type") == Some(&Value::String("null".into()));
            if let Some(Value::Array(options)) = map.get("anyOf") {
                let rest: Vec<Value> = options.iter().filter(|o| !is_null(o)).cloned().collect();
                if rest.len() == 1 && rest.len() < options.len() {
                    map.remove("anyOf");
                    if let Value::Object(inner) = &rest[0] {
                        for (k, v) in inner {
                            map.entry(k.clone()).or_insert_with(|| v.clone());
                        }
                    }
                }
            }
            for value in map.values_mut() {
                drop_null_alternatives(value);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null_alternatives),
        _ => {}
    }
}

static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();

fn validator() -> &'static jsonschema::Validator {
    VALIDATOR.get_or_init(|| jsonschema::validator_for(schema()).expect("the generated schema compiles"))
}

/// Starts compiling the validator on another thread, unless it is ready: the first load of a
/// process then overlaps that work with reading the YAML instead of waiting for it after.
pub fn warm_up() {
    if VALIDATOR.get().is_none() {
        std::thread::spawn(|| {
            validator();
        });
    }
}

/// What the structural check found.
#[derive(Debug, Default)]
pub struct Structural {
    pub diagnostics: Diagnostics,
    /// JSON pointers of fields that, left out, leave a document the typed model may read, so
    /// the semantic checks can still run on the rest and their errors come out together with
    /// these. `None` when some error cannot be set aside that way (a missing required field,
    /// a wrong list entry, a wrong top-level section).
    pub removable: Option<Vec<String>>,
}

impl Structural {
    pub fn is_empty(&self) -> bool {
        self.diagnostics.is_empty()
    }

    /// Notes that the field at `pointer` holds an error: it is set aside when it lies deep
    /// enough that leaving it out cannot make other, correct parts look wrong.
    fn set_aside(&mut self, pointer: &str, root: &Value) {
        let Some(removable) = self.removable.as_mut() else { return };
        match settable_aside(pointer, root) {
            Some(field) => removable.push(field),
            None => self.removable = None,
        }
    }
}

/// Fields at least this deep (`/services/0/dependsOn`, `/images/api/build`) may be set aside;
/// shallower ones (`/images/api`, `/environments`) hold names other parts refer to.
const SET_ASIDE_MIN_DEPTH: usize = 3;

/// The innermost field (an object member) at or above `pointer`, if deep enough.
fn settable_aside(pointer: &str, root: &Value) -> Option<String> {
    let segments: Vec<&str> = pointer.split('/').skip(1).collect();
    (SET_ASIDE_MIN_DEPTH..=segments.len()).rev().find_map(|depth| {
        let parent = format!("/{}", segments[..depth - 1].join("/"));
        root.pointer(&parent).filter(|p| p.is_object()).map(|_| format!("/{}", segments[..depth].join("/")))
    })
}

/// Every structural problem of `document`, located.
pub fn check(document: &SourceDocument) -> Structural {
    let mut found = Structural { diagnostics: Diagnostics::default(), removable: Some(Vec::new()) };
    for error in validator().iter_errors(&document.value) {
        report(&error, document, &mut found);
    }
    if found.is_empty() {
        found.removable = None;
    }
    found
}

/// `value` without the fields at `pointers` (see [`Structural::removable`]).
pub fn without(value: &Value, pointers: &[String]) -> Value {
    let mut pruned = value.clone();
    for pointer in pointers {
        let Some((parent, key)) = pointer.rsplit_once('/') else { continue };
        let key = key.replace("~1", "/").replace("~0", "~");
        if let Some(Value::Object(map)) = pruned.pointer_mut(parent) {
            map.remove(&key);
        }
    }
    pruned
}

fn report(error: &jsonschema::ValidationError<'_>, document: &SourceDocument, structural: &mut Structural) {
    let pointer = error.instance_path().as_str();
    let path = FieldPath::from_pointer(pointer, &document.value);
    let found = &mut structural.diagnostics;
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let known = known_properties(error.schema_path().as_str());
            for key in unexpected {
                // Unknown to the model anyway: leaving it out changes nothing else — except at
                // the top, where it is most likely a misspelled section (`imagez:`) whose
                // absence would make everything that refers into it look wrong.
                if pointer.is_empty() {
                    structural.removable = None;
                } else if let Some(removable) = structural.removable.as_mut() {
                    removable.push(format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1")));
                }
                let field = FieldPath::key(&path, key);
                let mut message = format!("unknown field \"{}\"", excerpt(key));
                if key == "name" && error.schema_path().as_str() == "/$defs/Component/additionalProperties" {
                    message.push_str("; a component has no name: each unit that uses it has its own");
                } else if let Some(close) = closest(key, &known) {
                    message.push_str(&format!("; did you mean \"{close}\"?"));
                } else if !known.is_empty() {
                    message.push_str(&format!("; expected one of: {}", known.join(", ")));
                }
                found.push(document.error_at_key(&field, message));
            }
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            found.push(document.error_at(&path, format!("missing required field \"{name}\"")));
            structural.removable = None;
        }
        ValidationErrorKind::Enum { options } => {
            let allowed: Vec<String> = options
                .as_array()
                .map(|a| a.iter().map(|v| v.as_str().map_or(v.to_string(), str::to_string)).collect())
                .unwrap_or_default();
            found.push(
                document.error_at(&path, format!("{} is not one of: {}", short(error.instance()), allowed.join(", "))),
            );
            structural.set_aside(pointer, &document.value);
        }
        ValidationErrorKind::Type { .. } => {
            let expected = expected_type(error.schema_path().as_str());
            found.push(document.error_at(&path, format!("{} is not {expected}", short(error.instance()))));
            structural.set_aside(pointer, &document.value);
        }
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            if let Some(choices) = constant_choices(error.schema_path().as_str()) {
                found.push(
                    document
                        .error_at(&path, format!("{} is not one of: {}", short(error.instance()), choices.join(", "))),
                );
                structural.set_aside(pointer, &document.value);
                return;
            }
            // `X or null` (overlays): when the value is not null, X's own errors say more.
            let real: Vec<&Vec<jsonschema::ValidationError<'static>>> =
                context.iter().filter(|branch| !branch.iter().all(is_null_type_error)).collect();
            match real.as_slice() {
                [only] if !error.instance().is_null() => only.iter().for_each(|e| report(e, document, structural)),
                _ => {
                    found.push(
                        document
                            .error_at(&path, format!("{} does not match any allowed form", short(error.instance()))),
                    );
                    structural.set_aside(pointer, &document.value);
                }
            }
        }
        _ => {
            found.push(document.error_at(&path, excerpt(&error.to_string())));
            structural.set_aside(pointer, &document.value);
        }
    }
}

/// An error that only says "this is not null": the null branch of an optional field.
fn is_null_type_error(error: &jsonschema::ValidationError<'_>) -> bool {
    matches!(error.kind(), ValidationErrorKind::Type { .. })
        && keyword_parent(error.schema_path().as_str()).and_then(|n| n.get("type"))
            == Some(&Value::String("null".into()))
}

fn short(value: &Value) -> String {
    let text = match value {
        Value::Object(_) => "a mapping".to_string(),
        Value::Array(_) => "a list".to_string(),
        Value::Null => "an empty value".to_string(),
        other => other.to_string(),
    };
    excerpt(&text)
}

/// The schema node holding the keyword that failed, e.g. `/$defs/Unit` for
/// `/$defs/Unit/additionalProperties`.
fn keyword_parent(schema_path: &str) -> Option<&'static Value> {
    let parent = &schema_path[..schema_path.rfind('/')?];
    schema().pointer(parent)
}

/// For an enum written as `oneOf: [{const: a}, {const: b}]`, the constants.
fn constant_choices(schema_path: &str) -> Option<Vec<String>> {
    let keyword = &schema_path[schema_path.rfind('/')? + 1..];
    let options = keyword_parent(schema_path)?.get(keyword)?.as_array()?;
    options
        .iter()
        .map(|o| {
            o.get("const").map(|c| c.as_str().map_or(c.to_string(), str::to_string)).or_else(|| {
                o.get("enum").and_then(Value::as_array).map(|e| {
                    e.iter().map(|v| v.as_str().map_or(v.to_string(), str::to_string)).collect::<Vec<_>>().join(", ")
                })
            })
        })
        .collect()
}

fn known_properties(schema_path: &str) -> Vec<String> {
    keyword_parent(schema_path)
        .and_then(|node| node.get("properties"))
        .and_then(Value::as_object)
        .map(|props| props.keys().cloned().collect())
        .unwrap_or_default()
}

fn expected_type(schema_path: &str) -> String {
    let described = keyword_parent(schema_path).and_then(|node| node.get("type")).map(|t| match t {
        Value::String(s) => article(s),
        Value::Array(items) => items.iter().filter_map(Value::as_str).map(article).collect::<Vec<_>>().join(" or "),
        _ => t.to_string(),
    });
    described.unwrap_or_else(|| "of the expected type".into())
}

fn article(json_type: &str) -> String {
    match json_type {
        "object" => "a mapping".into(),
        "array" => "a list".into(),
        "integer" => "an integer".into(),
        "string" => "a string".into(),
        "boolean" => "a boolean (true or false)".into(),
        "number" => "a number".into(),
        other => other.into(),
    }
}

/// The known name nearest to a misspelt one, when it is near enough to be a likely typo.
pub fn closest(word: &str, candidates: &[String]) -> Option<String> {
    if word.len() > 64 {
        return None;
    }
    candidates
        .iter()
        .map(|c| (edit_distance(&word.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min()
        .map(|(_, c)| c.clone())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_misses_only() {
        let known = vec!["dependsOn".to_string(), "workload".to_string()];
        assert_eq!(closest("dependOn", &known).as_deref(), Some("dependsOn"));
        assert_eq!(closest("zzz", &known), None);
    }

    #[test]
    fn a_component_is_a_partial_unit() {
        let defs = &schema()["$defs"];
        let component = &defs["Component"];
        assert_eq!(component["additionalProperties"], Value::Bool(false));
        assert!(component.get("required").is_none());
        assert!(component["properties"].get("name").is_none(), "a component has no name");
        assert!(component["properties"].get("use").is_some(), "a component may use others");
        assert_eq!(component["properties"]["workload"]["$ref"], "#/$defs/PartialWorkload");
        assert!(defs["PartialWorkload"].get("required").is_none());
        assert_eq!(defs["PartialWorkload"]["properties"]["probes"]["$ref"], "#/$defs/PartialProbes");
        // List items stay whole: a list replaces the one underneath.
        assert_eq!(defs["PartialWorkload"]["properties"]["ports"]["items"]["$ref"], "#/$defs/Port");
        assert_eq!(defs["Workload"]["required"], serde_json::json!(["kind", "image"]));
        assert_eq!(schema()["properties"]["components"]["additionalProperties"]["$ref"], "#/$defs/Component");
    }

    #[test]
    fn schema_denies_unknown_fields_of_units() {
        let unit = &schema()["$defs"]["Unit"];
        assert_eq!(unit["additionalProperties"], Value::Bool(false));
    }
}
