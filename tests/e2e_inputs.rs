//! End to end, on the local cluster with the real helm: inputs and secrets. The example stack
//! comes up with its database password taken from CODEX_INPUT_DBPASSWORD (a fresh random one):
//! it reaches PostgreSQL and the services through the Secret `db`, and the gateway answers with
//! the database's row. A second `up` that changes another input keeps the generated secret, and
//! rolls the pods that read the changed one. No output of any command, no rendered file and no
//! evidence holds the password or the generated value.
//! Needs KUBECONFIG, CODEX_HELM and the example images in the local registry
//! (`cargo xtask test` provides all three).

use crate::support::cluster::*;
use crate::support::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The namespace of this test alone.
const NAMESPACE: &str = "codex-e2e-inputs";

/// A copy of the example whose `prod` environment deploys into [`NAMESPACE`], with one more
/// input (`issuer`) and one more secret (`session`: `issuer` from that input, `token`
/// generated) that the gateway reads.
fn variant(dir: &Path) -> PathBuf {
    let original = std::fs::read_to_string(root().join("services.yaml")).unwrap();
    let edits = [
        ("namespace: \"{{ project }}-prod\"", format!("namespace: {NAMESPACE}")),
        ("inputs:\n", "inputs:\n  issuer: { default: first }\n".to_string()),
        (
            "secrets:\n",
            "secrets:\n  session:\n    data: { issuer: \"{{ inputs.issuer }}\" }\n    generate: [token]\n".to_string(),
        ),
        (
            "        GREETER_URL: http://greeter:80\n",
            "        GREETER_URL: http://greeter:80\n        SESSION_ISSUER: { secret: session, key: issuer }\n"
                .to_string(),
        ),
    ];
    let mut changed = original;
    for (from, to) in edits {
        assert_eq!(changed.matches(from).count(), 1, "services.yaml no longer has exactly one {from:?}");
        changed = changed.replacen(from, &to, 1);
    }
    // envFrom, the other short form: every key of the session Secret.
    changed = changed.replacen(
        "        CATALOG_URL: http://catalog:80\n",
        "        CATALOG_URL: http://catalog:80\n      envFrom: [{ secret: session, prefix: SESSION_ }]\n",
        1,
    );
    let path = dir.join("services.yaml");
    std::fs::write(&path, changed).unwrap();
    path
}

fn random_password() -> String {
    let mut bytes = [0u8; 12];
    use std::io::Read;
    std::fs::File::open("/dev/urandom").unwrap().read_exact(&mut bytes).unwrap();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    // Characters a URL would need escaped: the services get the password on its own.
    format!("pw/{hex}+=Q")
}

fn get(service: &str, path: &str) -> String {
    let url = format!("/api/v1/namespaces/{NAMESPACE}/services/{service}:80/proxy{path}");
    let out = kubectl(&["get", "--raw", &url]);
    assert!(out.status.success(), "GET {url}: {}", text(&out.stderr));
    text(&out.stdout)
}

