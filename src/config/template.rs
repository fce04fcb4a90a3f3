//! Tera templating of the strings in services.yaml.
//!
//! Only strings that contain `{{`, `{%` or `{#` are rendered, so ordinary text is never touched and
//! costs nothing. The context is the same everywhere: project, env, namespace, slot, issue,
//! runtime, registry, versions and images.

use super::diagnostics::{Diagnostic, Diagnostics};
use super::path::FieldPath;
use super::source::SourceDocument;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The variables every template can use.
#[derive(Debug, Clone, Serialize, Default)]
pub struct TemplateContext {
    pub project: String,
    pub env: String,
    pub namespace: String,
    pub slot: String,
    pub issue: String,
    pub runtime: String,
    pub registry: String,
    pub versions: BTreeMap<String, String>,
    pub images: BTreeMap<String, String>,
}

/// A context converted for tera once, then used for many strings: converting it (every
/// image reference included) for each string dominated resolving large files.
pub struct Prepared(tera::Context);

impl TemplateContext {
    pub fn prepare(&self) -> Prepared {
        Prepared(tera::Context::from_serialize(self).expect("the template context is a plain struct"))
    }
}

thread_local! {
    /// One tera instance per thread: building one registers every built-in filter and test,
    /// which `Tera::one_off` would redo for each string.
    static TERA: std::cell::RefCell<tera::Tera> = std::cell::RefCell::new({
        let mut tera = tera::Tera::default();
        tera.register_function("range", bounded_range);
        tera
    });
}

/// Tera's `range`, bounded: its built-in loops forever on `step_by=0` (found by fuzzing) and
/// would allocate any length asked for.
fn bounded_range(args: &std::collections::HashMap<String, tera::Value>) -> tera::Result<tera::Value> {
    const MAX_ITEMS: i64 = 10_000;
    let number = |name: &str, default: Option<i64>| -> tera::Result<i64> {
        match args.get(name) {
            Some(value) => value.as_i64().ok_or_else(|| tera::Error::msg(format!("range: `{name}` must be an integer"))),
            None => default.ok_or_else(|| tera::Error::msg(format!("range: `{name}` is required"))),
        }
    };
    let (start, end, step) = (number("start", Some(0))?, number("end", None)?, number("step_by", Some(1))?);
    if step <= 0 {
        return Err(tera::Error::msg("range: `step_by` must be positive"));
    }
    if end.saturating_sub(start) / step > MAX_ITEMS {
        return Err(tera::Error::msg(format!("range: more than {MAX_ITEMS} items")));
    }
    Ok(tera::Value::Array((start..end).step_by(step as usize).map(tera::Value::from).collect()))
}

/// Whether `text` contains template syntax at all.
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// Renders one string; the error explains what tera reported, cause by cause.
pub fn render_str(text: &str, context: &TemplateContext) -> Result<String, String> {
    if !is_template(text) {
        return Ok(text.to_string());
    }
    render_prepared(text, &context.prepare())
}

/// Renders one string with an already prepared context.
pub fn render_prepared(text: &str, context: &Prepared) -> Result<String, String> {
    if !is_template(text) {
        return Ok(text.to_string());
    }
    // Tera panics on some arithmetic in templates (an infinite float, `%` overflow; found by
    // fuzzing): a bad template must be an error, never a crash, so the panic is caught here.
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        TERA.with(|tera| tera.borrow_mut().render_str(text, &context.0))
    }));
    std::panic::set_hook(previous_hook);
    match outcome {
        Ok(rendered) => rendered.map_err(|e| describe(&e)),
        Err(_) => Err("template error: the template cannot be evaluated (arithmetic out of range)".into()),
    }
}

fn describe(error: &tera::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    // Tera's first line repeats the template name "__tera_one_off"; the causes say what is wrong.
    let useful: Vec<String> = parts
        .into_iter()
        .map(|p| {
            p.replace("'__tera_one_off'", "the template")
                .replace("__tera_one_off", "the template")
                .replace("'__tera_one_off_template'", "the template")
        })
        .collect();
    format!("template error: {}", useful.join(": "))
}

/// Renders every templated string inside `value`, whose field path is `path` in `source`.
/// Errors are collected, not returned early, so one pass reports every bad template.
pub fn render_value(
    value: &mut Value,
    path: &str,
    context: &Prepared,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    match value {
        Value::String(text) if is_template(text) => match render_prepared(text, context) {
            Ok(rendered) => *text = rendered,
            Err(message) => errors.push(source.error_at(path, message)),
        },
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                render_value(item, &FieldPath::index(path, i), context, source, errors);
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                render_value(item, &FieldPath::key(path, key), context, source, errors);
            }
        }
        _ => {}
    }
}

/// Renders a `when` condition; it must come out as `true` or `false`.
pub fn render_condition(text: &str, context: &Prepared) -> Result<bool, String> {
    let rendered = render_prepared(text, context)?;
    match rendered.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(format!(
            "condition must render to true or false, got \"{}\"",
            super::diagnostics::excerpt(other)
        )),
    }
}

/// A diagnostic for a template error in a file other than services.yaml (extra manifests).
pub fn file_error(file: &str, message: String) -> Diagnostic {
    Diagnostic::new(file, super::diagnostics::Position { line: 1, column: 1 }, "", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> TemplateContext {
        TemplateContext { project: "codex".into(), env: "ai".into(), issue: "19".into(), ..Default::default() }
    }

    #[test]
    fn renders_variables_and_conditions() {
        assert_eq!(render_str("{{ project }}-{{ env }}-{{ issue }}", &context()).unwrap(), "codex-ai-19");
        assert!(render_condition("{{ env == 'ai' }}", &context().prepare()).unwrap());
        assert!(render_condition("maybe", &context().prepare()).is_err());
    }

    #[test]
    fn reports_broken_templates() {
        let err = render_str("{{ project", &context()).unwrap_err();
        assert!(err.starts_with("template error"), "{err}");
        let err = render_str("{{ nothing_here }}", &context()).unwrap_err();
        assert!(err.contains("nothing_here"), "{err}");
    }
}
