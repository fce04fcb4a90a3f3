//! `kubectl codex import`: a codexctl services.yaml or a codex-k8s ServiceStack turned into a
//! kubectl-codex stack, with a report of every item and what became of it.
//!
//! The flow: read the file with positions, tell its format by shape ([`crate::config::format`]),
//! map it field by field (`codexctl`, `servicestack`) while translating every Go template to
//! tera (`gotemplate`), write the result (`output`), then load the written stack the way
//! `validate` does, with the example inputs, to say whether it holds.

mod codexctl;
pub mod context;
mod dotenv;
mod environments;
pub mod gotemplate;
mod hooks;
mod images;
pub mod output;
pub mod report;
mod servicestack;
mod units;

use crate::config::diagnostics::{Diagnostic, Diagnostics, Position};
use crate::config::format::{self, StackFormat};
use crate::config::inputs::{GivenInputs, ValuesFile};
use crate::config::phase::Phase;
use context::{Importer, SourceFile};
use gotemplate::Dialect;
use report::{Report, SourceFormat};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What the command line asks for.
#[derive(Debug, Clone)]
pub struct Options {
    pub file: PathBuf,
    /// The format, when not left to detection.
    pub from: Option<SourceFormat>,
    pub out_dir: PathBuf,
    /// `--phase unit=phase`: the phase of units whose source has none (codexctl) or another.
    pub phases: BTreeMap<String, Phase>,
}

/// Why an import did not produce a stack.
#[derive(Debug)]
pub enum ImportError {
    Unreadable {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The file, its templates or its references are wrong (exit 2), with what was done so far.
    Invalid {
        diagnostics: Diagnostics,
        report: Option<Box<Report>>,
    },
    /// The output could not be written.
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportError::Unreadable { path, error } => write!(f, "cannot read {}: {error}", path.display()),
            ImportError::Invalid { diagnostics, .. } => write!(f, "{diagnostics}"),
            ImportError::Write { path, error } => write!(f, "cannot write {}: {error}", path.display()),
        }
    }
}

impl std::error::Error for ImportError {}

/// Runs one import: converts, writes, validates.
pub fn run(options: &Options) -> Result<Report, ImportError> {
    let name = options.file.display().to_string();
    let bytes =
        std::fs::read(&options.file).map_err(|error| ImportError::Unreadable { path: options.file.clone(), error })?;
    let invalid = |diagnostics: Diagnostics| ImportError::Invalid { diagnostics, report: None };
    let document = crate::config::source::read(&name, &bytes).map_err(invalid)?;
    let raw = String::from_utf8_lossy(&bytes).into_owned();
    let (source_format, api_version) = decide_format(&document.value, options.from, &name).map_err(invalid)?;
    let root = options.file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    if same_file(&root.join(output::STACK_FILE), &options.out_dir.join(output::STACK_FILE)) {
        return Err(invalid(one(
            &name,
            format!(
                "--out {} would overwrite the file being imported; write the result into another directory",
                options.out_dir.display()
            ),
        )));
    }
    let dialect = match source_format {
        SourceFormat::Codexctl => Dialect::Codexctl,
        SourceFormat::Servicestack => Dialect::ServiceStack,
    };
    let mut imp = Importer::new(&root, dialect);
    let mut body = match source_format {
        SourceFormat::Codexctl => {
            codexctl::convert(&mut imp, &SourceFile { name: &name, document: &document, parts: &[] }, &raw, options)
        }
        SourceFormat::Servicestack => servicestack::convert(&mut imp, &name, document, options),
    };
    let stack_ok = body.is_some() && imp.errors.0.iter().all(|d| imp.failed_manifests.contains(&d.file));
    let stack_text = body.take().map(|body| {
        let document = output::stack_document(&mut imp, body);
        format!(
            "{}{}",
            output::stack_header(&name, source_format.describe()),
            crate::values::yaml::to_string(&document)
        )
    });
    let example = output::inputs_example(&imp);
    let out = options.out_dir.clone();
    let write_error = |error: std::io::Error| ImportError::Write { path: out.clone(), error };
    let mut report = Report {
        source: name.clone(),
        format: source_format,
        api_version,
        out: options.out_dir.display().to_string(),
        written: Vec::new(),
        valid: false,
        errors: Vec::new(),
        entries: std::mem::take(&mut imp.entries),
    };
    report.entries.sort_by_key(|entry| source_order(&entry.source));
    if !imp.errors.is_empty() || !stack_ok {
        // What converted is written (a manifest that did not is not), so the errors can be
        // fixed one by one; the stack file only when its own strings all converted.
        let stack = if stack_ok { stack_text.as_deref() } else { None };
        report.written = output::write_parts(&options.out_dir, stack, &imp.manifests, &example).map_err(write_error)?;
        let mut diagnostics = std::mem::take(&mut imp.errors);
        if diagnostics.is_empty() {
            diagnostics.push(Diagnostic::new(
                &name,
                Position { line: 1, column: 1 },
                "",
                "the file could not be converted",
            ));
        }
        return Err(ImportError::Invalid { diagnostics: diagnostics.sorted(), report: Some(Box::new(report)) });
    }
    let stack_text = stack_text.unwrap_or_default();
    report.written =
        output::write_parts(&options.out_dir, Some(&stack_text), &imp.manifests, &example).map_err(write_error)?;
    report.errors = validate_written(&options.out_dir, &example);
    report.valid = report.errors.is_empty();
    Ok(report)
}

