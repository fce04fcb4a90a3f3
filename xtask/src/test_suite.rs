//! `cargo xtask test`: the README's test command. Unit, golden, property and CLI tests; the
//! chart with the real helm; the example's Go tests; then the local cluster and the
//! end-to-end tests against it, the Helm 3 compatibility subset and the fault-injection suite.
//! Every step runs; the exit code says whether all passed.

use crate::images::{dev as dev_images, example as example_images, gc as gc_image};
use crate::repo::repo_root;
use crate::{buildkit, cluster, e2e_support, faults, host_packages, install_check, tools};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
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

/// The integration test binary (tests/tests.rs, `[[test]] name = "tests"`): every file of
/// tests/ but the fault suite is one of its modules, so a test's path is `FILE::name`.
pub const TEST_BINARY: &str = "tests";

/// Every end-to-end test module, run with Helm 4 (the default): each `tests/e2e_*.rs` but the
/// fault suite (a binary and a step of its own), found in the tree so that a new file cannot be
/// left out; `e2e_cluster` first, the others by name.
pub fn e2e_modules(root: &std::path::Path) -> Result<Vec<String>> {
    let mut found: Vec<String> =
        test_files(root)?.into_iter().filter(|t| t.starts_with("e2e_") && t != crate::faults::FAULTS_TEST).collect();
    // The cluster's own acceptance tests first: they say whether the rest can pass at all, and
    // give the freshly started controllers a minute before the first `up`.
    found.sort_by_key(|t| (t != "e2e_cluster", t.clone()));
    anyhow::ensure!(found.first().map(String::as_str) == Some("e2e_cluster"), "tests/e2e_cluster.rs is missing");
    Ok(found)
}

/// The names of the `tests/*.rs` files (without `.rs`), the binary's root `tests.rs` left out.
fn test_files(root: &std::path::Path) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(root.join("tests")).context("listing tests/")? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some(test) = name.strip_suffix(".rs").filter(|t| *t != TEST_BINARY) {
            found.push(test.to_string());
        }
    }
    found.sort();
    Ok(found)
}

/// The libtest filter that selects one module's tests. A filter matches when it is a substring
/// of a test's full path (`e2e_up::the_example_stack_…`), so `e2e_up::` selects exactly the
/// tests of module `e2e_up`, as long as no module's name ends with another's (a unit test
/// checks that).
fn module_filter(module: &str) -> String {
    format!("{module}::")
}

/// The cargo invocations of the end-to-end step, in order: `e2e_cluster` alone, then every other
/// module in one run. Two runs because libtest orders one run's tests by name (`e2e_build::…`
/// would come first), and several filters select the tests that match any of them.
pub fn e2e_runs(modules: &[String]) -> Vec<Vec<String>> {
    let Some((first, rest)) = modules.split_first() else { return Vec::new() };
    let rest: Vec<String> = rest.iter().map(|m| module_filter(m)).collect();
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let mut runs = vec![e2e_args(TEST_BINARY, &[&module_filter(first)])];
    if !rest.is_empty() {
        runs.push(e2e_args(TEST_BINARY, &rest));
    }
    runs
}

/// The subset run again with Helm 3 (plugin installs are in the dist step): cold `up`, the
/// skip of unchanged phases and `evidence --verify` (the first test of e2e_up), a helm started
/// ahead that never gets its values (e2e_up), and review rounds that reuse their namespace
/// (e2e_revise). Test paths' beginnings: libtest runs every test whose path contains one.
const HELM3_COMPAT_FILTERS: &[&str] = &[
    "e2e_up::the_example_stack_comes_up_in_order",
    "e2e_up::a_helm_given_no_values",
    "e2e_revise::review_rounds_reuse",
];

/// `cargo test --no-fail-fast --features e2e --test BINARY -- --test-threads=1 [filters]`.
pub fn e2e_args(binary: &str, filters: &[&str]) -> Vec<String> {
    // --no-fail-fast: every test of the run reports, a failing one does not hide the others.
    let mut args: Vec<String> =
        ["test", "--no-fail-fast", "--features", "e2e", "--test", binary].iter().map(|s| s.to_string()).collect();
    args.extend(["--".to_string(), "--test-threads=1".to_string()]);
    args.extend(filters.iter().map(|f| f.to_string()));
    args
}

