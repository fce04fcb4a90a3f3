//! `cargo xtask test`: the README's test command. Unit, golden, property and CLI tests; the
//! chart with the real helm; the example's Go tests; then the local cluster and the
//! end-to-end tests against it, the Helm 3 compatibility subset and the fault-injection suite.
//! Every step runs; the exit code says whether all passed.

use crate::images::{dev as dev_images, example as example_images, gc as gc_image};
use crate::repo::repo_root;
use crate::{buildkit, cluster, e2e_support, faults, host_packages, install_check, tools};
use anyhow::{bail, Context, Result};
use std::process::Command;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// Skip the local cluster and the end-to-end tests.
    #[arg(long)]
    pub no_e2e: bool,
    /// Leave the local cluster running afterwards (default: stop it).
    #[arg(long)]
    pub keep_cluster: bool,
}

/// One named step and whether it passed.
struct Outcome {
    step: &'static str,
    passed: bool,
    seconds: f64,
}

fn step(outcomes: &mut Vec<Outcome>, name: &'static str, run: impl FnOnce() -> Result<()>) -> bool {
    eprintln!("\n[test] {name}");
    let started = Instant::now();
    let result = run();
    if let Err(e) = &result {
        eprintln!("[test] {name} FAILED: {e:#}");
    }
    let passed = result.is_ok();
    outcomes.push(Outcome { step: name, passed, seconds: started.elapsed().as_secs_f64() });
    passed
}

fn run(command: &mut Command) -> Result<()> {
    let shown = format!("{command:?}");
    let status = command.status().with_context(|| format!("starting {shown}"))?;
    if !status.success() {
        bail!("{shown} exited with {status}");
    }
    Ok(())
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(repo_root());
    command
}

/// Every end-to-end test binary, run with Helm 4 (the default): each `tests/e2e_*.rs` but the
/// fault suite (a step of its own), found in the tree so that a new file cannot be left out;
/// `e2e_cluster` first, the others by name.
pub fn e2e_tests(root: &std::path::Path) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(root.join("tests")).context("listing tests/")? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some(test) = name.strip_suffix(".rs").filter(|t| t.starts_with("e2e_")) {
            if test != crate::faults::FAULTS_TEST {
                found.push(test.to_string());
            }
        }
    }
    // The cluster's own acceptance tests first: they say whether the rest can pass at all, and
    // give the freshly started controllers a minute before the first `up`.
    found.sort_by_key(|t| (t != "e2e_cluster", t.clone()));
    anyhow::ensure!(found.first().map(String::as_str) == Some("e2e_cluster"), "tests/e2e_cluster.rs is missing");
    Ok(found)
}

/// The subset run again with Helm 3 (plugin installs are in the dist step): cold `up`, the
/// skip of unchanged phases and `evidence --verify` (the first test of e2e_up), and review
/// rounds that reuse their namespace (e2e_revise).
const HELM3_COMPAT_TESTS: &[&str] = &["e2e_up", "e2e_revise"];
/// Filters the compatibility run to those tests by name (substring match, as libtest does).
const HELM3_COMPAT_FILTERS: &[&str] = &["the_example_stack_comes_up_in_order", "review_rounds_reuse"];

/// `cargo test --features e2e --test A --test B … -- --test-threads=1 [filters]`.
pub fn e2e_args(tests: &[&str], filters: &[&str]) -> Vec<String> {
    // --no-fail-fast: a failing binary must not hide whether the others pass.
    let mut args: Vec<String> = ["test", "--no-fail-fast", "--features", "e2e"].iter().map(|s| s.to_string()).collect();
    for test in tests {
        args.extend(["--test".to_string(), test.to_string()]);
    }
    args.extend(["--".to_string(), "--test-threads=1".to_string()]);
    args.extend(filters.iter().map(|f| f.to_string()));
    args
}

