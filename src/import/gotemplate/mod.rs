//! Go `text/template` → tera: a parser of Go's template grammar and a translator of the
//! constructs codexctl and ServiceStack files use.
//!
//! TEMPORARY STAND-IN with the agreed API, replaced by the real translator.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Codexctl,
    ServiceStack,
}

pub struct Scope {
    pub dialect: Dialect,
    pub variables: BTreeMap<String, String>,
    pub known_vars: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Translation {
    pub text: String,
    pub inputs: Vec<InputUse>,
}

#[derive(Debug, Clone)]
pub struct InputUse {
    pub name: String,
    pub kind: InputKind,
    pub literal_default: Option<String>,
    pub position: Position,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Variable,
    BaseDomain,
    Storage,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateErrorKind {
    Parse,
    UnknownFunction,
    NotTranslatable,
}

#[derive(Debug, Clone)]
pub struct TemplateError {
    pub position: Position,
    pub kind: TemplateErrorKind,
    pub message: String,
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TemplateError {}

pub fn translate(text: &str, _scope: &Scope) -> Result<Translation, TemplateError> {
    Ok(Translation { text: text.to_string(), inputs: Vec::new() })
}

pub fn translate_twice(text: &str, scope: &Scope) -> Result<Translation, TemplateError> {
    translate(text, scope)
}

pub fn translate_condition(text: &str, scope: &Scope) -> Result<Translation, TemplateError> {
    translate(text, scope)
}

pub fn file_variables(_text: &str, _scope: &Scope) -> Result<(BTreeMap<String, String>, Vec<InputUse>), TemplateError> {
    Ok((BTreeMap::new(), Vec::new()))
}

pub fn is_go_template(text: &str) -> bool {
    text.contains("{{")
}
