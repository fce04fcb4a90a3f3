//! Faults a real cluster has, injected into the local cluster while `up` runs: the API server
//! paused and restarted, etcd and kubelet restarted, the process killed while it holds the
//! Lease, `down` while `up` runs, the whole cluster restarted, the registry down during a
//! build, a kubeconfig with the wrong CA. Each case asserts the outcome
//! the README's fault table promises, then `evidence --verify`.
//!
//! Needs what the other e2e tests need (BuildKit's BUILDKIT_HOST and CODEX_E2E_BUILDCTL
//! included), plus CODEX_FAULTS_XTASK (the xtask binary, which restarts components);
//! `cargo xtask faults` provides all of it. Every case prints one
//! `[fault] …` line with what it measured; xtask collects them for the README.

// The helpers of tests/tests.rs; this suite uses a few of them.
#[allow(dead_code)]
mod support;

use support::cluster::*;
use support::*;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The xtask binary, for `cluster restart` and `cluster pid`.
fn xtask(args: &[&str]) -> Output {
    let program = std::env::var("CODEX_FAULTS_XTASK").expect("CODEX_FAULTS_XTASK is set by `cargo xtask faults`");
    let out = Command::new(program).args(args).current_dir(root()).output().expect("xtask runs");
    assert!(out.status.success(), "xtask {}: {}", args.join(" "), text(&out.stderr));
    out
}

fn signal(component: &str, signal: &str) {
    let pid = text(&xtask(&["cluster", "pid", component]).stdout).trim().to_string();
    let out = Command::new("kill").args([&format!("-{signal}"), &pid]).output().unwrap();
    assert!(out.status.success(), "kill -{signal} {component} ({pid}): {}", text(&out.stderr));
}

/// `up` in the background, its stderr kept in `dir/up-N.stderr` for the assertions.
struct Run {
    child: Child,
    stderr: PathBuf,
    started: Instant,
}

fn spawn_up(dir: &Path, file: &Path, name: &str) -> Run {
    let stderr = dir.join(format!("{name}.stderr"));
    let child = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(["up", "--skip-build", "-f", file.to_str().unwrap(), "--env", "staging", "--timeout", "5m"])
        .current_dir(root())
        .env("CODEX_INPUT_DBPASSWORD", DB_PASSWORD)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    Run { child, stderr, started: Instant::now() }
}

/// How a run ended: exit code, stderr, when it ended, and when each stderr line arrived.
struct Ended {
    code: Option<i32>,
    stderr: String,
    at: Instant,
    lines: Vec<(Instant, String)>,
}

