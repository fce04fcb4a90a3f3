//! The translator: a Go template's syntax tree → tera text, and the inputs it reads.
//!
//! Text reaches tera already trimmed as Go trims it (see lex), so the trim markers kept on the
//! tera tags change nothing and only keep the template readable as the original was.
//!
//! By construct: [`blocks`] (text, actions and control flow), [`operands`] (pipelines, `.`,
//! variables, the context and its inputs), [`functions`] (calls).

mod blocks;
mod functions;
mod operands;

use super::ast::{Node, Trim};
use super::expr::{self, Expr};
use super::{InputUse, Position, Scope, TemplateError, TemplateErrorKind, Translation};
use std::collections::BTreeMap;

/// Names of the tera context: a Go variable of the same name is renamed.
const CONTEXT_NAMES: [&str; 10] =
    ["project", "env", "namespace", "slot", "issue", "runtime", "registry", "versions", "images", "inputs"];
/// Words tera reads as operators or literals rather than names.
const TERA_WORDS: [&str; 10] = ["loop", "true", "false", "True", "False", "and", "or", "not", "in", "is"];
/// Prefixes of the names the translator makes up (loop variables, with values).
const GENERATED: [&str; 3] = ["item", "key", "with"];

pub fn translate_nodes(nodes: &[Node], scope: &Scope) -> Result<Translation, TemplateError> {
    let mut translator = Translator::new(scope);
    translator.nodes(nodes)?;
    Ok(Translation { text: translator.out, inputs: translator.inputs })
}

/// The top-level `$x := p` declarations, each as one self-contained expression (a later one
/// that reads an earlier one gets the earlier expression inlined).
pub fn declarations(nodes: &[Node], scope: &Scope) -> Result<(BTreeMap<String, String>, Vec<InputUse>), TemplateError> {
    let mut translator = Translator::new(scope);
    let mut found = BTreeMap::new();
    for node in nodes {
        let Node::Action { pipe, .. } = node else { continue };
        let [declared] = pipe.declared.as_slice() else { continue };
        if pipe.assigns {
            continue;
        }
        let value = translator.pipeline(pipe, Want::Value)?;
        found.insert(declared.name.clone(), value.text.clone());
        translator.variables.push(Binding { go: declared.name.clone(), expr: value, tera: None });
    }
    Ok((found, translator.inputs))
}

/// Whether a value is wanted, or only its truth (in a condition `and`/`or` may be tera's).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    Value,
    Truth,
}

/// What `.` is.
#[derive(Clone)]
enum Dot {
    /// The template's context: `.Project`, `.Vars.X`…
    Root,
    /// An element of `range` or the value of `with`.
    Value(Expr),
}

/// A Go variable in scope.
struct Binding {
    go: String,
    expr: Expr,
    /// The tera variable holding it, and the loop depth it was set at (for `=`).
    tera: Option<(String, usize)>,
}

struct Translator<'s> {
    scope: &'s Scope,
    out: String,
    inputs: Vec<InputUse>,
    variables: Vec<Binding>,
    dot: Dot,
    loop_depth: usize,
    /// Blocks that made up a name so far (loop variables and with values are unique).
    generated: usize,
}

fn error(kind: TemplateErrorKind, position: Position, message: impl Into<String>) -> TemplateError {
    TemplateError { position, kind, message: message.into() }
}

fn not_translatable(position: Position, message: impl Into<String>) -> TemplateError {
    error(TemplateErrorKind::NotTranslatable, position, message)
}

impl<'s> Translator<'s> {
    fn new(scope: &'s Scope) -> Translator<'s> {
        Translator {
            scope,
            out: String::new(),
            inputs: vec![],
            variables: vec![],
            dot: Dot::Root,
            loop_depth: 0,
            generated: 0,
        }
    }

    /// A new Go variable: its tera name, bound from now on.
    fn declare(&mut self, go: &str, pos: Position) -> Result<String, TemplateError> {
        let name = tera_name(go).ok_or_else(|| not_translatable(pos, format!("${go}: tera names are ASCII")))?;
        self.variables.push(Binding {
            go: go.to_string(),
            expr: Expr::path(&name),
            tera: Some((name.clone(), self.loop_depth)),
        });
        Ok(name)
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.generated += 1;
        if self.generated == 1 {
            prefix.to_string()
        } else {
            format!("{prefix}{}", self.generated)
        }
    }
}

/// The tera name for the Go variable `$go`: renamed when tera or the context would read it
/// otherwise; None when it has no ASCII form.
fn tera_name(go: &str) -> Option<String> {
    if !expr::is_identifier(go) {
        return None;
    }
    let mut name = go.to_string();
    while is_reserved(&name) {
        name.push('_');
    }
    Some(name)
}

fn is_reserved(name: &str) -> bool {
    CONTEXT_NAMES.contains(&name)
        || TERA_WORDS.contains(&name)
        || GENERATED
            .iter()
            .any(|prefix| name.strip_prefix(prefix).is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit())))
}

/// `-` inside a tera tag for each trim marker of the Go action.
fn markers(trim: Trim) -> (&'static str, &'static str) {
    (if trim.left { "-" } else { "" }, if trim.right { "-" } else { "" })
}
