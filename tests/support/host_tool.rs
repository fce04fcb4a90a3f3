//! Real programs some tests drive (chromium, dot, kubectl). `cargo xtask test` installs them
//! and passes their paths in `CODEX_TEST_*`; without one a test fails rather than skips, so a
//! missing tool cannot pass for a green run.

use std::path::PathBuf;

/// `$env` when set, else `program` on PATH; panics naming both when neither is there.
pub fn host_tool(env: &str, program: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "${env}={} is not a file", path.display());
        return path;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|p| p.is_file()).unwrap_or_else(|| {
        panic!(
            "this test runs the real {program}: set ${env} or put {program} on PATH (`cargo xtask test` installs it)"
        )
    })
}
