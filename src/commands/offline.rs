//! Commands that need no cluster: validate, plan, render, schema, version, completion.

use crate::cli::{
    CompletionArgs, InputArgs, OutputFormat, PlanArgs, RenderArgs, SelectionArgs, ValidateArgs, VersionArgs,
};
use crate::config::diagnostics::Diagnostics;
use crate::config::inputs::{GivenInputs, ValuesFile};
use crate::config::stack::{Selection, Stack};
use crate::config::{self, LoadError, Loaded};
use crate::exit;
use crate::plan::phase::Phase;
use crate::{chart, helm, plan, values};
use anyhow::{Context, Result};
use clap::CommandFactory;
use serde_json::json;
use std::path::Path;

/// Loads services.yaml, or prints why not and yields the exit code to stop with.
pub fn load(file: &Path, output: OutputFormat) -> Result<Loaded, i32> {
    match config::load_path(file) {
        Ok(loaded) => Ok(loaded),
        Err(LoadError::Invalid(diagnostics)) => Err(report_invalid(&diagnostics, output)),
        Err(error @ LoadError::Unreadable { .. }) => {
            eprintln!("error: {error}");
            Err(exit::INVALID_INPUT)
        }
    }
}

fn report_invalid(diagnostics: &Diagnostics, output: OutputFormat) -> i32 {
    let scrub = |text: String| crate::redact::scrub(&text).into_owned();
    match output {
        OutputFormat::Json => println!("{}", scrub(json!({"valid": false, "errors": diagnostics.0}).to_string())),
        OutputFormat::Text => {
            eprint!("{}", scrub(diagnostics.to_string()));
            let n = diagnostics.len();
            eprintln!("{n} error{} found", if n == 1 { "" } else { "s" });
        }
    }
    exit::INVALID_INPUT
}

/// What `--set`, `--values-file` and `CODEX_INPUT_*` give, checked against the declarations:
/// an unknown `--set` name is a usage error (64), an unreadable values file invalid input (2).
pub fn given_inputs(args: &InputArgs, loaded: &Loaded, output: OutputFormat) -> Result<GivenInputs, i32> {
    let mut given = GivenInputs { set: args.set.clone(), env: GivenInputs::from_process_env(), ..Default::default() };
    let unknown = given.unknown_set_names(&loaded.document);
    if !unknown.is_empty() {
        let declared: Vec<&str> = loaded.document.inputs.keys().map(String::as_str).collect();
        eprintln!(
            "error: --set {}: {} declares no such input; declared: {}",
            unknown.join(", --set "),
            loaded.source.file,
            if declared.is_empty() { "none".to_string() } else { declared.join(", ") }
        );
        return Err(exit::USAGE);
    }
    let mut errors = Diagnostics::default();
    for path in &args.values_files {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) => {
                eprintln!("error: --values-file {}: {error}", path.display());
                return Err(exit::INVALID_INPUT);
            }
        };
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

