//! End to end, with the local registry, the local cluster and the real helm: an image named by
//! `mirror` is copied from another registry into the environment's (127.0.0.1:5000) by `up`'s
//! build step, and the pod runs it pinned by digest from there; the next run finds it present.
//! A second registry (the registry binary, on a free loopback port) plays the upstream, seeded
//! with the probe image by crane. Needs KUBECONFIG, CODEX_HELM, CODEX_E2E_PROBE_IMAGE,
//! CODEX_E2E_REGISTRY and CODEX_E2E_CRANE (`cargo xtask test` provides them).

use crate::support::cluster::*;
use crate::support::*;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// The fixture's project and namespace: this test's alone.
const NAMESPACE: &str = "codex-mirror-e2e";

fn crane(args: &[&str]) -> String {
    let crane =
        std::env::var("CODEX_E2E_CRANE").expect("CODEX_E2E_CRANE names the crane binary (cargo xtask test sets it)");
    let out = Command::new(crane).args(args).output().expect("crane runs");
    assert!(out.status.success(), "crane {args:?}: {}", text(&out.stderr));
    text(&out.stdout).trim().to_string()
}

/// kubectl-codex from `dir`, building (here: mirroring) before `up`, as a user runs it.
fn codex_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-codex")).args(args).current_dir(dir).output().expect("kubectl-codex runs")
}

fn json(out: &Output, what: &str) -> Value {
    assert_eq!(out.status.code(), Some(0), "{what} failed:\n{}\n{}", text(&out.stdout), text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{what}: not JSON ({e}):\n{}", text(&out.stdout)))
}

fn jsonpath(kind: &str, path: &str) -> String {
    let out =
        kubectl(&["get", kind, "-n", NAMESPACE, "-l", "app.kubernetes.io/name=web", "-o", &format!("jsonpath={path}")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn a_mirrored_image_is_copied_from_the_upstream_registry_and_deployed_by_digest() {
    let probe = std::env::var("CODEX_E2E_PROBE_IMAGE").expect("CODEX_E2E_PROBE_IMAGE (cargo xtask test sets it)");
    // The upstream: a second registry, open like Docker Hub's anonymous pulls.
    let upstream = LocalRegistry::start(&[], 200);
    let source = format!("{}/upstream/probe:1", upstream.address);
    crane(&["copy", "--insecure", &probe, &source]);
    let digest = crane(&["digest", "--insecure", &source]);
    assert!(digest.starts_with("sha256:"), "{digest}");

    let dir = tempfile::tempdir().unwrap();
    let fixture = std::fs::read_to_string(root().join("tests/fixtures/mirror-stack/services.yaml")).unwrap();
    let moved = fixture.replace("127.0.0.1:5999", &upstream.address);
    assert_ne!(moved, fixture, "the fixture names its upstream");
    std::fs::write(dir.path().join("services.yaml"), moved).unwrap();
    let _namespace = NamespaceGuard::fresh(NAMESPACE);

    // The upstream's port is new each run, so is the source, so is its mirror tag: copied now.
    let up = json(&codex_in(dir.path(), &["up", "--env", "e2e", "--timeout", "4m", "-o", "json"]), "first up");
    assert_eq!(up["result"], "deployed", "{up}");
    let image = &up["images"][0];
    assert_eq!((image["name"].as_str(), image["status"].as_str()), (Some("probe"), Some("mirrored")), "{up}");
    assert_eq!(image["mirror"], source.as_str(), "{up}");
    assert_eq!(image["manifestDigest"], digest.as_str(), "the copy keeps the upstream's digest: {up}");
    let pinned = format!("127.0.0.1:5000/{NAMESPACE}/probe:1@{digest}");
    assert_eq!(image["reference"], pinned.as_str(), "{up}");

    // The pod runs the copy in the environment's registry, by digest.
    assert_eq!(jsonpath("deployment", "{.items[0].spec.template.spec.containers[0].image}"), pinned);
    let running = jsonpath("pods", "{.items[*].status.containerStatuses[0].imageID}");
    assert!(running.contains(&digest), "the running container's image is {running}, not {digest}");
    assert_eq!(jsonpath("pods", "{.items[*].status.containerStatuses[0].ready}"), "true");

    // Again: the mirror is present (one manifest request), nothing changes in the cluster.
    let build = json(&codex_in(dir.path(), &["build", "--env", "e2e", "-o", "json"]), "build");
    assert_eq!(build["images"][0]["status"], "present", "{build}");
    let again = json(&codex_in(dir.path(), &["up", "--env", "e2e", "--timeout", "4m", "-o", "json"]), "second up");
    assert_eq!(again["images"][0]["status"], "present", "{again}");
    assert_eq!(again["images"][0]["reference"], pinned.as_str(), "{again}");

    // Even with the upstream gone, the present copy deploys: the check asks only 127.0.0.1:5000.
    drop(upstream);
    let offline = json(&codex_in(dir.path(), &["build", "--env", "e2e", "-o", "json"]), "build without upstream");
    assert_eq!(offline["images"][0]["status"], "present", "{offline}");
}
