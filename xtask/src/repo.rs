//! Where the repository is: every xtask path starts here, whatever the working directory.
use std::path::{Path, PathBuf};

/// The repository root (xtask's manifest directory's parent).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the repository").to_path_buf()
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` (relative to the repository) or `target/`.
pub fn target_dir() -> PathBuf {
    let root = repo_root();
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |d| root.join(d))
}

/// Builds `kubectl-codex` in release mode (what benchmarks and the demo run) and returns the
/// binary. `who` prefixes the progress line, e.g. `[bench up] `.
pub fn release_binary(who: &str) -> anyhow::Result<PathBuf> {
    use anyhow::{ensure, Context};
    eprintln!("{who}building the release binary (cargo build --release -p kubectl-codex)");
    let status = std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["build", "--release", "--quiet", "-p", "kubectl-codex"])
        .current_dir(repo_root())
        .status()
        .context("running cargo build")?;
    ensure!(status.success(), "cargo build --release -p kubectl-codex failed ({status})");
    Ok(target_dir().join("release/kubectl-codex"))
}
