//! Mirrored images: where plan and render say they are copied to, and `build` copying them.

use super::*;

const MIRROR_STACK: &str = "tests/fixtures/mirror-stack/services.yaml";

#[test]
fn plan_and_render_show_where_a_mirrored_image_is_copied_to() {
    let target = "127.0.0.1:5000/codex-mirror-e2e/probe:1";
    let out = codex(&["plan", "-f", MIRROR_STACK, "--env", "e2e"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains(&format!("mirror probe: 127.0.0.1:5999/upstream/probe:1 -> {target}\n")), "{shown}");
    assert!(shown.contains(&format!("- web [Deployment] {target}\n")), "{shown}");
    let out = codex(&["plan", "-f", MIRROR_STACK, "--env", "e2e", "-o", "json"]);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        plan["mirrors"],
        serde_json::json!([{"name": "probe", "source": "127.0.0.1:5999/upstream/probe:1", "reference": target}])
    );
    let dir = tempfile::tempdir().unwrap();
    let out =
        codex(&["render", "-f", MIRROR_STACK, "--env", "e2e", "--out", dir.path().to_str().unwrap(), "--values-only"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let values = std::fs::read_to_string(dir.path().join("03-internal/values.yaml")).unwrap();
    assert!(values.contains(target), "{values}");
    // A stack without mirrors keeps its plan as it was: no `mirrors` key.
    let out = codex(&["plan", "--env", "prod", "-o", "json"]);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(plan.get("mirrors").is_none());
}

/// The mirror fixture copied into `dir`, mirroring `source` into the registry `target`.
fn mirror_fixture(dir: &Path, source: &str, target: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(MIRROR_STACK)).unwrap();
    let text = text
        .replace("127.0.0.1:5999/upstream/probe:1", source)
        .replace("registry: 127.0.0.1:5000", &format!("registry: {target}"));
    let file = dir.join("services.yaml");
    std::fs::write(&file, text).unwrap();
    file
}

/// kubectl-codex with nothing on PATH but `bin` (no builder: a stack of mirrors needs none).
fn codex_without_tools(bin: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(args)
        .env("PATH", bin)
        .env_remove("CODEX_BUILDER")
        .env_remove("BUILDKIT_HOST")
        .env_remove("CODEX_HELM")
        .output()
        .unwrap()
}

#[test]
fn build_mirrors_an_image_then_reports_it_present_and_a_missing_source_is_exit_9() {
    let mut upstream = registry_stub::Store::default();
    let (index, _) = registry_stub::seed(&mut upstream, "upstream/redis");
    let (upstream, _, upstream_log) = registry_stub::registry(upstream);
    let (target, target_store, target_log) = registry_stub::registry(registry_stub::Store::default());
    let dir = tempfile::tempdir().unwrap();
    let source = format!("{upstream}/upstream/redis:7");
    let file = mirror_fixture(dir.path(), &source, &target);
    let file = file.to_str().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let reference = format!("{target}/codex-mirror-e2e/probe:1");

    // A dry run says where the image goes and contacts no registry.
    let out = codex_without_tools(&bin, &["build", "-f", file, "--env", "e2e", "--dry-run", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let image = &report["images"][0];
    assert_eq!((image["name"].as_str(), image["status"].as_str()), (Some("probe"), Some("planned")), "{report}");
    assert_eq!(
        (image["reference"].as_str(), image["mirror"].as_str()),
        (Some(reference.as_str()), Some(source.as_str()))
    );
    assert!(upstream_log.lock().unwrap().is_empty() && target_log.lock().unwrap().is_empty());

    let out = codex_without_tools(&bin, &["build", "-f", file, "--env", "e2e", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let image = &report["images"][0];
    assert_eq!(image["status"], "mirrored", "{report}");
    assert_eq!(image["manifestDigest"], index.as_str());
    assert!(image["contentTag"].as_str().unwrap().starts_with(&format!("{target}/codex-mirror-e2e/probe:mirror-")));
    assert!(target_store.lock().unwrap().manifests.contains_key(&("codex-mirror-e2e/probe".into(), "1".into())));

    target_log.lock().unwrap().clear();
    let out = codex_without_tools(&bin, &["build", "-f", file, "--env", "e2e"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.starts_with(&format!("probe            present   {reference} {index} (")), "{shown}");
    assert!(shown.trim_end().ends_with(&format!("from {source}")), "{shown}");
    assert_eq!(target_log.lock().unwrap().len(), 1, "one manifest request");

    // A source the upstream does not have: exit 9 naming it, for build and for up (before the
    // cluster is contacted).
    let missing = format!("{upstream}/upstream/nope:1");
    let file = mirror_fixture(dir.path(), &missing, &target);
    let file = file.to_str().unwrap();
    let out = codex_without_tools(&bin, &["build", "-f", file, "--env", "e2e"]);
    assert_eq!(out.status.code(), Some(9), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(&format!("mirror source {missing} does not exist")), "{}", text(&out.stderr));
    fake_helm(&bin, "v4.3.2");
    let out = codex_without_tools(&bin, &["up", "-f", file, "--env", "e2e", "--kubeconfig", "/nonexistent/kubeconfig"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(9), "{stderr}");
    assert!(stderr.contains(&format!("mirror source {missing} does not exist")), "{stderr}");
    assert!(!stderr.contains("kubeconfig"), "the cluster was never contacted: {stderr}");
}
