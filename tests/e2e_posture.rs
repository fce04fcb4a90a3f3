//! End to end, on the local cluster (Pod Security admission on): `check` reports the posture
//! of a fresh environment of the example stack as declared, and names each weakening of it —
//! a lower enforce label, the NetworkPolicy gone, a privileged workload — with exit code 6;
//! `status` shows the quota's use.
//! Needs KUBECONFIG, CODEX_HELM, CODEX_E2E_PROBE_IMAGE and the example images
//! (`cargo xtask test` provides them).

use crate::support::cluster::*;
use crate::support::*;

use serde_json::Value;

const NAMESPACE: &str = "codex-e2e-posture";

/// The staging environment in a namespace of its own, with a quota: the one services.yaml
/// declares (inherited from prod), else one added here.
fn stack(dir: &std::path::Path) -> std::path::PathBuf {
    staging_variant(dir, NAMESPACE, |text| {
        if text.contains("\n    quota:") {
            return text;
        }
        let own = format!("\n    namespace: {NAMESPACE}\n");
        assert!(text.contains(&own), "the staging environment names its namespace");
        text.replacen(&own, &format!("{own}    quota: {{ cpu: \"4\", memory: 8Gi, pods: 40, storage: 20Gi }}\n"), 1)
    })
}

fn check(file: &std::path::Path) -> (Option<i32>, Value, String) {
    let out = codex(&["check", "-f", file.to_str().unwrap(), "--env", "staging", "-o", "json"]);
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("check -o json: {e}\n{}\n{}", text(&out.stdout), text(&out.stderr)));
    (out.status.code(), report, text(&out.stderr))
}

/// A Deployment whose container runs privileged: admitted only below `baseline`.
fn privileged_deployment() -> String {
    let image = std::env::var("CODEX_E2E_PROBE_IMAGE").expect("CODEX_E2E_PROBE_IMAGE (cargo xtask test sets it)");
    serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "privileged-probe", "namespace": NAMESPACE},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "privileged-probe"}},
            "template": {
                "metadata": {"labels": {"app": "privileged-probe"}},
                "spec": {
                    "terminationGracePeriodSeconds": 1,
                    "containers": [{
                        "name": "probe", "image": image, "args": ["sleep"],
                        "securityContext": {"privileged": true},
                    }],
                },
            },
        },
    })
    .to_string()
}

#[test]
fn check_reports_the_posture_and_names_each_weakening() {
    let _namespace = NamespaceGuard::fresh(NAMESPACE);
    let dir = tempfile::tempdir().unwrap();
    let file = stack(dir.path());
    let out = codex(&[
        "up",
        "--skip-build",
        "-f",
        file.to_str().unwrap(),
        "--env",
        "staging",
        "--timeout",
        "5m",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "up failed:\n{}", text(&out.stderr));

    // As deployed, the posture is what services.yaml declares.
    let (code, report, stderr) = check(&file);
    let posture = &report["posture"];
    assert_eq!(code, Some(0), "check of a fresh environment passes\n{report:#}\n{stderr}");
    assert_eq!(posture["passed"], true, "{posture:#}");
    assert_eq!(posture["podSecurity"]["declared"], "restricted");
    assert_eq!(posture["podSecurity"]["enforced"], "restricted");
    assert_eq!(posture["networkPolicy"]["present"], true);
    assert_eq!(posture["quota"]["ok"], true, "{posture:#}");
    assert_eq!(posture["limitRange"]["present"], true);
    assert!(posture["workloads"]["checked"].as_u64().unwrap() >= 5, "{posture:#}");
    assert_eq!(posture["workloads"]["refused"], 0);
    assert!(report["checks"].as_u64().unwrap() >= posture["checks"].as_u64().unwrap());

    // `status` shows the quota's use.
    let out = codex(&["status", "-n", NAMESPACE, "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    let quota = &status["quota"];
    assert!(quota["hard"]["pods"].is_string(), "{status:#}");
    assert!(quota["used"]["pods"].as_str().is_some_and(|p| p != "0"), "pods of the stack are counted: {quota}");
    let out = codex(&["status", "-n", NAMESPACE]);
    assert!(text(&out.stdout).contains("quota codex-quota: pods "), "{}", text(&out.stdout));

    // Weakened three ways: a lower enforce label, no NetworkPolicy, a privileged workload.
    let labelled = kubectl(&["label", "ns", NAMESPACE, "pod-security.kubernetes.io/enforce=privileged", "--overwrite"]);
    assert!(labelled.status.success(), "{}", text(&labelled.stderr));
    let deleted = kubectl(&["delete", "networkpolicy", "codex-isolation", "-n", NAMESPACE]);
    assert!(deleted.status.success(), "{}", text(&deleted.stderr));
    let applied = kubectl_apply(&privileged_deployment());
    assert!(
        applied.status.success(),
        "a privileged pod is admitted once enforce is privileged: {}",
        text(&applied.stderr)
    );

    let (code, report, stderr) = check(&file);
    let posture = &report["posture"];
    assert_eq!(code, Some(6), "a weakened posture exits 6\n{posture:#}\n{stderr}");
    assert_eq!(posture["passed"], false);
    assert_eq!(posture["podSecurity"]["ok"], false);
    assert_eq!(posture["podSecurity"]["enforced"], "privileged");
    assert_eq!(posture["networkPolicy"]["present"], false);
    assert_eq!(posture["networkPolicy"]["ok"], false);
    let refused: Vec<&Value> = posture["workloads"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verdict"] == "violatesPodSecurity")
        .collect();
    assert_eq!(refused.len(), 1, "only the privileged workload violates restricted: {posture:#}");
    assert_eq!(
        (&refused[0]["kind"], &refused[0]["name"]),
        (&Value::from("Deployment"), &Value::from("privileged-probe"))
    );
    assert!(refused[0]["message"].as_str().unwrap().contains("privileged"), "{}", refused[0]);
    assert!(posture["violations"].as_u64().unwrap() >= 3, "{posture:#}");
    assert_eq!(report["passed"], false);

    // The text report says the same.
    let out = codex(&["check", "-f", file.to_str().unwrap(), "--env", "staging"]);
    assert_eq!(out.status.code(), Some(6));
    let report = text(&out.stdout);
    assert!(report.contains("FAIL pod security restricted (enforced privileged)"), "{report}");
    assert!(report.contains("FAIL network policy codex-isolation: missing"), "{report}");
    assert!(report.contains("- Deployment privileged-probe: "), "{report}");
}
