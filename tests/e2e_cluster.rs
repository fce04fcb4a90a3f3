//! Acceptance tests of the local cluster (`cargo xtask cluster up`): a real node,
//! real pods from a locally assembled image, Service DNS, shared volumes and
//! server-side dry runs.
//!
//! Needs `KUBECONFIG` and `CODEX_E2E_PROBE_IMAGE` (see `cargo xtask e2e-env`).
//! Each test works in a namespace of its own, deleted when the test ends.

use crate::support::cluster::{assert_local_cluster, kubectl, NamespaceGuard};
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn probe_image() -> String {
    std::env::var("CODEX_E2E_PROBE_IMAGE")
        .expect("CODEX_E2E_PROBE_IMAGE must name the probe image (run `cargo xtask e2e-env`)")
}

/// Runs kubectl and returns stdout, failing the test on a non-zero exit.
fn kubectl_ok(args: &[&str]) -> String {
    let output = kubectl(args);
    assert!(output.status.success(), "kubectl {} failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn kubectl_stdin(args: &[&str], input: &str) -> Output {
    assert_local_cluster();
    let mut child = Command::new("kubectl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl must be on PATH");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// A namespace of its own for one test (a fresh name each run), deleted when dropped.
struct Namespace {
    name: String,
    _guard: NamespaceGuard,
}

impl Namespace {
    fn new(test: &str) -> Namespace {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
        let name = format!("e2e-{test}-{}-{:x}", COUNTER.fetch_add(1, Ordering::Relaxed), nanos ^ std::process::id());
        // The guard first: a failing create still leaves nothing behind.
        let guard = NamespaceGuard::fresh(&name);
        kubectl_ok(&["create", "namespace", &name]);
        Namespace { name, _guard: guard }
    }

    fn apply(&self, manifest: &str) {
        let output = kubectl_stdin(&["-n", &self.name, "apply", "-f", "-"], manifest);
        assert!(output.status.success(), "apply failed: {}", String::from_utf8_lossy(&output.stderr));
    }

    fn exec(&self, pod: &str, command: &[&str]) -> Output {
        let mut args = vec!["-n", &self.name, "exec", pod, "--"];
        args.extend(command);
        kubectl(&args)
    }

    /// `kubectl get WHAT… -o jsonpath=…` in this namespace.
    fn get_jsonpath(&self, what: &[&str], jsonpath: &str) -> String {
        let output = format!("jsonpath={jsonpath}");
        let mut args = vec!["-n", &self.name, "get"];
        args.extend(what);
        args.extend(["-o", &output]);
        kubectl_ok(&args)
    }

    fn wait(&self, what: &str, condition: &str) {
        self.wait_for(what, &format!("condition={condition}"));
    }

    fn wait_for(&self, what: &str, expression: &str) {
        kubectl_ok(&["-n", &self.name, "wait", what, &format!("--for={expression}"), "--timeout=180s"]);
    }
}

/// Retries `attempt` until it returns Some or `timeout` passes (cluster DNS and
/// Service rules converge a moment after the pods are Ready).
fn eventually<T>(timeout: Duration, mut attempt: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match attempt() {
            Ok(value) => return value,
            Err(last) if Instant::now() > deadline => panic!("gave up after {timeout:?}: {last}"),
            Err(_) => std::thread::sleep(Duration::from_millis(500)),
        }
    }
}

const POD_SECURITY: &str = "
      securityContext:
        runAsUser: 65532
        runAsGroup: 65532
        fsGroup: 65532
      terminationGracePeriodSeconds: 1";

fn probe_deployment(name: &str, args: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:{POD_SECURITY}
      containers:
      - name: probe
        image: {image}
        args: {args}
",
        image = probe_image()
    )
}

fn probe_pod(name: &str, volume_claim: Option<&str>) -> String {
    let (mounts, volumes) = match volume_claim {
        Some(claim) => (
            "\n    volumeMounts:\n    - {name: shared, mountPath: /data}".to_string(),
            format!("\n  volumes:\n  - name: shared\n    persistentVolumeClaim: {{claimName: {claim}}}"),
        ),
        None => (String::new(), String::new()),
    };
    format!(
        "apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  securityContext: {{runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532}}
  terminationGracePeriodSeconds: 1
  containers:
  - name: probe
    image: {image}
    args: [sleep]{mounts}{volumes}
",
        image = probe_image()
    )
}