pub fn run_cli(args: TestArgs) -> Result<()> {
    let mut outcomes = Vec::new();
    let helm = tools::tool_path("helm").context("building helm")?;
    style_steps(&mut outcomes);
    host_steps(&mut outcomes, &helm);
    if !args.no_e2e {
        cluster_steps(&mut outcomes, &helm);
        if !args.keep_cluster {
            step(&mut outcomes, "BuildKit down", buildkit::down);
            step(&mut outcomes, "local cluster down", cluster::down);
        }
    }
    summary(&outcomes)
}

/// Style first: a formatting or lint failure is reported, and the tests still run.
fn style_steps(outcomes: &mut Vec<Outcome>) {
    step(outcomes, "cargo fmt --check", || run(cargo().args(["fmt", "--all", "--check"])));
    step(outcomes, "cargo clippy -D warnings", || {
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
}

/// Everything that needs no cluster: the workspace's tests, the dist installs, the example's
/// Go tests.
fn host_steps(outcomes: &mut Vec<Outcome>, helm: &Path) {
    // The timeline screenshot (tests/timeline.rs), graph (tests/graph.rs) and kubectl
    // completion (tests/completion.rs) tests run the real programs and fail without them.
    let mut host_tools: Vec<(&str, PathBuf)> = Vec::new();
    step(outcomes, "chromium, dot and kubectl for the picture, graph and completion tests", || {
        for host in [host_packages::CHROMIUM, host_packages::DOT] {
            host_tools.push((host.env, host_packages::ensure(&host)?));
        }
        host_tools.push(("CODEX_TEST_KUBECTL", tools::tool_path("kubectl")?));
        Ok(())
    });
    step(outcomes, "unit, golden, property, CLI and helm tests", || {
        let mut command = cargo();
        command.args(["test", "--workspace", "--features", "kubectl-codex/helm-tests"]).env("CODEX_HELM", helm);
        for (key, path) in &host_tools {
            command.env(key, path);
        }
        run(&mut command)
    });
    step(outcomes, "dist archive, krew and helm plugin installs", install_check::run);
    step(outcomes, "example Go services: go test", || {
        run(Command::new("go").current_dir(repo_root().join("example/services")).args(["test", "-mod=vendor", "./..."]))
    });
}

/// The local cluster with every image the end-to-end tests deploy, then those tests, the
/// Helm 3 subset, the quick start and the fault suite; none of them if the cluster is not ready.
fn cluster_steps(outcomes: &mut Vec<Outcome>, helm: &Path) {
    let mut env: Vec<(String, String)> = Vec::new();
    let ready = step(outcomes, "local cluster up, probe and example images pushed", || {
        env = prepare_cluster()?;
        Ok(())
    });
    if !ready {
        return;
    }
    step(outcomes, "end-to-end tests on the local cluster", || {
        // Every run, also after a failed one: a failure must not hide whether the rest pass.
        let mut failures = Vec::new();
        for args in e2e_runs(&e2e_modules(&repo_root())?) {
            if let Err(e) = run(with_env(cargo().args(args).env("CODEX_HELM", helm), &env)) {
                failures.push(format!("{e:#}"));
            }
        }
        if !failures.is_empty() {
            bail!("{}", failures.join("; "));
        }
        Ok(())
    });
    step(outcomes, "Helm 3 compatibility: up, skip unchanged, verify, no values, revise reuse", || {
        let helm3 = tools::tool_path("helm3").context("building helm3")?;
        run(with_env(cargo().args(e2e_args(TEST_BINARY, HELM3_COMPAT_FILTERS)).env("CODEX_HELM", &helm3), &env))
    });
    // The newcomer's path: the demo's output and exports, then the README's commands.
    step(outcomes, "demo and README quick start", crate::quick_start::run);
    // Last: its cases restart the cluster's components under everything else.
    step(outcomes, "fault injection (tests/e2e_faults.rs)", || faults::run_prepared(&env, &[]));
}

/// Starts the cluster, pushes the images and starts the services the end-to-end tests need;
/// returns the environment that points the tests at them.
fn prepare_cluster() -> Result<Vec<(String, String)>> {
    let mut env = e2e_support::prepare_cluster_e2e()?;
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
    Ok(env)
}

fn with_env<'a>(command: &'a mut Command, env: &[(String, String)]) -> &'a mut Command {
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

fn summary(outcomes: &[Outcome]) -> Result<()> {
    eprintln!("\n[test] summary");
    for o in outcomes {
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

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_e2e_file_but_the_fault_suite_is_run() {
        let found = e2e_modules(&repo_root()).unwrap();
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
        // Each found module is in a run: the first alone, the others in the second.
        let runs = e2e_runs(&found);
        let filters: Vec<&String> =
            runs.iter().flat_map(|r| &r[r.iter().position(|a| a == "--").unwrap() + 2..]).collect();
        let expected: Vec<String> = found.iter().map(|m| format!("{m}::")).collect();
        assert_eq!(filters, expected.iter().collect::<Vec<_>>());
    }

    #[test]
    fn the_e2e_step_runs_e2e_cluster_first_then_every_other_module() {
        let modules = strings(&["e2e_cluster", "e2e_build", "e2e_up"]);
        let runs = e2e_runs(&modules);
        let run = |filters: &[&str]| {
            let mut args = strings(&["test", "--no-fail-fast", "--features", "e2e", "--test", "tests", "--"]);
            args.push("--test-threads=1".into());
            args.extend(strings(filters));
            args
        };
        assert_eq!(runs, vec![run(&["e2e_cluster::"]), run(&["e2e_build::", "e2e_up::"])]);
        assert_eq!(e2e_runs(&strings(&["e2e_cluster"])), vec![run(&["e2e_cluster::"])]);
    }

    #[test]
    fn the_helm3_subset_and_the_fault_suite_have_these_command_lines() {
        assert_eq!(
            e2e_args(TEST_BINARY, HELM3_COMPAT_FILTERS).join(" "),
            "test --no-fail-fast --features e2e --test tests -- --test-threads=1 \
             e2e_up::the_example_stack_comes_up_in_order e2e_up::a_helm_given_no_values \
             e2e_revise::review_rounds_reuse"
        );
        assert_eq!(
            e2e_args(crate::faults::FAULTS_TEST, &["registry"]).join(" "),
            "test --no-fail-fast --features e2e --test e2e_faults -- --test-threads=1 registry"
        );
    }

    #[test]
    fn the_helm3_filters_name_tests_that_exist() {
        let modules = e2e_modules(&repo_root()).unwrap();
        for filter in HELM3_COMPAT_FILTERS {
            let (module, test) = filter.split_once("::").unwrap();
            assert!(modules.iter().any(|m| m == module), "{filter}: no module {module}");
            let source = std::fs::read_to_string(repo_root().join(format!("tests/{module}.rs"))).unwrap();
            assert!(source.contains(&format!("fn {test}")), "{filter}: tests/{module}.rs has no test {test}…");
        }
    }

    /// With `autotests = false` a file that tests/tests.rs does not declare is never compiled:
    /// its tests would silently not run.
    #[test]
    fn every_test_file_is_a_module_of_the_test_binary() {
        let root = std::fs::read_to_string(repo_root().join("tests/tests.rs")).unwrap();
        let mut declared = Vec::new();
        // `mod NAME;` lines, then the names in `e2e_modules! { … }` (declared behind the feature).
        let mut in_e2e = false;
        for line in root.lines() {
            if line == "e2e_modules! {" {
                in_e2e = true;
            } else if in_e2e && line == "}" {
                in_e2e = false;
            } else if in_e2e {
                let module = line.trim();
                assert!(module.starts_with("e2e_"), "{module} is declared behind the e2e feature");
                declared.push(module.to_string());
            } else if let Some(module) = line.strip_prefix("mod ").and_then(|l| l.strip_suffix(';')) {
                assert!(!module.starts_with("e2e_"), "mod {module}: e2e modules go in e2e_modules! {{ … }}");
                if module != "support" {
                    declared.push(module.to_string());
                }
            }
        }
        declared.sort();
        let files: Vec<String> =
            test_files(&repo_root()).unwrap().into_iter().filter(|f| f != crate::faults::FAULTS_TEST).collect();
        assert_eq!(declared, files, "tests/tests.rs declares each tests/*.rs but e2e_faults.rs");
        // The e2e step's module filters (`e2e_up::`) are substrings: no module's name may end
        // with an e2e module's (`import::` does select `e2e_import::` too, but no run uses it).
        for e2e in e2e_modules(&repo_root()).unwrap() {
            for other in files.iter().filter(|f| **f != e2e) {
                assert!(!other.ends_with(&e2e), "module {other} ends with {e2e}: the filter {e2e}:: selects both");
            }
        }
    }
}
