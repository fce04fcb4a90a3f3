//! `kubectl codex evidence`: the deploy evidence of an environment, its timeline picture, or
//! the proof of its phase order (`--verify`).

mod picture;
mod report;

use super::connect::{connect, runtime};
use super::load::target_namespace;
use super::output::{self, Layout};
use crate::cli::{EvidenceArgs, OutputFormat};
use crate::config::phase::Phase;
use crate::evidence::record::EvidenceRecord;
use crate::evidence::{store, verify};
use crate::exit::{self, coded, Failure};
use crate::{helm, labels};
use anyhow::{anyhow, Result};
use report::{Listing, Verified};
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
        output::print(&Verified::new(records.len(), &verdict), args.target.output.format, Layout::Pretty)?;
        if !verdict.violations.is_empty() {
            return Err(Failure::VerifyFailed);
        }
        Ok::<(), Failure>(())
    })
}

/// The records as `evidence` lists them (text or JSON); `source` names where they came from.
pub fn print_records(records: &[EvidenceRecord], output: OutputFormat, source: &str) -> Result<()> {
    output::print(&Listing { records, source }, output, Layout::Pretty)?;
    Ok(())
}
