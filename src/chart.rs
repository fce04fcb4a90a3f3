//! The generic chart, embedded in the binary so a krew or cargo install needs no checkout.

use anyhow::{Context, Result};
use include_dir::{include_dir, Dir};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

static CHART: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/charts/codex-env");

/// A directory holding the chart: `explicit` when given, else the embedded copy written once
/// per chart digest under the temp directory.
pub fn chart_dir(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = explicit {
        anyhow::ensure!(dir.join("Chart.yaml").is_file(), "--chart {}: no Chart.yaml there", dir.display());
        return Ok(dir.to_path_buf());
    }
    let mut digest = Sha256::new();
    let mut files = Vec::new();
    collect(&CHART, &mut files);
    files.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, contents) in &files {
        digest.update(path.to_string_lossy().as_bytes());
        digest.update(contents);
    }
    let tag = crate::config::resolve::hex(&digest.finalize()[..8]);
    let root = std::env::temp_dir().join(format!("kubectl-codex-chart-{tag}")).join("codex-env");
    if !root.join("Chart.yaml").is_file() {
        for (path, contents) in &files {
            let target = root.join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
            }
            std::fs::write(&target, contents).with_context(|| format!("writing {}", target.display()))?;
        }
    }
    Ok(root)
}

fn collect<'a>(dir: &'a Dir<'a>, out: &mut Vec<(PathBuf, &'a [u8])>) {
    for file in dir.files() {
        out.push((file.path().to_path_buf(), file.contents()));
    }
    for sub in dir.dirs() {
        collect(sub, out);
    }
}
