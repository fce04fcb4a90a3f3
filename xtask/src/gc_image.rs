//! The image the codex-gc chart runs: the release binary of kubectl-codex and the few shared
//! libraries it links, assembled without Docker and pushed to the local registry.

use crate::image::{self, ImageSpec};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Repository of the image in the local registry.
pub const REPOSITORY: &str = "codex/kubectl-codex";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the repository").to_path_buf()
}

/// Builds the release binary, packs it with its libraries, pushes; returns the reference.
pub fn build_and_push() -> Result<String> {
    let root = repo_root();
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&root)
        .args(["build", "--release", "-p", "kubectl-codex"])
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release failed ({status})");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let binary = target.join("release/kubectl-codex");
    let mut files = vec![(binary.clone(), "/kubectl-codex".to_string())];
    for library in shared_libraries(&binary)? {
        let destination = library.display().to_string();
        files.push((library, destination));
    }
    let version = env!("CARGO_PKG_VERSION").to_string();
    image::assemble_and_push(&ImageSpec {
        repository: REPOSITORY.into(),
        tag: version,
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
