//! End to end, on the local cluster with the real helm: the codexctl fixture
//! (tests/fixtures/import/codexctl), imported by `kubectl codex import`, comes up as it is,
//! with only inputs set from outside: its Go-templated manifests translated, its phases
//! gated on readiness, its evidence verified.
//! Needs KUBECONFIG, CODEX_HELM, CODEX_E2E_PROBE_IMAGE and CODEX_E2E_CRANE (`cargo xtask test`
//! sets them).

use crate::support::cluster::*;
use crate::support::*;
use serde_json::Value;
use std::process::Command;

const NAMESPACE: &str = "shop-staging";

#[test]
fn an_imported_codexctl_stack_comes_up_on_the_cluster() {
    let probe = std::env::var("CODEX_E2E_PROBE_IMAGE").expect("CODEX_E2E_PROBE_IMAGE (cargo xtask test sets it)");
    let crane = std::env::var("CODEX_E2E_CRANE").expect("CODEX_E2E_CRANE (cargo xtask test sets it)");
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path();
    let import = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args([
            "import",
            "services.yaml",
            "--out",
            out.to_str().unwrap(),
            "--phase",
            "migrate=migrations",
            "-o",
            "json",
        ])
        .current_dir(root().join("tests/fixtures/import/codexctl"))
        .output()
        .unwrap();
    assert_eq!(import.status.code(), Some(0), "import: {}", text(&import.stderr));

    // The stack builds its api image; the cluster's images are assembled without a builder, so
    // the probe stands in for it under the tag the imported stack computes.
    let tag = "1.4.0-local";
    let copy = Command::new(&crane)
        .args(["copy", "--insecure", &probe, &format!("127.0.0.1:5000/shop/api:{tag}")])
        .output()
        .unwrap();
    assert!(copy.status.success(), "crane copy: {}", text(&copy.stderr));

    let _namespace = NamespaceGuard::fresh(NAMESPACE);
    let stack = out.join("services.yaml");
    let values = out.join("inputs.example.yaml");
    let image_input = format!("APP_IMAGE={probe}");
    let up = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(["up", "--skip-build", "-f", stack.to_str().unwrap(), "--env", "staging", "--timeout", "4m"])
        .args(["--values-file", values.to_str().unwrap(), "--set", &image_input, "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(up.status.code(), Some(0), "up: {}", text(&up.stderr));
    let summary: Value = serde_json::from_slice(&up.stdout).unwrap();
    let phases = phases(&summary);
    let names: Vec<&str> = phases.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["stateful", "migrations", "internal"], "{summary:#}");

    // The translated templates rendered as codexctl would have rendered them.
    let config = kubectl(&["get", "configmap", "api-config", "-n", NAMESPACE, "-o", "json"]);
    assert!(config.status.success(), "{}", text(&config.stderr));
    let config: Value = serde_json::from_slice(&config.stdout).unwrap();
    assert_eq!(config["data"]["MODE"], "debug");
    assert_eq!(config["data"]["PUBLIC_URL"], "https://api.staging.shop.test");
    assert_eq!(config["data"]["SLUG"], "shop-staging");
    assert_eq!(config["data"]["TEMPLATE_LITERAL"], "{{ not a template }}");
    // The api Deployment runs the built image, pinned by digest; web (when: env != production) is there.
    let api = kubectl(&[
        "get",
        "deployment",
        "api",
        "-n",
        NAMESPACE,
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert!(text(&api.stdout).starts_with(&format!("127.0.0.1:5000/shop/api:{tag}")), "{}", text(&api.stdout));
    let web = kubectl(&["get", "deployment", "web", "-n", NAMESPACE]);
    assert!(web.status.success(), "{}", text(&web.stderr));

    let verify = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(["evidence", "-n", NAMESPACE, "--verify"])
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(0), "evidence --verify: {}{}", text(&verify.stdout), text(&verify.stderr));
}
