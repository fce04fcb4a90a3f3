//! `kubectl codex import`: runs the conversion and prints its report.

use crate::cli::{ImportArgs, ImportFormat, OutputFormat};
use crate::config::phase::Phase;
use crate::exit::{self, coded, Failure};
use crate::import::report::SourceFormat;
use crate::import::{self, ImportError, Options};
use anyhow::anyhow;
use serde_json::json;
use std::collections::BTreeMap;

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
            match args.output.format {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
                OutputFormat::Text => print!("{}", report.to_text()),
            }
            if strict_failed {
                eprintln!("error: --strict: {} item(s) not carried over (listed above)", report.not_carried());
            }
            if !report.valid || strict_failed {
                return Err(Failure::InvalidInput);
            }
            Ok(())
        }
        Err(ImportError::Invalid { diagnostics, report }) => {
            match args.output.format {
                OutputFormat::Json => {
                    println!("{}", json!({"valid": false, "errors": diagnostics.0, "report": report.as_deref()}))
                }
                OutputFormat::Text => {
                    eprint!("{diagnostics}");
                    let n = diagnostics.len();
                    eprintln!("{n} error{} found; nothing that failed was written", if n == 1 { "" } else { "s" });
                }
            }
            Err(Failure::InvalidInput)
        }
        Err(error @ ImportError::Unreadable { .. }) => Err(coded(exit::INVALID_INPUT, anyhow!("{error}")).into()),
        Err(error @ ImportError::Write { .. }) => Err(anyhow!("{error}").into()),
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
