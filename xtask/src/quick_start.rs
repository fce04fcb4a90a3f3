//! The README's promise, checked: `cargo xtask demo` prints at most [`DEMO_MAX_LINES`] lines
//! and ends with `export` lines after which the README's quick-start block, run verbatim in a
//! shell with nothing else set, works. A step of `cargo xtask test` (after the e2e suites, on
//! the running cluster and BuildKit).
use std::path::Path;
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};

use crate::repo::repo_root;

/// The most lines `cargo xtask demo` may print on a warm machine (issue 18's acceptance).
pub const DEMO_MAX_LINES: usize = 60;
/// Namespaces the quick start creates besides the demo's, removed afterwards.
const CLEANUP: &[&str] = &["down --env dev --slot 1", "down --env ai --issue 19"];
/// Files the quick start writes into the checkout (gitignored), removed afterwards.
const WRITTEN: &[&str] = &["build", "timeline.html", "stack.svg"];
/// A PATH with the system's programs only: what the demo's exports must be enough on top of.
const SYSTEM_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

pub fn run() -> Result<()> {
    let root = repo_root();
    let demo = crate::progress::step("quick start: cargo xtask demo", || run_demo(&root))?;
    let lines = demo.lines().count();
    ensure!(lines <= DEMO_MAX_LINES, "cargo xtask demo printed {lines} lines (at most {DEMO_MAX_LINES}):\n{demo}");
    let exports = export_lines(&demo)?;
    let block = quick_start_block(&std::fs::read_to_string(root.join("README.md"))?)?;
    let script = format!("set -euo pipefail\n{}\nset -x\n{block}\n", exports.join("\n"));
    let result = crate::progress::step("quick start: the README's commands with the demo's exports", || {
        shell(&root, &script, "the README's quick start")
    });
    // The same exports, for the clean-up: what the block made goes, whatever happened.
    let cleanup: Vec<String> = CLEANUP.iter().map(|args| format!("kubectl codex {args} || true")).collect();
    let cleanup = format!("{}\n{}\n", exports.join("\n"), cleanup.join("\n"));
    crate::progress::step("quick start: remove what it made", || {
        for file in WRITTEN {
            let path = root.join(file);
            if path.is_dir() {
                std::fs::remove_dir_all(&path)?;
            } else if path.exists() {
                std::fs::remove_file(&path)?;
            }
        }
        shell(&root, &cleanup, "the quick start's clean-up")
    })?;
    eprintln!("[quick start] the demo printed {lines} lines; {} export lines; the block passed", exports.len());
    result
}

/// `cargo xtask demo` as a user runs it (cargo's own lines included), standard output and
/// error together in the order printed.
fn run_demo(root: &Path) -> Result<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new("bash")
        .arg("-c")
        .arg(format!("'{cargo}' xtask demo 2>&1"))
        .current_dir(root)
        .env_remove("KUBECONFIG")
        .env_remove("BUILDKIT_HOST")
        .output()
        .context("running cargo xtask demo")?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    crate::say!("{text}");
    if !output.status.success() {
        bail!("cargo xtask demo failed ({})", output.status);
    }
    Ok(text)
}

fn shell(root: &Path, script: &str, what: &str) -> Result<()> {
    let status = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(root)
        .env_clear()
        .env("HOME", std::env::var_os("HOME").unwrap_or_default())
        .env("PATH", SYSTEM_PATH)
        .stdout(crate::progress::stdout())
        .stderr(crate::progress::stderr())
        .status()
        .with_context(|| format!("running {what}"))?;
    ensure!(status.success(), "{what} failed ({status})");
    Ok(())
}

/// The `export` lines that follow the demo's [`crate::demo::EXPORTS_HEADER`].
pub fn export_lines(demo: &str) -> Result<Vec<String>> {
    let (_, after) = demo.split_once(crate::demo::EXPORTS_HEADER).context("the demo printed no export block")?;
    let lines: Vec<String> =
        after.lines().map(str::trim).filter(|l| l.starts_with("export ")).map(String::from).collect();
    ensure!(!lines.is_empty(), "the demo's export block is empty");
    Ok(lines)
}

/// The README's quick-start commands: the last `sh` block of the "## Quick start" section.
pub fn quick_start_block(readme: &str) -> Result<String> {
    let (_, section) = readme.split_once("\n## Quick start\n").context("README.md has no `## Quick start` section")?;
    let section = section.split("\n## ").next().unwrap_or_default();
    let block = section.rsplit("```sh\n").next().filter(|_| section.contains("```sh\n"));
    let block =
        block.and_then(|b| b.split_once("\n```").map(|(b, _)| b)).context("no ```sh block in the quick start")?;
    Ok(block.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_is_the_last_shell_block_of_the_section() {
        let readme = "# x\n## Quick start\ntext\n```sh\nexport A=1\n```\nmore\n```sh\nkubectl codex validate\nkubectl codex plan\n```\n## Next\n```sh\nno\n```\n";
        assert_eq!(quick_start_block(readme).unwrap(), "kubectl codex validate\nkubectl codex plan");
        assert!(quick_start_block("# x\n## Other\n").is_err());
    }

    #[test]
    fn the_real_readme_has_a_quick_start_of_kubectl_codex_commands() {
        let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
        let block = quick_start_block(&readme).unwrap();
        assert!(block.lines().count() >= 10, "{block}");
        assert!(block.lines().all(|l| l.starts_with("kubectl codex ")), "{block}");
    }

    #[test]
    fn exports_come_from_the_block_after_the_header() {
        let demo = format!(
            "✓ step 1.0s\nexport NOT=this\n\n{}\nexport KUBECONFIG=/k\nexport PATH=/b:$PATH\n",
            crate::demo::EXPORTS_HEADER
        );
        assert_eq!(export_lines(&demo).unwrap(), vec!["export KUBECONFIG=/k", "export PATH=/b:$PATH"]);
        assert!(export_lines("export A=1\n").is_err());
    }
}
