//! `render` and the chart with the real helm binary (built by `cargo xtask tools helm`).

use std::path::PathBuf;
use std::process::Command;

/// The example's secret input `dbPassword`.
const DB_PASSWORD: &str = "helm-test-db-password-0b7e";

fn helm() -> PathBuf {
    let path = std::env::var_os("CODEX_HELM").expect("CODEX_HELM must point at helm; `cargo xtask test` sets it");
    PathBuf::from(path)
}

#[test]
fn the_chart_is_lint_clean() {
    let chart = concat!(env!("CARGO_MANIFEST_DIR"), "/charts/codex-env");
    for values in [None, Some("ci/stateful-values.yaml"), Some("ci/internal-values.yaml")] {
        let mut command = Command::new(helm());
        command.args(["lint", "--strict", chart]);
        if let Some(file) = values {
            command.args(["-f", &format!("{chart}/{file}")]);
        }
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("0 chart(s) failed"));
    }
}

#[test]
fn render_writes_values_and_helm_manifests_for_every_environment() {
    for (env, extra) in
        [("prod", vec![]), ("staging", vec![]), ("dev", vec!["--slot", "2"]), ("ai", vec!["--issue", "19"])]
    {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
            .args(["render", "--env", env, "--out", dir.path().to_str().unwrap()])
            .args(&extra)
            .env("CODEX_HELM", helm())
            .env("CODEX_INPUT_DBPASSWORD", DB_PASSWORD)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{env}: {}", String::from_utf8_lossy(&out.stderr));
        // The Secret comes with the first phase, its value a placeholder in every file.
        let stateful = objects(&dir.path().join("01-stateful/manifests.yaml"));
        let secret = find(&stateful, "Secret", "db");
        assert_eq!(secret["stringData"]["password"], "<secret:db/password>", "{env}");
        assert!(secret["metadata"]["annotations"]["codex-k8s.dev/content-digest"].is_string());
        let postgres = find(&stateful, "StatefulSet", "postgres");
        let annotations = &postgres["spec"]["template"]["metadata"]["annotations"];
        assert!(annotations["codex-k8s.dev/secrets-digest"].is_string(), "{env}: pods roll with the secret");
        for phase in std::fs::read_dir(dir.path()).unwrap() {
            for file in std::fs::read_dir(phase.unwrap().path()).unwrap() {
                let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
                assert!(!text.contains(DB_PASSWORD), "{env}: the password is in a rendered file");
            }
        }
        let migrations = std::fs::read_to_string(dir.path().join("02-migrations/manifests.yaml")).unwrap();
        assert!(migrations.contains("kind: Job"), "{env}");
        let internal = std::fs::read_to_string(dir.path().join("03-internal/manifests.yaml")).unwrap();
        assert!(internal.contains("kind: Deployment") && internal.contains("name: greeter"), "{env}");
        let frontend = std::fs::read_to_string(dir.path().join("05-frontend/manifests.yaml")).unwrap();
        assert_eq!(frontend.contains("kind: Ingress"), env != "ai", "{env}: ai disables Ingress");
    }
}

/// The objects of one rendered `manifests.yaml`.
fn objects(path: &std::path::Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|document| serde::Deserialize::deserialize(document).unwrap())
        .filter(|object: &serde_json::Value| !object.is_null())
        .collect()
}

#[track_caller]
fn find<'a>(objects: &'a [serde_json::Value], kind: &str, name: &str) -> &'a serde_json::Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind}/{name} among the rendered objects"))
}

