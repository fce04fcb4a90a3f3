//! The version and commit this binary was built from.

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const COMMIT: &str = env!("CODEX_GIT_COMMIT");
/// What `--version` prints.
pub const LONG: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("CODEX_GIT_COMMIT"), ")");
