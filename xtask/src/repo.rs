//! Where the repository is: every xtask path starts here, whatever the working directory.
use std::path::{Path, PathBuf};

/// The repository root (xtask's manifest directory's parent).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the repository").to_path_buf()
}