/// One key of a Secret of the namespace, decoded.
fn secret_value(secret: &str, key: &str) -> String {
    let out = kubectl(&["get", "secret", secret, "-n", NAMESPACE, "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let object: Value = serde_json::from_slice(&out.stdout).unwrap();
    let encoded = object["data"][key].as_str().unwrap_or_else(|| panic!("{secret} has no key {key}: {object}"));
    let out = Command::new("base64")
        .arg("-d")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn();
    let mut child = out.unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(encoded.as_bytes()).unwrap();
    text(&child.wait_with_output().unwrap().stdout)
}

fn pod_template_annotation(kind: &str, name: &str) -> String {
    let out = kubectl(&[
        "get",
        kind,
        name,
        "-n",
        NAMESPACE,
        "-o",
        "jsonpath={.spec.template.metadata.annotations.codex-k8s\\.dev/secrets-digest}",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// Every file under `dir`, as text.
fn files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push((path.clone(), String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned()));
        }
    }
    out
}

#[test]
fn the_password_from_the_environment_reaches_the_database_and_no_output_holds_a_secret() {
    let _namespace = NamespaceGuard::fresh(NAMESPACE);
    let dir = tempfile::tempdir().unwrap();
    let file = variant(dir.path());
    let file = file.to_str().unwrap();
    let password = random_password();
    // Every byte any command printed, and every file it wrote, is checked at the end.
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut run = |label: &str, args: &[&str]| -> Output {
        let out = codex_with_password(&password, args);
        seen.push((format!("{label} stdout"), text(&out.stdout)));
        seen.push((format!("{label} stderr"), text(&out.stderr)));
        out
    };

    // Without the password nothing is deployed: exit 2, naming the input and how to set it.
    let missing = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(["up", "--skip-build", "-f", file, "--env", "prod"])
        .env_remove("CODEX_INPUT_DBPASSWORD")
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing.stderr));
    assert!(text(&missing.stderr).contains("CODEX_INPUT_DBPASSWORD"), "{}", text(&missing.stderr));
    assert!(kubectl(&["get", "namespace", NAMESPACE]).status.code() != Some(0), "nothing was created");

    let up = run("up", &["up", "--skip-build", "-f", file, "--env", "prod", "--timeout", "5m", "-o", "json"]);
    assert_eq!(up.status.code(), Some(0), "up failed:\n{}", text(&up.stderr));
    let summary: Value = serde_json::from_slice(&up.stdout).unwrap();
    assert!(phases(&summary).iter().all(|(_, result)| result == "deployed"), "{summary}");

    // The password reached PostgreSQL (initdb) and the services (PGPASSWORD): the row is read,
    // and the gateway answers with it.
    let through_gateway: Value = serde_json::from_str(&get("gateway", "/api/greeting")).unwrap();
    assert_eq!(through_gateway["service"], "greeter");
    assert_eq!(through_gateway["fromDatabase"], "hello from the database", "{through_gateway}");
    let items: Value = serde_json::from_str(&get("gateway", "/api/items")).unwrap();
    assert_eq!(items.as_array().map(Vec::len), Some(3), "{items}");
    // The Secrets hold the values, created by the first phase's release.
    assert_eq!(secret_value("db", "password"), password);
    assert_eq!(secret_value("session", "issuer"), "first");
    let token = secret_value("session", "token");
    assert_eq!(token.len(), 43, "32 random bytes, URL-safe base64: {token:?}");
    let owner = kubectl(&[
        "get",
        "secret",
        "db",
        "-n",
        NAMESPACE,
        "-o",
        "jsonpath={.metadata.labels.app\\.kubernetes\\.io/instance}",
    ]);
    assert_eq!(text(&owner.stdout), "codex-stateful");
    let gateway_digest = pod_template_annotation("deployment", "gateway");
    let greeter_digest = pod_template_annotation("deployment", "greeter");
    assert!(!gateway_digest.is_empty() && !greeter_digest.is_empty());

    // A second up that changes another input: the Secret `session` is rewritten with the new
    // issuer and keeps its generated token; the gateway, which reads it, rolls; the services
    // that read only `db` are left alone.
    let again = run(
        "second up",
        &["up", "--skip-build", "-f", file, "--env", "prod", "--set", "issuer=second", "--timeout", "5m", "-o", "json"],
    );
    assert_eq!(again.status.code(), Some(0), "second up failed:\n{}", text(&again.stderr));
    let summary: Value = serde_json::from_slice(&again.stdout).unwrap();
    let results: std::collections::BTreeMap<String, String> = phases(&summary).into_iter().collect();
    assert_eq!(results["stateful"], "deployed", "the Secrets' phase: {summary}");
    assert_eq!(results["edge"], "deployed", "the gateway reads the changed Secret: {summary}");
    assert_eq!(results["internal"], "skipped", "greeter and catalog read only db: {summary}");
    assert_eq!(secret_value("session", "issuer"), "second");
    assert_eq!(secret_value("session", "token"), token, "the generated value is kept");
    assert_eq!(secret_value("db", "password"), password);
    assert_ne!(pod_template_annotation("deployment", "gateway"), gateway_digest, "the gateway rolls");
    assert_eq!(pod_template_annotation("deployment", "greeter"), greeter_digest);
    let through_gateway: Value = serde_json::from_str(&get("gateway", "/api/greeting")).unwrap();
    assert_eq!(through_gateway["fromDatabase"], "hello from the database");
    // Nothing changed: nothing is installed, the Secrets included.
    let unchanged = run(
        "third up",
        &["up", "--skip-build", "-f", file, "--env", "prod", "--set", "issuer=second", "--timeout", "5m", "-o", "json"],
    );
    assert_eq!(unchanged.status.code(), Some(0), "third up failed:\n{}", text(&unchanged.stderr));
    let summary: Value = serde_json::from_slice(&unchanged.stdout).unwrap();
    assert!(phases(&summary).iter().all(|(_, result)| result == "skipped"), "{summary}");
    // A Secret deleted behind our back is written again, its generated key made anew.
    let deleted = kubectl(&["delete", "secret", "session", "-n", NAMESPACE]);
    assert!(deleted.status.success(), "{}", text(&deleted.stderr));
    let repaired = run(
        "fourth up",
        &["up", "--skip-build", "-f", file, "--env", "prod", "--set", "issuer=second", "--timeout", "5m", "-o", "json"],
    );
    assert_eq!(repaired.status.code(), Some(0), "fourth up failed:\n{}", text(&repaired.stderr));
    let summary: Value = serde_json::from_slice(&repaired.stdout).unwrap();
    assert_eq!(phases(&summary)[0], ("stateful".to_string(), "deployed".to_string()), "{summary}");
    assert_eq!(secret_value("session", "issuer"), "second");
    let token_after_repair = secret_value("session", "token");
    assert_eq!(token_after_repair.len(), 43);

    // The evidence names the inputs (the secret one by placeholder) and the Secrets' keys.
    let evidence = run("evidence", &["evidence", "-n", NAMESPACE, "-o", "json"]);
    assert_eq!(evidence.status.code(), Some(0), "{}", text(&evidence.stderr));
    let records: Value = serde_json::from_slice(&evidence.stdout).unwrap();
    let records = records.as_array().unwrap();
    assert_eq!(records.len(), 4);
    let first = records.iter().find(|r| r["inputs"]["issuer"] == "first").expect("the first run's record");
    let second = records
        .iter()
        .filter(|r| r["inputs"]["issuer"] == "second")
        .min_by_key(|r| r["startedAt"].as_str().unwrap_or_default().to_string())
        .expect("the second run's record");
    assert_eq!(first["inputs"]["dbPassword"], "<secret:dbPassword>");
    let session =
        |record: &Value| record["secrets"].as_array().unwrap().iter().find(|s| s["name"] == "session").cloned();
    assert_eq!(session(first).unwrap()["generated"], serde_json::json!(["token"]), "made in the first run");
    assert!(session(second).unwrap().get("generated").is_none(), "kept in the second");
    let verify = run("verify", &["evidence", "-n", NAMESPACE, "--verify", "-o", "json"]);
    assert_eq!(verify.status.code(), Some(0), "{}{}", text(&verify.stdout), text(&verify.stderr));

    // Everything else a person or an agent reads.
    let out_dir = dir.path().join("rendered");
    let out_arg = out_dir.to_str().unwrap();
    for (label, args) in [
        ("plan", vec!["plan", "-f", file, "--env", "prod"]),
        ("plan json", vec!["plan", "-f", file, "--env", "prod", "-o", "json"]),
        ("render", vec!["render", "-f", file, "--env", "prod", "--out", out_arg]),
        ("status", vec!["status", "-f", file, "--env", "prod", "-o", "json"]),
        ("evidence text", vec!["evidence", "-n", NAMESPACE]),
        ("validate", vec!["validate", "-f", file, "-o", "json"]),
        ("check", vec!["check", "-f", file, "--env", "prod", "-o", "json"]),
    ] {
        let out = run(label, &args);
        assert!(out.status.code().is_some(), "{label} ran");
    }
    // The agent's ServiceAccount may not read the Secrets: asked by name, the API server says no.
    let check: Value = serde_json::from_str(&seen.iter().rev().find(|(w, _)| w == "check stdout").unwrap().1).unwrap();
    for name in ["db", "session"] {
        let answer = check["access"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["answer"]["resource"] == "secrets" && a["answer"]["name"] == name)
            .unwrap_or_else(|| panic!("check asks about Secret {name}: {check}"));
        assert_eq!(answer["answer"]["allowed"], false, "{answer}");
        assert_eq!(answer["ok"], true, "{answer}");
    }
    assert_eq!(check["passed"], true, "{check}");
    let stateful = std::fs::read_to_string(out_dir.join("01-stateful/manifests.yaml")).unwrap();
    assert!(stateful.contains("<secret:db/password>") && stateful.contains("<generated:session/token>"));
    for (path, content) in files(&out_dir) {
        seen.push((path.display().to_string(), content));
    }
    // The evidence as stored, and every other ConfigMap and event of the namespace.
    for kind in ["configmaps", "events"] {
        let out = kubectl(&["get", kind, "-n", NAMESPACE, "-o", "yaml"]);
        seen.push((kind.to_string(), text(&out.stdout)));
    }
    for (what, content) in &seen {
        assert!(!content.contains(&password), "the password shows in {what}:\n{content}");
        assert!(!content.contains(&token), "the generated token shows in {what}:\n{content}");
        assert!(!content.contains(&token_after_repair), "the new token shows in {what}:\n{content}");
    }
}
