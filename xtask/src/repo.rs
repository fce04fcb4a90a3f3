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

/// `cargo`: the one that runs xtask (`$CARGO`), else the one on PATH.
pub fn cargo() -> std::process::Command {
    std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Builds `kubectl-codex` in release mode (what benchmarks and the demo run) and returns the
/// binary. `who` prefixes the progress line, e.g. `[bench up] `.
pub fn release_binary(who: &str) -> anyhow::Result<PathBuf> {
    crate::say!("{who}building the release binary (cargo build --release -p kubectl-codex)");
    crate::exec::logged(
        cargo().args(["build", "--release", "--quiet", "-p", "kubectl-codex"]).current_dir(repo_root()),
    )?;
    Ok(target_dir().join("release/kubectl-codex"))
}

/// The environment variable that gives the example stack its secret input `dbPassword`.
pub const DB_PASSWORD_ENV: &str = "CODEX_INPUT_DBPASSWORD";

/// Where the example's kept database password lives (mode 0600).
pub fn example_db_password_file() -> anyhow::Result<PathBuf> {
    Ok(crate::tools::cache_root()?.join("example-db-password"))
}

/// The example's database password for the demo and the benchmarks: `$CODEX_INPUT_DBPASSWORD`
/// when set, else one made once from the kernel's random bytes and kept (mode 0600) in
/// `~/.cache/kubectl-codex/example-db-password`, so an environment brought up again keeps
/// working with the PostgreSQL data directory its first start initialised.
pub fn example_db_password() -> anyhow::Result<String> {
    use anyhow::Context;
    use std::io::{Read, Write};
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(value) = std::env::var_os(DB_PASSWORD_ENV).and_then(|v| v.into_string().ok()) {
        if !value.is_empty() {
            return Ok(value);
        }
    }
    let file = example_db_password_file()?;
    if let Ok(kept) = std::fs::read_to_string(&file) {
        if !kept.trim().is_empty() {
            return Ok(kept.trim().to_string());
        }
    }
    let mut bytes = [0u8; 18];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)).context("reading /dev/urandom")?;
    let password: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::create_dir_all(file.parent().expect("a cache file has a directory"))?;
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&file)
        .with_context(|| format!("writing {}", file.display()))?;
    out.write_all(password.as_bytes())?;
    Ok(password)
}