fn stdout(output: &Output) -> Result<String, String> {
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

#[test]
fn the_node_is_ready() {
    let ready = kubectl_ok(&[
        "get",
        "nodes",
        "-o",
        r#"jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}"#,
    ]);
    let nodes: Vec<&str> = ready.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(nodes.len(), 1, "expected exactly one node, got {nodes:?}");
    assert!(nodes[0].ends_with("=True"), "node not Ready: {}", nodes[0]);
}

#[test]
fn a_deployment_of_the_locally_assembled_image_becomes_available() {
    let ns = Namespace::new("deploy");
    ns.apply(&probe_deployment("probe-server", "[serve]"));
    ns.wait("deployment/probe-server", "Available");
    let available = ns.get_jsonpath(&["deployment", "probe-server"], "{.status.availableReplicas}");
    assert_eq!(available.trim(), "1");
}

#[test]
fn a_pod_reaches_another_pods_service_by_its_dns_name() {
    let ns = Namespace::new("dns");
    ns.apply(&probe_deployment("probe-server", "[serve]"));
    ns.apply(
        "apiVersion: v1
kind: Service
metadata:
  name: probe-server
spec:
  selector: {app: probe-server}
  ports:
  - {port: 8080, targetPort: 8080}
",
    );
    ns.apply(&probe_pod("client", None));
    ns.wait("deployment/probe-server", "Available");
    ns.wait("pod/client", "Ready");
    let server_pod = ns.get_jsonpath(&["pods", "-l", "app=probe-server"], "{.items[0].metadata.name}");
    let url = format!("http://probe-server.{}.svc.cluster.local:8080/", ns.name);
    let body = eventually(Duration::from_secs(60), || stdout(&ns.exec("client", &["/probe", "get", &url])));
    assert_eq!(body.trim(), server_pod.trim(), "the Service answered from the wrong pod");
}

#[test]
fn names_outside_the_cluster_do_not_resolve() {
    let ns = Namespace::new("nxdomain");
    ns.apply(&probe_pod("client", None));
    ns.wait("pod/client", "Ready");
    // The cluster DNS itself answers (so a failure below is a real NXDOMAIN)…
    eventually(Duration::from_secs(60), || {
        stdout(&ns.exec("client", &["/probe", "lookup", "kubernetes.default.svc.cluster.local"]))
    });
    // …but forwards nothing: there is no world outside this machine to ask.
    let outside = ns.exec("client", &["/probe", "lookup", "example.com"]);
    assert!(!outside.status.success(), "example.com resolved to {}", String::from_utf8_lossy(&outside.stdout));
}

#[test]
fn a_read_write_many_volume_shows_each_pods_writes_to_the_other() {
    let ns = Namespace::new("rwx");
    ns.apply(
        "apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: shared
spec:
  accessModes: [ReadWriteMany]
  resources:
    requests: {storage: 16Mi}
",
    );
    ns.apply(&probe_pod("writer-a", Some("shared")));
    ns.apply(&probe_pod("writer-b", Some("shared")));
    ns.wait_for("pvc/shared", "jsonpath={.status.phase}=Bound");
    ns.wait("pod/writer-a", "Ready");
    ns.wait("pod/writer-b", "Ready");

    stdout(&ns.exec("writer-a", &["/probe", "write", "/data/from-a", "hello from a"])).unwrap();
    stdout(&ns.exec("writer-b", &["/probe", "write", "/data/from-b", "hello from b"])).unwrap();
    assert_eq!(stdout(&ns.exec("writer-b", &["/probe", "read", "/data/from-a"])).unwrap(), "hello from a");
    assert_eq!(stdout(&ns.exec("writer-a", &["/probe", "read", "/data/from-b"])).unwrap(), "hello from b");
}

#[test]
fn a_server_side_dry_run_apply_validates_without_creating() {
    let ns = Namespace::new("dryrun");
    let manifest = format!(
        "apiVersion: v1
kind: ConfigMap
metadata:
  name: dry
  namespace: {ns}
data: {{key: value}}
---
{deployment}",
        ns = ns.name,
        deployment = probe_deployment("dry-server", "[serve]")
    );
    let output = kubectl_stdin(&["-n", &ns.name, "apply", "--dry-run=server", "-f", "-"], &manifest);
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "dry run failed: {}", String::from_utf8_lossy(&output.stderr));
    assert!(printed.contains("configmap/dry created (server dry run)"), "unexpected output: {printed}");
    assert!(printed.contains("deployment.apps/dry-server created (server dry run)"), "unexpected output: {printed}");
    let lookup = kubectl(&["-n", &ns.name, "get", "configmap", "dry"]);
    assert!(!lookup.status.success(), "a dry run must not create the ConfigMap");

    // The server validates: an invalid object is rejected even in a dry run.
    let invalid = kubectl_stdin(
        &["-n", &ns.name, "apply", "--dry-run=server", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_A_Valid_Name\n",
    );
    assert!(!invalid.status.success(), "the server accepted an invalid name");
}