/// Loads and resolves one environment, or prints why not.
pub fn resolve(file: &Path, selection: &SelectionArgs, output: OutputFormat) -> Result<Stack, i32> {
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
pub fn resolve_for_namespace(file: &Path, selection: &SelectionArgs, output: OutputFormat) -> Result<Stack, i32> {
    let loaded = load(file, output)?;
    let given = GivenInputs { stand_ins: true, ..given_inputs(&selection.inputs, &loaded, output)? };
    let selection =
        Selection { env: selection.env.clone(), slot: selection.slot.clone(), issue: selection.issue.clone() };
    let stack = loaded.resolve_with(&selection, &given).map_err(|d| report_invalid(&d, output));
    keep_until_exit(loaded);
    stack
}

/// Leaves a large tree for the operating system to reclaim when the process exits instead of
/// freeing it node by node: every caller is a one-shot command, and freeing the document and
/// stack of a 500-unit services.yaml took about 5% of `plan` (callgrind).
fn keep_until_exit<T>(value: T) {
    std::mem::forget(value);
}

pub fn validate(args: &ValidateArgs) -> Result<i32> {
    let loaded = match load(&args.file.file, args.output) {
        Ok(loaded) => loaded,
        Err(code) => return Ok(code),
    };
    let slot = match (&args.slot, &args.issue) {
        (None, None) => "1".to_string(),
        (slot, _) => slot.clone().unwrap_or_default(),
    };
    let issue = args.issue.clone().unwrap_or_default();
    let given = match given_inputs(&args.inputs, &loaded, args.output) {
        Ok(given) => GivenInputs { stand_ins: true, ..given },
        Err(code) => return Ok(code),
    };
    let stacks = match loaded.resolve_all_environments(&slot, &issue, &given) {
        Ok(stacks) => stacks,
        Err(errors) => return Ok(report_invalid(&errors, args.output)),
    };
    let mut environments = Vec::new();
    let mut stand_ins = Vec::new();
    for (env, stack) in &stacks {
        environments.push(json!({"name": env, "namespace": stack.namespace, "units": stack.units.len()}));
        if stand_ins.is_empty() {
            stand_ins =
                stack.inputs.iter().filter(|(_, i)| i.from.ends_with("(stand-in)")).map(|(n, _)| n.clone()).collect();
        }
    }
    let units = loaded.document.infrastructure.len() + loaded.document.services.len();
    match args.output {
        OutputFormat::Json => println!(
            "{}",
            json!({"valid": true, "units": units, "environments": environments, "unsetRequiredInputs": stand_ins})
        ),
        OutputFormat::Text => {
            println!(
                "{} is valid: {units} units, environments: {}",
                args.file.file.display(),
                loaded.environment_names().join(", ")
            );
            if !stand_ins.is_empty() {
                println!(
                    "  checked with stand-ins for the required inputs not set: {} (commands that deploy need them)",
                    stand_ins.join(", ")
                );
            }
        }
    }
    Ok(exit::OK)
}

pub fn plan(args: &PlanArgs) -> Result<i32> {
    let stack = match resolve(&args.file.file, &args.selection, args.output) {
        Ok(stack) => stack,
        Err(code) => return Ok(code),
    };
    let plan = plan::plan(&stack);
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&plan)?),
        OutputFormat::Text => print!("{}", plan.to_text()),
    }
    keep_until_exit((stack, plan));
    Ok(exit::OK)
}

pub fn render(args: &RenderArgs) -> Result<i32> {
    let stack = match resolve(&args.file.file, &args.selection, OutputFormat::Text) {
        Ok(stack) => stack,
        Err(code) => return Ok(code),
    };
    let plan = plan::plan(&stack);
    let phases = values::phase_values(&stack, &plan);
    let tools = if args.values_only {
        None
    } else {
        Some((helm::locate(args.helm.helm.as_deref())?, chart::chart_dir(args.helm.chart.as_deref())?))
    };
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    // A phase that has no units any more must not leave an old rendering behind.
    for phase in Phase::ORDER {
        let stale = args.out.join(phase.directory_name());
        if stale.is_dir() {
            std::fs::remove_dir_all(&stale).with_context(|| format!("removing {}", stale.display()))?;
        }
    }
    for phase in &phases {
        let dir = args.out.join(phase.phase.directory_name());
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let values_file = dir.join("values.yaml");
        std::fs::write(&values_file, &phase.yaml).with_context(|| format!("writing {}", values_file.display()))?;
        if let Some((helm_bin, chart_dir)) = &tools {
            let manifests = helm::template(helm_bin, &phase.release, chart_dir, &stack.namespace, &values_file)?;
            std::fs::write(dir.join("manifests.yaml"), manifests)?;
        }
        println!("{}", dir.display());
    }
    keep_until_exit((stack, plan, phases));
    Ok(exit::OK)
}

pub fn schema() -> Result<i32> {
    println!("{}", serde_json::to_string_pretty(config::schema::schema())?);
    Ok(exit::OK)
}

pub fn version(args: &VersionArgs) -> Result<i32> {
    match args.output {
        OutputFormat::Json => {
            println!("{}", json!({"version": crate::version::VERSION, "commit": crate::version::COMMIT}))
        }
        OutputFormat::Text => println!("kubectl-codex {}", crate::version::LONG),
    }
    Ok(exit::OK)
}

pub fn completion(args: &CompletionArgs) -> Result<i32> {
    let mut command = crate::cli::Cli::command();
    clap_complete::generate(args.shell, &mut command, "kubectl-codex", &mut std::io::stdout());
    Ok(exit::OK)
}
