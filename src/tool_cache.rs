//! The binaries `cargo xtask tools` builds into `~/.cache/kubectl-codex/tools/<tool>-<version>/`
//! (or under `$XDG_CACHE_HOME`): found after `PATH`, so a checkout's commands work without
//! installing helm or buildctl by hand.
use std::path::PathBuf;

/// `<cache>/kubectl-codex/tools/<dir>/<binary>`, when it is a file.
pub fn built(dir: &str, binary: &str) -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|c| !c.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(cache.join("kubectl-codex/tools").join(dir).join(binary)).filter(|p| p.is_file())
}
