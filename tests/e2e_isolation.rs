//! End to end, on the local cluster (kube-router enforcing NetworkPolicy, Pod Security
//! admission on): two environments of the example stack are fenced off from each other.
//! A pod of one cannot open a TCP connection to the other's Services, but reaches its own
//! and cluster DNS; the agent Job of one cannot reach the other's database; egress and
//! ingress declared between them open that way only; a pod below the namespace's level is
//! refused and `up` says why.
//! Needs KUBECONFIG, CODEX_HELM, CODEX_E2E_PROBE_IMAGE and the example images
//! (`cargo xtask test` provides them).

use crate::support::cluster::*;
use crate::support::*;

use serde_json::Value;

const FIRST: &str = "codex-e2e-iso-a";
const SECOND: &str = "codex-e2e-iso-b";

fn up(file: &std::path::Path) -> std::process::Output {
    codex(&["up", "--skip-build", "-f", file.to_str().unwrap(), "--env", "staging", "--timeout", "5m", "-o", "json"])
}

/// A pod that runs the probe as Pod Security "restricted" wants it, idle until exec'd into.
fn start_probe_client(namespace: &str) {
    let image = std::env::var("CODEX_E2E_PROBE_IMAGE").expect("CODEX_E2E_PROBE_IMAGE (cargo xtask test sets it)");
    let pod = serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "client", "namespace": namespace},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "securityContext": {"runAsNonRoot": true, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "probe", "image": image, "args": ["sleep"],
                "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
            }],
        },
    });
    let applied = kubectl_apply(&pod.to_string());
    assert!(applied.status.success(), "a restricted-compliant pod is admitted: {}", text(&applied.stderr));
    let ready = kubectl(&["wait", "-n", namespace, "pod/client", "--for=condition=Ready", "--timeout=120s"]);
    assert!(ready.status.success(), "{}", text(&ready.stderr));
}

/// `probe get URL` inside the client pod: Ok(body) or Err(what failed).
fn probe_get(namespace: &str, url: &str) -> Result<String, String> {
    let out = kubectl(&["exec", "-n", namespace, "client", "--", "/probe", "get", url]);
    if out.status.success() {
        Ok(text(&out.stdout))
    } else {
        Err(format!("{}{}", text(&out.stdout), text(&out.stderr)))
    }
}

/// [`probe_get`] until it answers or a minute has passed: the policy engine programs a new
/// pod's or a changed policy's rules a moment after the API server has them.
fn probe_get_within(namespace: &str, url: &str) -> Result<String, String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        match probe_get(namespace, url) {
            Err(_) if std::time::Instant::now() < deadline => std::thread::sleep(std::time::Duration::from_millis(500)),
            answer => return answer,
        }
    }
}

