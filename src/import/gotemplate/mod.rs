//! Go `text/template` → tera: a parser of Go's template grammar and a translator of the
//! constructs codexctl and ServiceStack files use.
//!
//! The parser ([`parse`]) builds a syntax tree ([`ast`]) from the tokens of [`lex`]; the
//! translator ([`translate`]) writes tera text from it, with the expressions of [`expr`] and the
//! format strings of [`printf`]. Anything whose meaning tera cannot reproduce exactly is an error
//! naming its position, never a guess.

pub mod ast;
mod expr;
pub mod lex;
pub mod parse;
mod printf;
mod translate;
mod twice;

use std::collections::BTreeMap;
use std::fmt;

/// Which tool wrote the template: a few functions differ in argument order or meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Codexctl,
    ServiceStack,
}

/// What a template may read besides the fixed context, and how variables of the file are known.
#[derive(Debug, Clone)]
pub struct Scope {
    pub dialect: Dialect,
    /// File-level Go variables (`$name` without `$`) → their tera expression, already translated.
    pub variables: BTreeMap<String, String>,
    /// Keys of `.Vars` / `.EnvMap` / `.UserVars` / envOr that mean a context value rather than an input,
    /// e.g. "KODEX_NAMESPACE" → "namespace". Checked before making an input.
    pub known_vars: BTreeMap<String, String>,
}

impl Scope {
    /// A scope with no file variables and no known variables.
    #[cfg(test)]
    pub fn new(dialect: Dialect) -> Scope {
        Scope { dialect, variables: BTreeMap::new(), known_vars: BTreeMap::new() }
    }
}

/// Tera text, and the inputs it reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Translation {
    pub text: String,
    pub inputs: Vec<InputUse>,
}

/// One place where the template reads a value that becomes an input of the stack.
#[derive(Debug, Clone, PartialEq)]
pub struct InputUse {
    /// The input's name (`inputs.<name>` in tera).
    pub name: String,
    pub kind: InputKind,
    /// The default given by `envOr "X" "default"`, when it is a string literal.
    pub literal_default: Option<String>,
    pub position: Position,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// `.Vars.X`, `.EnvMap.X`, `.UserVars.X`, `envOr "X" …`.
    Variable,
    /// `.BaseDomain.<env>`.
    BaseDomain,
    /// `.Storage.<a>.<b>`.
    Storage,
}

/// 1-based, in the text given; the column counts characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateErrorKind {
    /// Not a valid Go template.
    Parse,
    /// A function neither Go nor the dialect defines, or one not translated.
    UnknownFunction,
    /// Valid Go, but with no exact tera equivalent (or reading what a stack may not read).
    NotTranslatable,
    /// Blocks and parentheses nested deeper than 64 levels.
    TooDeep,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TemplateError {
    pub position: Position,
    pub kind: TemplateErrorKind,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.position, self.message)
    }
}

impl std::error::Error for TemplateError {}

/// Translate a whole template text (a manifest file, or one YAML string of the stack file).
pub fn translate(text: &str, scope: &Scope) -> Result<Translation, TemplateError> {
    let nodes = parse::parse(text)?;
    translate::translate_nodes(&nodes, scope)
}

/// A field codexctl renders twice (tagTemplate, when, buildArgs, buildContexts, hook run): the
/// first pass may write actions (`{{"{{"}} .Tag {{"}}"}}`) that the second pass evaluates.
pub fn translate_twice(text: &str, scope: &Scope) -> Result<Translation, TemplateError> {
    let nodes = parse::parse(text)?;
    match twice::after_first_pass(text, &nodes) {
        None => translate::translate_nodes(&nodes, scope),
        Some(spliced) => {
            let nodes = parse::parse(&spliced).map_err(|e| twice::explain(e, &spliced))?;
            translate::translate_nodes(&nodes, scope).map_err(|e| twice::explain(e, &spliced))
        }
    }
}

/// A `when` condition, made explicit: the result renders to exactly `true` or `false` in tera.
/// Codexctl renders its conditions twice and reads them leniently (`codexctl_bool`);
/// ServiceStack parses them with Go's strconv.ParseBool (`parse_bool`).
pub fn translate_condition(text: &str, scope: &Scope) -> Result<Translation, TemplateError> {
    let (translation, filter) = match scope.dialect {
        Dialect::Codexctl => (translate_twice(text, scope)?, "codexctl_bool"),
        Dialect::ServiceStack => (translate(text, scope)?, "parse_bool"),
    };
    Ok(Translation {
        text: format!("{{% filter {filter} %}}{}{{% endfilter %}}", translation.text),
        inputs: translation.inputs,
    })
}

/// Every top-level `{{ $x := pipeline }}` declaration of a whole file, translated: name → tera
/// expression, plus the inputs they read. Declarations inside if/range/with are ignored; a
/// later declaration may use an earlier one.
pub fn file_variables(text: &str, scope: &Scope) -> Result<(BTreeMap<String, String>, Vec<InputUse>), TemplateError> {
    let nodes = parse::parse(text)?;
    translate::declarations(&nodes, scope)
}

/// Whether a string contains Go template actions at all (`{{`).
pub fn is_go_template(text: &str) -> bool {
    text.contains("{{")
}

#[cfg(test)]
mod tests;
