//! Helpers shared by the integration test modules of `tests/tests.rs` (and the fault suite's
//! own binary, `tests/e2e_faults.rs`).

#[cfg(feature = "e2e")]
pub mod cluster;
pub mod host_tool;
pub mod http_stub;
pub mod png;
pub mod registry_stub;

use std::path::Path;
use std::process::Command;

/// The repository root, where `services.yaml` and the fixtures are.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// kubectl-codex, run from the repository root without the caller's CODEX_ENV and CODEX_FILE
/// (a developer's shell may set them, and they would pick the stack under test). Everything
/// else a test needs (inputs, a kubeconfig) it adds itself, where the test shows it.
pub fn codex_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"));
    command.args(args).current_dir(root()).env_remove("CODEX_ENV").env_remove("CODEX_FILE");
    command
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Compares `actual` with the golden file at `path`; with UPDATE_GOLDEN set, writes it instead.
pub fn check_golden(path: &Path, actual: &str) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with UPDATE_GOLDEN=1 to create it", path.display()));
    assert!(
        expected == actual,
        "{} differs from the golden file; diff it with UPDATE_GOLDEN=1 and review",
        path.display()
    );
}
