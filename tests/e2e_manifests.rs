//! End to end, on the local cluster with the real helm: a stack whose every unit is plain
//! manifests (tests/fixtures/manifest-stack) comes up phase by phase, every object gated on
//! its own readiness and recorded in the evidence; a same-phase dependency is installed in a
//! wave of its own; a failing init container stops its phase and everything after it; a kind
//! the API server does not serve stops `up` before anything is applied; and every object
//! rendered for every environment of the example and of the fixture passes
//! `kubectl apply --dry-run=server`.
//! Needs KUBECONFIG, CODEX_HELM and CODEX_E2E_PROBE_IMAGE (`cargo xtask test` sets them).

use crate::support::cluster::*;
use crate::support::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A copy of the fixture in `dir` with the probe image filled in and `edit` applied to
/// services.yaml.
fn fixture(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let probe = std::env::var("CODEX_E2E_PROBE_IMAGE").expect("CODEX_E2E_PROBE_IMAGE (cargo xtask test sets it)");
    let source = root().join("tests/fixtures/manifest-stack");
    std::fs::create_dir_all(dir.join("deploy")).unwrap();
    for entry in std::fs::read_dir(source.join("deploy")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join("deploy").join(entry.file_name())).unwrap();
    }
    let text = std::fs::read_to_string(source.join("services.yaml")).unwrap();
    let path = dir.join("services.yaml");
    std::fs::write(&path, edit(text).replace("PROBE_IMAGE", &probe)).unwrap();
    path
}

fn codex_with(file: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec![args[0], "-f", file.to_str().unwrap()];
    all.extend(&args[1..]);
    codex(&all)
}

fn phase<'a>(record: &'a Value, name: &str) -> &'a Value {
    record["phases"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("no phase {name}"))
}

fn unit<'a>(phase: &'a Value, name: &str) -> &'a Value {
    phase["units"].as_array().unwrap().iter().find(|u| u["name"] == name).unwrap_or_else(|| panic!("no unit {name}"))
}

fn seconds(text: &Value) -> i64 {
    let stamp: k8s_openapi::jiff::Timestamp = text.as_str().unwrap().parse().unwrap();
    stamp.as_second()
}

