//! Helpers of the end-to-end tests (`e2e_*` modules): kubectl-codex and kubectl against the
//! local cluster only, the test namespaces, a second registry of our own.

use super::{root, text};
use std::path::Path;
use std::process::{Command, Output};

/// The example's database password (its secret input `dbPassword`) in every test that
/// resolves it. Fixed, since a namespace kept between runs keeps PostgreSQL's data directory
/// and with it the password of its first start.
pub const DB_PASSWORD: &str = "e2e-example-db-Pw-4f7c2a";

/// Runs kubectl-codex from the repository root with exactly `args`. The cluster's example
/// images are assembled by xtask without a builder, so tests pass `up --skip-build` and
/// `revise --skip-build` themselves, where it can be read.
pub fn codex(args: &[&str]) -> Output {
    codex_with_password(DB_PASSWORD, args)
}

/// Runs kubectl-codex from the repository root with `password` as the example's `dbPassword`
/// in its environment, as a script would set it.
pub fn codex_with_password(password: &str, args: &[&str]) -> Output {
    let reaches_a_cluster = ["up", "revise", "down", "gc", "agent", "status", "evidence", "check"];
    if args.first().is_some_and(|c| reaches_a_cluster.contains(c)) && !args.contains(&"--kubeconfig") {
        assert_local_cluster();
    }
    Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(args)
        .current_dir(root())
        .env("CODEX_INPUT_DBPASSWORD", password)
        .output()
        .expect("kubectl-codex runs")
}

/// The (phase, result) pairs of an `up` summary (`-o json`), in deploy order.
pub fn phases(summary: &serde_json::Value) -> Vec<(String, String)> {
    summary["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_string(), p["result"].as_str().unwrap().to_string()))
        .collect()
}

pub fn kubectl(args: &[&str]) -> Output {
    assert_local_cluster();
    Command::new("kubectl").args(args).output().expect("kubectl runs")
}

/// `kubectl apply` of one manifest (YAML or JSON text), through a temporary file; the caller
/// asserts on the outcome.
pub fn kubectl_apply(manifest: &str) -> Output {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), manifest).unwrap();
    kubectl(&["apply", "-f", file.path().to_str().unwrap()])
}

/// End-to-end tests create and delete namespaces: they refuse to run unless KUBECONFIG is the
/// local cluster's (`.local-cluster/kubeconfig` of this checkout, which `cargo xtask test` and
/// `cargo xtask e2e-env` export), so a test run by hand cannot touch a real cluster.
pub fn assert_local_cluster() {
    static CHECKED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    CHECKED.get_or_init(|| {
        let local = root().join(".local-cluster/kubeconfig");
        let given = std::env::var_os("KUBECONFIG").map(std::path::PathBuf::from);
        let canonical = |p: &Path| p.canonicalize().ok();
        let is_local = given.as_deref().and_then(canonical).is_some_and(|g| Some(g) == canonical(&local));
        assert!(
            is_local,
            "refusing to run against KUBECONFIG={given:?}: end-to-end tests delete namespaces and run only on the \
             local cluster ({}); `cargo xtask e2e-env` starts it and prints the exports",
            local.display()
        );
    });
}

/// The Helm releases in `namespace` in any status (pending ones included), sorted, read from
/// Helm's storage Secrets: the same answer from Helm 3 and Helm 4, whose `helm list` flags differ
/// (Helm 4 dropped `-a`).
pub fn release_names(namespace: &str) -> Vec<String> {
    let out = kubectl(&[
        "get",
        "secrets",
        "-n",
        namespace,
        "-l",
        "owner=helm",
        "-o",
        "jsonpath={range .items[*]}{.metadata.labels.name}{\"\\n\"}{end}",
    ]);
    assert!(out.status.success(), "listing Helm's release Secrets: {}", text(&out.stderr));
    let names: std::collections::BTreeSet<String> =
        text(&out.stdout).lines().filter(|l| !l.is_empty()).map(str::to_string).collect();
    names.into_iter().collect()
}

