//! The image the codex-gc chart runs: the release binary of kubectl-codex and the few shared
//! libraries it links, assembled without Docker and pushed to the local registry.

use crate::images::oci::{self, ImageSpec};
use crate::repo::release_binary;
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Repository of the image in the local registry.
pub const REPOSITORY: &str = "codex/kubectl-codex";

/// Builds the release binary, packs it with its libraries, pushes; returns the reference.
pub fn build_and_push() -> Result<String> {
    let binary = release_binary("[gc-image] ")?;
    let mut files = vec![(binary.clone(), "/kubectl-codex".to_string())];
    for library in shared_libraries(&binary)? {
        // The path the binary asks for (often a symlink, e.g. /lib64/ld-linux-x86-64.so.2)
        // gets the real file's bytes: the image has no link targets to point at.
        let destination = library.display().to_string();
        let real = std::fs::canonicalize(&library).with_context(|| format!("resolving {}", library.display()))?;
        files.push((real, destination));
    }
    // Tagged by content: a rebuilt binary gets a new tag, so no node runs a stale cached copy.
    let digest = Sha256::digest(std::fs::read(&binary).with_context(|| format!("reading {}", binary.display()))?);
    let short: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    let tag = format!("{}-{short}", env!("CARGO_PKG_VERSION"));
    oci::assemble_and_push(&ImageSpec {
        repository: REPOSITORY.into(),
        tag,
        files,
        entrypoint: vec!["/kubectl-codex".into()],
        user: Some("65532:65532".into()),
        ..ImageSpec::default()
    })
}

/// The absolute paths `ldd` resolves for `binary` (the vDSO has none and is skipped).
fn shared_libraries(binary: &Path) -> Result<Vec<PathBuf>> {
    let output = Command::new("ldd").arg(binary).output().context("running ldd")?;
    if !output.status.success() {
        // A statically linked binary: nothing to add.
        return Ok(Vec::new());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut libraries = Vec::new();
    for line in text.lines() {
        let path = match line.split("=>").nth(1) {
            Some(resolved) => resolved.split_whitespace().next(),
            None => line.split_whitespace().next(),
        };
        if let Some(path) = path.filter(|p| p.starts_with('/')) {
            libraries.push(PathBuf::from(path));
        }
    }
    Ok(libraries)
}
