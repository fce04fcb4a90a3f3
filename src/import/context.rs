//! The state of one import: the source being read, the report being written, the inputs the
//! stack's templates read, and the files to write. Both formats' mappings work through it.

use super::gotemplate::{self, Dialect, InputKind, InputUse, Scope, TemplateError, Translation};
use super::report::{Action, Entry};
use crate::config::diagnostics::{Diagnostic, Diagnostics, Position};
use crate::config::source::SourceDocument;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One input the imported stack takes.
#[derive(Debug, Clone, Default)]
pub struct InputDecl {
    /// The literal default the source gives (`envOr "K" "default"`), when every use agrees.
    pub default: Option<String>,
    /// Uses disagree on the default: the input gets none, each use keeps its own.
    pub conflicting: bool,
    /// `file:line` of every use, for the comment in inputs.example.yaml.
    pub used_at: Vec<String>,
    pub kind: Option<InputKind>,
}

/// The stack file being read: its (merged) document, and the files it was merged from, each
/// with its own positions.
pub struct SourceFile<'a> {
    pub name: &'a str,
    pub document: &'a SourceDocument,
    /// Imported files and the main one, in merge order (a later one wins): the last one that
    /// holds a path is where that path was written. Empty for a single file.
    pub parts: &'a [Part],
}

/// One file merged into a stack.
pub struct Part {
    pub name: String,
    pub document: SourceDocument,
}

impl SourceFile<'_> {
    /// The file and position where the value (or with `key`, the key) at `path` was written.
    pub fn locate(&self, path: &str, key: bool) -> (&str, Position) {
        let owner = self.parts.iter().rev().find(|part| part.document.map.contains(path));
        let (name, map) = match owner {
            Some(part) => (part.name.as_str(), &part.document.map),
            None => (self.name, &self.document.map),
        };
        (name, if key { map.key_position(path) } else { map.value_position(path) })
    }
}

pub struct Importer {
    /// Directory of the source file: manifests and contexts are relative to it.
    pub source_root: PathBuf,
    pub dialect: Dialect,
    /// File-level variables and known context keys of the source's templates.
    pub scope: Scope,
    pub entries: Vec<Entry>,
    pub inputs: BTreeMap<String, InputDecl>,
    /// Errors that stop the import (exit 2): templates that do not parse, missing files.
    pub errors: Diagnostics,
    /// Manifests converted, by relative path: the tera text to write.
    pub manifests: BTreeMap<String, String>,
    /// Defaults the source gives inputs outside templates (`baseDomain`, `storage`), by input.
    pub known_defaults: BTreeMap<String, String>,
    /// Values of `envFiles` keys, with the file they came from: shown in inputs.example.yaml
    /// only, since such files hold secrets.
    pub env_defaults: BTreeMap<String, (String, String)>,
    /// Manifests whose templates did not convert: not written, and their errors leave the
    /// stack file itself writable.
    pub failed_manifests: std::collections::BTreeSet<String>,
}

impl Importer {
    pub fn new(source_root: &Path, dialect: Dialect) -> Self {
        Importer {
            source_root: source_root.to_path_buf(),
            dialect,
            scope: Scope { dialect, variables: BTreeMap::new(), known_vars: BTreeMap::new() },
            entries: Vec::new(),
            inputs: BTreeMap::new(),
            errors: Diagnostics::default(),
            manifests: BTreeMap::new(),
            known_defaults: BTreeMap::new(),
            env_defaults: BTreeMap::new(),
            failed_manifests: Default::default(),
        }
    }

    /// `file:line` of the value at `path`.
    pub fn at(&self, file: &SourceFile, path: &str) -> String {
        let (name, position) = file.locate(path, false);
        format!("{name}:{}", position.line)
    }

    /// `file:line` of the key at `path` (the line that names the field).
    pub fn at_key(&self, file: &SourceFile, path: &str) -> String {
        let (name, position) = file.locate(path, true);
        format!("{name}:{}", position.line)
    }

    pub fn note(&mut self, source: String, target: impl Into<String>, action: Action, reason: impl Into<String>) {
        self.entries.push(Entry { source, target: target.into(), action, reason: reason.into() });
    }

    /// A report entry for the value at `path` of `file`: the form nearly every mapping uses.
    pub fn note_at(
        &mut self,
        file: &SourceFile,
        path: &str,
        target: impl Into<String>,
        action: Action,
        reason: impl Into<String>,
    ) {
        let source = self.at(file, path);
        self.note(source, target, action, reason);
    }

    /// A stopping error at the value of `path`.
    pub fn error(&mut self, file: &SourceFile, path: &str, message: impl Into<String>) {
        let (name, position) = file.locate(path, false);
        self.errors.push(Diagnostic::new(name, position, path, message));
    }

