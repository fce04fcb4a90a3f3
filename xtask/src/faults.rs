//! `cargo xtask faults`: the fault-injection suite (`tests/e2e_faults.rs`) against the local
//! cluster. The tests pause and restart the cluster's components through this binary
//! (`cluster pid`, `cluster restart`); each prints one `[fault] …` line with what it
//! measured, collected here into `target/faults/report.txt` for the README.

use crate::images::example as example_images;
use crate::repo::repo_root;
use crate::{buildkit, e2e_support, test_suite, tools};
use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The suite's test binary (`[[test]] name = "e2e_faults"`, not a module of the `tests` binary:
/// its filters select its cases by any part of their names, as libtest's do).
pub const FAULTS_TEST: &str = "e2e_faults";

/// Brings the cluster up with the example images, then runs the suite (`filters` select
/// cases by name, as libtest does). Fails when any case fails.
pub fn run(filters: &[String]) -> Result<()> {
    let mut env = e2e_support::prepare_cluster_e2e()?;
    example_images::build_example_images(example_images::DEFAULT_TAG)?;
    // The registry case builds with BuildKit, as `cargo xtask test` sets it up.
    env.push(("BUILDKIT_HOST".into(), buildkit::up()?));
    env.push(("CODEX_E2E_BUILDCTL".into(), buildkit::buildctl()?.display().to_string()));
    run_prepared(&env, filters)
}

/// This xtask's binary, for the suite to restart cluster components with. Cargo may have
/// rebuilt it while `cargo xtask test` ran (a CI run did, before this step): Linux then names
/// the running image `… (deleted)`, and the binary at the same path is the rebuilt one.
fn xtask_binary() -> Result<PathBuf> {
    let running = std::env::current_exe().context("finding the xtask binary")?;
    let path = match running.to_str().and_then(|p| p.strip_suffix(" (deleted)")) {
        Some(rebuilt) => PathBuf::from(rebuilt),
        None => running,
    };
    anyhow::ensure!(path.is_file(), "the xtask binary {} is gone; run `cargo xtask faults` again", path.display());
    Ok(path)
}

/// The suite on a cluster that `prepare_cluster_e2e` already set up (`env` is what it returned).
pub fn run_prepared(env: &[(String, String)], filters: &[String]) -> Result<()> {
    let helm = tools::tool_path("helm")?;
    let xtask = xtask_binary()?;
    let filters: Vec<&str> = filters.iter().map(String::as_str).collect();
    let mut args = test_suite::e2e_args(FAULTS_TEST, &filters);
    args.push("--nocapture".into());
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command
        .current_dir(repo_root())
        .args(&args)
        .env("CODEX_HELM", &helm)
        .env("CODEX_FAULTS_XTASK", &xtask)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::piped());
    let mut child = command.spawn().context("running cargo test for the fault suite")?;
    let mut measured = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            println!("{line}");
            // libtest prints `test NAME ... ` before the case's own output, on the same line.
            if let Some(at) = line.find("[fault] ") {
                measured.push(line[at..].to_string());
            }
        }
    }
    let status = child.wait()?;
    let report = repo_root().join("target/faults/report.txt");
    std::fs::create_dir_all(report.parent().unwrap_or(&repo_root()))?;
    std::fs::write(&report, measured.join("\n") + "\n").with_context(|| format!("writing {}", report.display()))?;
    eprintln!("\n[faults] measured ({}):", report.display());
    for line in &measured {
        eprintln!("  {line}");
    }
    if !status.success() {
        bail!("the fault suite failed ({status})");
    }
    Ok(())
}
