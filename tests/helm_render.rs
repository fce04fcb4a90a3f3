//! `render` and the chart with the real helm binary (built by `cargo xtask tools helm`).
#![cfg(feature = "helm-tests")]

use std::path::PathBuf;
use std::process::Command;

fn helm() -> PathBuf {
    let path = std::env::var_os("CODEX_HELM").expect("CODEX_HELM must point at helm; `cargo xtask test` sets it");
    PathBuf::from(path)
}

#[test]
fn the_chart_is_lint_clean() {
    let chart = concat!(env!("CARGO_MANIFEST_DIR"), "/charts/codex-env");
    for values in [None, Some("ci/stateful-values.yaml"), Some("ci/internal-values.yaml")] {
        let mut command = Command::new(helm());
        command.args(["lint", "--strict", chart]);
        if let Some(file) = values {
            command.args(["-f", &format!("{chart}/{file}")]);
        }
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("0 chart(s) failed"));
    }
}

#[test]
fn render_writes_values_and_helm_manifests_for_every_environment() {
    for (env, extra) in
        [("prod", vec![]), ("staging", vec![]), ("dev", vec!["--slot", "2"]), ("ai", vec!["--issue", "19"])]
    {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
            .args(["render", "--env", env, "--out", dir.path().to_str().unwrap()])
            .args(&extra)
            .env("CODEX_HELM", helm())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{env}: {}", String::from_utf8_lossy(&out.stderr));
        let migrations = std::fs::read_to_string(dir.path().join("02-migrations/manifests.yaml")).unwrap();
        assert!(migrations.contains("kind: Job"), "{env}");
        let internal = std::fs::read_to_string(dir.path().join("03-internal/manifests.yaml")).unwrap();
        assert!(internal.contains("kind: Deployment") && internal.contains("name: greeter"), "{env}");
        let frontend = std::fs::read_to_string(dir.path().join("05-frontend/manifests.yaml")).unwrap();
        assert_eq!(frontend.contains("kind: Ingress"), env != "ai", "{env}: ai disables Ingress");
    }
}
