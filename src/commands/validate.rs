//! `kubectl codex validate`: every problem of services.yaml at once, every environment resolved.

use super::load::{given_inputs, load, report_invalid};
use super::output::{self, Layout};
use crate::cli::ValidateArgs;
use crate::config::inputs::GivenInputs;
use crate::config::stack::Stack;
use crate::exit::Failure;
use serde::Serialize;
use std::fmt;

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
    let units = loaded.document.infrastructure.len() + loaded.document.services.len();
    let report = Valid::new(args.file.file.display().to_string(), units, &stacks);
    output::print(&report, args.output.format, Layout::OneLine)?;
    Ok(())
}

/// A services.yaml whose every environment resolved.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Valid {
    /// The file as given, for the text.
    #[serde(skip)]
    file: String,
    /// Always true: an invalid file is reported as its problems instead.
    valid: bool,
    units: usize,
    environments: Vec<EnvironmentSummary>,
    /// The required inputs nobody set, which stand-ins replaced to check the file.
    unset_required_inputs: Vec<String>,
}

/// One environment, resolved.
#[derive(Debug, Serialize)]
struct EnvironmentSummary {
    name: String,
    namespace: String,
    units: usize,
}

impl Valid {
    /// `stacks` in the order of services.yaml; every environment sees the same inputs, so the
    /// first one's stand-ins are the file's.
    fn new(file: String, units: usize, stacks: &[(String, Stack)]) -> Self {
        let environments = stacks
            .iter()
            .map(|(env, stack)| EnvironmentSummary {
                name: env.clone(),
                namespace: stack.namespace.clone(),
                units: stack.units.len(),
            })
            .collect();
        let stand_ins =
            stacks.iter().map(|(_, stack)| stand_ins_of(stack)).find(|names| !names.is_empty()).unwrap_or_default();
        Valid { file, valid: true, units, environments, unset_required_inputs: stand_ins }
    }
}

fn stand_ins_of(stack: &Stack) -> Vec<String> {
    stack.inputs.iter().filter(|(_, i)| i.from.ends_with("(stand-in)")).map(|(n, _)| n.clone()).collect()
}

impl fmt::Display for Valid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.environments.iter().map(|e| e.name.as_str()).collect();
        writeln!(f, "{} is valid: {} units, environments: {}", self.file, self.units, names.join(", "))?;
        if !self.unset_required_inputs.is_empty() {
            writeln!(
                f,
                "  checked with stand-ins for the required inputs not set: {} (commands that deploy need them)",
                self.unset_required_inputs.join(", ")
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(unset: &[&str]) -> Valid {
        Valid {
            file: "services.yaml".into(),
            valid: true,
            units: 7,
            environments: vec![
                EnvironmentSummary { name: "dev".into(), namespace: "codex-dev-1".into(), units: 7 },
                EnvironmentSummary { name: "prod".into(), namespace: "codex-prod".into(), units: 6 },
            ],
            unset_required_inputs: unset.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn json_is_one_line_with_the_keys_in_their_order() {
        assert_eq!(
            output::to_json(&report(&["dbPassword"]), Layout::OneLine).unwrap(),
            r#"{"valid":true,"units":7,"environments":[{"name":"dev","namespace":"codex-dev-1","units":7},{"name":"prod","namespace":"codex-prod","units":6}],"unsetRequiredInputs":["dbPassword"]}"#
        );
    }

    #[test]
    fn text_names_the_environments_and_the_stand_ins_only_when_there_are_some() {
        assert_eq!(report(&[]).to_string(), "services.yaml is valid: 7 units, environments: dev, prod\n");
        assert_eq!(
            report(&["a", "b"]).to_string(),
            "services.yaml is valid: 7 units, environments: dev, prod\n  \
             checked with stand-ins for the required inputs not set: a, b (commands that deploy need them)\n"
        );
    }
}
