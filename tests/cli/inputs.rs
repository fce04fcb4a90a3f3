//! Inputs and secrets: where each value comes from, type errors at their line, and no
//! secret value in any offline output.

use super::*;

/// A small stack with inputs of each kind and a secret of each kind of key.
const INPUT_STACK: &str = r#"apiVersion: codex-k8s.dev/v1alpha1
kind: ServiceStack
project: { name: inputs }
inputs:
  dbPassword: { secret: true, required: true, description: "the database password" }
  registryHost: { default: "127.0.0.1:5000" }
  replicas: { type: number, default: 2 }
environments:
  prod: { registry: "{{ inputs.registryHost }}" }
images:
  api: { build: { context: . }, repository: inputs/api, tag: "1" }
secrets:
  db:
    data: { password: "{{ inputs.dbPassword }}", url: "postgres://app:{{ inputs.dbPassword }}@db:5432/app" }
  session:
    generate: [token]
infrastructure:
  - name: db
    workload:
      kind: StatefulSet
      image: postgres:15
      env:
        POSTGRES_PASSWORD: { secret: db, key: password }
services:
  - name: api
    phase: internal
    workload:
      kind: Deployment
      image: api
      env:
        COUNT: "{{ inputs.replicas }}"
      envFrom: [{ secret: session }]
"#;

fn input_stack(dir: &Path, text: &str) -> String {
    let file = dir.join("services.yaml");
    std::fs::write(&file, text).unwrap();
    file.display().to_string()
}

#[test]
fn a_missing_required_input_is_exit_2_naming_it_and_how_to_set_it() {
    let out = codex_env(&["plan", "--env", "prod"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("services.yaml:"), "file:line: {stderr}");
    assert!(stderr.contains("input \"dbPassword\""), "{stderr}");
    assert!(stderr.contains("--set dbPassword=") && stderr.contains("CODEX_INPUT_DBPASSWORD"), "{stderr}");
    // validate checks the file without it, and says so.
    let out = codex_env(&["validate"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("stand-ins for the required inputs not set: dbPassword"));
}

#[test]
fn an_unknown_set_name_is_a_usage_error() {
    let out = codex(&["plan", "--env", "prod", "--set", "dbPasword=x"]);
    assert_eq!(out.status.code(), Some(64), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--set dbPasword"), "{}", text(&out.stderr));
    let out = codex(&["plan", "--env", "prod", "--set", "no-equals-sign"]);
    assert_eq!(out.status.code(), Some(64));
}

#[test]
fn inputs_come_from_set_then_values_files_then_the_environment_then_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let file = input_stack(dir.path(), INPUT_STACK);
    let values = dir.path().join("values.yaml");
    std::fs::write(&values, "registryHost: from-file:5000\nreplicas: 4\n").unwrap();
    let plan = |args: &[&str], env: &[(&str, &str)]| -> serde_json::Value {
        let mut all = vec!["plan", "-f", &file, "--env", "prod", "-o", "json"];
        all.extend(args);
        let out = codex_env(&all, env);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let password = ("CODEX_INPUT_DBPASSWORD", "pw-from-env-1234");
    let defaults = plan(&[], &[password]);
    assert_eq!(defaults["inputs"]["registryHost"]["value"], "127.0.0.1:5000");
    assert_eq!(defaults["inputs"]["registryHost"]["from"], "default");
    assert_eq!(defaults["inputs"]["replicas"]["value"], 2);
    let env = plan(&[], &[password, ("CODEX_INPUT_REGISTRYHOST", "from-env:5000")]);
    assert_eq!(env["inputs"]["registryHost"]["value"], "from-env:5000");
    let values_arg = values.display().to_string();
    let file_wins = plan(&["--values-file", &values_arg], &[password, ("CODEX_INPUT_REGISTRYHOST", "from-env:5000")]);
    assert_eq!(file_wins["inputs"]["registryHost"]["value"], "from-file:5000");
    assert_eq!(file_wins["inputs"]["replicas"]["value"], 4);
    let set_wins = plan(
        &["--values-file", &values_arg, "--set", "registryHost=from-set:5000", "--set", "replicas=7"],
        &[password, ("CODEX_INPUT_REGISTRYHOST", "from-env:5000")],
    );
    assert_eq!(set_wins["inputs"]["registryHost"]["value"], "from-set:5000");
    assert_eq!(set_wins["inputs"]["registryHost"]["from"], "--set");
    assert_eq!(set_wins["inputs"]["replicas"]["value"], 7);
    // Templates read them: the registry is the input's.
    assert!(set_wins["phases"][1]["units"][0]["image"].as_str().unwrap().starts_with("from-set:5000/"), "{set_wins}");
    // A non-secret input is part of the input digest; the same value set another way is not a change.
    assert_ne!(defaults["inputDigest"], env["inputDigest"]);
    let same = plan(&["--set", "registryHost=from-env:5000"], &[password]);
    assert_eq!(same["inputDigest"], env["inputDigest"]);
    // The secret input is digested (salted) too: another password, another digest.
    let other = plan(&[], &[("CODEX_INPUT_DBPASSWORD", "another-password-5678")]);
    assert_ne!(other["inputDigest"], defaults["inputDigest"]);
}

#[test]
fn inputs_of_the_wrong_type_are_exit_2_at_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = input_stack(dir.path(), INPUT_STACK);
    let password = [("CODEX_INPUT_DBPASSWORD", "pw-1234")];
    let out = codex_env(&["plan", "-f", &file, "--env", "prod", "--set", "replicas=many"], &password);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("services.yaml:7:3: inputs.replicas: --set replicas=…: \"many\" is not a number"),
        "{stderr}"
    );
    let values = dir.path().join("values.yaml");
    std::fs::write(&values, "# inputs\nreplicas: [1, 2]\nunknown: x\n").unwrap();
    let values_arg = values.display().to_string();
    let out = codex_env(&["plan", "-f", &file, "--env", "prod", "--values-file", &values_arg], &password);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&format!("{values_arg}:2:11: replicas: wrong type for input \"replicas\"")), "{stderr}");
    assert!(
        stderr.contains(&format!("{values_arg}:3:1: unknown: services.yaml declares no input \"unknown\"")),
        "{stderr}"
    );
}

