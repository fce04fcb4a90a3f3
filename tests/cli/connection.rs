//! Unreachable or flaky servers: a kubeconfig pointing at nothing, an API server answering
//! 503, a registry that is down.

use super::*;

/// A kubeconfig for an API server at `server`, with a token and no TLS (a stub's plain HTTP).
fn plain_kubeconfig(dir: &Path, server: &str) -> std::path::PathBuf {
    let path = dir.join("kubeconfig");
    let text = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: stub\nclusters:\n- name: stub\n  cluster:\n    server: {server}\n\
         contexts:\n- name: stub\n  context:\n    cluster: stub\n    user: stub\nusers:\n- name: stub\n  user:\n    token: stub-token\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_kubeconfig_pointing_at_nothing_is_exit_4_within_10_seconds_naming_the_server() {
    let dir = tempfile::tempdir().unwrap();
    // A port that was free a moment ago: nothing listens behind it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = format!("http://127.0.0.1:{port}");
    let kubeconfig = plain_kubeconfig(dir.path(), &server);
    let started = std::time::Instant::now();
    let out = codex(&["status", "-n", "codex-nothing", "--kubeconfig", kubeconfig.to_str().unwrap()]);
    let elapsed = started.elapsed();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(elapsed < std::time::Duration::from_secs(10), "took {elapsed:?}: {stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "names the server: {stderr}");
    assert!(stderr.contains("retrying (1)"), "says it retried: {stderr}");
}

#[test]
fn an_api_server_answering_503_is_retried_until_it_answers() {
    let dir = tempfile::tempdir().unwrap();
    let calls = std::sync::atomic::AtomicU32::new(0);
    let (address, requests) = http_stub::serve(move |request| {
        if request.path == "/version" && calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2 {
            return http_stub::Response::new(503).body("apiserver is shutting down");
        }
        if request.path == "/version" {
            let version = r#"{"major":"1","minor":"37","gitVersion":"v1.37.2","gitCommit":"","gitTreeState":"clean","buildDate":"","goVersion":"","compiler":"","platform":"linux/amd64"}"#;
            return http_stub::Response::new(200).header("Content-Type", "application/json").body(version);
        }
        let missing = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}"#;
        http_stub::Response::new(404).header("Content-Type", "application/json").body(missing)
    });
    let kubeconfig = plain_kubeconfig(dir.path(), &format!("http://{address}"));
    let out = codex(&["status", "-n", "codex-stub", "--kubeconfig", kubeconfig.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    let seen: Vec<String> = requests.lock().unwrap().iter().map(|r| r.line()).collect();
    assert_eq!(seen.iter().filter(|l| *l == "GET /version").count(), 3, "{seen:?}\n{stderr}");
    assert!(stderr.contains("HTTP 503 on GET /version), retrying (2)"), "{stderr}");
    assert!(seen.len() > 3, "went on after the server answered: {seen:?}");
    // A 404 is an answer, not a hiccup: asked once each.
    let mut after: Vec<&String> = seen.iter().filter(|l| *l != "GET /version").collect();
    let asked = after.len();
    after.dedup();
    assert_eq!(after.len(), asked, "nothing but /version was repeated: {seen:?}");
}

#[test]
fn a_build_whose_registry_is_down_is_retried_then_exit_9_naming_it_before_the_builder_runs() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(dir.path().join("ctx")).unwrap();
    std::fs::write(dir.path().join("ctx/Dockerfile"), "FROM scratch\n").unwrap();
    // A builder that must never run: it would leave a file behind.
    let ran = dir.path().join("builder-ran");
    std::fs::write(bin.join("buildctl"), format!("#!/bin/sh\ntouch {}\nexit 1\n", ran.display())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("buildctl"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let file = dir.path().join("services.yaml");
    std::fs::write(&file, one_image_stack(port)).unwrap();
    let started = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(["build", "-f", file.to_str().unwrap(), "--env", "prod", "--builder", "buildctl"])
        .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
        .env_remove("CODEX_BUILDER")
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(9), "{stderr}");
    assert!(stderr.contains(&format!("registry 127.0.0.1:{port} is not available: 4 tries")), "{stderr}");
    assert!(started.elapsed() >= std::time::Duration::from_secs(3), "it waited 0.5 + 1 + 2 s between tries");
    assert!(!ran.exists(), "the builder never ran");
}
