//! Tera templating of the strings in services.yaml.
//!
//! Only strings that contain `{{`, `{%` or `{#` are rendered, so ordinary text is never touched and
//! costs nothing. The context is the same everywhere: project, env, namespace, slot, issue,
//! runtime, registry, versions and images.
//!
//! Templates see only that context: functions that read the operator's machine (`get_env`) or
//! change from run to run (`now`, `get_random`) are refused, so a stack depends on its input
//! alone. That also makes the result of a template string a function of the string, which lets
//! one resolve evaluate each distinct string once.

use super::diagnostics::{Diagnostic, Diagnostics};
use super::path::FieldPath;
use super::source::SourceDocument;
use serde::Serialize;
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};

/// Deepest nesting of `(`, `[` and `{` a template may have: tera parses expressions
/// recursively, and thousands of levels overflow the stack (an abort, which nothing can catch).
pub const MAX_TEMPLATE_NESTING: usize = 64;
/// Longest string of services.yaml that is rendered as a template.
pub const MAX_TEMPLATE_BYTES: usize = 64 * 1024;
/// Longest extra manifest file that is rendered as a template (the file size limit).
pub const MAX_MANIFEST_TEMPLATE_BYTES: usize = super::source::MAX_FILE_BYTES;

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
    /// `inputs.<name>`: strings, numbers and booleans.
    pub inputs: BTreeMap<String, Value>,
    /// Secret inputs left out of `inputs` here: a template that names one is told why it
    /// cannot read it.
    #[serde(skip)]
    pub withheld: Vec<String>,
}

/// A context converted for tera once, then used for many strings: converting it (every
/// image reference included) for each string dominated resolving large files. It remembers
/// what each template string rendered to, since the same context gives the same result.
pub struct Prepared {
    context: tera::Context,
    rendered: RefCell<HashMap<String, Result<String, String>>>,
    withheld: Vec<String>,
}

impl TemplateContext {
    pub fn prepare(&self) -> Prepared {
        Prepared {
            context: tera::Context::from_serialize(self).expect("the template context is a plain struct"),
            rendered: RefCell::default(),
            withheld: self.withheld.clone(),
        }
    }
}

/// When a template failed and names a withheld input: the reason, instead of tera's
/// "variable not found".
fn explain_withheld(text: &str, withheld: &[String]) -> Option<String> {
    let named = withheld.iter().find(|name| {
        let needle = format!("inputs.{name}");
        text.match_indices(&needle).any(|(at, _)| {
            let after = text[at + needle.len()..].chars().next();
            !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        }) || text.contains(&format!("inputs[\"{name}\"]"))
            || text.contains(&format!("inputs['{name}']"))
    })?;
    Some(format!(
        "input \"{named}\" is secret: only the templates of secrets.<name>.data may read it, so it never \
         reaches values, plans or logs; put it in a secret and give it to the unit with env \
         {{ secret: <name>, key: <key> }}"
    ))
}

thread_local! {
    /// One tera instance per thread: building one registers every built-in filter and test,
    /// which `Tera::one_off` would redo for each string.
    static TERA: RefCell<tera::Tera> = RefCell::new({
        let mut tera = tera::Tera::default();
        tera.register_function("range", bounded_range);
        for name in ["get_env", "now", "get_random"] {
            tera.register_function(name, refused(name));
        }
        go::register(&mut tera);
        tera
    });
    /// Set while this thread runs tera, whose panics are caught and must not be printed.
    static INSIDE_TERA: Cell<bool> = const { Cell::new(false) };
}

/// Filters and functions with the meaning of the Go template functions `kubectl codex import`
/// translates (import::gotemplate), so an imported template renders what Go rendered.
mod go {
    use std::collections::HashMap;
    use tera::{Error, Result, Value};

    pub fn register(tera: &mut tera::Tera) {
        tera.register_filter("if_empty", if_empty);
        tera.register_filter("slug", slug);
        tera.register_filter("trim_prefix", trim_prefix);
        tera.register_filter("indent_lines", indent_lines);
        tera.register_filter("codexctl_bool", codexctl_bool);
        tera.register_filter("parse_bool", parse_bool);
        tera.register_function("ternary", ternary);
        tera.register_function("value", value);
    }

    /// Go's truth: false, 0, "", null and empty lists and maps are false.
    fn truthy(value: &Value) -> bool {
        match value {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
            Value::String(s) => !s.is_empty(),
            Value::Array(items) => !items.is_empty(),
            Value::Object(map) => !map.is_empty(),
        }
    }

