//! Commands that need no cluster: validate, plan, render, schema, version, completion.

use crate::cli::{CompletionArgs, OutputFormat, PlanArgs, RenderArgs, SelectionArgs, ValidateArgs, VersionArgs};
use crate::config::diagnostics::Diagnostics;
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
    match output {
        OutputFormat::Json => println!("{}", json!({"valid": false, "errors": diagnostics.0})),
        OutputFormat::Text => {
            eprint!("{diagnostics}");
            let n = diagnostics.len();
            eprintln!("{n} error{} found", if n == 1 { "" } else { "s" });
        }
    }
    exit::INVALID_INPUT
}

/// Loads and resolves one environment, or prints why not.
pub fn resolve(file: &Path, selection: &SelectionArgs, output: OutputFormat) -> Result<Stack, i32> {
    let loaded = load(file, output)?;
    let selection =
        Selection { env: selection.env.clone(), slot: selection.slot.clone(), issue: selection.issue.clone() };
    let stack = loaded.resolve(&selection).map_err(|d| report_invalid(&d, output));
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
    let errors = loaded.check_all_environments(&slot, &issue);
    if !errors.is_empty() {
        return Ok(report_invalid(&errors, args.output));
    }
    let mut environments = Vec::new();
    for env in loaded.environment_names() {
        let selection = Selection { env: env.clone(), slot: slot.clone(), issue: issue.clone() };
        if let Ok(stack) = loaded.resolve(&selection) {
            environments.push(json!({"name": env, "namespace": stack.namespace, "units": stack.units.len()}));
        }
    }
    let units = loaded.document.infrastructure.len() + loaded.document.services.len();
    match args.output {
        OutputFormat::Json => println!("{}", json!({"valid": true, "units": units, "environments": environments})),
        OutputFormat::Text => println!(
            "{} is valid: {units} units, environments: {}",
            args.file.file.display(),
            loaded.environment_names().join(", ")
        ),
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
