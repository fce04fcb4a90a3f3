//! End to end, on the local cluster with the real helm: the repository's own services.yaml
//! comes up phase by phase, works, and proves its order; a broken unit stops its phase and
//! everything after it; reruns converge, also after the process was killed mid-phase.
//! Needs KUBECONFIG, CODEX_HELM and the example images in the local registry
//! (`cargo xtask test` provides all three).

use crate::support::cluster::*;
use crate::support::*;

use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `up --env staging -o json` of `file` with the images as xtask pushed them (`--skip-build`:
/// the cluster's example images are assembled without a builder).
fn up_staging(file: &std::path::Path, timeout: &str) -> std::process::Output {
    codex(&["up", "--skip-build", "-f", file.to_str().unwrap(), "--env", "staging", "--timeout", timeout, "-o", "json"])
}

/// GET through the API server's service proxy: the same path the readiness hooks take.
fn get(namespace: &str, service: &str, path: &str) -> String {
    let url = format!("/api/v1/namespaces/{namespace}/services/{service}:80/proxy{path}");
    let out = kubectl(&["get", "--raw", &url]);
    assert!(out.status.success(), "GET {url}: {}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn the_example_stack_comes_up_in_order_works_and_proves_it() {
    let namespace = "codex-staging";
    let _namespace = NamespaceGuard::fresh(namespace);
    let started = Instant::now();
    let out = codex(&["up", "--skip-build", "--env", "staging", "--timeout", "5m", "-o", "json"]);
    let cold = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "up failed:\n{}", text(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected: Vec<(String, String)> = ["stateful", "migrations", "internal", "edge", "frontend"]
        .iter()
        .map(|p| (p.to_string(), "deployed".to_string()))
        .collect();
    assert_eq!(phases(&summary), expected);
    // Every release was recorded by Helm before `up` returned, although the next phase did
    // not wait for Helm's own wait; and the migrations phase moved on at the migration's exit.
    let statuses = kubectl(&[
        "get", "secrets", "-n", namespace, "-l", "owner=helm",
        "-o", "jsonpath={range .items[*]}{.metadata.labels.name}={.metadata.labels.status} {end}",
    ]);
    let statuses = text(&statuses.stdout);
    let recorded: Vec<&str> = statuses.split_whitespace().collect();
    assert_eq!(recorded.len(), 5, "{statuses}");
    assert!(recorded.iter().all(|r| r.ends_with("=deployed")), "{statuses}");
    let evidence = codex(&["evidence", "-n", namespace, "-o", "json"]);
    let records: Value = serde_json::from_slice(&evidence.stdout).unwrap();
    let migrate = &records[0]["phases"][1]["units"][0];
    assert_eq!(migrate["name"], "migrate", "{migrate}");
    let observed = migrate["observed"].to_string();
    assert!(observed.contains("exited 0"), "the Job counts as complete at its pod's exit: {observed}");
    assert!(records[0]["phases"].as_array().unwrap().iter().all(|p| p.get("helmPending").is_none()), "{records}");

    // The migration ran: an internal service reads the row it seeded.
    let greeting: Value = serde_json::from_str(&get(namespace, "greeter", "/greeting")).unwrap();
    assert_eq!(greeting["fromDatabase"], "hello from the database");
    // The gateway reaches both internal services by Service DNS.
    let through_gateway: Value = serde_json::from_str(&get(namespace, "gateway", "/api/greeting")).unwrap();
    assert_eq!(through_gateway["service"], "greeter");
    let items: Value = serde_json::from_str(&get(namespace, "gateway", "/api/items")).unwrap();
    assert_eq!(items.as_array().map(Vec::len), Some(3), "{items}");
    // The frontend is served, and reaches the API through the gateway.
    assert!(get(namespace, "web", "/").contains("<div id=\"app\""), "the page is served");
    let via_web: Value = serde_json::from_str(&get(namespace, "web", "/api/greeting")).unwrap();
    assert_eq!(via_web["service"], "greeter");

    let verify = codex(&["evidence", "-n", namespace, "--verify", "-o", "json"]);
    assert_eq!(verify.status.code(), Some(0), "{}{}", text(&verify.stdout), text(&verify.stderr));
    let verdict: Value = serde_json::from_slice(&verify.stdout).unwrap();
    assert_eq!(verdict["verified"], true);
    assert!(verdict["proofs"].as_array().unwrap().len() >= 5, "{verdict}");

    // A rerun with no change touches nothing and is quick.
    let started = Instant::now();
    let again = codex(&["up", "--skip-build", "--env", "staging", "-o", "json"]);
    let warm = started.elapsed();
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    let summary: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert!(phases(&summary).iter().all(|(_, result)| result == "skipped"), "{summary}");
    eprintln!("cold up {:.1}s, unchanged rerun {:.1}s", cold.as_secs_f64(), warm.as_secs_f64());
    // Quick: a skipped phase costs reads, not a rollout. A third of the cold run leaves room for
    // a slow API server and still fails if a phase were installed again and waited for.
    assert!(warm * 3 < cold, "the unchanged rerun took {warm:?}, the cold run {cold:?}");

    let status = codex(&["status", "-n", namespace, "-o", "json"]);
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["managed"], true);
    assert_eq!(status["phases"].as_array().unwrap().len(), 5);
}

#[test]
fn a_unit_that_exits_fails_its_phase_and_nothing_after_it_is_installed() {
    let namespace = "codex-e2e-broken";
    let _namespace = NamespaceGuard::fresh(namespace);
    let dir = tempfile::tempdir().unwrap();
    // greeter cannot listen on a port named "broken" and exits at once.
    let broken = staging_variant(dir.path(), namespace, |t| {
        t.replacen(
            "PGPASSWORD: { secret: db, key: password }\n      ports:",
            "PGPASSWORD: { secret: db, key: password }\n        PORT: broken\n      ports:",
            1,
        )
    });
    let out = up_staging(&broken, "3m");
    assert_eq!(out.status.code(), Some(5), "a failed phase exits 5\n{}", text(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        phases(&summary),
        vec![
            ("stateful".into(), "deployed".into()),
            ("migrations".into(), "deployed".into()),
            ("internal".into(), "failed".into())
        ]
    );
    let stderr = text(&out.stderr);
    assert!(stderr.contains("unit greeter (Deployment) is not ready"), "{stderr}");
    assert!(stderr.contains("last log lines"), "diagnostics include the logs:\n{stderr}");
    let installed = release_names(namespace);
    assert!(
        !installed.iter().any(|r| r == "codex-edge" || r == "codex-frontend"),
        "later phases stay uninstalled: {installed:?}"
    );
    let evidence = codex(&["evidence", "-n", namespace, "-o", "json"]);
    let records: Value = serde_json::from_slice(&evidence.stdout).unwrap();
    assert_eq!(records[0]["result"], "failed");
    assert_eq!(records[0]["phases"][2]["result"], "failed");

    // Fix the cause, rerun: it converges without any manual cleanup.
    let fixed = staging_variant(dir.path(), namespace, |t| t);
    let out = up_staging(&fixed, "5m");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(phases(&summary).iter().all(|(_, r)| r == "deployed" || r == "skipped"), "{summary}");
    assert_eq!(phases(&summary).len(), 5);
    let verify = codex(&["evidence", "-n", namespace, "--verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify.stdout));
}

/// `up` of the staging stack edited by `edit`, in the fresh namespace `namespace` (removed
/// afterwards), which must fail a phase (exit 5): its `-o json` summary and its stderr.
fn failing_up(namespace: &str, edit: impl Fn(String) -> String) -> (Value, String) {
    let _namespace = NamespaceGuard::fresh(namespace);
    let dir = tempfile::tempdir().unwrap();
    let out = up_staging(&staging_variant(dir.path(), namespace, edit), "3m");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "a failed phase exits 5\n{stderr}");
    (serde_json::from_slice(&out.stdout).unwrap(), stderr)
}

#[test]
fn an_image_the_registry_does_not_have_fails_its_phase_at_once() {
    let (summary, stderr) = failing_up("codex-e2e-noimage", |t| {
        t.replacen("repository: codex-example/catalog", "repository: codex-example/no-such-image", 1)
    });
    assert_eq!(phases(&summary).last(), Some(&("internal".to_string(), "failed".to_string())), "{summary}");
    // Reported as what it is, not as a timeout: the registry said "not found".
    assert!(stderr.contains("unit catalog (Deployment) is not ready"), "{stderr}");
    assert!(stderr.contains("ErrImagePull") || stderr.contains("ImagePullBackOff"), "{stderr}");
    assert!(stderr.contains("not found") && !stderr.contains("timed out"), "{stderr}");
}

/// The TCP hook waits only a few times the port-forward's opening for the node's refusal
/// (cluster::hooks::refusal_wait): a port nothing listens on must still be told apart.
#[test]
fn a_tcp_hook_on_a_port_nothing_listens_on_fails_its_phase_with_the_refusal() {
    let (summary, stderr) = failing_up("codex-e2e-refused", |t| {
        t.replacen("        - tcp: { port: postgres }\n", "        - { tcp: { port: 5433 }, timeout: 4s }\n", 1)
    });
    assert_eq!(phases(&summary), vec![("stateful".into(), "failed".into())], "{summary}");
    assert!(stderr.contains("readiness hook of postgres"), "{stderr}");
    assert!(stderr.contains("connection refused"), "every attempt saw the refusal:\n{stderr}");
}

#[test]
fn a_run_killed_mid_phase_converges_on_the_next_run() {
    let namespace = "codex-e2e-killed";
    let _namespace = NamespaceGuard::fresh(namespace);
    let dir = tempfile::tempdir().unwrap();
    let file = staging_variant(dir.path(), namespace, |t| t);
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(["up", "--skip-build", "-f", file.to_str().unwrap(), "--env", "staging", "--timeout", "5m"])
        .current_dir(root())
        .env("CODEX_INPUT_DBPASSWORD", DB_PASSWORD)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once the internal phase's release is being written.
    let deadline = Instant::now() + Duration::from_secs(300);
    while !release_names(namespace).iter().any(|r| r == "codex-internal") {
        assert!(Instant::now() < deadline, "the internal phase never started");
        std::thread::sleep(Duration::from_millis(300));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let out = up_staging(&file, "5m");
    assert_eq!(out.status.code(), Some(0), "the rerun converges:\n{}", text(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(phases(&summary).len(), 5);
    let verify = codex(&["evidence", "-n", namespace, "--verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify.stdout));
}

#[test]
fn status_watch_prints_a_line_when_a_unit_changes_and_ends_after_its_timeout() {
    let namespace = "codex-e2e-watch";
    let _namespace = NamespaceGuard::fresh(namespace);
    let dir = tempfile::tempdir().unwrap();
    let file = staging_variant(dir.path(), namespace, |t| t);
    let out = up_staging(&file, "5m");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let timeout = Duration::from_secs(25);
    let started = Instant::now();
    let watch = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(["status", "-n", namespace, "--watch", "--watch-timeout", "25s"])
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once the first table is out, replace greeter's pod: its row must change.
    std::thread::sleep(Duration::from_secs(4));
    let deleted = kubectl(&["delete", "pod", "-n", namespace, "-l", "app.kubernetes.io/name=greeter", "--wait=false"]);
    assert!(deleted.status.success(), "{}", text(&deleted.stderr));
    let out = watch.wait_with_output().unwrap();
    let elapsed = started.elapsed();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "the timeout ends the watch with 0:\n{stdout}\n{}", text(&out.stderr));
    assert!(elapsed >= timeout && elapsed < timeout + Duration::from_secs(20), "ended after {elapsed:?}:\n{stdout}");

    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with(&format!("namespace {namespace} at ")), "{stdout}");
    assert!(lines[1].starts_with("PHASE") && lines[1].contains("LAST EVENT"), "a table first:\n{stdout}");
    let table_row =
        |unit: &str| lines.iter().take(12).any(|l| l.split_whitespace().nth(1) == Some(unit) && l.contains("ready:"));
    for unit in ["postgres", "greeter", "catalog", "gateway", "web"] {
        assert!(table_row(unit), "the first table shows {unit} ready:\n{stdout}");
    }
    assert!(
        lines.iter().any(|l| l.contains(" internal/greeter Deployment: ")),
        "a line for greeter after its pod was replaced:\n{stdout}"
    );
    assert!(lines.last().unwrap().ends_with("watch ended"), "{stdout}");
}

/// A helm started ahead of its phase (deploy::standby) whose `up` died before handing it the
/// values reads nothing on its standard input: with the guard file first, the real Helm then
/// finds the chart without `global` and refuses the install, and records no release.
#[test]
fn a_helm_given_no_values_installs_nothing() {
    let namespace = "codex-e2e-novalues";
    let _namespace = NamespaceGuard::fresh(namespace);
    let created = kubectl(&["create", "namespace", namespace]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let dir = tempfile::tempdir().unwrap();
    let guard = dir.path().join("guard.yaml");
    std::fs::write(&guard, kubectl_codex::values::STDIN_GUARD).unwrap();
    let helm = std::env::var("CODEX_HELM").expect("CODEX_HELM points at helm");
    let out = Command::new(helm)
        .args(["upgrade", "--install", "codex-edge"])
        .arg(root().join("charts/codex-env"))
        .args(["--namespace", namespace, "--values"])
        .arg(&guard)
        .args(["--values", "-", "--timeout", "60s"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "an install without values must fail:\n{}", text(&out.stdout));
    assert!(stderr.contains("missing property 'global'"), "{stderr}");
    assert_eq!(release_names(namespace), Vec::<String>::new(), "no release is recorded");
}
