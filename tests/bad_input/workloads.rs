//! Workload rules: schedules, ports, hooks, probes, volumes, workspace
//! mounts, sidecars, env sources and what each kind of workload may have.

use super::*;

#[test]
fn cronjob_without_schedule() {
    assert_error(&edited("kind: Job", "kind: CronJob"), 26, 7, "services[0].workload", "needs \"schedule\"");
}

#[test]
fn schedule_on_a_deployment() {
    assert_error(
        &edited("      kind: Deployment\n", "      kind: Deployment\n      schedule: \"* * * * *\"\n"),
        33,
        17,
        "services[1].workload.schedule",
        "CronJob only",
    );
}

#[test]
fn duplicate_port_name() {
    assert_error(
        &edited(
            "        - { name: http, port: 8080 }\n",
            "        - { name: http, port: 8080 }\n        - { name: http, port: 9090 }\n",
        ),
        36,
        19,
        "services[1].workload.ports[1].name",
        "duplicate port name",
    );
}

#[test]
fn port_name_too_long() {
    assert_error(
        &edited("name: http,", "name: http-port-too-long,"),
        35,
        19,
        "services[1].workload.ports[0].name",
        "at most 15 characters",
    );
}

#[test]
fn hook_with_two_kinds() {
    let text = format!("{MINIMAL}    hooks:\n      readiness:\n        - {{ http: {{ path: /, port: http }}, tcp: {{ port: http }} }}\n");
    assert_error(&text, 38, 11, "services[1].hooks.readiness[0]", "exactly one of");
}

#[test]
fn hook_path_must_be_absolute() {
    let text = format!("{MINIMAL}    hooks:\n      readiness:\n        - http: {{ path: healthz, port: http }}\n");
    assert_error(&text, 38, 25, "services[1].hooks.readiness[0].http.path", "must start with '/'");
}

#[test]
fn probe_on_an_unknown_port_name() {
    let text = format!("{MINIMAL}      probes:\n        readiness: {{ http: {{ path: /, port: web }} }}\n");
    assert_error(&text, 37, 45, "services[1].workload.probes.readiness.http.port", "unknown port \"web\"");
}

#[test]
fn workspace_sub_path_escaping_the_volume() {
    let text = format!("{MINIMAL}    workspace: {{ subPath: ../etc, readOnly: true }}\n");
    assert_error(&text, 36, 27, "services[1].workspace.subPath", "no '..'");
}

#[test]
fn workspace_mount_must_state_its_mode() {
    let text = format!("{MINIMAL}    workspace: {{ mountPath: /src }}\n");
    assert_error(&text, 36, 16, "services[1].workspace", "missing required field \"readOnly\"");
}

#[test]
fn service_without_phase() {
    assert_error(&edited("    phase: internal\n", ""), 28, 5, "services[1]", "missing required field \"phase\"");
}

#[test]
fn volume_size_that_is_not_a_quantity() {
    let text = format!("{MINIMAL}      volumes:\n        - {{ name: data, mountPath: /data, size: lots }}\n");
    assert_error(&text, 37, 49, "services[1].workload.volumes[0].size", "not a Kubernetes quantity");
}

#[test]
fn replicas_on_a_job() {
    assert_error(
        &edited("kind: Job", "kind: Job\n      replicas: 3"),
        27,
        17,
        "services[0].workload.replicas",
        "Deployment and StatefulSet only",
    );
}

#[test]
fn hot_reload_without_a_workspace_in_dev() {
    let text = edited("    phase: internal\n", "    phase: internal\n    codeUpdateStrategy: hot-reload\n");
    assert_error(&text, 30, 25, "services[1].codeUpdateStrategy", "declare \"workspace\"");
}

#[test]
fn unit_name_too_long() {
    let long = "a".repeat(60);
    assert_error(&edited("name: api", &format!("name: {long}")), 28, 11, "services[1].name", "at most 54 characters");
}

#[test]
fn wrong_type_for_a_list() {
    assert_error(&edited("dependsOn: [db]", "dependsOn: db"), 24, 16, "services[0].dependsOn", "is not a list");
}

#[test]
fn an_overlay_cannot_add_what_the_unit_may_not_have() {
    let text = format!("{MINIMAL}    overlays:\n      dev: {{ workload: {{ schedule: \"* * * * *\" }} }}\n");
    assert_error(&text, 37, 36, "services[1].overlays.dev.workload.schedule", "CronJob only");
}

#[test]
fn ingress_on_a_job() {
    let text = edited("      kind: Job\n", "      kind: Job\n      ports: [{ name: http, port: 80 }]\n")
        .replace("    phase: migrations\n", "    phase: migrations\n    ingress: { host: a.test }\n");
    assert_error(&text, 24, 14, "services[0].ingress", "a Job has none");
}

#[test]
fn volume_mount_path_must_be_absolute() {
    let text = format!("{MINIMAL}      volumes:\n        - {{ name: data, mountPath: data }}\n");
    assert_error(&text, 37, 36, "services[1].workload.volumes[0].mountPath", "absolute path");
}

#[test]
fn workspace_size_must_be_a_quantity() {
    let text = format!("{MINIMAL}workspace: {{ size: big }}\n");
    assert_error(&text, 36, 20, "workspace.size", "not a Kubernetes quantity");
}

