use super::*;
use serde_json::json;

fn ns_labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn the_enforce_label_must_be_the_declared_level() {
    let restricted = PodSecurityLevel::Restricted;
    let ok = judge_level(restricted, &ns_labels(&[(labels::POD_SECURITY_ENFORCE, "restricted")]));
    assert!(ok.ok && ok.problem.is_none(), "{ok:?}");
    let weaker = judge_level(restricted, &ns_labels(&[(labels::POD_SECURITY_ENFORCE, "privileged")]));
    assert_eq!(weaker.enforced.as_deref(), Some("privileged"));
    assert_eq!(weaker.problem.as_deref(), Some("enforces privileged, weaker than the declared restricted"));
    let missing = judge_level(PodSecurityLevel::Baseline, &BTreeMap::new());
    assert!(!missing.ok);
    assert_eq!(missing.problem.as_deref(), Some("no pod-security.kubernetes.io/enforce label (declared baseline)"));
    let unknown = judge_level(restricted, &ns_labels(&[(labels::POD_SECURITY_ENFORCE, "strict")]));
    assert!(!unknown.ok && unknown.problem.unwrap().contains("not a level"));
    let stricter = judge_level(PodSecurityLevel::Baseline, &ns_labels(&[(labels::POD_SECURITY_ENFORCE, "restricted")]));
    assert!(!stricter.ok && stricter.problem.unwrap().contains("stricter"));
}

fn quota(hard: serde_json::Value) -> ResourceQuota {
    serde_json::from_value(json!({"metadata": {"name": "codex-quota"}, "spec": {"hard": hard}})).unwrap()
}

#[test]
fn the_quota_must_hold_the_declared_amounts_however_written() {
    let declared = ns_labels(&[("pods", "20"), ("requests.cpu", "2"), ("requests.memory", "4Gi")]);
    let same = judge_quota(
        &declared,
        Some(&quota(json!({"pods": "20", "requests.cpu": "2000m", "requests.memory": "4096Mi"}))),
    );
    assert!(same.ok, "{same:?}");
    let drifted = judge_quota(&declared, Some(&quota(json!({"pods": "200", "requests.cpu": "2", "limits.cpu": "8"}))));
    assert_eq!(
        drifted.problems,
        ["pods: 200 (declared 20)", "requests.memory: not limited (declared 4Gi)", "limits.cpu: 8 (not declared)"]
    );
    let missing = judge_quota(&declared, None);
    assert!(!missing.ok && !missing.present);
    assert_eq!(missing.problems, ["ResourceQuota codex-quota is missing"]);
}

#[test]
fn quantities_compare_by_amount() {
    for (a, b) in
        [("1Gi", "1024Mi"), ("2", "2000m"), ("0.5", "500m"), ("1e3", "1k"), ("1.5Gi", "1536Mi"), ("100m", "0.1")]
    {
        assert!(same_quantity(a, b), "{a} = {b}");
    }
    for (a, b) in [("1G", "1Gi"), ("2", "3"), ("500m", "5")] {
        assert!(!same_quantity(a, b), "{a} != {b}");
    }
    assert!(same_quantity("odd", "odd") && !same_quantity("odd", "1"));
}