#[test]
fn typed_pod_fields_reach_the_rendered_objects() {
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(["render", "--env", "prod", "-f", "tests/fixtures/typed-pod-fields.yaml"])
        .args(["--out", dir.path().to_str().unwrap()])
        .env("CODEX_HELM", helm())
        .current_dir(root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // The values kubectl-codex writes pass the chart's schema under strict lint.
    for phase in ["01-stateful", "03-internal"] {
        let values = dir.path().join(phase).join("values.yaml");
        let lint = Command::new(helm())
            .args(["lint", "--strict", &format!("{root}/charts/codex-env"), "-f", values.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(lint.status.success(), "{phase}: {}", String::from_utf8_lossy(&lint.stdout));
    }

    let stateful = objects(&dir.path().join("01-stateful/manifests.yaml"));
    let agent = find(&stateful, "DaemonSet", "node-agent");
    assert!(agent["spec"].get("replicas").is_none(), "a DaemonSet has no replicas");
    let pod = &agent["spec"]["template"]["spec"];
    assert_eq!(pod["nodeSelector"]["kubernetes.io/os"], "linux");
    assert_eq!(pod["tolerations"][1]["tolerationSeconds"], 300);
    assert_eq!(pod["tolerations"][0]["operator"], "Exists");
    assert!(pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"].is_object());
    assert_eq!(pod["containers"][0]["readinessProbe"]["exec"]["command"][1], "/tmp/ready");
    assert_eq!(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    assert!(pod["securityContext"].get("fsGroup").is_none(), "no workspace, no owned claim: no identity");
    assert_eq!(pod["volumes"][0]["configMap"]["name"], "agent-config");
    assert_eq!(pod["volumes"][1]["emptyDir"]["medium"], "Memory");
    assert_eq!(pod["containers"][0]["volumeMounts"][0]["readOnly"], true);
    find(&stateful, "Service", "node-agent");
    let db = find(&stateful, "StatefulSet", "db");
    let claims = db["spec"]["volumeClaimTemplates"].as_array().unwrap();
    assert_eq!(claims.len(), 1, "only the owned volume is a claim template");
    assert_eq!(db["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"], "db-init");
    assert_eq!(db["spec"]["template"]["spec"]["securityContext"]["runAsUser"], 999, "own claims: its own wins");

    let internal = objects(&dir.path().join("03-internal/manifests.yaml"));
    let template = &find(&internal, "Deployment", "api")["spec"]["template"];
    let labels = &template["metadata"]["labels"];
    assert_eq!(labels["team"], "payments");
    assert_eq!(labels["tier"], "1");
    assert_eq!(labels["app.kubernetes.io/name"], "api");
    assert_eq!(template["metadata"]["annotations"]["prometheus.io/scrape"], "true");
    let pod = &template["spec"];
    assert_eq!(pod["serviceAccountName"], "api");
    assert_eq!(pod["securityContext"]["runAsUser"], 10001, "the workspace identity wins");
    assert_eq!(pod["securityContext"]["fsGroup"], 10001);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["initContainers"][0]["name"], "wait-for-db");
    assert_eq!(pod["initContainers"][0]["volumeMounts"][0]["name"], "cache");
    let containers = pod["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 2);
    let (main, sidecar) = (&containers[0], &containers[1]);
    let env =
        |c: &serde_json::Value, name: &str| c["env"].as_array().unwrap().iter().find(|e| e["name"] == name).cloned();
    assert_eq!(env(main, "DB_PASSWORD").unwrap()["valueFrom"]["secretKeyRef"]["key"], "password");
    assert_eq!(env(main, "FEATURE_FLAGS").unwrap()["valueFrom"]["configMapKeyRef"]["optional"], true);
    assert_eq!(env(main, "POD_NAME").unwrap()["valueFrom"]["fieldRef"]["fieldPath"], "metadata.name");
    assert_eq!(env(main, "LOG_LEVEL").unwrap()["value"], "info");
    assert_eq!(main["envFrom"][0]["secretRef"]["name"], "api-secrets");
    assert_eq!(main["envFrom"][1]["prefix"], "CFG_");
    assert_eq!(main["livenessProbe"]["exec"]["command"][0], "/bin/healthcheck");
    assert_eq!(main["securityContext"]["capabilities"]["drop"][0], "ALL");
    assert_eq!(sidecar["name"], "proxy");
    assert_eq!(sidecar["image"], "127.0.0.1:5000/pods/proxy:prod", "resolved through images");
    assert_eq!(env(sidecar, "TOKEN").unwrap()["valueFrom"]["secretKeyRef"]["name"], "proxy-token");
    assert_eq!(sidecar["envFrom"][0]["configMapRef"]["name"], "proxy-config");
    assert_eq!(sidecar["ports"][0]["containerPort"], 8443);
    assert_eq!(sidecar["volumeMounts"][1]["subPath"], "proxy");
    let volumes = pod["volumes"].as_array().unwrap();
    let volume = |name: &str| volumes.iter().find(|v| v["name"] == name).unwrap();
    assert_eq!(volume("tls")["secret"]["secretName"], "api-tls");
    assert_eq!(volume("shared")["persistentVolumeClaim"]["claimName"], "shared-data");
    assert!(volume("cache")["emptyDir"].is_object());
    assert!(!internal.iter().any(|o| o["kind"] == "PersistentVolumeClaim"), "an existing claim is not created");
}

#[test]
fn a_sidecar_image_of_ours_is_built() {
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(["build", "--env", "prod", "-f", "tests/fixtures/typed-pod-fields.yaml", "--dry-run", "-o", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = plan["images"].as_array().unwrap().iter().filter_map(|i| i["name"].as_str()).collect();
    assert_eq!(names, ["proxy"]);
}

/// Strings that a YAML 1.1 reader (Helm's) would take for booleans, numbers, dates or nulls,
/// and text with awkward characters, reach the rendered objects as the same strings.
#[test]
fn awkward_strings_reach_helm_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let awkward = [
        ("yes", "yes"),
        ("off", "off"),
        ("octal", "0755"),
        ("date", "2026-01-01"),
        ("exponent", "1e3"),
        ("tilde", "~"),
        ("null-word", "Null"),
        ("colon", "a: b"),
        ("hash", "# not a comment"),
        ("quote", "say \"hi\" \\ bye"),
        ("script", "#!/bin/sh\nset -e\necho 'yes: no'\n"),
        ("no-final-newline", "one\ntwo"),
        ("unicode", "grüße ✓"),
    ];
    let data: serde_json::Map<String, serde_json::Value> =
        awkward.iter().map(|(k, v)| (k.to_string(), serde_json::json!(v))).collect();
    let config_map = serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "awkward"}, "data": data,
    });
    std::fs::write(dir.path().join("awkward.yaml"), serde_json::to_string(&config_map).unwrap()).unwrap();
    std::fs::write(
        dir.path().join("services.yaml"),
        "apiVersion: codex-k8s.dev/v1alpha1\nkind: ServiceStack\nproject: { name: awkward }\n\
         environments: { prod: {} }\ninfrastructure:\n  - { name: settings, manifests: [awkward.yaml] }\n",
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(["render", "--env", "prod", "-f", "services.yaml", "--out", out_dir.to_str().unwrap()])
        .env("CODEX_HELM", helm())
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let objects = objects(&out_dir.join("01-stateful/manifests.yaml"));
    let rendered = &find(&objects, "ConfigMap", "awkward")["data"];
    for (key, value) in awkward {
        assert_eq!(rendered[key], serde_json::json!(value), "{key}");
    }
}

/// `helm template` with the values as `up` hands them to `helm upgrade --install`: the guard
/// file, then one JSON document on standard input; the exit status and standard output.
fn template_with_stdin(document: &str) -> std::process::Output {
    use std::io::Write;
    let chart = concat!(env!("CARGO_MANIFEST_DIR"), "/charts/codex-env");
    let dir = tempfile::tempdir().unwrap();
    let guard = dir.path().join("guard.yaml");
    std::fs::write(&guard, kubectl_codex::values::STDIN_GUARD).unwrap();
    let mut child = Command::new(helm())
        .args(["template", "codex-stateful", chart, "--namespace", "ns", "--values"])
        .arg(&guard)
        .args(["--values", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(document.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_values_on_standard_input_set_everything_the_secrets_bytes_included() {
    // As values::helm_document writes it: the placeholders' digest kept, their data replaced.
    let document = r#"{"global":{"project":"p","env":"e","phase":"stateful","runtime":"prod"},"configMaps":[],
        "workloads":[],"extraManifests":[],"secrets":{"db":{"digest":"abc",
        "data":{"password":"aHVudGVyMg==","url":"cG9zdGdyZXM6Ly8="}}}}"#;
    let out = template_with_stdin(document);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("manifests.yaml");
    std::fs::write(&file, &out.stdout).unwrap();
    let rendered = objects(&file);
    let secret = find(&rendered, "Secret", "db");
    assert_eq!(secret["data"]["password"], "aHVudGVyMg==");
    assert_eq!(secret["data"]["url"], "cG9zdGdyZXM6Ly8=");
    assert_eq!(secret["metadata"]["annotations"]["codex-k8s.dev/content-digest"], "abc");
}

#[test]
fn without_its_document_or_with_half_of_it_helm_refuses_to_render() {
    // What a helm started ahead reads when its `up` dies before or while handing it over.
    let empty = template_with_stdin("");
    assert!(!empty.status.success(), "the chart's defaults must not be installed in its place");
    assert!(String::from_utf8_lossy(&empty.stderr).contains("global"), "{}", String::from_utf8_lossy(&empty.stderr));
    let cut = template_with_stdin(r#"{"global":{"project":"p","env":"e","phase":"stateful""#);
    assert!(!cut.status.success(), "a document cut short must not pass");
}

#[test]
fn declared_ingress_and_egress_peers_reach_the_network_policy() {
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string(format!("{root}/services.yaml")).unwrap();
    let anchor = "    podSecurity: restricted\n";
    assert!(example.contains(anchor), "services.yaml's prod environment states its podSecurity");
    let peers = "    ingress: [namespace/ingress-nginx, 10.1.0.0/16, staging]\n    egress: [namespace/registry]\n";
    let edited = example.replacen(anchor, &format!("{anchor}{peers}"), 1);
    let file = dir.path().join("services.yaml");
    std::fs::write(&file, edited).unwrap();
    let out_dir = dir.path().join("out");
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(["render", "--env", "prod", "-f", file.to_str().unwrap(), "--out", out_dir.to_str().unwrap()])
        .env("CODEX_HELM", helm())
        .env("CODEX_INPUT_DBPASSWORD", DB_PASSWORD)
        .current_dir(root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stateful = objects(&out_dir.join("01-stateful/manifests.yaml"));
    let spec = &find(&stateful, "NetworkPolicy", "codex-isolation")["spec"];
    let namespace = |name: &str| serde_json::json!({"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}]});
    assert_eq!(
        spec["ingress"],
        serde_json::json!([
            {"from": [{"podSelector": {}}]},
            namespace("ingress-nginx"),
            {"from": [{"ipBlock": {"cidr": "10.1.0.0/16"}}]},
            namespace("codex-staging"),
        ])
    );
    let egress = spec["egress"].as_array().unwrap();
    assert_eq!(
        egress.last().unwrap(),
        &serde_json::json!({"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "registry"}}}]})
    );
}

/// `helm template` of the chart with the CI values of the internal phase, plus `extra` flags.
fn template_internal(extra: &[&str]) -> Vec<serde_json::Value> {
    let chart = concat!(env!("CARGO_MANIFEST_DIR"), "/charts/codex-env");
    let out = Command::new(helm())
        .args(["template", "codex-internal", chart, "--namespace", "ns", "-f"])
        .arg(format!("{chart}/ci/internal-values.yaml"))
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("manifests.yaml");
    std::fs::write(&file, &out.stdout).unwrap();
    objects(&file)
}

#[test]
fn the_helm_test_pod_exists_only_with_an_image_and_is_restricted() {
    let without = template_internal(&[]);
    assert!(!without.iter().any(|o| o["kind"] == "Pod"), "no image, no test Pod");

    let with = template_internal(&["--set", "tests.image=busybox:1.37"]);
    let pod = find(&with, "Pod", "codex-internal-test-connection");
    assert_eq!(pod["metadata"]["annotations"]["helm.sh/hook"], "test");
    let spec = &pod["spec"];
    assert_eq!(spec["restartPolicy"], "Never");
    assert_eq!(spec["securityContext"]["runAsNonRoot"], true);
    assert_eq!(spec["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    let container = &spec["containers"][0];
    assert_eq!(container["image"], "busybox:1.37");
    assert_eq!(container["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(container["securityContext"]["capabilities"]["drop"][0], "ALL");
    // Every TCP port of the unit Service `users` (servicePort 80, and 9090 by default).
    assert_eq!(container["command"][2], "nc -z -w 5 users 80 && nc -z -w 5 users 9090");
}

#[test]
fn the_app_version_label_is_on_objects_and_pods_but_never_in_a_selector() {
    let objects = template_internal(&[]);
    let chart: serde_json::Value = serde_yaml::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/charts/codex-env/Chart.yaml")).unwrap(),
    )
    .unwrap();
    let version = &chart["appVersion"];
    let deployment = find(&objects, "Deployment", "users");
    assert_eq!(&deployment["metadata"]["labels"]["app.kubernetes.io/version"], version);
    assert_eq!(&deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/version"], version);
    for object in &objects {
        let selector = &object["spec"]["selector"];
        let labels = selector.get("matchLabels").unwrap_or(selector);
        assert!(labels.get("app.kubernetes.io/version").is_none(), "{} selects by version", object["kind"]);
    }
}
