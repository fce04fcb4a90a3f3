//! `evidence --svg/--html` and `evidence --from-file`: the timeline picture of evidence
//! records, and records read from a file (the `-o json` output) instead of the cluster.

use super::report::Pictures;
use crate::cli::EvidenceArgs;
use crate::commands::output::{self, Layout};
use crate::evidence::record::EvidenceRecord;
use crate::evidence::timeline;
use crate::exit::{self, coded, Failure};
use anyhow::{anyhow, Context, Result};
use std::path::Path;

/// Whether the command asks for a picture instead of the listing.
pub fn wanted(args: &EvidenceArgs) -> bool {
    args.svg.is_some() || args.html.is_some()
}

/// Records from a file: the JSON array `evidence -o json` prints, or a single record.
pub fn read_records(path: &Path) -> Result<Vec<EvidenceRecord>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| coded(exit::INVALID_INPUT, anyhow!("--from-file {}: {e}", path.display())))?;
    let invalid = |e: serde_json::Error| {
        coded(exit::INVALID_INPUT, anyhow!("--from-file {}: not evidence records: {e}", path.display()))
    };
    let mut records: Vec<EvidenceRecord> = if text.trim_start().starts_with('[') {
        serde_json::from_str(&text).map_err(invalid)?
    } else {
        vec![serde_json::from_str(&text).map_err(invalid)?]
    };
    // The order `evidence` lists them in, whatever the file's.
    records.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.run_id.cmp(&b.run_id)));
    Ok(records)
}

/// `evidence --from-file`: the listing or the picture, without a cluster.
pub fn from_file(args: &EvidenceArgs, path: &Path) -> Result<(), Failure> {
    let mut records = read_records(path)?;
    if let Some(run) = &args.run {
        records.retain(|r| &r.run_id == run);
        if records.is_empty() {
            return Err(coded(exit::INVALID_INPUT, anyhow!("no evidence of run {run} in {}", path.display())).into());
        }
    }
    if wanted(args) {
        return write(args, &records);
    }
    super::print_records(&records, args.target.output.format, &path.display().to_string())?;
    Ok(())
}

/// Writes the requested pictures and says where.
pub fn write(args: &EvidenceArgs, records: &[EvidenceRecord]) -> Result<(), Failure> {
    let mut written = Vec::new();
    if let Some(path) = &args.svg {
        let text = timeline::svg(records).map_err(|e| coded(exit::INVALID_INPUT, e))?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        written.push(path.display().to_string());
    }
    if let Some(path) = &args.html {
        let text = timeline::html(records).map_err(|e| coded(exit::INVALID_INPUT, e))?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        written.push(path.display().to_string());
    }
    let report = Pictures { runs: records.len(), written };
    output::print(&report, args.target.output.format, Layout::OneLine)?;
    Ok(())
}