    /// A string input, with numbers and booleans as they print.
    fn text(filter: &str, value: &Value) -> Result<String> {
        match value {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(Error::msg(format!("{filter}: the value must be a string"))),
        }
    }

    fn required<'a>(name: &str, args: &'a HashMap<String, Value>, key: &str) -> Result<&'a Value> {
        args.get(key).ok_or_else(|| Error::msg(format!("{name}: `{key}` is required")))
    }

    /// `default` of codexctl: the input unless it is null or a blank string.
    fn if_empty(input: &Value, args: &HashMap<String, Value>) -> Result<Value> {
        let fallback = required("if_empty", args, "value")?;
        let empty = match input {
            Value::Null => true,
            Value::String(s) => s.trim().is_empty(),
            _ => false,
        };
        Ok(if empty { fallback.clone() } else { input.clone() })
    }

    /// Lower case, trimmed, spaces and `_` as `-`.
    fn slug(input: &Value, _: &HashMap<String, Value>) -> Result<Value> {
        let slug: String = text("slug", input)?
            .trim()
            .to_lowercase()
            .chars()
            .map(|c| if c == ' ' || c == '_' { '-' } else { c })
            .collect();
        Ok(Value::String(slug))
    }

    /// Go's strings.TrimPrefix: one occurrence at most (tera's trim_start_matches removes all).
    fn trim_prefix(input: &Value, args: &HashMap<String, Value>) -> Result<Value> {
        let value = text("trim_prefix", input)?;
        let prefix = text("trim_prefix", required("trim_prefix", args, "prefix")?)?;
        Ok(Value::String(value.strip_prefix(prefix.as_str()).unwrap_or(&value).to_string()))
    }

    /// Sprig's indent: every line gets the spaces, the first and blank ones too (tera's indent
    /// drops a final newline and skips blank lines).
    fn indent_lines(input: &Value, args: &HashMap<String, Value>) -> Result<Value> {
        const MAX_WIDTH: u64 = 1024;
        let value = text("indent_lines", input)?;
        let width = required("indent_lines", args, "width")?
            .as_u64()
            .filter(|w| *w <= MAX_WIDTH)
            .ok_or_else(|| Error::msg(format!("indent_lines: `width` must be an integer from 0 to {MAX_WIDTH}")))?;
        let pad = " ".repeat(width as usize);
        Ok(Value::String(format!("{pad}{}", value.replace('\n', &format!("\n{pad}")))))
    }

    /// How codexctl reads a rendered condition: blank is true; false, 0 and no (any case) are false.
    fn codexctl_bool(input: &Value, _: &HashMap<String, Value>) -> Result<Value> {
        let value = text("codexctl_bool", input)?;
        let word = value.trim().to_lowercase();
        Ok(Value::String((!matches!(word.as_str(), "false" | "0" | "no")).to_string()))
    }

    /// Go's strconv.ParseBool, which ServiceStack applies to a rendered condition.
    fn parse_bool(input: &Value, _: &HashMap<String, Value>) -> Result<Value> {
        let value = text("parse_bool", input)?;
        match value.as_str() {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(Value::String("true".into())),
            "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(Value::String("false".into())),
            other => Err(Error::msg(format!("the condition rendered {other:?}, which is neither true nor false"))),
        }
    }

    /// `yes` when `cond` is true as Go sees truth, else `no`.
    fn ternary(args: &HashMap<String, Value>) -> Result<Value> {
        let cond = required("ternary", args, "cond")?;
        let chosen = if truthy(cond) { "yes" } else { "no" };
        Ok(required("ternary", args, chosen)?.clone())
    }

    /// The value given: makes any expression (a filtered one, a comparison) usable where tera
    /// only accepts a name, a literal or a call.
    fn value(args: &HashMap<String, Value>) -> Result<Value> {
        Ok(required("value", args, "of")?.clone())
    }
}

/// A stand-in for a tera built-in whose result would not depend on services.yaml alone.
fn refused(name: &'static str) -> impl tera::Function {
    move |_: &HashMap<String, tera::Value>| -> tera::Result<tera::Value> {
        Err(tera::Error::msg(format!(
            "`{name}` is not available: a template may only use services.yaml, the selection \
             and the inputs (project, env, namespace, slot, issue, runtime, registry, versions, \
             images, inputs), so the same input always renders the same stack"
        )))
    }
}