#[test]
fn overlays_may_delete_with_null_and_set_when() {
    let text = format!("{MINIMAL}    overlays:\n      dev: {{ when: \"false\", workload: {{ ports: null }} }}\n");
    let loaded = config::load_bytes("services.yaml", text.into_bytes(), Path::new("tests/fixtures")).unwrap();
    let select = |env: &str| config::stack::Selection { env: env.into(), slot: "1".into(), issue: String::new() };
    let prod = loaded.resolve(&select("prod")).unwrap();
    assert!(prod.units.iter().any(|u| u.name == "api" && u.workload.as_ref().is_some_and(|w| w.ports.len() == 1)));
    let dev = loaded.resolve(&select("dev")).unwrap();
    assert!(!dev.units.iter().any(|u| u.name == "api"), "the dev overlay's when excludes api");
}

#[test]
fn volume_with_two_sources() {
    let text = format!(
        "{MINIMAL}      volumes:\n        - {{ name: cfg, mountPath: /etc/cfg, configMap: cfg, secret: cfg }}\n"
    );
    assert_error(&text, 37, 69, "services[1].workload.volumes[0].secret", "\"secret\" and \"configMap\" are both set");
}

#[test]
fn owned_claim_fields_on_a_volume_with_a_source() {
    let text =
        format!("{MINIMAL}      volumes:\n        - {{ name: tmp, mountPath: /tmp, emptyDir: {{}}, size: 1Gi }}\n");
    assert_error(&text, 37, 61, "services[1].workload.volumes[0].size", "not to a volume with \"emptyDir\"");
}

#[test]
fn duplicate_sidecar_name() {
    let text = format!(
        "{MINIMAL}      containers:\n        - {{ name: proxy, image: app }}\n        - {{ name: proxy, image: app }}\n"
    );
    assert_error(&text, 38, 19, "services[1].workload.containers[1].name", "duplicate container name \"proxy\"");
}

#[test]
fn sidecar_named_like_the_unit() {
    let text = format!("{MINIMAL}      initContainers:\n        - {{ name: api, image: app }}\n");
    assert_error(&text, 37, 19, "services[1].workload.initContainers[0].name", "the main container's name");
}

#[test]
fn sidecar_mounting_an_undeclared_volume() {
    let text = format!(
        "{MINIMAL}      containers:\n        - {{ name: proxy, image: app, volumeMounts: [{{ name: tls, mountPath: /tls }}] }}\n"
    );
    assert_error(&text, 37, 61, "services[1].workload.containers[0].volumeMounts[0].name", "unknown volume \"tls\"");
}

#[test]
fn pod_labels_cannot_set_a_selector_label() {
    let text = format!("{MINIMAL}      podLabels: {{ app.kubernetes.io/name: other, team: a }}\n");
    assert_error(
        &text,
        36,
        20,
        "services[1].workload.podLabels[\"app.kubernetes.io/name\"]",
        "a selector label the chart sets",
    );
}

#[test]
fn exec_probe_together_with_http() {
    let text = format!(
        "{MINIMAL}      probes:\n        readiness: {{ http: {{ path: /, port: http }}, exec: {{ command: [\"true\"] }} }}\n"
    );
    assert_error(&text, 37, 20, "services[1].workload.probes.readiness", "exactly one of \"http\", \"tcp\", \"exec\"");
}

#[test]
fn env_value_from_two_sources() {
    let text = format!(
        "{MINIMAL}      env:\n        A: {{ secretKeyRef: {{ name: s, key: k }}, fieldRef: {{ fieldPath: metadata.name }} }}\n"
    );
    assert_error(
        &text,
        37,
        12,
        "services[1].workload.env.A",
        "exactly one of \"secret\", \"configMap\", \"field\" (or the Kubernetes forms \"secretKeyRef\"",
    );
}

#[test]
fn env_value_from_a_misspelt_source_is_a_precise_structural_error() {
    let text = format!("{MINIMAL}      env:\n        A: {{ secretKeyRf: {{ name: s, key: k }} }}\n");
    assert_error(&text, 37, 14, "services[1].workload.env.A.secretKeyRf", "did you mean \"secretKeyRef\"");
}

#[test]
fn env_from_without_an_object() {
    let text = format!("{MINIMAL}      envFrom:\n        - {{ prefix: X_ }}\n");
    assert_error(
        &text,
        37,
        11,
        "services[1].workload.envFrom[0]",
        "exactly one of \"secret\", \"configMap\", \"secretRef\", \"configMapRef\"",
    );
}

#[test]
fn replicas_on_a_daemonset() {
    let text = edited("      kind: Deployment\n", "      kind: DaemonSet\n      replicas: 2\n");
    assert_error(&text, 33, 17, "services[1].workload.replicas", "Deployment and StatefulSet only");
}

#[test]
fn toleration_seconds_without_no_execute() {
    let text = format!("{MINIMAL}      tolerations:\n        - {{ key: a, operator: Exists, tolerationSeconds: 5 }}\n");
    assert_error(&text, 37, 58, "services[1].workload.tolerations[0].tolerationSeconds", "NoExecute only");
}
