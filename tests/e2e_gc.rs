//! End to end: the codex-gc chart installs gc as a CronJob with a minimal ClusterRole, and a
//! sweep it runs deletes an expired managed namespace and nothing else.
//! Needs KUBECONFIG, CODEX_HELM and CODEX_E2E_GC_IMAGE (`cargo xtask test` provides them).

use crate::support::cluster::*;
use crate::support::*;

use std::process::Command;

fn namespace(name: &str, managed_by: &str, last_activity: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n  labels:\n    app.kubernetes.io/managed-by: {managed_by}\n    codex-k8s.dev/project: codex\n  annotations:\n    codex-k8s.dev/last-activity: \"{last_activity}\"\n    codex-k8s.dev/idle-ttl: 1h\n---\n"
    )
}

/// Whether the namespace is there and not being deleted. Only NotFound means gone: any other
/// kubectl failure fails the test, so "deleted" is never concluded from an unreachable cluster.
fn exists(name: &str) -> bool {
    let out = kubectl(&["get", "namespace", name, "-o", "jsonpath={.status.phase}"]);
    if !out.status.success() {
        let stderr = text(&out.stderr);
        assert!(stderr.contains("NotFound") || stderr.contains("not found"), "reading namespace {name}: {stderr}");
        return false;
    }
    text(&out.stdout) != "Terminating"
}

#[test]
fn the_gc_cronjob_deletes_only_expired_managed_namespaces() {
    let image = std::env::var("CODEX_E2E_GC_IMAGE").expect("CODEX_E2E_GC_IMAGE names the gc image");
    let (repository, tag) = image.rsplit_once(':').expect("repository:tag");
    let helm = std::env::var("CODEX_HELM").expect("CODEX_HELM points at helm");
    let system = "codex-gc-e2e";
    let (expired, active, foreign) = ("codex-e2e-gc-expired", "codex-e2e-gc-active", "codex-e2e-gc-foreign");
    // gc's own namespace too: a CronJob left by a failed run would sweep during later tests.
    let _namespaces = NamespaceGuard::fresh_all(&[expired, active, foreign, system]);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("namespaces.yaml");
    let now = k8s_openapi::jiff::Timestamp::now().to_string();
    let manifests = namespace(expired, "kubectl-codex", "2020-01-01T00:00:00Z")
        + &namespace(active, "kubectl-codex", &now)
        + &namespace(foreign, "somebody-else", "2020-01-01T00:00:00Z");
    std::fs::write(&file, manifests).unwrap();
    let applied = kubectl(&["apply", "-f", file.to_str().unwrap()]);
    assert!(applied.status.success(), "{}", text(&applied.stderr));

    let chart = concat!(env!("CARGO_MANIFEST_DIR"), "/charts/codex-gc");
    let install = Command::new(&helm)
        .args(["upgrade", "--install", "gc", chart, "-n", system, "--create-namespace", "--wait"])
        .args(["--set", &format!("image.repository={repository}"), "--set", &format!("image.tag={tag}")])
        .output()
        .unwrap();
    assert!(install.status.success(), "{}", text(&install.stderr));
    let _ = kubectl(&["-n", system, "delete", "job", "sweep-now", "--ignore-not-found"]);
    let created = kubectl(&["-n", system, "create", "job", "--from=cronjob/gc-codex-gc", "sweep-now"]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let waited = kubectl(&["-n", system, "wait", "--for=condition=complete", "job/sweep-now", "--timeout=120s"]);
    let logs = text(&kubectl(&["-n", system, "logs", "job/sweep-now"]).stdout);
    assert!(waited.status.success(), "the sweep job did not complete: {}\nlogs:\n{logs}", text(&waited.stderr));
    assert!(logs.contains(&format!("deleted       {expired}")), "{logs}");

    assert!(!exists(expired), "the expired managed namespace is deleted");
    assert!(exists(active), "the active managed namespace stays");
    assert!(exists(foreign), "a namespace managed by somebody else stays");

    // The chart's ClusterRole and binding outlive the namespaces the guard deletes.
    let _ = Command::new(&helm).args(["uninstall", "gc", "-n", system]).output();
}
