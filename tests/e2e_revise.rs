//! End to end, on the local cluster: review rounds reuse the warm environment within its idle
//! TTL, gc removes it after the TTL (and never an unmanaged look-alike), the next round brings
//! it back, and two concurrent rounds never interleave.

use crate::support::cluster::*;
use crate::support::*;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const ISSUE: &str = "901";
const NAMESPACE: &str = "codex-ai-issue-901";
const TTL: &str = "25s";

/// services.yaml whose `ai` environment runs the prod images (the dev runtime has its own
/// tests), with `extra_env` added to greeter.
fn variant(dir: &Path, greeting_env: &str) -> PathBuf {
    let original = std::fs::read_to_string(root().join("services.yaml")).unwrap();
    let mut changed = original.replacen("  ai:\n    from: dev\n", "  ai:\n    from: prod\n", 1);
    assert_ne!(changed, original, "the ai environment inherits from dev in services.yaml");
    // The first `env:` after greeter's image is greeter's own.
    let greeter = changed.find("      image: greeter\n").expect("the example's greeter workload");
    let env = greeter + changed[greeter..].find("      env:\n").expect("greeter has env") + "      env:\n".len();
    changed.insert_str(env, &format!("        REVIEW_ROUND: \"{greeting_env}\"\n"));
    let path = dir.join("services.yaml");
    std::fs::write(&path, changed).unwrap();
    path
}

/// `revise ISSUE --env ai` of `file` with the images as xtask pushed them (`--skip-build`).
fn revise_args(file: &Path) -> [&str; 11] {
    ["revise", "--skip-build", ISSUE, "-f", file.to_str().unwrap(), "--env", "ai", "--ttl", TTL, "-o", "json"]
}

fn revise(file: &Path) -> Value {
    let out = codex(&revise_args(file));
    assert_eq!(out.status.code(), Some(0), "revise failed:\n{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn results(summary: &Value) -> Vec<(String, String)> {
    summary["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap().into(), p["result"].as_str().unwrap().into()))
        .collect()
}

fn namespace_uid(name: &str) -> Option<String> {
    let out = kubectl(&["get", "namespace", name, "-o", "jsonpath={.metadata.uid}"]);
    out.status.success().then(|| text(&out.stdout))
}

fn gc() -> Value {
    let out = codex(&["gc", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn action_for(report: &Value, namespace: &str) -> Option<String> {
    report["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["namespace"] == namespace)
        .map(|d| d["action"].as_str().unwrap().to_string())
}

#[test]
fn review_rounds_reuse_expire_and_come_back_and_never_interleave() {
    let lookalike = "codex-ai-issue-901-lookalike";
    let _namespaces = NamespaceGuard::fresh_all(&[NAMESPACE, lookalike]);
    let dir = tempfile::tempdir().unwrap();

    // Round 1: nothing there yet.
    let first = revise(&variant(dir.path(), "1"));
    assert_eq!(first["path"], "create", "{first}");
    assert!(results(&first).iter().all(|(_, r)| r == "deployed"), "{first}");
    let uid = namespace_uid(NAMESPACE).expect("the namespace exists");

    // Round 2 within the TTL, with a change to one internal service: same namespace, only
    // the changed phase is upgraded.
    let second = revise(&variant(dir.path(), "2"));
    assert_eq!(second["path"], "reuse", "{second}");
    assert_eq!(namespace_uid(NAMESPACE).as_deref(), Some(uid.as_str()));
    let expected: Vec<(String, String)> = [
        ("stateful", "skipped"),
        ("migrations", "skipped"),
        ("internal", "deployed"),
        ("edge", "skipped"),
        ("frontend", "skipped"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(results(&second), expected);

    // An unmanaged namespace that looks like ours, long idle: gc must never touch it.
    let manifest = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {lookalike}\n  labels:\n    codex-k8s.dev/project: codex\n    codex-k8s.dev/env: ai\n    codex-k8s.dev/issue: \"{ISSUE}\"\n    app.kubernetes.io/managed-by: somebody-else\n  annotations:\n    codex-k8s.dev/last-activity: \"2020-01-01T00:00:00Z\"\n    codex-k8s.dev/idle-ttl: 1s\n"
    );
    let path = dir.path().join("lookalike.yaml");
    std::fs::write(&path, manifest).unwrap();
    assert!(kubectl(&["apply", "-f", path.to_str().unwrap()]).status.success());

    // gc while active: kept.
    let report = gc();
    assert_eq!(action_for(&report, NAMESPACE).as_deref(), Some("kept"), "{report}");
    assert_eq!(action_for(&report, lookalike), None, "unmanaged namespaces are not even considered");

    // Past the TTL: gc removes ours and leaves the look-alike.
    std::thread::sleep(Duration::from_secs(30));
    let dry = codex(&["gc", "--dry-run", "-o", "json"]);
    let dry: Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(action_for(&dry, NAMESPACE).as_deref(), Some("would-delete"), "{dry}");
    assert!(namespace_uid(NAMESPACE).is_some(), "a dry run deletes nothing");
    let report = gc();
    assert_eq!(action_for(&report, NAMESPACE).as_deref(), Some("deleted"), "{report}");
    assert!(namespace_uid(lookalike).is_some(), "the look-alike survives gc");

    // The next round brings the environment back (waiting for the deletion if needed).
    let third = revise(&variant(dir.path(), "3"));
    assert!(third["path"] == "create" || third["path"] == "recreate", "{third}");
    let new_uid = namespace_uid(NAMESPACE).unwrap();
    assert_ne!(new_uid, uid, "a fresh namespace");
    assert!(results(&third).iter().all(|(_, r)| r == "deployed"), "{third}");

    // Two concurrent rounds: the lease serialises them; their phases never interleave.
    let file = variant(dir.path(), "4");
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
            .args(revise_args(&file))
            .env("CODEX_INPUT_DBPASSWORD", DB_PASSWORD)
            .current_dir(root())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert_eq!(a.status.code(), Some(0), "{}", text(&a.stderr));
    assert_eq!(b.status.code(), Some(0), "{}", text(&b.stderr));
    let evidence = codex(&["evidence", "-n", NAMESPACE, "-o", "json"]);
    let records: Value = serde_json::from_slice(&evidence.stdout).unwrap();
    let records = records.as_array().unwrap();
    assert!(records.len() >= 3, "the fresh namespace holds round 3 and both concurrent rounds");
    for pair in records.windows(2) {
        let (earlier, later) = (&pair[0], &pair[1]);
        let finished: k8s_openapi::jiff::Timestamp = earlier["finishedAt"].as_str().expect("finished").parse().unwrap();
        let started: k8s_openapi::jiff::Timestamp = later["startedAt"].as_str().unwrap().parse().unwrap();
        assert!(
            started >= finished,
            "run {} started at {started} before run {} finished at {finished}",
            later["runId"],
            earlier["runId"]
        );
    }
    let verify = codex(&["evidence", "-n", NAMESPACE, "--verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify.stdout));
}