pub fn run_cli(args: TestArgs) -> Result<()> {
    let mut outcomes = Vec::new();
    let helm = tools::tool_path("helm").context("building helm")?;
    // Style first: a formatting or lint failure is reported, and the tests still run.
    step(&mut outcomes, "cargo fmt --check", || run(cargo().args(["fmt", "--all", "--check"])));
    step(&mut outcomes, "cargo clippy -D warnings", || {
        run(cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--features",
            "kubectl-codex/e2e,kubectl-codex/helm-tests",
            "--",
            "-D",
            "warnings",
        ]))
    });
    // The timeline screenshot (tests/timeline.rs), graph (tests/graph.rs) and kubectl
    // completion (tests/completion.rs) tests run the real programs and fail without them.
    let mut host_tools: Vec<(&str, std::path::PathBuf)> = Vec::new();
    step(&mut outcomes, "chromium, dot and kubectl for the picture, graph and completion tests", || {
        for host in [host_packages::CHROMIUM, host_packages::DOT] {
            host_tools.push((host.env, host_packages::ensure(&host)?));
        }
        host_tools.push(("CODEX_TEST_KUBECTL", tools::tool_path("kubectl")?));
        Ok(())
    });
    step(&mut outcomes, "unit, golden, property, CLI and helm tests", || {
        let mut command = cargo();
        command.args(["test", "--workspace", "--features", "kubectl-codex/helm-tests"]).env("CODEX_HELM", &helm);
        for (key, path) in &host_tools {
            command.env(key, path);
        }
        run(&mut command)
    });
    step(&mut outcomes, "dist archive, krew and helm plugin installs", install_check::run);
    step(&mut outcomes, "example Go services: go test", || {
        run(Command::new("go").current_dir(repo_root().join("example/services")).args(["test", "-mod=vendor", "./..."]))
    });
    if !args.no_e2e {
        let mut env: Vec<(String, String)> = Vec::new();
        let ready = step(&mut outcomes, "local cluster up, probe and example images pushed", || {
            env = e2e_support::prepare_cluster_e2e()?;
            example_images::build_example_images(example_images::DEFAULT_TAG)?;
            // The dev runtime's images (e2e_dev): Go toolchain + devwatch, node, agent, seed.
            dev_images::build_dev_images(example_images::DEFAULT_TAG)?;
            env.push(("CODEX_E2E_GC_IMAGE".into(), gc_image::build_and_push()?));
            // e2e_build: BuildKit with the base images in the local registry.
            env.push(("BUILDKIT_HOST".into(), buildkit::up()?));
            env.push(("CODEX_E2E_BUILDCTL".into(), buildkit::buildctl()?.display().to_string()));
            // e2e_build starts a second registry of its own that asks for a login.
            env.push(("CODEX_E2E_REGISTRY".into(), tools::tool_path("registry")?.display().to_string()));
            // e2e_mirror seeds such a second registry (its upstream) with crane.
            env.push(("CODEX_E2E_CRANE".into(), tools::tool_path("crane")?.display().to_string()));
            Ok(())
        });
        if ready {
            step(&mut outcomes, "end-to-end tests on the local cluster", || {
                let e2e_tests = e2e_tests(&repo_root())?;
                let names: Vec<&str> = e2e_tests.iter().map(String::as_str).collect();
                let mut command = cargo();
                command.args(e2e_args(&names, &[])).env("CODEX_HELM", &helm);
                for (key, value) in &env {
                    command.env(key, value);
                }
                run(&mut command)
            });
        }
        if ready {
            step(&mut outcomes, "Helm 3 compatibility: up, skip unchanged, verify, revise reuse", || {
                let helm3 = tools::tool_path("helm3").context("building helm3")?;
                let mut command = cargo();
                command.args(e2e_args(HELM3_COMPAT_TESTS, HELM3_COMPAT_FILTERS)).env("CODEX_HELM", &helm3);
                for (key, value) in &env {
                    command.env(key, value);
                }
                run(&mut command)
            });
        }
        if ready {
            // The newcomer's path: the demo's output and exports, then the README's commands.
            step(&mut outcomes, "demo and README quick start", crate::quick_start::run);
        }
        if ready {
            // Last: its cases restart the cluster's components under everything else.
            step(&mut outcomes, "fault injection (tests/e2e_faults.rs)", || faults::run_prepared(&env, &[]));
        }
        if !args.keep_cluster {
            step(&mut outcomes, "BuildKit down", buildkit::down);
            step(&mut outcomes, "local cluster down", cluster::down);
        }
    }
    eprintln!("\n[test] summary");
    for o in &outcomes {
        eprintln!("[test]   {} {:<52} {:>7.1}s", if o.passed { "ok  " } else { "FAIL" }, o.step, o.seconds);
    }
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    if failed > 0 {
        bail!("{failed} test step(s) failed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_e2e_file_but_the_fault_suite_is_run() {
        let found = e2e_tests(&repo_root()).unwrap();
        let on_disk = std::fs::read_dir(repo_root().join("tests"))
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with("e2e_") && n.ends_with(".rs"))
            .count();
        assert_eq!(found.len() + 1, on_disk, "all but e2e_faults: {found:?}");
        assert!(found.iter().any(|t| t == "e2e_up") && !found.iter().any(|t| t == "e2e_faults"), "{found:?}");
        assert_eq!(found[0], "e2e_cluster");
        let mut sorted = found[1..].to_vec();
        sorted.sort();
        assert_eq!(found[1..], sorted[..]);
    }
}