/// Runs kubectl-codex with the real BuildKit builder (`cargo xtask test` passes BUILDKIT_HOST
/// and CODEX_E2E_BUILDCTL): `up` builds the images from their Dockerfiles before deploying.
pub fn codex_building(args: &[&str]) -> Output {
    let buildctl = std::env::var("CODEX_E2E_BUILDCTL")
        .expect("CODEX_E2E_BUILDCTL names the buildctl binary (cargo xtask test sets it)");
    assert!(
        std::env::var_os("BUILDKIT_HOST").is_some(),
        "BUILDKIT_HOST must name the buildkitd socket (cargo xtask test sets it)"
    );
    Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(args)
        .args(["--builder", "buildctl", "--buildctl", &buildctl])
        .current_dir(root())
        .env("CODEX_INPUT_DBPASSWORD", DB_PASSWORD)
        .output()
        .expect("kubectl-codex runs")
}

/// A second registry of our own (the registry binary of CODEX_E2E_REGISTRY) on a free loopback
/// port with a fresh storage directory; stopped when dropped.
pub struct LocalRegistry {
    child: std::process::Child,
    pub address: String,
    _storage: tempfile::TempDir,
}

impl LocalRegistry {
    /// Starts it with `extra_args` and waits until `GET /v2/` answers `ready_status` (200 when
    /// open, 401 when it asks for a login).
    pub fn start(extra_args: &[String], ready_status: u16) -> Self {
        let binary = std::env::var("CODEX_E2E_REGISTRY")
            .expect("CODEX_E2E_REGISTRY names the registry binary (cargo xtask test sets it)");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let address = format!("127.0.0.1:{port}");
        let storage = tempfile::tempdir().unwrap();
        let child = Command::new(binary)
            .arg(format!("--address={address}"))
            .arg(format!("--dir={}", storage.path().display()))
            .args(extra_args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the registry starts");
        let registry = LocalRegistry { child, address, _storage: storage };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while registry.status_of_v2() != Some(ready_status) {
            assert!(
                std::time::Instant::now() < deadline,
                "the registry at {} did not answer {ready_status} on /v2/",
                registry.address
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        registry
    }

    /// The HTTP status of `GET /v2/`, or None while it does not answer.
    fn status_of_v2(&self) -> Option<u16> {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&self.address).ok()?;
        stream.write_all(format!("GET /v2/ HTTP/1.0\r\nHost: {}\r\n\r\n", self.address).as_bytes()).ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).ok()?;
        answer.split_whitespace().nth(1)?.parse().ok()
    }
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A copy of services.yaml whose `staging` environment deploys into `namespace`, with `edit`
/// applied to the text.
pub fn staging_variant(dir: &Path, namespace: &str, edit: impl Fn(String) -> String) -> std::path::PathBuf {
    let original = std::fs::read_to_string(root().join("services.yaml")).unwrap();
    let moved = original.replace("namespace: \"{{ project }}-staging\"", &format!("namespace: {namespace}"));
    assert_ne!(original, moved, "services.yaml's staging namespace moved; update tests/common");
    let path = dir.join("services.yaml");
    std::fs::write(&path, edit(moved)).unwrap();
    path
}

/// Deletes `names` and waits until they are gone (nothing to do for one that does not exist).
/// A kubectl failure fails the test: the next step would otherwise run on a stale namespace.
fn delete_namespaces(names: &[String]) {
    let out = kubectl(&delete_namespaces_args(names));
    assert!(out.status.success(), "deleting namespaces {names:?}: {}", text(&out.stderr));
}

fn delete_namespaces_args(names: &[String]) -> Vec<&str> {
    let mut args = vec!["delete", "namespace"];
    args.extend(names.iter().map(String::as_str));
    args.extend(["--ignore-not-found", "--wait=true", "--timeout=180s"]);
    args
}

/// A test's namespaces: deleted when the guard is made (a fresh start) and again when it is
/// dropped, also when the test panics, so a failing test cleans up after itself too.
pub struct NamespaceGuard(Vec<String>);

impl NamespaceGuard {
    pub fn fresh(name: &str) -> Self {
        Self::fresh_all(&[name])
    }

    /// Several namespaces of one test, deleted together.
    pub fn fresh_all(names: &[&str]) -> Self {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        delete_namespaces(&names);
        NamespaceGuard(names)
    }
}

impl Drop for NamespaceGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // Best effort: a second panic while unwinding would abort the test binary.
            let _ = kubectl(&delete_namespaces_args(&self.0));
        } else {
            delete_namespaces(&self.0);
        }
    }
}