/// Tera's `range`, bounded: its built-in loops forever on `step_by=0` (found by fuzzing) and
/// would allocate any length asked for.
fn bounded_range(args: &HashMap<String, tera::Value>) -> tera::Result<tera::Value> {
    const MAX_ITEMS: i64 = 10_000;
    let number = |name: &str, default: Option<i64>| -> tera::Result<i64> {
        match args.get(name) {
            Some(value) => {
                value.as_i64().ok_or_else(|| tera::Error::msg(format!("range: `{name}` must be an integer")))
            }
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

/// Renders one string of services.yaml with an already prepared context.
pub fn render_prepared(text: &str, context: &Prepared) -> Result<String, String> {
    render_bounded(text, context, MAX_TEMPLATE_BYTES)
}

/// Renders the content of an extra manifest file.
pub fn render_manifest(text: &str, context: &Prepared) -> Result<String, String> {
    render_bounded(text, context, MAX_MANIFEST_TEMPLATE_BYTES)
}

fn render_bounded(text: &str, context: &Prepared, max_bytes: usize) -> Result<String, String> {
    if !is_template(text) {
        return Ok(text.to_string());
    }
    check_size(text, max_bytes)?;
    if let Some(rendered) = substitute_plain_variables(text, &context.context) {
        return Ok(rendered);
    }
    if let Some(known) = context.rendered.borrow().get(text) {
        return known.clone();
    }
    let outcome = render_with_tera(text, &context.context)
        .map_err(|message| explain_withheld(text, &context.withheld).unwrap_or(message));
    context.rendered.borrow_mut().insert(text.to_string(), outcome.clone());
    outcome
}

/// Refuses what tera cannot parse safely: too long, or nested so deep that its recursive
/// parser would exhaust the stack (or take quadratic time on the way).
fn check_size(text: &str, max_bytes: usize) -> Result<(), String> {
    if text.len() > max_bytes {
        return Err(format!("template error: the template is {} bytes; the limit is {max_bytes}", text.len()));
    }
    let mut depth = 0usize;
    for byte in text.bytes() {
        match byte {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_TEMPLATE_NESTING {
                    return Err(format!(
                        "template error: brackets nested deeper than {MAX_TEMPLATE_NESTING} levels; \
                         the nesting limit is {MAX_TEMPLATE_NESTING}"
                    ));
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// The common case without tera: text whose only template syntax is `{{ name }}` or
/// `{{ name.key }}` naming a string of the context. Anything else (filters, expressions,
/// whitespace control, unknown names, tags, comments) returns None and goes to tera, so the
/// output and every error stay exactly tera's.
fn substitute_plain_variables(text: &str, context: &tera::Context) -> Option<String> {
    if text.contains("{%") || text.contains("{#") {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let inside = &rest[start + 2..];
        let end = inside.find("}}")?;
        out.push_str(lookup_plain(inside[..end].trim_matches(is_tera_whitespace), context)?);
        rest = &inside[end + 2..];
    }
    out.push_str(rest);
    Some(out)
}

fn is_tera_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// The string a dotted name such as `versions.app` stands for, if it is that simple.
fn lookup_plain<'c>(name: &str, context: &'c tera::Context) -> Option<&'c str> {
    let is_segment = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let mut segments = name.split('.');
    let first = segments.next()?;
    if !is_segment(first) || first.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let mut value = context.get(first)?;
    for segment in segments {
        if !is_segment(segment) {
            return None;
        }
        value = value.as_object()?.get(segment)?;
    }
    value.as_str()
}

static QUIET_PANICS_IN_TERA: std::sync::Once = std::sync::Once::new();

/// Wraps the panic hook once for the whole process: silent for panics inside tera on this
/// thread (they are caught and reported as template errors), the previous hook otherwise.
/// Swapping the hook around each call instead would race with other threads.
fn quiet_panics_in_tera() {
    QUIET_PANICS_IN_TERA.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !INSIDE_TERA.try_with(Cell::get).unwrap_or(false) {
                previous(info);
            }
        }));
    });
}

fn render_with_tera(text: &str, context: &tera::Context) -> Result<String, String> {
    // Tera panics on some arithmetic in templates (an infinite float, `%` overflow; found by
    // fuzzing): a bad template must be an error, never a crash, so the panic is caught here.
    quiet_panics_in_tera();
    INSIDE_TERA.with(|inside| inside.set(true));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        TERA.with(|tera| tera.borrow_mut().render_str(text, context))
    }));
    INSIDE_TERA.with(|inside| inside.set(false));
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
            let p = p
                .replace("'__tera_one_off'", "the template")
                .replace("__tera_one_off", "the template")
                .replace("'__tera_one_off_template'", "the template");
            shorten_quoted_lines(&p)
        })
        .collect();
    format!("template error: {}", useful.join(": "))
}

