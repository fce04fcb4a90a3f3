//! services.yaml, from bytes to the [`Stack`] of one environment. The pipeline, in order:
//!
//! Loading ([`load_bytes`], once per file, for every environment):
//! 1. **Read with positions** ([`source`]): YAML to a JSON tree that remembers the line and
//!    column of every field; a file of another tool's format is named as such ([`mod@format`]).
//! 2. **Imports** ([`imports`]): imported files deep-merged under the main one ([`merge`]);
//!    when an error needs it, the file a field came from is found again ([`origin`]).
//! 3. **Components** ([`components`]): each unit's components merged under it.
//! 4. **Schema and typed model** ([`schema`], [`model`]): the structural check and the typed
//!    parse run side by side; structural errors come with the semantic errors of the rest.
//! 5. **Validation** ([`validate`]): the checks that hold for every environment. The result
//!    is a [`Loaded`].
//!
//! Resolving ([`resolve`], once per environment, slot and issue):
//! 6. **Inputs** ([`inputs`]): `--set`, values files, environment variables, defaults.
//! 7. **Environment** (`resolve::environment`): the `from` chain folded, the template context
//!    ([`template`]), the namespace and the registry rendered, isolation ([`isolation`]).
//! 8. **Images** (`resolve::image_set`, [`images`], [`mod@reference`]): full references, mirrors,
//!    builds.
//! 9. **Secrets** ([`secrets`]): rendered with secret inputs, registered for redaction.
//! 10. **Units** (`resolve::unit`, `resolve::workload`): templates rendered, overlays of the
//!     chain merged and checked again, `when` decided, workloads and manifests resolved
//!     ([`manifest_unit`], [`manifest_file`], [`manifest_edit`], [`kinds`]).
//! 11. **Digest** (`resolve::digest`, [`canonical`]): the input digest over the canonical
//!     form of the resolved [`Stack`] ([`stack`]), which is all that the rest of the tool reads.

pub mod canonical;
pub mod components;
pub mod diagnostics;
pub mod duration;
pub mod format;
pub mod images;
pub mod imports;
pub mod inputs;
pub mod isolation;
pub mod kinds;
pub mod manifest_edit;
pub mod manifest_file;
pub mod manifest_unit;
pub mod merge;
pub mod model;
pub mod origin;
pub mod path;
pub mod phase;
pub mod reference;
pub mod resolve;
pub mod schema;
pub mod secrets;
pub mod source;
pub mod stack;
pub mod template;
#[cfg(test)]
pub mod test_stack;
pub mod validate;

use diagnostics::Diagnostics;
use inputs::GivenInputs;
use model::Document;
use serde::Deserialize;
use source::SourceDocument;
use stack::{Selection, Stack};
use std::path::{Path, PathBuf};

/// A services.yaml that passed every check that holds for all environments.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub bytes: Vec<u8>,
    pub source: SourceDocument,
    pub document: Document,
    /// Directory of services.yaml: relative paths in it start here.
    pub base_dir: PathBuf,
}

