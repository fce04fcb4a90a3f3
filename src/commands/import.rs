//! `kubectl codex import`: runs the conversion and prints its report.

use super::output::{self, Layout};
use crate::cli::{ImportArgs, ImportFormat, OutputFormat};
use crate::config::diagnostics::Diagnostics;
use crate::config::phase::Phase;
use crate::exit::{self, coded, Failure};
use crate::import::report::{Report, SourceFormat};
use crate::import::{self, ImportError, Options};
use anyhow::anyhow;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

pub fn run(args: &ImportArgs) -> Result<(), Failure> {
    let phases = parse_phases(&args.phases).map_err(Failure::Usage)?;
    let options = Options {
        file: args.file.clone(),
        from: args.from.map(|f| match f {
            ImportFormat::Codexctl => SourceFormat::Codexctl,
            ImportFormat::Servicestack => SourceFormat::Servicestack,
        }),
        out_dir: args.out.clone(),
        phases,
    };
    match import::run(&options) {
        Ok(report) => {
            let strict_failed = args.strict && report.not_carried() > 0;
            output::print(&Imported(&report), args.output.format, Layout::Pretty)?;
            if strict_failed {
                eprintln!("error: --strict: {} item(s) not carried over (listed above)", report.not_carried());
            }
            if !report.valid || strict_failed {
                return Err(Failure::InvalidInput);
            }
            Ok(())
        }
        Err(ImportError::Invalid { diagnostics, report }) => {
            let rejected = Rejected { valid: false, errors: &diagnostics, report: report.as_deref() };
            match args.output.format {
                OutputFormat::Json => println!("{}", output::to_json(&rejected, Layout::OneLine)?),
                OutputFormat::Text => eprint!("{rejected}"),
            }
            Err(Failure::InvalidInput)
        }
        Err(error @ ImportError::Unreadable { .. }) => Err(coded(exit::INVALID_INPUT, anyhow!("{error}")).into()),
        Err(error @ ImportError::Write { .. }) => Err(anyhow!("{error}").into()),
    }
}

/// A conversion's report, as [`Report`] words it (its JSON is the report's own).
#[derive(Debug, Serialize)]
#[serde(transparent)]
struct Imported<'a>(&'a Report);

impl fmt::Display for Imported<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_text())
    }
}

/// A source that could not be converted: every problem, and the report of what was done so far.
/// Text goes to stderr, after which nothing is on stdout.
#[derive(Debug, Serialize)]
struct Rejected<'a> {
    /// Always false, as in `validate`'s report of an invalid file.
    valid: bool,
    errors: &'a Diagnostics,
    report: Option<&'a Report>,
}

impl fmt::Display for Rejected<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.errors)?;
        writeln!(f, "{}; nothing that failed was written", output::errors_found(self.errors.len()))
    }
}

fn parse_phases(entries: &[String]) -> Result<BTreeMap<String, Phase>, String> {
    let mut phases = BTreeMap::new();
    for entry in entries {
        let Some((name, phase)) = entry.split_once('=') else {
            return Err(format!("--phase {entry}: expected NAME=PHASE"));
        };
        let Some(phase) = Phase::parse(phase) else {
            let known: Vec<&str> = Phase::ORDER.iter().map(|p| p.as_str()).collect();
            return Err(format!("--phase {entry}: \"{phase}\" is not a phase ({})", known.join(", ")));
        };
        phases.insert(name.to_string(), phase);
    }
    Ok(phases)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::diagnostics::Diagnostic;

    fn diagnostics(count: usize) -> Diagnostics {
        let one = Diagnostic {
            file: "services.yaml".into(),
            line: 1,
            column: 1,
            path: String::new(),
            message: "nothing to import".into(),
        };
        Diagnostics(vec![one; count])
    }

    #[test]
    fn a_rejected_source_is_one_line_of_json_with_its_problems_and_no_report() {
        let errors = diagnostics(1);
        let rejected = Rejected { valid: false, errors: &errors, report: None };
        assert_eq!(
            output::to_json(&rejected, Layout::OneLine).unwrap(),
            r#"{"valid":false,"errors":[{"file":"services.yaml","line":1,"column":1,"path":"","message":"nothing to import"}],"report":null}"#
        );
    }

    #[test]
    fn a_rejected_source_as_text_lists_its_problems_and_counts_them() {
        let errors = diagnostics(2);
        let text = Rejected { valid: false, errors: &errors, report: None }.to_string();
        assert!(text.ends_with("\n2 errors found; nothing that failed was written\n"), "{text}");
        assert!(text.starts_with(&errors.to_string()), "{text}");
    }
}