/// Most characters of one quoted template line in a message.
const QUOTE_CHARS: usize = 80;

/// Tera's parse errors quote the template line under a caret (`1 | {{ x +  }}` then `|    ^---`);
/// a long line is cut to a window around the caret, so the message stays readable and the
/// caret still points at the same place. Any other overlong line is cut at its end.
fn shorten_quoted_lines(message: &str) -> String {
    let lines: Vec<&str> = message.split('\n').collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let (Some((gutter, quoted)), Some(caret_line)) = (split_quoted(line), lines.get(i + 1)) {
            if let Some((caret_gutter, caret_column, marker)) = split_caret(caret_line) {
                if quoted.chars().count() > QUOTE_CHARS {
                    let (window, caret) = window_around(quoted, caret_column);
                    out.push(format!("{gutter}{window}"));
                    out.push(format!("{caret_gutter}{}{marker}", " ".repeat(caret)));
                    i += 2;
                    continue;
                }
            }
        }
        out.push(if line.chars().count() > 2 * QUOTE_CHARS {
            excerpt_end(line, 2 * QUOTE_CHARS)
        } else {
            line.to_string()
        });
        i += 1;
    }
    out.join("\n")
}

/// `"12 | text"` → (`"12 | "`, `"text"`).
fn split_quoted(line: &str) -> Option<(&str, &str)> {
    let bar = line.find(" | ")?;
    let number = line[..bar].trim_start();
    (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())).then(|| line.split_at(bar + 3))
}

/// `"  |      ^---"` → (`"  | "`, 6, `"^---"`).
fn split_caret(line: &str) -> Option<(&str, usize, &str)> {
    let bar = line.find("| ")?;
    if !line[..bar].trim().is_empty() {
        return None;
    }
    let (gutter, rest) = line.split_at(bar + 2);
    let marker = rest.trim_start_matches(' ');
    marker.starts_with('^').then(|| (gutter, rest.len() - marker.len(), marker))
}

/// At most QUOTE_CHARS characters of `text` around `column` (0-based), with `…` where cut,
/// and the caret's column in that window.
fn window_around(text: &str, column: usize) -> (String, usize) {
    let chars: Vec<char> = text.chars().collect();
    let start = column.saturating_sub(QUOTE_CHARS / 2).min(chars.len().saturating_sub(QUOTE_CHARS));
    let end = (start + QUOTE_CHARS).min(chars.len());
    let mut window = String::new();
    if start > 0 {
        window.push('…');
    }
    window.extend(&chars[start..end]);
    if end < chars.len() {
        window.push('…');
    }
    (window, column - start + usize::from(start > 0))
}

fn excerpt_end(line: &str, max: usize) -> String {
    let head: String = line.chars().take(max).collect();
    format!("{head}…")
}

/// A field path built only when it is needed: rendering visits every string of every unit,
/// and formatting each one's path would cost more than the rendering itself.
enum LazyPath<'a> {
    Root(&'a str),
    Key(&'a LazyPath<'a>, &'a str),
    Index(&'a LazyPath<'a>, usize),
}

impl LazyPath<'_> {
    fn build(&self) -> String {
        match self {
            LazyPath::Root(path) => path.to_string(),
            LazyPath::Key(parent, key) => FieldPath::key(&parent.build(), key),
            LazyPath::Index(parent, index) => FieldPath::index(&parent.build(), *index),
        }
    }
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
    render_value_at(value, &LazyPath::Root(path), context, source, errors);
}

fn render_value_at(
    value: &mut Value,
    path: &LazyPath<'_>,
    context: &Prepared,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    match value {
        Value::String(text) if is_template(text) => match render_prepared(text, context) {
            Ok(rendered) => *text = rendered,
            Err(message) => errors.push(source.error_at(&path.build(), message)),
        },
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                render_value_at(item, &LazyPath::Index(path, i), context, source, errors);
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                render_value_at(item, &LazyPath::Key(path, key), context, source, errors);
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
        other => Err(format!("condition must render to true or false, got \"{}\"", super::diagnostics::excerpt(other))),
    }
}

/// A diagnostic for a template error in a file other than services.yaml (extra manifests).
pub fn file_error(file: &str, message: String) -> Diagnostic {
    Diagnostic::new(file, super::diagnostics::Position { line: 1, column: 1 }, "", message)
}

#[cfg(test)]
mod tests;
