//! Loading services.yaml and resolving one environment, for every command that reads it:
//! problems are reported in the requested format, and the caller gets the [`Failure`] to stop
//! with.

use super::output::{self, Layout};
use crate::cli::{InputArgs, OutputFormat, SelectionArgs, TargetArgs};
use crate::config::diagnostics::Diagnostics;
use crate::config::inputs::{GivenInputs, ValuesFile};
use crate::config::stack::{Selection, Stack};
use crate::config::{self, LoadError, Loaded};
use crate::exit::{self, coded, Failure};
use anyhow::anyhow;
use serde::Serialize;
use std::path::Path;

/// Loads services.yaml, or says why not.
pub fn load(file: &Path, output: OutputFormat) -> Result<Loaded, Failure> {
    match config::load_path(file) {
        Ok(loaded) => Ok(loaded),
        Err(LoadError::Invalid(diagnostics)) => Err(report_invalid(&diagnostics, output)),
        Err(error @ LoadError::Unreadable { .. }) => Err(coded(exit::INVALID_INPUT, anyhow!("{error}")).into()),
    }
}

/// Reports every problem found, as JSON on stdout with `-o json`, else as text on stderr.
pub fn report_invalid(diagnostics: &Diagnostics, output: OutputFormat) -> Failure {
    let scrub = |text: String| crate::redact::scrub(&text).into_owned();
    match output {
        OutputFormat::Json => {
            let report = Invalid { valid: false, errors: diagnostics };
            println!("{}", scrub(output::to_json(&report, Layout::OneLine).expect("diagnostics serialize")));
        }
        OutputFormat::Text => {
            eprint!("{}", scrub(diagnostics.to_string()));
            eprintln!("{}", output::errors_found(diagnostics.len()));
        }
    }
    Failure::InvalidInput
}

/// `-o json` of a services.yaml with problems: every one of them.
#[derive(Debug, Serialize)]
struct Invalid<'a> {
    /// Always false: a valid file is reported by the command that read it.
    valid: bool,
    errors: &'a Diagnostics,
}

/// What `--set`, `--values-file` and `CODEX_INPUT_*` give, checked against the declarations:
/// an unknown `--set` name is a usage error (64), an unreadable values file invalid input (2).
pub fn given_inputs(args: &InputArgs, loaded: &Loaded, output: OutputFormat) -> Result<GivenInputs, Failure> {
    let mut given = GivenInputs { set: args.set.clone(), env: GivenInputs::from_process_env(), ..Default::default() };
    let unknown = given.unknown_set_names(&loaded.document);
    if !unknown.is_empty() {
        let declared: Vec<&str> = loaded.document.inputs.keys().map(String::as_str).collect();
        return Err(Failure::Usage(format!(
            "--set {}: {} declares no such input; declared: {}",
            unknown.join(", --set "),
            loaded.source.file,
            if declared.is_empty() { "none".to_string() } else { declared.join(", ") }
        )));
    }
    let mut errors = Diagnostics::default();
    for path in &args.values_files {
        let bytes = std::fs::read(path)
            .map_err(|error| coded(exit::INVALID_INPUT, anyhow!("--values-file {}: {error}", path.display())))?;
        match ValuesFile::read(&path.display().to_string(), &bytes) {
            Ok(file) => given.files.push(file),
            Err(found) => errors.extend(found),
        }
    }
    if !errors.is_empty() {
        return Err(report_invalid(&errors, output));
    }
    Ok(given)
}

/// Loads and resolves one environment, or says why not.
pub fn resolve(file: &Path, selection: &SelectionArgs, output: OutputFormat) -> Result<Stack, Failure> {
    let loaded = load(file, output)?;
    let given = given_inputs(&selection.inputs, &loaded, output)?;
    let selection =
        Selection { env: selection.env.clone(), slot: selection.slot.clone(), issue: selection.issue.clone() };
    let stack = loaded.resolve_with(&selection, &given).map_err(|d| report_invalid(&d, output));
    keep_until_exit(loaded);
    stack
}

/// As [`resolve`], for commands that need the environment's namespace only: a required input
/// nobody set gets a stand-in unless the namespace template reads it.
pub fn resolve_for_namespace(file: &Path, selection: &SelectionArgs, output: OutputFormat) -> Result<Stack, Failure> {
    let loaded = load(file, output)?;
    let given = GivenInputs { stand_ins: true, ..given_inputs(&selection.inputs, &loaded, output)? };
    let selection =
        Selection { env: selection.env.clone(), slot: selection.slot.clone(), issue: selection.issue.clone() };
    let stack = loaded.resolve_with(&selection, &given).map_err(|d| report_invalid(&d, output));
    keep_until_exit(loaded);
    stack
}

/// The namespace a command targets: `-n`, or services.yaml resolved for `--env`.
pub fn target_namespace(target: &TargetArgs) -> Result<String, Failure> {
    if let Some(namespace) = &target.namespace {
        return Ok(namespace.clone());
    }
    let Some(env) = &target.env else {
        return Err(Failure::Usage(
            "give the environment's namespace (-n) or its --env (with --slot/--issue as needed)".into(),
        ));
    };
    let selection = SelectionArgs {
        env: env.clone(),
        slot: target.slot.clone(),
        issue: target.issue.clone(),
        inputs: target.inputs.clone(),
    };
    resolve_for_namespace(&target.file.file, &selection, target.output.format).map(|stack| stack.namespace)
}

/// Leaves a large tree for the operating system to reclaim when the process exits instead of
/// freeing it node by node: every caller is a one-shot command, and freeing the document and
/// stack of a 500-unit services.yaml took about 5% of `plan` (callgrind).
pub fn keep_until_exit<T>(value: T) {
    std::mem::forget(value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::diagnostics::Diagnostic;

    #[test]
    fn an_invalid_file_is_one_line_of_json_listing_every_problem() {
        let diagnostics = Diagnostics(vec![Diagnostic {
            file: "services.yaml".into(),
            line: 3,
            column: 5,
            path: "services.web".into(),
            message: "unknown field".into(),
        }]);
        let report = Invalid { valid: false, errors: &diagnostics };
        assert_eq!(
            output::to_json(&report, Layout::OneLine).unwrap(),
            r#"{"valid":false,"errors":[{"file":"services.yaml","line":3,"column":5,"path":"services.web","message":"unknown field"}]}"#
        );
    }
}