fn one(file: &str, message: String) -> Diagnostics {
    Diagnostics(vec![Diagnostic::new(file, Position { line: 1, column: 1 }, "", message)])
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Orders `file:line` sources by file, then by line as a number.
fn source_order(source: &str) -> (String, usize) {
    match source.rsplit_once(':') {
        Some((file, line)) => (file.to_string(), line.parse().unwrap_or(0)),
        None => (source.to_string(), 0),
    }
}

fn decide_format(
    value: &serde_json::Value,
    from: Option<SourceFormat>,
    name: &str,
) -> Result<(SourceFormat, Option<String>), Diagnostics> {
    let detected = format::detect(value);
    match (from, detected) {
        (Some(SourceFormat::Codexctl), _) | (None, StackFormat::Codexctl) => Ok((SourceFormat::Codexctl, None)),
        (Some(SourceFormat::Servicestack), StackFormat::ServiceStack { api_version }) | (None, StackFormat::ServiceStack { api_version }) => {
            Ok((SourceFormat::Servicestack, Some(api_version)))
        }
        (Some(SourceFormat::Servicestack), _) => Err(one(name, "--from servicestack: the file has no `metadata` and `spec`, so it is not a ServiceStack".into())),
        (None, StackFormat::KubectlCodex) => Err(one(name, "this is a kubectl-codex services.yaml already: nothing to import (kubectl codex validate checks it)".into())),
        (None, StackFormat::ServiceStackDraft) => Err(one(name, "this is a kodex ServiceStackDraft: an inventory without environments or namespaces, not a deploy spec; nothing to import".into())),
        (None, StackFormat::Unknown) => Err(one(
            name,
            "neither a codexctl services.yaml (top-level `project` string, no apiVersion) nor a ServiceStack (`metadata` and `spec`); name the format with --from if it is one".into(),
        )),
    }
}

/// Loads the written stack as `validate` does, with inputs.example.yaml as a values file.
fn validate_written(out: &Path, example: &str) -> Vec<String> {
    let path = out.join(output::STACK_FILE);
    let loaded = match crate::config::load_path(&path) {
        Ok(loaded) => loaded,
        Err(error) => return error.to_string().lines().map(str::to_string).collect(),
    };
    let values =
        match ValuesFile::read(&out.join(output::INPUTS_EXAMPLE_FILE).display().to_string(), example.as_bytes()) {
            Ok(values) => values,
            Err(errors) => return errors.0.iter().map(ToString::to_string).collect(),
        };
    let given = GivenInputs { files: vec![values], ..Default::default() };
    loaded.check_all_environments_with("1", "", &given).0.iter().map(ToString::to_string).collect()
}
