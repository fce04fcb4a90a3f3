//! End to end, the `dev` runtime on the local cluster: services run from their sources on the
//! shared workspace, an agent Job edits them and the running pods pick the edit up (same pod,
//! same container, no restart); read-only mounts cannot be written; nothing logs a permission
//! error; `check` passes, and fails once the agent is granted more than services.yaml says.
//! The dev images are built from the example's Dockerfiles (dev targets) by `up` with the real
//! BuildKit. Needs KUBECONFIG, CODEX_HELM, BUILDKIT_HOST, CODEX_E2E_BUILDCTL and the base
//! images in the local registry (`cargo xtask test` provides all of them).

use crate::support::cluster::*;
use crate::support::*;

use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SLOT: &str = "41";
/// `{{ project }}-dev-{{ slot }}` in services.yaml.
const NAMESPACE: &str = "codex-dev-41";

fn dev(args: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.extend(["--env", "dev", "--slot", SLOT].map(String::from));
    all
}

fn codex_dev(command: &[&str], rest: &[&str]) -> std::process::Output {
    let mut args = dev(command);
    args.extend(rest.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    codex(&refs)
}

/// GET through the API server's service proxy; None while the service does not answer 2xx.
fn try_get(service: &str, path: &str) -> Option<String> {
    let url = format!("/api/v1/namespaces/{NAMESPACE}/services/{service}:80/proxy{path}");
    let out = kubectl(&["get", "--raw", &url]);
    out.status.success().then(|| text(&out.stdout))
}

/// Polls until `service` answers `path` with a body containing `wanted`; returns how long
/// that took, or panics with the last body after `limit`.
fn wait_for_text(service: &str, path: &str, wanted: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    let mut last = None;
    while started.elapsed() < limit {
        last = try_get(service, path);
        if last.as_deref().is_some_and(|body| body.contains(wanted)) {
            return started.elapsed();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{service}{path} did not answer with {wanted:?} within {limit:?}; last answer: {last:?}");
}

/// (pod uid, restart count) of the one pod of a unit.
fn pod_identity(unit: &str) -> (String, i64) {
    let out = kubectl(&["get", "pods", "-n", NAMESPACE, "-l", &format!("app.kubernetes.io/name={unit}"), "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let pods: Vec<&Value> =
        list["items"].as_array().unwrap().iter().filter(|p| p["metadata"]["deletionTimestamp"].is_null()).collect();
    assert_eq!(pods.len(), 1, "one pod of {unit}: {list}");
    let pod = pods[0];
    (
        pod["metadata"]["uid"].as_str().unwrap().to_string(),
        pod["status"]["containerStatuses"][0]["restartCount"].as_i64().unwrap(),
    )
}

/// Runs a shell command as the agent; asserts it succeeded.
fn agent_sh(script: &str) -> Value {
    let out = codex_dev(&["agent", "run"], &["--timeout", "3m", "-o", "json", "--", "sh", "-c", script]);
    assert_eq!(out.status.code(), Some(0), "agent run failed:\n{}\n{}", text(&out.stdout), text(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["result"], "succeeded", "{summary}");
    summary
}

/// Applies a JSON object with kubectl.
fn apply(object: &Value) {
    let out = kubectl_apply(&object.to_string());
    assert!(out.status.success(), "kubectl apply: {}", text(&out.stderr));
}

/// A bare pod that mounts the workspace exactly as the greeter's Deployment does (volume,
/// mount path, subPath, readOnly, security context) and tries to write there.
fn try_writing_as_greeter() -> String {
    let out = kubectl(&["get", "deployment", "greeter", "-n", NAMESPACE, "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let deployment: Value = serde_json::from_slice(&out.stdout).unwrap();
    let spec = &deployment["spec"]["template"]["spec"];
    let mounts = spec["containers"][0]["volumeMounts"].clone();
    assert_eq!(mounts[0]["readOnly"], true, "greeter mounts the workspace read-only: {mounts}");
    let agent_image = format!(
        "{}/codex-example/agent:0.1.0",
        std::env::var("CODEX_REGISTRY").unwrap_or_else(|_| "127.0.0.1:5000".into())
    );
    let target = format!("{}/written-by-a-read-only-unit", mounts[0]["mountPath"].as_str().unwrap());
    apply(&json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "read-only-probe", "namespace": NAMESPACE},
        "spec": {
            "restartPolicy": "Never",
            "securityContext": spec["securityContext"],
            "volumes": spec["volumes"],
            "containers": [{
                "name": "probe", "image": agent_image,
                // What Pod Security "restricted" asks of every container in the namespace.
                "securityContext": spec["containers"][0]["securityContext"],
                "command": ["sh", "-c", format!("if echo x > {target}; then echo WROTE; else echo refused; fi")],
                "volumeMounts": mounts,
            }],
        },
    }));
    let wait = kubectl(&[
        "wait",
        "pod/read-only-probe",
        "-n",
        NAMESPACE,
        "--for=jsonpath={.status.phase}=Succeeded",
        "--timeout=120s",
    ]);
    assert!(wait.status.success(), "the probe pod did not finish: {}", text(&wait.stderr));
    let log = kubectl(&["logs", "read-only-probe", "-n", NAMESPACE]);
    let _ = kubectl(&["delete", "pod", "read-only-probe", "-n", NAMESPACE, "--wait=true"]);
    text(&log.stdout)
}

/// Every container log of every pod in the namespace, as (pod, log).
/// Every pod's log. A listing or a log kubectl cannot read fails the test: a scan of logs
/// that were never read would prove nothing.
fn all_logs() -> Vec<(String, String)> {
    let out = kubectl(&["get", "pods", "-n", NAMESPACE, "-o", "jsonpath={.items[*].metadata.name}"]);
    assert!(out.status.success(), "listing pods: {}", text(&out.stderr));
    let logs: Vec<(String, String)> = text(&out.stdout)
        .split_whitespace()
        .map(|pod| {
            let log = kubectl(&["logs", pod, "-n", NAMESPACE, "--all-containers"]);
            assert!(log.status.success(), "logs of {pod}: {}", text(&log.stderr));
            (pod.to_string(), text(&log.stdout))
        })
        .collect();
    assert!(!logs.is_empty(), "no pod in {NAMESPACE} to read logs from");
    logs
}

#[test]
fn dev_runtime_hot_reloads_agent_edits_on_the_shared_workspace_and_checks_access() {
    let _namespace = NamespaceGuard::fresh(NAMESPACE);
    let started = Instant::now();
    // `up` builds the dev targets with BuildKit first, then deploys them pinned by digest.
    let args = dev(&["up", "--timeout", "8m", "-o", "json"]);
    let up = codex_building(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(up.status.code(), Some(0), "up --env dev failed:\n{}", text(&up.stderr));
    eprintln!("dev up (build included): {:.1}s", started.elapsed().as_secs_f64());
    let summary: Value = serde_json::from_slice(&up.stdout).unwrap();
    let images = summary["images"].as_array().unwrap_or_else(|| panic!("no images in {summary}"));
    let greeter =
        images.iter().find(|i| i["name"] == "greeter").unwrap_or_else(|| panic!("greeter not built: {summary}"));
    assert!(["built", "unchanged"].contains(&greeter["status"].as_str().unwrap()), "{summary}");
    let pinned = greeter["reference"].as_str().unwrap();
    assert!(pinned.contains(":0.1.0-dev@sha256:"), "the dev target, pinned: {pinned}");
    let deployed = kubectl(&[
        "get",
        "deployment",
        "greeter",
        "-n",
        NAMESPACE,
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert_eq!(text(&deployed.stdout), pinned, "the deployment runs the image BuildKit built");

    // Go: the agent edits the handler's text on the PVC; devwatch rebuilds and restarts the
    // process inside the same container.
    assert!(try_get("greeter", "/greeting").unwrap().contains("hello from greeter v1"));
    let greeter_before = pod_identity("greeter");
    let edit_started = Instant::now();
    agent_sh("sed -i 's/hello from greeter v1/hello from greeter hot/' services/cmd/greeter/message.go && grep -q 'greeter hot' services/cmd/greeter/message.go");
    let edited = edit_started.elapsed();
    let waited = wait_for_text("greeter", "/greeting", "hello from greeter hot", Duration::from_secs(120));
    eprintln!("go: agent run {:.1}s, then the new text after {:.1}s", edited.as_secs_f64(), waited.as_secs_f64());
    assert_eq!(pod_identity("greeter"), greeter_before, "same pod, no container restart");
    // The gateway proxies the new text too: the edit reached the running stack.
    assert!(try_get("gateway", "/api/greeting").unwrap().contains("hello from greeter hot"));

    // Vite: the dev server serves the edited module (what HMR sends to the browser).
    assert!(try_get("web", "/src/title.js").unwrap().contains("Codex example v1"));
    let web_before = pod_identity("web");
    let edit_started = Instant::now();
    agent_sh("sed -i 's/Codex example v1/Codex example hot/' web/src/title.js");
    let edited = edit_started.elapsed();
    let waited = wait_for_text("web", "/src/title.js", "Codex example hot", Duration::from_secs(60));
    eprintln!("vite: agent run {:.1}s, then the new module after {:.1}s", edited.as_secs_f64(), waited.as_secs_f64());
    assert_eq!(pod_identity("web"), web_before, "same pod, no container restart");

    // A unit that mounts the workspace read-only cannot write to it.
    let probe = try_writing_as_greeter();
    assert!(probe.contains("refused") && !probe.contains("WROTE"), "{probe}");
    assert!(probe.to_lowercase().contains("read-only file system"), "the write fails as read-only: {probe}");

    // Everybody on the workspace shares one identity: no permission errors anywhere.
    for (pod, log) in all_logs() {
        let lower = log.to_lowercase();
        for problem in ["permission denied", "eacces", "operation not permitted", "read-only file system", "erofs"] {
            assert!(!lower.contains(problem), "pod {pod} logged {problem:?}:\n{log}");
        }
    }

    // The agent may do what it must, and nothing more.
    let check = codex_dev(&["check"], &["-o", "json"]);
    assert_eq!(check.status.code(), Some(0), "check failed:\n{}", text(&check.stdout));
    let verdict: Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(verdict["passed"], true);
    let units: Vec<&str> =
        verdict["workloads"].as_array().unwrap().iter().map(|w| w["finding"]["unit"].as_str().unwrap()).collect();
    for unit in ["greeter", "catalog", "gateway", "web", "workspace-seed", "agent"] {
        assert!(units.contains(&unit), "{unit} is among the checked workloads: {units:?}");
    }

    // Grant too much: get on Secrets through an extra RoleBinding.
    apply(&json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "secret-reader", "namespace": NAMESPACE},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}],
    }));
    apply(&json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "too-much", "namespace": NAMESPACE},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "secret-reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "codex-agent", "namespace": NAMESPACE}],
    }));
    // RBAC changes reach the authorizer through its informer: give it a moment.
    let deadline = Instant::now() + Duration::from_secs(30);
    let failed = loop {
        let out = codex_dev(&["check"], &[]);
        if out.status.code() == Some(6) || Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(failed.status.code(), Some(6), "check must fail:\n{}", text(&failed.stdout));
    let report = text(&failed.stdout);
    assert!(report.contains(&format!("FAIL get secrets in {NAMESPACE}: allowed (expected denied)")), "{report}");
    assert!(report.contains("RoleBinding \"too-much/"), "the authorizer names the binding:\n{report}");
    assert!(report.contains("FAIL RoleBinding too-much"), "{report}");
}
