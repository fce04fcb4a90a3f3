//! `kubectl codex evidence`: the deploy evidence of an environment, its timeline picture, or
//! the proof of its phase order (`--verify`).

mod picture;

use super::connect::{connect, runtime};
use super::load::target_namespace;
use crate::cli::{EvidenceArgs, OutputFormat};
use crate::config::phase::Phase;
use crate::evidence::record::EvidenceRecord;
use crate::evidence::{store, verify};
use crate::exit::{self, coded, Failure};
use crate::{helm, labels};
use anyhow::{anyhow, Result};
use serde_json::json;
use std::collections::BTreeMap;

pub fn run(args: &EvidenceArgs) -> Result<(), Failure> {
    if let Some(path) = &args.from_file {
        return picture::from_file(args, path);
    }
    let ns_name = target_namespace(&args.target)?;
    runtime()?.block_on(async {
        let client = connect(&args.target.kube).await?;
        let mut records = store::load_all(&client, &ns_name).await?;
        if let Some(run) = &args.run {
            records.retain(|r| &r.run_id == run);
            if records.is_empty() {
                let error = anyhow!("no evidence of run {run} in namespace {ns_name}");
                return Err(coded(exit::INVALID_INPUT, error).into());
            }
        }
        if picture::wanted(args) {
            return picture::write(args, &records);
        }
        if !args.verify {
            print_records(&records, args.target.output.format, &ns_name)?;
            return Ok(());
        }
        if records.is_empty() {
            return Err(anyhow!("no evidence in namespace {ns_name} to verify").into());
        }
        let helm_bin = helm::locate(args.helm.helm.as_deref())?;
        let mut histories = BTreeMap::new();
        for phase in Phase::ORDER {
            let release = labels::release_name(phase);
            histories.insert(release.clone(), helm::history(&helm_bin, &release, &ns_name).await?);
        }
        let verdict = verify::verify(&records, &histories);
        match args.target.output.format {
            OutputFormat::Json => {
                let summary = json!({
                    "verified": verdict.violations.is_empty(),
                    "runs": records.len(),
                    "proofs": verdict.proofs,
                    "violations": verdict.violations,
                });
                println!("{}", serde_json::to_string_pretty(&summary)?)
            }
            OutputFormat::Text => {
                for proof in &verdict.proofs {
                    println!("ok   {} {}: {}", proof.run_id, proof.phase, proof.statement);
                }
                for v in &verdict.violations {
                    println!("FAIL {} {}: {}", v.run_id, v.phase, v.message);
                }
                println!(
                    "{} run(s), {} check(s) held, {} violation(s)",
                    records.len(),
                    verdict.proofs.len(),
                    verdict.violations.len()
                );
            }
        }
        if !verdict.violations.is_empty() {
            return Err(Failure::VerifyFailed);
        }
        Ok::<(), Failure>(())
    })
}

/// The records as `evidence` lists them (text or JSON); `ns_name` names where they came from.
pub fn print_records(records: &[EvidenceRecord], output: OutputFormat, ns_name: &str) -> Result<()> {
    match output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(records)?),
        OutputFormat::Text => {
            if records.is_empty() {
                println!("no evidence in namespace {ns_name}");
            }
            for r in records {
                println!(
                    "run {} ({}) {} · started {} · input {}",
                    r.run_id,
                    r.trigger,
                    r.result,
                    r.started_at,
                    r.input_digest.get(..12).unwrap_or(&r.input_digest)
                );
                if !r.namespace_decision.is_empty() {
                    println!("  namespace: {}", r.namespace_decision);
                }
                for p in &r.phases {
                    println!(
                        "  {:<11} {:<9} {} rev {} · started {} · ready {}",
                        p.name,
                        p.result.as_str(),
                        p.release,
                        p.revision.map_or("-".into(), |v| v.to_string()),
                        p.started_at,
                        p.ready_at.as_deref().unwrap_or("-")
                    );
                    for w in &p.waves {
                        println!(
                            "    wave {} rev {} ({}) · started {} · ready {}",
                            w.wave,
                            w.revision.map_or("-".into(), |v| v.to_string()),
                            w.units.join(", "),
                            w.started_at,
                            w.ready_at.as_deref().unwrap_or("-")
                        );
                    }
                    for u in p.units.iter().filter(|u| !u.objects.is_empty()) {
                        for o in &u.objects {
                            println!(
                                "    {} {}: {} · ready {}",
                                u.name,
                                o.object,
                                o.observed.as_deref().unwrap_or("not ready"),
                                o.ready_at.as_deref().unwrap_or("-")
                            );
                        }
                    }
                }
            }
        }
    }
    Ok(())
}
