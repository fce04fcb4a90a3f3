//! The helm that offline and cluster commands need: missing, too old, or not helm at all.

use super::*;

#[test]
fn render_without_helm_says_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(["render", "--env", "prod", "--out", dir.path().to_str().unwrap(), "--helm", "/nonexistent/helm"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CODEX_INPUT_DBPASSWORD", DB_PASSWORD)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("--helm /nonexistent/helm: no such file"));
}

#[test]
fn a_helm_that_is_too_old_or_not_helm_is_exit_3_naming_what_it_found() {
    let dir = tempfile::tempdir().unwrap();
    for (prints, expected) in [
        ("v3.12.3", "is Helm v3.12.3; kubectl-codex needs Helm v3.13.0 or later"),
        ("v2.17.0", "is Helm v2.17.0; kubectl-codex needs Helm v3.13.0 or later"),
        ("this is not helm", "is not a Helm we can use"),
    ] {
        let bin = tempfile::tempdir_in(dir.path()).unwrap();
        let helm = fake_helm(bin.path(), prints);
        let out = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
            .args(["render", "--env", "prod", "--out", dir.path().join("out").to_str().unwrap()])
            .arg("--helm")
            .arg(&helm)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("CODEX_INPUT_DBPASSWORD", DB_PASSWORD)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{prints}: {}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(stderr.contains(expected), "{prints}: {stderr}");
        assert!(stderr.contains(&helm.display().to_string()), "names the binary: {stderr}");
    }
}