impl Run {
    /// Waits for the run to end, noting when each stderr line arrived (to within 50 ms).
    fn finish(mut self) -> Ended {
        let deadline = Instant::now() + Duration::from_secs(420);
        let mut lines: Vec<(Instant, String)> = Vec::new();
        loop {
            let exited = self.child.try_wait().unwrap();
            let stderr = std::fs::read_to_string(&self.stderr).unwrap_or_default();
            let complete: Vec<&str> = stderr.split_inclusive('\n').filter(|l| l.ends_with('\n')).collect();
            for line in &complete[lines.len().min(complete.len())..] {
                lines.push((Instant::now(), line.trim_end().to_string()));
            }
            if let Some(status) = exited {
                return Ended { code: status.code(), stderr, at: Instant::now(), lines };
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("up did not end within 7 minutes:\n{stderr}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Ended {
    /// From the line containing `marker` to the line after it.
    fn time_after(&self, marker: &str) -> Option<Duration> {
        let at = self.lines.iter().position(|(_, l)| l.contains(marker))?;
        let next = self.lines.get(at + 1).map(|(t, _)| *t).unwrap_or(self.at);
        Some(next - self.lines[at].0)
    }
}

/// Blocks until Helm has a release named `release` in `namespace` (its phase has begun).
fn wait_for_release(namespace: &str, release: &str) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while !release_names(namespace).iter().any(|r| r == release) {
        assert!(Instant::now() < deadline, "phase release {release} never appeared in {namespace}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn up_now(file: &Path) -> Output {
    codex(&["up", "--skip-build", "-f", file.to_str().unwrap(), "--env", "staging", "--timeout", "5m"])
}

fn assert_verifies(namespace: &str) {
    let verify = codex(&["evidence", "-n", namespace, "--verify"]);
    assert_eq!(verify.status.code(), Some(0), "evidence --verify:\n{}{}", text(&verify.stdout), text(&verify.stderr));
}

/// No phase left `deployed` in Helm while the run says it failed: every release in the
/// namespace is deployed after a converged run.
fn assert_all_releases_deployed(namespace: &str) {
    let out = codex(&["status", "-n", namespace, "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let phases = status["phases"].as_array().cloned().unwrap_or_default();
    assert_eq!(phases.len(), 5, "status lists the five phase releases: {status}");
    for phase in phases {
        assert_eq!(phase["status"], "deployed", "{phase}");
    }
}

fn report(case: &str, measured: &str) {
    println!("[fault] {case}: {measured}");
}

#[test]
fn api_server_paused_10s_during_up_the_run_finishes_and_verifies() {
    let namespace = "codex-fault-paused";
    let _namespace = NamespaceGuard::fresh(namespace);
    let dir = tempfile::tempdir().unwrap();
    let file = staging_variant(dir.path(), namespace, |text| text);
    let run = spawn_up(dir.path(), &file, "up");
    wait_for_release(namespace, "codex-migrations");
    signal("kube-apiserver", "STOP");
    std::thread::sleep(Duration::from_secs(10));
    signal("kube-apiserver", "CONT");
    let resumed = Instant::now();
    let started = run.started;
    let ended = run.finish();
    assert_eq!(ended.code, Some(0), "up rides out a 10 s stall:\n{}", ended.stderr);
    assert_verifies(namespace);
    assert_all_releases_deployed(namespace);
    report(
        "API server paused 10 s",
        &format!(
            "exit 0, run {:.1}s, finished {:.1}s after SIGCONT",
            (ended.at - started).as_secs_f64(),
            (ended.at - resumed).as_secs_f64()
        ),
    );
}

/// A component restarted while `up` is in `phase`: the run finishes, or fails with the
/// cluster's exit code and says why; either way the rerun converges and verifies.
fn restart_during_up(case: &str, namespace: &str, component: &str, phase_release: &str, must_finish: bool) {
    let _namespace = NamespaceGuard::fresh(namespace);
    let dir = tempfile::tempdir().unwrap();
    let file = staging_variant(dir.path(), namespace, |text| text);
    let run = spawn_up(dir.path(), &file, "up");
    wait_for_release(namespace, phase_release);
    let restart_started = Instant::now();
    xtask(&["cluster", "restart", component]);
    let back = restart_started.elapsed();
    let Ended { code, stderr, at: ended, .. } = run.finish();
    if must_finish {
        assert_eq!(code, Some(0), "up rides out a {component} restart:\n{stderr}");
    } else {
        assert!(matches!(code, Some(0) | Some(4) | Some(5)), "finishes or fails clearly (exit {code:?}):\n{stderr}");
        if code != Some(0) {
            assert!(stderr.lines().any(|l| l.starts_with("error")), "says why it failed:\n{stderr}");
        }
    }
    let rerun_started = Instant::now();
    let rerun = up_now(&file);
    assert_eq!(rerun.status.code(), Some(0), "the rerun converges:\n{}", text(&rerun.stderr));
    let rerun_took = rerun_started.elapsed();
    assert_verifies(namespace);
    assert_all_releases_deployed(namespace);
    let retries = stderr.matches("retrying (").count();
    report(
        case,
        &format!(
            "first run exit {}, {retries} retries, ended {:.1}s after the restart began ({component} back in {:.1}s); rerun exit 0 in {:.1}s",
            code.unwrap_or(-1),
            (ended - restart_started).as_secs_f64(),
            back.as_secs_f64(),
            rerun_took.as_secs_f64()
        ),
    );
}

#[test]
fn api_server_restarted_during_up_finishes_or_fails_clearly_and_the_rerun_converges() {
    restart_during_up("API server restarted", "codex-fault-apiserver", "kube-apiserver", "codex-migrations", false);
}

#[test]
fn etcd_restarted_during_up_finishes_or_fails_clearly_and_the_rerun_converges() {
    restart_during_up("etcd restarted", "codex-fault-etcd", "etcd", "codex-migrations", false);
}

#[test]
fn kubelet_restarted_while_a_phase_rolls_out_the_run_finishes() {
    restart_during_up("kubelet restarted", "codex-fault-kubelet", "kubelet", "codex-internal", true);
}

#[test]
fn up_killed_while_it_holds_the_lease_the_next_run_waits_at_most_the_lease_and_proceeds() {
    let namespace = "codex-fault-killed";
    let _namespace = NamespaceGuard::fresh(namespace);
    let dir = tempfile::tempdir().unwrap();
    let file = staging_variant(dir.path(), namespace, |text| text);
    let mut run = spawn_up(dir.path(), &file, "up");
    wait_for_release(namespace, "codex-internal");
    run.child.kill().unwrap(); // SIGKILL: no chance to release the Lease
    run.child.wait().unwrap();
    let killed = Instant::now();
    let rerun = spawn_up(dir.path(), &file, "rerun").finish();
    let took = rerun.at - killed;
    let stderr = &rerun.stderr;
    assert_eq!(rerun.code, Some(0), "{stderr}");
    let waited = rerun
        .time_after("waiting for the environment's lease")
        .unwrap_or_else(|| panic!("it waited for the dead run's lease:\n{stderr}"));
    assert!(waited <= Duration::from_secs(31), "waited {waited:?}, longer than the 30 s lease:\n{stderr}");
    assert_verifies(namespace);
    assert_all_releases_deployed(namespace);
    report(
        "up killed (SIGKILL) holding the Lease",
        &format!("next run waited {:.1}s for the lease, exit 0 after {:.1}s", waited.as_secs_f64(), took.as_secs_f64()),
    );
}

#[test]
fn down_while_up_runs_waits_for_the_lease_or_exits_7_after_the_lock_timeout() {
    let namespace = "codex-fault-down";
    let _namespace = NamespaceGuard::fresh(namespace);
    let dir = tempfile::tempdir().unwrap();
    let file = staging_variant(dir.path(), namespace, |text| text);
    let run = spawn_up(dir.path(), &file, "up");
    wait_for_release(namespace, "codex-migrations");
    let asked = Instant::now();
    let down = codex(&["down", "-n", namespace, "--lock-timeout", "2s"]);
    let refused_after = asked.elapsed();
    assert_eq!(down.status.code(), Some(7), "down gives up on the busy lease:\n{}", text(&down.stderr));
    assert!(text(&down.stderr).contains("busy"), "{}", text(&down.stderr));
    let ended = run.finish();
    assert_eq!(ended.code, Some(0), "up was not disturbed:\n{}", ended.stderr);
    assert_verifies(namespace);
    // With the default lock timeout, down waits for a run instead; here none runs any more.
    let down = codex(&["down", "-n", namespace]);
    assert_eq!(down.status.code(), Some(0), "{}", text(&down.stderr));
    report(
        "down while up runs",
        &format!("exit 7 after {:.1}s with --lock-timeout 2s; up exit 0", refused_after.as_secs_f64()),
    );
}

#[test]
fn the_whole_cluster_down_and_up_status_is_truthful_and_revise_recreates() {
    // Runs the ai environment on the prod images, as e2e_revise does.
    let issue = "902";
    let namespace = "codex-ai-issue-902";
    let _namespace = NamespaceGuard::fresh(namespace);
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(root().join("services.yaml")).unwrap();
    let changed = original.replacen("  ai:\n    from: dev\n", "  ai:\n    from: prod\n", 1);
    assert_ne!(changed, original, "the ai environment inherits from dev in services.yaml");
    let file = dir.path().join("services.yaml");
    std::fs::write(&file, changed).unwrap();
    let revise = || {
        codex(&[
            "revise",
            "--skip-build",
            issue,
            "-f",
            file.to_str().unwrap(),
            "--env",
            "ai",
            "--ttl",
            "1h",
            "-o",
            "json",
        ])
    };
    let first = revise();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));

    // `cluster down` removes the cluster's state (etcd included); `up` starts an empty one.
    let restarted = Instant::now();
    xtask(&["cluster", "down"]);
    xtask(&["cluster", "up"]);
    let back = restarted.elapsed();

    let status = codex(&["status", "-n", namespace, "-o", "json"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stderr));
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["exists"], false, "status says the environment is gone: {status}");

    let again = revise();
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    let decision = summary["namespaceDecision"].as_str().unwrap_or_default().to_string();
    assert!(decision.starts_with("create"), "a fresh environment, not a reuse: {summary}");
    assert_verifies(namespace);
    assert_all_releases_deployed(namespace);
    report(
        "whole cluster down and up",
        &format!("cluster back in {:.1}s; status: gone; revise: {decision}", back.as_secs_f64()),
    );
}

#[test]
fn a_kubeconfig_with_a_certificate_authority_that_did_not_sign_the_server_is_exit_4_with_the_tls_reason_at_once() {
    let kubeconfig = std::env::var("KUBECONFIG").expect("KUBECONFIG");
    let original = std::fs::read_to_string(&kubeconfig).unwrap();
    // The cluster's front-proxy CA is a real CA, just not the one that signed the API server.
    let pki = Path::new(&kubeconfig).parent().unwrap().join("pki");
    let other_ca = std::fs::read(pki.join("front-proxy-ca.crt")).unwrap();
    let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &other_ca);
    let changed: String = original
        .lines()
        .map(|line| match line.split_once("certificate-authority-data: ") {
            Some((indent, _)) => format!("{indent}certificate-authority-data: {encoded}\n"),
            None => format!("{line}\n"),
        })
        .collect();
    assert_ne!(changed, original);
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("kubeconfig");
    std::fs::write(&bad, changed).unwrap();
    let started = Instant::now();
    let out = codex(&["status", "-n", "codex-fault-tls", "--kubeconfig", bad.to_str().unwrap()]);
    let took = started.elapsed();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.to_lowercase().contains("certificate"), "gives the TLS reason: {stderr}");
    assert!(!stderr.contains("retrying"), "a bad certificate is final: {stderr}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    report("kubeconfig with the wrong CA", &format!("exit 4 in {:.2}s, no retries", took.as_secs_f64()));
}

#[test]
fn the_registry_down_during_build_is_exit_9_naming_it_and_the_rerun_after_it_is_back_builds() {
    let buildctl = std::env::var("CODEX_E2E_BUILDCTL").expect("CODEX_E2E_BUILDCTL names the buildctl binary");
    assert!(std::env::var_os("BUILDKIT_HOST").is_some(), "BUILDKIT_HOST names the buildkitd socket");
    let dir = tempfile::tempdir().unwrap();
    let from = root().join("testdata/build-e2e");
    let copied = Command::new("cp").arg("-a").arg(format!("{}/.", from.display())).arg(dir.path()).status().unwrap();
    assert!(copied.success());
    // Sources nobody built before, so the build really runs and pushes.
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    std::fs::write(dir.path().join("hello/message.txt"), format!("fault round {nanos}")).unwrap();
    let build = || {
        Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
            .args(["build", "--env", "e2e", "-o", "json", "--builder", "buildctl", "--buildctl", &buildctl])
            .current_dir(dir.path())
            .output()
            .unwrap()
    };

    signal("registry", "TERM");
    let stopped = Instant::now();
    let deadline = stopped + Duration::from_secs(20);
    while std::net::TcpStream::connect("127.0.0.1:5000").is_ok() {
        assert!(Instant::now() < deadline, "the registry did not stop");
        std::thread::sleep(Duration::from_millis(100));
    }
    let failed = build();
    let failed_after = stopped.elapsed();
    let stderr = text(&failed.stderr);
    // Whatever comes back up first, the registry has to be running again for the next cases.
    xtask(&["cluster", "up"]);
    assert_eq!(failed.status.code(), Some(9), "{stderr}");
    assert!(stderr.contains("registry 127.0.0.1:5000 is not available: 4 tries"), "retried, then named:\n{stderr}");

    let rerun_started = Instant::now();
    let rebuilt = build();
    let rerun_took = rerun_started.elapsed();
    assert_eq!(rebuilt.status.code(), Some(0), "{}", text(&rebuilt.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&rebuilt.stdout).unwrap();
    let images = if answer.is_array() { answer.clone() } else { answer["images"].clone() };
    let hello = images.as_array().unwrap().iter().find(|i| i["name"] == "hello").cloned().unwrap();
    assert_eq!(hello["status"], "built", "{answer}");
    report(
        "registry down during build",
        &format!(
            "exit 9 naming 127.0.0.1:5000 after {:.1}s; registry back, the rerun built in {:.1}s",
            failed_after.as_secs_f64(),
            rerun_took.as_secs_f64()
        ),
    );
}