#[test]
fn manifest_units_come_up_phase_by_phase_with_every_object_gated() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture(dir.path(), |t| t);
    let _namespace = NamespaceGuard::fresh("shop-staging");
    let out = codex_with(&file, &["up", "--skip-build", "--env", "staging", "--timeout", "4m", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "up failed:\n{}", text(&out.stderr));

    let out = codex_with(&file, &["evidence", "--env", "staging", "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let records: Value = serde_json::from_slice(&out.stdout).unwrap();
    let record = records.as_array().unwrap().last().unwrap();
    let names: Vec<&str> = record["phases"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["stateful", "migrations", "internal", "edge"]);
    // Every object of every unit was seen ready, and the evidence says how.
    for phase in record["phases"].as_array().unwrap() {
        assert_eq!(phase["result"], "deployed", "{phase}");
        for unit in phase["units"].as_array().unwrap() {
            assert_eq!(unit["kind"], "manifests");
            for object in unit["objects"].as_array().unwrap() {
                assert!(object["readyAt"].is_string() && object["observed"].is_string(), "{object}");
            }
        }
    }
    let db = unit(phase(record, "stateful"), "db");
    let observed: Vec<&str> =
        db["objects"].as_array().unwrap().iter().map(|o| o["observed"].as_str().unwrap()).collect();
    assert!(observed.iter().any(|o| o.starts_with("statefulset ready")), "{observed:?}");
    let agent = unit(phase(record, "stateful"), "node-agent");
    let agent_seen: Vec<&str> =
        agent["objects"].as_array().unwrap().iter().map(|o| o["observed"].as_str().unwrap()).collect();
    assert!(agent_seen.iter().any(|o| o.starts_with("daemonset available")), "{agent_seen:?}");
    assert!(agent_seen.contains(&"bound") || agent_seen.iter().any(|o| o.contains("first consumer")), "{agent_seen:?}");
    let migrate = unit(phase(record, "migrations"), "migrate");
    // Like a typed Job unit: complete at its pod's exit, before the condition says so.
    let seen = migrate["objects"][0]["observed"].as_str().unwrap_or_default();
    assert!(seen.contains("exited 0"), "the manifest Job counts as complete at its pod's exit: {seen}");

    // The same-phase dependency: worker was created only after api was ready, in a wave
    // (revision) of its own.
    let internal = phase(record, "internal");
    let waves = internal["waves"].as_array().unwrap();
    assert_eq!(waves.len(), 2, "{internal}");
    assert_eq!(waves[0]["units"], serde_json::json!(["api"]));
    assert_eq!(waves[1]["units"], serde_json::json!(["worker"]));
    assert!(waves[1]["revision"].as_u64() > waves[0]["revision"].as_u64());
    let (api, worker) = (unit(internal, "api"), unit(internal, "worker"));
    assert!(seconds(&worker["createdAt"]) >= seconds(&api["readyAt"]), "worker {worker}\napi {api}");

    let out = codex_with(&file, &["evidence", "--env", "staging", "--verify", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "verify:\n{}\n{}", text(&out.stdout), text(&out.stderr));
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    let proofs = verdict["proofs"].to_string();
    assert!(proofs.contains("unit worker was created at"), "{proofs}");
    assert!(proofs.contains("(wave 1: worker)"), "{proofs}");

    // The edits landed: the claim mounted into the DaemonSet, the patch on api, kinds dropped.
    let mounts = kubectl(&[
        "get",
        "daemonset",
        "node-agent",
        "-n",
        "shop-staging",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].volumeMounts[*].mountPath}",
    ]);
    assert_eq!(text(&mounts.stdout), "/cache");
    let patched = kubectl(&[
        "get",
        "deployment",
        "api",
        "-n",
        "shop-staging",
        "-o",
        "jsonpath={.spec.template.metadata.annotations.shop\\.example/patched}",
    ]);
    assert_eq!(text(&patched.stdout), "yes");
    let dropped = kubectl(&["get", "configmap", "ingress-notes", "-n", "shop-staging"]);
    assert!(!dropped.status.success() && text(&dropped.stderr).contains("NotFound"), "{}", text(&dropped.stderr));
    let ingress = kubectl(&["get", "ingress", "shop", "-n", "shop-staging", "-o", "jsonpath={.spec.rules[0].host}"]);
    assert_eq!(text(&ingress.stdout), "shop-staging.shop.test");

    // Nothing changed: every phase is skipped.
    let out = codex_with(&file, &["up", "--skip-build", "--env", "staging", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "rerun:\n{}", text(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results: Vec<&str> =
        summary["phases"].as_array().unwrap().iter().map(|p| p["result"].as_str().unwrap()).collect();
    assert_eq!(results, ["skipped"; 4]);
}

#[test]
fn a_failing_init_container_fails_its_phase_and_installs_nothing_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let broken = |t: String| {
        t.replace(
            "    image: { name: probe, target: Job/migrate }\n",
            "    image: { name: probe, target: Job/migrate }\n    patches:\n      - target: Job/migrate\n        patch:\n          spec:\n            template:\n              spec:\n                initContainers:\n                  - { name: check-schema, image: PROBE_IMAGE, command: [/probe, get, \"http://127.0.0.1:1/\"] }\n",
        )
        .replace("\"{{ project }}-staging\"", "shop-e2e-broken")
    };
    let file = fixture(dir.path(), broken);
    let _namespace = NamespaceGuard::fresh("shop-e2e-broken");
    let out = codex_with(&file, &["up", "--skip-build", "--env", "staging", "--timeout", "3m"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "a failing init container exits 5\n{stderr}");
    assert!(stderr.contains("phase migrations failed"), "{stderr}");
    assert!(stderr.contains("check-schema (init)"), "names the init container:\n{stderr}");
    assert!(stderr.contains("Job/migrate"), "names the object:\n{stderr}");
    assert!(stderr.contains("last log lines"), "shows its log:\n{stderr}");
    assert_eq!(release_names("shop-e2e-broken"), ["codex-migrations", "codex-stateful"], "nothing after migrations");
}

#[test]
fn a_kind_the_api_server_does_not_serve_stops_up_before_anything_is_applied() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture(dir.path(), |t| t.replace("\"{{ project }}-staging\"", "shop-e2e-unknown-kind"));
    std::fs::write(
        dir.path().join("deploy/ingress.yaml"),
        "apiVersion: widgets.example.com/v1\nkind: Widget\nmetadata:\n  name: gadget\n",
    )
    .unwrap();
    let _namespace = NamespaceGuard::fresh("shop-e2e-unknown-kind");
    let out = codex_with(&file, &["up", "--skip-build", "--env", "staging"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("Widget/gadget") && stderr.contains("does not serve"), "{stderr}");
    let namespace = kubectl(&["get", "namespace", "shop-e2e-unknown-kind"]);
    assert!(text(&namespace.stderr).contains("NotFound"), "nothing applied, not even the namespace");
}

#[test]
fn every_rendered_object_passes_server_side_dry_run() {
    let dir = tempfile::tempdir().unwrap();
    let fixture_file = fixture(&dir.path().join("fixture"), |t| t);
    let example = root().join("services.yaml");
    let cases: Vec<(&Path, &[&str])> = vec![
        (&example, &["--env", "prod"]),
        (&example, &["--env", "staging"]),
        (&example, &["--env", "dev", "--slot", "1"]),
        (&example, &["--env", "ai", "--issue", "19"]),
        (&fixture_file, &["--env", "staging"]),
        (&fixture_file, &["--env", "review", "--issue", "5"]),
    ];
    for (i, (file, selection)) in cases.iter().enumerate() {
        let out_dir = dir.path().join(format!("render-{i}"));
        let mut args = vec!["render", "--out", out_dir.to_str().unwrap()];
        args.extend(selection.iter());
        let out = codex_with(file, &args);
        assert!(out.status.success(), "render {selection:?}: {}", text(&out.stderr));
        let mut plan_args = vec!["plan", "-o", "json"];
        plan_args.extend(selection.iter());
        let plan: Value = serde_json::from_slice(&codex_with(file, &plan_args).stdout).unwrap();
        let namespace = plan["namespace"].as_str().unwrap().to_string();
        let created = kubectl(&["create", "namespace", &namespace]);
        let guard = Cleanup(namespace.clone(), created.status.success());
        let mut phases: Vec<PathBuf> = std::fs::read_dir(&out_dir).unwrap().map(|e| e.unwrap().path()).collect();
        phases.sort();
        for phase in phases {
            let manifests = phase.join("manifests.yaml");
            // A phase whose every object this environment disables renders nothing to apply.
            if !std::fs::read_to_string(&manifests).unwrap().lines().any(|l| l.starts_with("kind:")) {
                continue;
            }
            let out = kubectl(&["apply", "--dry-run=server", "-n", &namespace, "-f", manifests.to_str().unwrap()]);
            assert!(out.status.success(), "{selection:?} {}: {}", manifests.display(), text(&out.stderr));
        }
        drop(guard);
    }
}

/// Deletes a namespace this test created, without waiting.
struct Cleanup(String, bool);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if self.1 {
            let _ = kubectl(&["delete", "namespace", &self.0, "--wait=false"]);
        }
    }
}
