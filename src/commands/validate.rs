//! `kubectl codex validate`: every problem of services.yaml at once, every environment resolved.

use super::load::{given_inputs, load, report_invalid};
use crate::cli::{OutputFormat, ValidateArgs};
use crate::config::inputs::GivenInputs;
use crate::exit::Failure;
use serde_json::json;

pub fn run(args: &ValidateArgs) -> Result<(), Failure> {
    let loaded = load(&args.file.file, args.output.format)?;
    let slot = match (&args.slot, &args.issue) {
        (None, None) => "1".to_string(),
        (slot, _) => slot.clone().unwrap_or_default(),
    };
    let issue = args.issue.clone().unwrap_or_default();
    let given = GivenInputs { stand_ins: true, ..given_inputs(&args.inputs, &loaded, args.output.format)? };
    let stacks = loaded
        .resolve_all_environments(&slot, &issue, &given)
        .map_err(|errors| report_invalid(&errors, args.output.format))?;
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
    match args.output.format {
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
    Ok(())
}