fn listing() -> Listing {
    let template = |name: &str, privileged: bool| {
        json!({
            "metadata": {"labels": {"app.kubernetes.io/name": name}},
            "spec": {"containers": [{"name": "c", "image": "x", "securityContext": {"privileged": privileged},
                "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}
        })
    };
    Listing {
        deployments: vec![serde_json::from_value(json!({
            "metadata": {"name": "web"},
            "spec": {"selector": {}, "template": template("web", false)}
        }))
        .unwrap()],
        statefulsets: vec![serde_json::from_value(json!({
            "metadata": {"name": "pg"},
            "spec": {"selector": {}, "serviceName": "pg", "template": template("pg", false),
                "volumeClaimTemplates": [{"metadata": {"name": "data"}}]}
        }))
        .unwrap()],
        jobs: vec![
            serde_json::from_value(json!({"metadata": {"name": "migrate"}, "spec": {"template": template("migrate", false)}})).unwrap(),
            serde_json::from_value(json!({
                "metadata": {"name": "nightly-29411", "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "nightly", "uid": "u"}]},
                "spec": {"template": template("nightly", false)}
            }))
            .unwrap(),
        ],
        cronjobs: vec![serde_json::from_value(json!({
            "metadata": {"name": "nightly"},
            "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": template("nightly", false)}}}
        }))
        .unwrap()],
        pods: vec![
            serde_json::from_value(json!({"metadata": {"name": "debug", "labels": {"x": "y"}},
                "spec": {"containers": [{"name": "c", "image": "x"}], "ephemeralContainers": [{"name": "e", "image": "x"}]}}))
            .unwrap(),
            serde_json::from_value(json!({"metadata": {"name": "web-abc", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1", "uid": "u"}]},
                "spec": {"containers": [{"name": "c", "image": "x"}]}}))
            .unwrap(),
        ],
        ..Default::default()
    }
}

#[test]
fn every_workload_and_bare_pod_gives_one_template() {
    let found = templates(&listing());
    let names: Vec<(&str, &str)> = found.iter().map(|t| (t.kind, t.name.as_str())).collect();
    assert_eq!(
        names,
        [("CronJob", "nightly"), ("Deployment", "web"), ("Job", "migrate"), ("Pod", "debug"), ("StatefulSet", "pg")]
    );
    let pg = found.iter().find(|t| t.kind == "StatefulSet").unwrap();
    let volume = &pg.spec.volumes.as_ref().unwrap()[0];
    assert_eq!(volume.name, "data");
    assert_eq!(volume.persistent_volume_claim.as_ref().unwrap().claim_name, "data-pg-0");
}

#[test]
fn the_dry_run_pod_carries_the_templates_labels_and_spec_under_a_generated_name() {
    let found = templates(&listing());
    let web = dry_run_pod(found.iter().find(|t| t.name == "web").unwrap());
    let value = serde_json::to_value(&web).unwrap();
    assert_eq!(value["metadata"], json!({"generateName": "web-check-", "labels": {"app.kubernetes.io/name": "web"}}));
    assert_eq!(value["spec"]["containers"][0]["image"], "x");
    let debug = dry_run_pod(found.iter().find(|t| t.name == "debug").unwrap());
    assert!(debug.spec.unwrap().ephemeral_containers.is_none());
}

fn web() -> Template {
    templates(&listing()).into_iter().find(|t| t.name == "web").unwrap()
}

#[test]
fn admission_answers_are_told_apart() {
    let restricted = PodSecurityLevel::Restricted;
    let answer = |code: u16, message: &str, warnings: &[&str]| Answer {
        code,
        message: message.into(),
        warnings: warnings.iter().map(|w| w.to_string()).collect(),
    };
    let admitted = judge_admission(&web(), &answer(201, "", &[]), restricted);
    assert_eq!(admitted.verdict, Verdict::Admitted);
    let psa = "pods \"web-check-x\" is forbidden: violates PodSecurity \"restricted:latest\": privileged (container \"c\" must not set securityContext.privileged=true)";
    let refused = judge_admission(&web(), &answer(403, psa, &[]), restricted);
    assert!(refused.violation());
    assert_eq!(refused.message.as_deref(), Some(psa));
    let warned = "would violate PodSecurity \"restricted:latest\": privileged (container \"c\" must not set securityContext.privileged=true)";
    let admitted_but_warned = judge_admission(&web(), &answer(201, "", &[warned]), restricted);
    assert_eq!(
        (admitted_but_warned.verdict, admitted_but_warned.message.as_deref()),
        (Verdict::ViolatesPodSecurity, Some(warned))
    );
    // A warning at another level than the declared one says nothing about it.
    let baseline_warning = "would violate PodSecurity \"baseline:latest\": hostPath volumes";
    assert_eq!(judge_admission(&web(), &answer(201, "", &[baseline_warning]), restricted).verdict, Verdict::Admitted);
    let quota = "pods \"web-check-x\" is forbidden: exceeded quota: codex-quota, requested: pods=1, used: pods=20, limited: pods=20";
    let other = judge_admission(&web(), &answer(403, quota, &[]), restricted);
    assert_eq!(other.verdict, Verdict::RefusedOtherwise);
    assert!(!other.violation());
    let over_quota_and_warned = judge_admission(&web(), &answer(403, quota, &[warned]), restricted);
    assert_eq!(over_quota_and_warned.verdict, Verdict::ViolatesPodSecurity);
}

#[test]
fn warning_headers_are_unquoted() {
    assert_eq!(
        warning_text(r#"299 - "would violate PodSecurity \"restricted:latest\": privileged""#),
        r#"would violate PodSecurity "restricted:latest": privileged"#
    );
    assert_eq!(warning_text("plain text"), "plain text");
    assert_eq!(
        warned_level(r#"would violate PodSecurity "baseline:v1.34": hostPath"#),
        Some(PodSecurityLevel::Baseline)
    );
    assert_eq!(warned_level("metadata.name: this is deprecated"), None);
}

#[test]
fn a_namespace_below_the_declared_level_limits_what_admission_can_tell() {
    let restricted = PodSecurityLevel::Restricted;
    let labels = |enforce: &str, warn: &str| {
        judge_level(
            restricted,
            &ns_labels(&[(labels::POD_SECURITY_ENFORCE, enforce), (labels::POD_SECURITY_WARN, warn)]),
        )
    };
    assert_eq!(coverage_limit(restricted, &labels("restricted", "restricted")), None);
    assert_eq!(coverage_limit(restricted, &labels("privileged", "restricted")), None);
    assert_eq!(
        coverage_limit(restricted, &labels("baseline", "baseline")).as_deref(),
        Some("the namespace neither enforces nor warns at restricted: pods were judged at baseline only")
    );
}

#[test]
fn checks_and_violations_are_counted_over_every_part() {
    let level = judge_level(PodSecurityLevel::Restricted, &ns_labels(&[(labels::POD_SECURITY_ENFORCE, "privileged")]));
    let refused = WorkloadAdmission {
        kind: "Deployment",
        name: "priv".into(),
        verdict: Verdict::ViolatesPodSecurity,
        message: Some("x".into()),
        warnings: vec![],
    };
    let quota_refused = WorkloadAdmission { verdict: Verdict::RefusedOtherwise, name: "big".into(), ..refused.clone() };
    let workloads = WorkloadsFinding { checked: 2, refused: 1, results: vec![refused, quota_refused], limit: None };
    let posture =
        Posture::new(level, PresenceFinding::of("NetworkPolicy", NETWORK_POLICY, false), None, None, workloads);
    assert_eq!((posture.checks, posture.violations, posture.passed), (4, 3, false));
}

#[test]
fn quota_use_reads_the_status_and_falls_back_to_the_spec() {
    let synced: ResourceQuota = serde_json::from_value(json!({
        "metadata": {"name": "codex-quota"},
        "spec": {"hard": {"pods": "20"}},
        "status": {"hard": {"pods": "20", "requests.cpu": "2"}, "used": {"pods": "7", "requests.cpu": "70m"}}
    }))
    .unwrap();
    let used = quota_use(&synced);
    assert_eq!(used.hard, ns_labels(&[("pods", "20"), ("requests.cpu", "2")]));
    assert_eq!(used.used, ns_labels(&[("pods", "7"), ("requests.cpu", "70m")]));
    let fresh = quota_use(&quota(json!({"pods": "20"})));
    assert_eq!((fresh.hard, fresh.used), (ns_labels(&[("pods", "20")]), BTreeMap::new()));
}