#[test]
fn a_plain_template_cannot_read_a_secret_input() {
    let dir = tempfile::tempdir().unwrap();
    let text_in = INPUT_STACK.replace("COUNT: \"{{ inputs.replicas }}\"", "LEAK: \"{{ inputs.dbPassword }}\"");
    let file = input_stack(dir.path(), &text_in);
    let out = codex_env(&["plan", "-f", &file, "--env", "prod"], &[("CODEX_INPUT_DBPASSWORD", "pw-never-shown-1")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("services[0].workload.env.LEAK: input \"dbPassword\" is secret"), "{stderr}");
    assert!(!stderr.contains("pw-never-shown-1"));
}

#[test]
fn no_offline_output_holds_a_secret_value() {
    let dir = tempfile::tempdir().unwrap();
    let file = input_stack(dir.path(), INPUT_STACK);
    let password = "s3cret-Input-Value-for-grep";
    let env = [("CODEX_INPUT_DBPASSWORD", password)];
    let out_dir = dir.path().join("rendered");
    let out_arg = out_dir.display().to_string();
    let mut outputs = Vec::new();
    for args in [
        vec!["plan", "-f", &file, "--env", "prod"],
        vec!["plan", "-f", &file, "--env", "prod", "-o", "json"],
        vec!["validate", "-f", &file, "-o", "json"],
        vec!["validate", "-f", &file],
        vec!["render", "-f", &file, "--env", "prod", "--out", &out_arg, "--values-only"],
    ] {
        let out = codex_env(&args, &env);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        outputs.push(text(&out.stdout) + &text(&out.stderr));
    }
    let plan = &outputs[0];
    assert!(plan.contains("dbPassword = <secret:dbPassword>"), "{plan}");
    assert!(plan.contains("db: password=<secret:db/password>, url=<secret:db/url>"), "{plan}");
    assert!(plan.contains("session: token=<generated:session/token>"), "{plan}");
    let stateful = std::fs::read_to_string(out_dir.join("01-stateful/values.yaml")).unwrap();
    assert!(stateful.contains("password: \"<secret:db/password>\""), "{stateful}");
    for entry in walk(&out_dir) {
        outputs.push(std::fs::read_to_string(entry).unwrap());
    }
    for output in &outputs {
        assert!(!output.contains(password), "the password leaked:\n{output}");
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