/// Why a services.yaml could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The file could not be read at all.
    Unreadable { path: PathBuf, error: std::io::Error },
    /// The file was read and has problems, every one of them listed.
    Invalid(Diagnostics),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Unreadable { path, error } => write!(f, "cannot read {}: {error}", path.display()),
            LoadError::Invalid(diagnostics) => write!(f, "{diagnostics}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// Reads and checks the file at `path`.
pub fn load_path(path: &Path) -> Result<Loaded, LoadError> {
    let bytes = std::fs::read(path).map_err(|error| LoadError::Unreadable { path: path.to_path_buf(), error })?;
    let base_dir = path.parent().unwrap_or(Path::new(""));
    load_bytes(&path.display().to_string(), bytes, base_dir).map_err(LoadError::Invalid)
}

/// Reads and checks services.yaml content; `file` names it in messages.
pub fn load_bytes(file: &str, bytes: Vec<u8>, base_dir: &Path) -> Result<Loaded, Diagnostics> {
    // `-f services.yaml` has the empty path as its directory, which cannot be canonicalised
    // when imports, manifests and build contexts are confined to it: it is the current one.
    let base_dir = if base_dir.as_os_str().is_empty() { Path::new(".") } else { base_dir };
    schema::warm_up();
    let read = source::read(file, &bytes)?;
    if let Some(hint) = format::foreign_hint(&read.value, file) {
        let start = diagnostics::Position { line: 1, column: 1 };
        return Err(Diagnostics(vec![diagnostics::Diagnostic::new(file, start, "", hint)]));
    }
    let mut source = imports::expand(read, base_dir)?;
    let composed = components::apply(&mut source);
    // Typed parsing runs beside the schema check; its outcome counts only once the structure
    // is known to be right, as when the two ran one after the other.
    let (structural, document) = std::thread::scope(|scope| {
        let structural = scope.spawn(|| schema::check(&source));
        let document = Document::deserialize(&source.value);
        (structural.join().expect("the schema check does not panic"), document)
    });
    if !structural.is_empty() {
        let mut errors = composed;
        errors.extend(with_semantic_errors_of_the_rest(structural, &source));
        return Err(once_per_place(errors, &source));
    }
    let document = document.map_err(|e| {
        Diagnostics(vec![source.error_at("", format!("unexpected shape: {}", diagnostics::excerpt(&e.to_string())))])
    })?;
    let mut errors = composed;
    errors.extend(validate::check(&document, &source));
    if !errors.is_empty() {
        return Err(once_per_place(errors, &source));
    }
    Ok(Loaded { bytes, source, document, base_dir: base_dir.to_path_buf() })
}

/// Sorted, and, in a document merged from parts, one error per place and message: a mistake
/// in a component is found in the component and in every unit that uses it, all at the same
/// line; it is reported once (the first path in order: the component's own, when it has one).
fn once_per_place(errors: Diagnostics, source: &SourceDocument) -> Diagnostics {
    let errors = errors.sorted();
    if source.origins.is_none() && source.value.get("components").is_none() {
        return errors;
    }
    let mut seen = std::collections::HashSet::new();
    let mut kept = errors.0;
    kept.retain(|d| seen.insert((d.file.clone(), d.line, d.column, d.message.clone())));
    Diagnostics(kept)
}

/// The structural errors, plus the semantic errors of what is left once the fields that
/// hold structural errors are set aside (when that leaves a readable document). Semantic errors
/// on, inside or around a field set aside are dropped: they may only echo its removal.
fn with_semantic_errors_of_the_rest(structural: schema::Structural, source: &SourceDocument) -> Diagnostics {
    let mut errors = structural.diagnostics;
    let Some(removed) = structural.removable else { return errors.sorted() };
    let rest = schema::without(&source.value, &removed);
    let Ok(document) = Document::deserialize(&rest) else { return errors.sorted() };
    let removed_paths: Vec<String> = removed.iter().map(|p| path::FieldPath::from_pointer(p, &source.value)).collect();
    let related = |a: &str, b: &str| a == b || path::FieldPath::is_within(a, b) || path::FieldPath::is_within(b, a);
    for semantic in validate::check(&document, source).0 {
        if !removed_paths.iter().any(|r| related(&semantic.path, r)) {
            errors.push(semantic);
        }
    }
    errors.sorted()
}

impl Loaded {
    /// The stack of one environment, slot and issue, without inputs from outside (defaults only).
    pub fn resolve(&self, selection: &Selection) -> Result<Stack, Diagnostics> {
        self.resolve_with(selection, &GivenInputs::default())
    }

    /// The stack of one environment, slot and issue, with the inputs given.
    pub fn resolve_with(&self, selection: &Selection, inputs: &GivenInputs) -> Result<Stack, Diagnostics> {
        resolve::resolve(&self.document, &self.source, &self.base_dir, selection, inputs).map_err(Diagnostics::sorted)
    }

    /// Resolves every environment and collects every problem: what `validate` reports.
    /// Required inputs nobody set get stand-ins.
    pub fn check_all_environments(&self, slot: &str, issue: &str) -> Diagnostics {
        self.check_all_environments_with(slot, issue, &GivenInputs::default())
    }

    /// As [`Loaded::check_all_environments`], with the inputs given.
    pub fn check_all_environments_with(&self, slot: &str, issue: &str, inputs: &GivenInputs) -> Diagnostics {
        match self.resolve_all_environments(slot, issue, inputs) {
            Ok(_) => Diagnostics::default(),
            Err(errors) => errors,
        }
    }

    /// Every environment resolved with `slot`, `issue` and the inputs given (required ones
    /// with stand-ins), in name order; or every problem of every environment.
    pub fn resolve_all_environments(
        &self,
        slot: &str,
        issue: &str,
        inputs: &GivenInputs,
    ) -> Result<Vec<(String, Stack)>, Diagnostics> {
        let inputs = GivenInputs { stand_ins: true, ..inputs.clone() };
        let names = self.environment_names();
        // Environments resolve independently (manifests rendered for each), so they are
        // resolved on as many threads as there are cores.
        let threads = std::thread::available_parallelism().map_or(1, usize::from).clamp(1, names.len().max(1));
        let chunk = names.len().div_ceil(threads).max(1);
        let results: Vec<Vec<(String, Result<Stack, Diagnostics>)>> = std::thread::scope(|scope| {
            let workers: Vec<_> = names
                .chunks(chunk)
                .map(|group| {
                    let inputs = &inputs;
                    scope.spawn(move || {
                        group
                            .iter()
                            .map(|env| {
                                let selection =
                                    Selection { env: env.clone(), slot: slot.to_string(), issue: issue.to_string() };
                                (env.clone(), self.resolve_with(&selection, inputs))
                            })
                            .collect()
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().expect("resolving an environment does not panic")).collect()
        });
        let mut stacks = Vec::new();
        let mut errors = Diagnostics::default();
        for (env, result) in results.into_iter().flatten() {
            match result {
                Ok(stack) => stacks.push((env, stack)),
                Err(found) => errors.extend(found),
            }
        }
        if errors.is_empty() {
            Ok(stacks)
        } else {
            Err(errors.sorted())
        }
    }

    pub fn environment_names(&self) -> Vec<String> {
        self.document.environments.keys().cloned().collect()
    }
}
