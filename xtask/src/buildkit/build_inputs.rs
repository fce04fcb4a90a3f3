//! Files the example's Dockerfiles need in their build context so that no build step reaches
//! a package registry: an npm cache for `example/web`'s lock file at `example/web/.npm-cache`
//! (gitignored; `npm ci --offline` in web/Dockerfile installs from it), and
//! `example/web/node_modules` for the workspace-seed image. Go needs nothing: example/services
//! vendors its modules.
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

/// The npm cache directory inside example/web, as the Dockerfiles name it.
pub const NPM_CACHE_DIR: &str = ".npm-cache";
/// Records the lock file the cache was filled for.
const STAMP: &str = ".codex-package-lock.sha256";

fn web_dir() -> PathBuf {
    crate::repo::repo_root().join("example/web")
}

/// Fills the npm cache when the lock file changed since the last fill, and installs
/// node_modules from it when they are missing.
pub fn ensure() -> Result<()> {
    let web = web_dir();
    let lock = fs::read(web.join("package-lock.json"))
        .with_context(|| format!("reading {}/package-lock.json", web.display()))?;
    let lock_digest: String = Sha256::digest(&lock).iter().map(|b| format!("{b:02x}")).collect();
    let cache = web.join(NPM_CACHE_DIR);
    let stamp = cache.join(STAMP);
    if fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == lock_digest) {
        return ensure_node_modules(&web, &cache);
    }
    if cache.exists() {
        fs::remove_dir_all(&cache).with_context(|| format!("removing {}", cache.display()))?;
    }
    fs::create_dir_all(&cache)?;
    // Install into a scratch copy: only the cache is wanted, and example/web's own
    // node_modules must not change under a running dev server.
    let scratch = tempfile::tempdir()?;
    for file in ["package.json", "package-lock.json"] {
        fs::copy(web.join(file), scratch.path().join(file))?;
    }
    crate::say!("[buildkit] filling the npm cache {} for example/web's lock file", cache.display());
    npm(scratch.path(), &cache, &["--prefer-offline"])?;
    // Proof that the cache alone is enough, as it will be inside a build.
    fs::remove_dir_all(scratch.path().join("node_modules"))?;
    npm(scratch.path(), &cache, &["--offline"])?;
    fs::write(&stamp, format!("{lock_digest}\n"))?;
    ensure_node_modules(&web, &cache)
}

fn ensure_node_modules(web: &Path, cache: &Path) -> Result<()> {
    if web.join("node_modules/vite/bin/vite.js").is_file() {
        return Ok(());
    }
    npm(web, cache, &["--offline"])
}

fn npm(dir: &Path, cache: &Path, extra: &[&str]) -> Result<()> {
    crate::exec::logged(
        Command::new("npm").current_dir(dir).args(["ci", "--no-audit", "--no-fund", "--cache"]).arg(cache).args(extra),
    )
    .with_context(|| format!("npm ci in {} (is Node.js installed?)", dir.display()))?;
    Ok(())
}