#[test]
fn two_environments_are_fenced_off_from_each_other() {
    let _first = NamespaceGuard::fresh(FIRST);
    let _second = NamespaceGuard::fresh(SECOND);
    let dir = tempfile::tempdir().unwrap();
    let first_dir = dir.path().join("a");
    let second_dir = dir.path().join("b");
    std::fs::create_dir_all(&first_dir).unwrap();
    std::fs::create_dir_all(&second_dir).unwrap();
    let first = staging_variant(&first_dir, FIRST, |t| t);
    let second = staging_variant(&second_dir, SECOND, |t| t);
    for file in [&first, &second] {
        let out = up(file);
        assert_eq!(out.status.code(), Some(0), "up {}:\n{}", file.display(), text(&out.stderr));
    }

    // Pod Security admission enforces the declared level on both namespaces.
    for namespace in [FIRST, SECOND] {
        let out = kubectl(&["get", "ns", namespace, "-o", "json"]);
        let ns: Value = serde_json::from_slice(&out.stdout).unwrap();
        for mode in ["enforce", "audit", "warn"] {
            assert_eq!(ns["metadata"]["labels"][format!("pod-security.kubernetes.io/{mode}")], "restricted", "{ns}");
        }
    }

    start_probe_client(FIRST);
    // Its own Services and cluster DNS: reachable.
    let own = probe_get(FIRST, "http://greeter/greeting").expect("a pod reaches its own namespace's Service");
    assert!(own.contains("hello from the database"), "{own}");
    let dns =
        kubectl(&["exec", "-n", FIRST, "client", "--", "/probe", "lookup", "kubernetes.default.svc.cluster.local"]);
    assert!(dns.status.success(), "cluster DNS answers: {}", text(&dns.stderr));
    // The other environment's Service: refused, by name and by its pod's own address.
    let across = probe_get(FIRST, &format!("http://greeter.{SECOND}.svc.cluster.local/greeting"));
    assert!(across.is_err(), "a pod of {FIRST} reached {SECOND}'s greeter: {across:?}");
    let pod_ip = text(
        &kubectl(&[
            "get",
            "pods",
            "-n",
            SECOND,
            "-l",
            "app.kubernetes.io/name=greeter",
            "-o",
            "jsonpath={.items[0].status.podIP}",
        ])
        .stdout,
    );
    assert!(!pod_ip.trim().is_empty(), "greeter of {SECOND} has a pod address");
    let direct = probe_get(FIRST, &format!("http://{}:8080/greeting", pod_ip.trim()));
    assert!(direct.is_err(), "a pod of {FIRST} reached {SECOND}'s greeter pod directly: {direct:?}");

    // The agent Job of the first environment: its own database yes, the other's no.
    let reach = |host: &str| format!("timeout 5 bash -c 'exec 3<>/dev/tcp/{host}/5432' && echo OPEN || echo CLOSED");
    let script = format!(
        "echo own=$({}); echo other=$({})",
        reach("postgres"),
        reach(&format!("postgres.{SECOND}.svc.cluster.local"))
    );
    // Text output: the agent's log is the command's stdout.
    let out = codex(&[
        "agent",
        "run",
        "-f",
        first.to_str().unwrap(),
        "--env",
        "staging",
        "--timeout",
        "3m",
        "--",
        "sh",
        "-c",
        &script,
    ]);
    let log = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "agent run:\n{log}\n{}", text(&out.stderr));
    assert!(log.contains("own=OPEN"), "the agent reaches its own database:\n{log}");
    assert!(log.contains("other=CLOSED"), "the agent must not reach {SECOND}'s database:\n{log}");

    // Declared both ways, egress from the first and ingress into the second: the first's pod
    // now reaches the second's greeter. The policies are all that changed, so each rerun
    // upgrades the first phase only; the policy engine applies them a moment later, hence
    // the retries.
    let staging = "  staging:\n    from: prod\n";
    let declaring = |dir: &std::path::Path, namespace: &str, line: String| {
        staging_variant(dir, namespace, |t| {
            assert!(t.contains(staging), "the example's staging environment");
            t.replacen(staging, &format!("{staging}{line}"), 1)
        })
    };
    for file in [
        declaring(&first_dir, FIRST, format!("    egress: [namespace/{SECOND}]\n")),
        declaring(&second_dir, SECOND, format!("    ingress: [namespace/{FIRST}]\n")),
    ] {
        let out = up(&file);
        assert_eq!(out.status.code(), Some(0), "up {}:\n{}", file.display(), text(&out.stderr));
    }
    let reached = probe_get_within(FIRST, &format!("http://greeter.{SECOND}.svc.cluster.local/greeting"))
        .unwrap_or_else(|e| panic!("declared ingress from {FIRST} stays closed: {e}"));
    assert!(reached.contains("hello from the database"), "{reached}");
    // Only what was declared: the second environment still cannot reach the first (its client
    // first proves it reaches its own greeter, so a refusal is the policy, not a slow start).
    start_probe_client(SECOND);
    probe_get_within(SECOND, "http://greeter/greeting")
        .expect("the second environment's client reaches its own greeter");
    let back = probe_get(SECOND, &format!("http://greeter.{FIRST}.svc.cluster.local/greeting"));
    assert!(back.is_err(), "ingress into {SECOND} opened {FIRST} too: {back:?}");

    // A unit below "restricted" is refused by the API server, and `up` says so.
    let weakened = staging_variant(&first_dir, FIRST, |t| {
        let greeter = t.find("      image: greeter\n").expect("the example's greeter workload");
        let own = "      securityContext: { readOnlyRootFilesystem: true }\n";
        let at = greeter + t[greeter..].find(own).expect("greeter states its securityContext");
        let weaker = "      securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: true }\n";
        format!("{}{weaker}{}", &t[..at], &t[at + own.len()..])
    });
    let out = up(&weakened);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "the refused phase fails the run:\n{stderr}");
    assert!(
        stderr.contains("violates PodSecurity \"restricted:latest\""),
        "up shows the API server's reason:\n{stderr}"
    );
    assert!(stderr.contains("allowPrivilegeEscalation != false"), "up names the field:\n{stderr}");
}