    /// Translates one string of the stack file; `twice` for the fields codexctl renders twice.
    /// Errors land in `errors` at the string's place (the column counted inside the string).
    pub fn string(&mut self, file: &SourceFile, path: &str, text: &str, how: StringKind) -> Option<String> {
        if !gotemplate::is_go_template(text) {
            return Some(match how {
                StringKind::Condition => plain_condition(text, self.dialect),
                _ => text.to_string(),
            });
        }
        let result = match how {
            StringKind::Once => gotemplate::translate(text, &self.scope),
            StringKind::Twice => gotemplate::translate_twice(text, &self.scope),
            StringKind::Condition => gotemplate::translate_condition(text, &self.scope),
        };
        let (name, start) = file.locate(path, false);
        let map =
            file.parts.iter().find(|part| part.name == name).map_or(&file.document.map, |part| &part.document.map);
        let quoted = usize::from(matches!(map.char_at(start), Some('"' | '\'')));
        let name = name.to_string();
        match result {
            Ok(translation) => Some(self.take_inputs(translation, &name, |p| within_string(start, quoted, p))),
            Err(error) => {
                let at = within_string(start, quoted, error.position);
                self.errors.push(template_error(&name, at, path, &error));
                None
            }
        }
    }

    /// Records the inputs a translation reads and returns its text. `place` maps a position
    /// inside the translated text to one in the file.
    pub fn take_inputs(
        &mut self,
        translation: Translation,
        file: &str,
        place: impl Fn(gotemplate::Position) -> Position,
    ) -> String {
        for used in translation.inputs {
            self.record_input(used, file, &place);
        }
        translation.text
    }

    fn record_input(&mut self, used: InputUse, file: &str, place: &impl Fn(gotemplate::Position) -> Position) {
        let at = place(used.position);
        let decl = self.inputs.entry(used.name).or_default();
        let first = decl.used_at.is_empty();
        decl.used_at.push(format!("{file}:{}", at.line));
        decl.kind.get_or_insert(used.kind);
        match (first, &decl.default, used.literal_default) {
            (true, _, given) => decl.default = given,
            (false, Some(known), Some(given)) if *known != given => decl.conflicting = true,
            (false, Some(_), None) => {}
            (false, None, Some(_)) => decl.conflicting = true,
            _ => {}
        }
    }

    /// Reads and translates a manifest named at `path` of `file` (relative to the source root),
    /// once however many units name it. Returns whether it can be referenced.
    pub fn manifest(&mut self, file: &SourceFile, path: &str, relative: &str) -> bool {
        if self.manifests.contains_key(relative) {
            return true;
        }
        // The same confinement as the manifests of our own stacks: relative, inside the
        // project, regular files of bounded size.
        let text = match crate::config::manifest_file::read(&self.source_root, relative) {
            Ok((_, text)) => text,
            Err(reason) => {
                self.error(file, path, format!("manifest \"{relative}\": {reason}"));
                return false;
            }
        };
        match gotemplate::translate(&text, &self.scope) {
            Ok(translation) => {
                let converted =
                    self.take_inputs(translation, relative, |p| Position { line: p.line, column: p.column });
                self.manifests.insert(relative.to_string(), converted);
                true
            }
            Err(error) => {
                let at = Position { line: error.position.line, column: error.position.column };
                self.errors.push(template_error(relative, at, "", &error));
                self.failed_manifests.insert(relative.to_string());
                false
            }
        }
    }
}

/// How a string of the stack file is rendered by its tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringKind {
    /// Rendered once (in codexctl's file pass, or by the ServiceStack loader).
    Once,
    /// Rendered in the file pass and again on use (codexctl `tagTemplate`, `buildArgs`, …).
    Twice,
    /// A `when`: made to render exactly `true` or `false` by the source's truthiness rules.
    Condition,
}

/// A `when` without template syntax, decided now by the source's rules.
fn plain_condition(text: &str, dialect: Dialect) -> String {
    let value = text.trim();
    let enabled = match dialect {
        Dialect::Codexctl => !matches!(value.to_ascii_lowercase().as_str(), "false" | "0" | "no"),
        Dialect::ServiceStack => !matches!(value, "0" | "f" | "F" | "FALSE" | "false" | "False"),
    };
    enabled.to_string()
}

fn template_error(file: &str, at: Position, path: &str, error: &TemplateError) -> Diagnostic {
    Diagnostic::new(file, at, path, error.message.clone())
}

/// A position inside a string of the file, from one inside its text.
fn within_string(start: Position, quoted: usize, inner: gotemplate::Position) -> Position {
    if inner.line <= 1 {
        Position { line: start.line, column: start.column + quoted + inner.column.saturating_sub(1) }
    } else {
        Position { line: start.line + inner.line - 1, column: inner.column }
    }
}

/// The input that stands for a context value of the source: `baseDomain_<env>`,
/// `storage_<volume>_<field>`, or a variable's own key (every character that is not a letter,
/// digit or `_` made `_`). The translator names inputs the same way.
pub fn input_name(kind: InputKind, parts: &[&str]) -> String {
    let clean = |part: &str| -> String {
        part.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
    };
    let joined = parts.iter().map(|p| clean(p)).collect::<Vec<_>>().join("_");
    match kind {
        InputKind::Variable => joined,
        InputKind::BaseDomain => format!("baseDomain_{joined}"),
        InputKind::Storage => format!("storage_{joined}"),
    }
}
