//! The command line as scripts see it: exit codes, output formats, determinism.

use crate::support::{http_stub, registry_stub};

use std::path::Path;
use std::process::{Command, Output};

/// The example's secret input `dbPassword`, given through the environment as a script would.
const DB_PASSWORD: &str = "cli-test-db-password-91d3";

fn codex(args: &[&str]) -> Output {
    codex_env(args, &[("CODEX_INPUT_DBPASSWORD", DB_PASSWORD)])
}

fn codex_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"));
    command
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CODEX_ENV")
        .env_remove("CODEX_FILE")
        .env_remove("CODEX_INPUT_DBPASSWORD");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn validate_accepts_the_example() {
    let out = codex(&["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("is valid: 7 units"));
}

#[test]
fn validate_reports_every_error_with_its_location_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("services.yaml");
    let example = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("services.yaml")).unwrap();
    std::fs::write(
        &bad,
        example.replace("kind: StatefulSet", "kind: StatefullSet").replace("phase: edge", "phase: egde"),
    )
    .unwrap();
    let out = codex(&["validate", "-f", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("services[3].phase: \"egde\" is not one of"), "{stderr}");
    assert!(stderr.contains("infrastructure[0].workload.kind: \"StatefullSet\" is not one of"), "{stderr}");
    assert!(stderr.contains("2 errors found"), "{stderr}");
    let json = codex(&["validate", "-f", bad.to_str().unwrap(), "-o", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["valid"], false);
    assert!(report["errors"][0]["line"].as_u64().unwrap() > 0);
}

#[test]
fn a_missing_file_is_an_input_error() {
    let out = codex(&["validate", "-f", "/nonexistent/services.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read /nonexistent/services.yaml"));
}

#[test]
fn plan_is_byte_identical_across_runs() {
    let first = codex(&["plan", "--env", "ai", "--issue", "19", "-o", "json"]);
    let second = codex(&["plan", "--env", "ai", "--issue", "19", "-o", "json"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert_eq!(first.stdout, second.stdout);
    let plan: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let phases: Vec<&str> = plan["phases"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(phases, ["stateful", "migrations", "internal", "edge", "frontend"]);
    assert_eq!(plan["namespace"], "codex-ai-issue-19");
}

#[test]
fn an_unknown_environment_is_an_input_error() {
    let out = codex(&["plan", "--env", "qa"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no environment named \"qa\""));
}

#[test]
fn a_usage_error_exits_64() {
    assert_eq!(codex(&["plan"]).status.code(), Some(64));
    assert_eq!(codex(&["frobnicate"]).status.code(), Some(64));
}

#[test]
fn render_values_only_writes_one_directory_per_phase() {
    let dir = tempfile::tempdir().unwrap();
    let out = codex(&["render", "--env", "prod", "--out", dir.path().to_str().unwrap(), "--values-only"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for phase in ["01-stateful", "02-migrations", "03-internal", "04-edge", "05-frontend"] {
        assert!(dir.path().join(phase).join("values.yaml").is_file(), "{phase}");
    }
}

const MIRROR_STACK: &str = "tests/fixtures/mirror-stack/services.yaml";

#[test]
fn plan_and_render_show_where_a_mirrored_image_is_copied_to() {
    let target = "127.0.0.1:5000/codex-mirror-e2e/probe:1";
    let out = codex(&["plan", "-f", MIRROR_STACK, "--env", "e2e"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains(&format!("mirror probe: 127.0.0.1:5999/upstream/probe:1 -> {target}\n")), "{shown}");
    assert!(shown.contains(&format!("- web [Deployment] {target}\n")), "{shown}");
    let out = codex(&["plan", "-f", MIRROR_STACK, "--env", "e2e", "-o", "json"]);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        plan["mirrors"],
        serde_json::json!([{"name": "probe", "source": "127.0.0.1:5999/upstream/probe:1", "reference": target}])
    );
    let dir = tempfile::tempdir().unwrap();
    let out =
        codex(&["render", "-f", MIRROR_STACK, "--env", "e2e", "--out", dir.path().to_str().unwrap(), "--values-only"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let values = std::fs::read_to_string(dir.path().join("03-internal/values.yaml")).unwrap();
    assert!(values.contains(target), "{values}");
    // A stack without mirrors keeps its plan as it was: no `mirrors` key.
    let out = codex(&["plan", "--env", "prod", "-o", "json"]);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(plan.get("mirrors").is_none());
}

#[test]
fn render_without_helm_says_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(["render", "--env", "prod", "--out", dir.path().to_str().unwrap(), "--helm", "/nonexistent/helm"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CODEX_INPUT_DBPASSWORD", DB_PASSWORD)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("--helm /nonexistent/helm: no such file"));
}

/// A fake `helm` that answers `version` with `prints` and fails every other command, so a
/// test that gets past the version check still cannot touch a cluster.
fn fake_helm(dir: &Path, prints: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("helm");
    std::fs::write(&path, format!("#!/bin/sh\n[ \"$1\" = version ] && printf '%s' '{prints}' && exit 0\nexit 1\n"))
        .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn a_helm_that_is_too_old_or_not_helm_is_exit_3_naming_what_it_found() {
    let dir = tempfile::tempdir().unwrap();
    for (prints, expected) in [
        ("v3.12.3", "is Helm v3.12.3; kubectl-codex needs Helm v3.13.0 or later"),
        ("v2.17.0", "is Helm v2.17.0; kubectl-codex needs Helm v3.13.0 or later"),
        ("this is not helm", "is not a Helm we can use"),
    ] {
        let bin = tempfile::tempdir_in(dir.path()).unwrap();
        let helm = fake_helm(bin.path(), prints);
        let out = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
            .args(["render", "--env", "prod", "--out", dir.path().join("out").to_str().unwrap()])
            .arg("--helm")
            .arg(&helm)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("CODEX_INPUT_DBPASSWORD", DB_PASSWORD)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{prints}: {}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(stderr.contains(expected), "{prints}: {stderr}");
        assert!(stderr.contains(&helm.display().to_string()), "names the binary: {stderr}");
    }
}

#[test]
fn schema_is_json_and_denies_unknown_fields() {
    let out = codex(&["schema"]);
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(schema["additionalProperties"], false);
}

#[test]
fn version_names_the_commit() {
    let out = codex(&["version", "-o", "json"]);
    let version: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(version["version"], env!("CARGO_PKG_VERSION"));
    assert!(!version["commit"].as_str().unwrap().is_empty());
}

#[test]
fn every_command_help_has_examples() {
    for command in [
        "validate",
        "plan",
        "render",
        "build",
        "schema",
        "version",
        "completion",
        "up",
        "status",
        "evidence",
        "down",
        "revise",
        "gc",
        "agent",
        "check",
    ] {
        let out = codex(&[command, "--help"]);
        assert_eq!(out.status.code(), Some(0));
        assert!(text(&out.stdout).contains("Example"), "{command} --help has no examples");
    }
}

#[test]
fn completion_scripts_are_generated() {
    for shell in ["bash", "zsh", "fish"] {
        let out = codex(&["completion", shell]);
        assert_eq!(out.status.code(), Some(0));
        assert!(text(&out.stdout).contains("kubectl-codex"), "{shell}");
    }
}

#[test]
fn agent_run_and_check_explain_themselves_and_agent_run_needs_a_command() {
    for command in [&["agent", "run", "--help"][..], &["check", "--help"][..]] {
        let out = codex(command);
        assert_eq!(out.status.code(), Some(0));
        assert!(text(&out.stdout).contains("Example"), "{command:?} --help has no examples");
    }
    // The example declares no agent.command: without `-- CMD` there is nothing to run, and
    // that is known before any cluster is contacted.
    let out = codex(&["agent", "run", "--env", "dev", "--slot", "1", "--kubeconfig", "/nonexistent"]);
    assert_eq!(out.status.code(), Some(64), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("after `--`"), "{}", text(&out.stderr));
}

#[test]
fn build_dry_run_plans_the_example_deterministically_without_a_builder() {
    let empty = tempfile::tempdir().unwrap();
    let dry_run = || {
        Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
            .args(["build", "--env", "dev", "--slot", "1", "--dry-run", "-o", "json"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("CODEX_INPUT_DBPASSWORD", DB_PASSWORD)
            .env("PATH", empty.path())
            .env("HOME", empty.path())
            .env_remove("XDG_CACHE_HOME")
            .env_remove("CODEX_BUILDER")
            .env_remove("BUILDKIT_HOST")
            .output()
            .unwrap()
    };
    let first = dry_run();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert_eq!(first.stdout, dry_run().stdout, "the same inputs plan the same builds");
    let report: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(report["runtime"], "dev");
    let images = report["images"].as_array().unwrap();
    let names: Vec<&str> = images.iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["agent", "catalog", "gateway", "greeter", "migrate", "postgres", "web", "workspace-seed"],
        "every image a unit or the agent uses"
    );
    let greeter = images.iter().find(|i| i["name"] == "greeter").unwrap();
    assert_eq!(greeter["reference"], "127.0.0.1:5000/codex-example/greeter:0.1.0-dev");
    assert_eq!(greeter["status"], "planned");
    let digest = greeter["inputDigest"].as_str().unwrap();
    assert_eq!(digest.len(), 64);
    assert_eq!(greeter["contentTag"], format!("127.0.0.1:5000/codex-example/greeter:build-{}", &digest[..16]));
    let command = greeter["command"].as_str().unwrap();
    assert!(
        command.starts_with("buildctl build --frontend dockerfile.v0 --local context=example/services"),
        "{command}"
    );
    assert!(command.contains("--opt target=dev --opt build-arg:SERVICE=greeter"), "{command}");
    let migrate = images.iter().find(|i| i["name"] == "migrate").unwrap();
    assert!(migrate["command"].as_str().unwrap().contains("--opt target=prod"), "migrate has no dev target of its own");
}

#[test]
fn build_without_a_builder_says_how_to_get_one_and_exits_3() {
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(["build", "--env", "prod"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CODEX_INPUT_DBPASSWORD", DB_PASSWORD)
        .env("PATH", empty.path())
        // No tool cache either: the buildctl `cargo xtask tools` builds is found there.
        .env("HOME", empty.path())
        .env_remove("XDG_CACHE_HOME")
        .env_remove("CODEX_BUILDER")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("no image builder found"), "{stderr}");
    // A buildkitd running on this machine (the local one, during the e2e steps) is named with
    // the exports that make it usable; without one, the message says how to get BuildKit.
    if stderr.contains("buildkitd runs") {
        assert!(stderr.contains("export BUILDKIT_HOST="), "{stderr}");
    } else {
        assert!(stderr.contains("cargo xtask buildkit up"), "{stderr}");
    }
}

#[test]
fn buildctl_is_found_in_the_tool_cache_after_path() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(format!(
        ".cache/kubectl-codex/tools/buildkit-{}",
        kubectl_codex::build::builder::TESTED_BUILDKIT_VERSION
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let buildctl = dir.join("buildctl");
    std::fs::write(&buildctl, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&buildctl, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(["build", "--env", "prod", "--dry-run", "-o", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CODEX_INPUT_DBPASSWORD", DB_PASSWORD)
        .env("PATH", home.path())
        .env("HOME", home.path())
        .env_remove("XDG_CACHE_HOME")
        .env_remove("CODEX_BUILDER")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains(&format!("{} build", buildctl.display())), "{stdout}");
}

/// A registry that keeps manifests as files `<store>/<repository>/<tag>`, answering
/// HEAD, GET and PUT of `/v2/<repository>/manifests/<tag>`.
fn registry_stub(store: std::path::PathBuf) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<http_stub::Request>>>) {
    let (address, requests) = http_stub::serve(move |request| {
        let file = request
            .path
            .strip_prefix("/v2/")
            .and_then(|p| p.split_once("/manifests/"))
            .map(|(repo, tag)| store.join(repo).join(tag));
        match (request.method.as_str(), file) {
            ("PUT", Some(file)) => {
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(&file, &request.body).unwrap();
                http_stub::Response::new(201)
            }
            ("GET" | "HEAD", Some(file)) if file.is_file() => http_stub::Response::new(200)
                .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                .body(std::fs::read(&file).unwrap()),
            _ => http_stub::Response::new(404),
        }
    });
    (address.rsplit_once(':').unwrap().1.parse().unwrap(), requests)
}

/// A `buildctl` that records its arguments and "pushes" a manifest (numbered by call) to
/// every name of its --output into the stub registry's store, and writes its metadata file.
fn fake_buildctl(bin: &Path, calls: &Path, store: &Path) {
    let script = format!(
        r#"#!/bin/sh
echo "$@" >> '{calls}'
while [ $# -gt 0 ]; do
  case "$1" in
    --output) out="$2"; shift ;;
    --metadata-file) meta="$2"; shift ;;
  esac
  shift
done
n=$(wc -l < '{calls}')
body="{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"build\":$n}}"
names=${{out#*\"name=}}
names=${{names%%\"*}}
for ref in $(echo "$names" | tr ',' ' '); do
  name=${{ref%:*}}
  tag=${{ref##*:}}
  repo=${{name#*/}}
  mkdir -p '{store}'/"$repo"
  printf '%s' "$body" > '{store}'/"$repo/$tag"
done
printf '{{"containerimage.digest":"sha256:%s"}}' "$(printf '%s' "$body" | sha256sum | cut -d' ' -f1)" > "$meta"
"#,
        calls = calls.display(),
        store = store.display()
    );
    let path = bin.join("buildctl");
    std::fs::write(&path, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn build_with_a_fake_builder_builds_once_skips_unchanged_inputs_and_rebuilds_a_changed_file() {
    let dir = tempfile::tempdir().unwrap();
    let (store, bin, calls) = (dir.path().join("store"), dir.path().join("bin"), dir.path().join("calls.txt"));
    std::fs::create_dir_all(dir.path().join("ctx")).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(dir.path().join("ctx/Dockerfile"), "FROM scratch AS dev\nCOPY main.go /\n").unwrap();
    std::fs::write(dir.path().join("ctx/main.go"), "package main\n").unwrap();
    let (port, requests) = registry_stub(store.clone());
    fake_buildctl(&bin, &calls, &store);
    let file = dir.path().join("services.yaml");
    std::fs::write(
        &file,
        [
            "apiVersion: codex-k8s.dev/v1alpha1",
            "kind: ServiceStack",
            "project: { name: demo }",
            "environments:",
            &format!("  dev: {{ runtime: dev, registry: \"127.0.0.1:{port}\" }}"),
            "images:",
            "  app:",
            "    build: { context: ctx, targets: { prod: prod, dev: dev }, args: { GREETING: hello } }",
            "    repository: demo/app",
            "    tag: \"1.0\"",
            "  unused:",
            "    build: { context: ctx }",
            "services:",
            "  - name: app",
            "    phase: internal",
            "    workload: { kind: Deployment, image: app }",
        ]
        .join("\n"),
    )
    .unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let build = || {
        let out = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
            .args([
                "build",
                "-f",
                file.to_str().unwrap(),
                "--env",
                "dev",
                "--buildkit-addr",
                "tcp://127.0.0.1:1234",
                "-o",
                "json",
            ])
            .env("PATH", &path)
            .env("TMPDIR", dir.path())
            .env_remove("CODEX_BUILDER")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["images"].as_array().unwrap().len(), 1, "only the image a unit runs: {report}");
        report["images"][0].clone()
    };
    let call_count = || std::fs::read_to_string(&calls).unwrap_or_default().lines().count();

    let first = build();
    assert_eq!(first["status"], "built");
    assert_eq!(call_count(), 1);
    let recorded = std::fs::read_to_string(&calls).unwrap();
    assert!(recorded.starts_with("--addr tcp://127.0.0.1:1234 build --frontend dockerfile.v0"), "{recorded}");
    assert!(recorded.contains("--opt target=dev --opt build-arg:GREETING=hello"), "{recorded}");
    let content_tag = first["contentTag"].as_str().unwrap();
    assert!(
        recorded.contains(&format!(
            "\"name=127.0.0.1:{port}/demo/app:1.0,{content_tag}\",push=true,registry.insecure=true"
        )),
        "{recorded}"
    );
    let digest = first["manifestDigest"].as_str().unwrap().to_string();
    assert!(digest.starts_with("sha256:"));

    let second = build();
    assert_eq!(second["status"], "unchanged", "{second}");
    assert_eq!(second["manifestDigest"], digest.as_str());
    assert_eq!(call_count(), 1, "unchanged inputs are not built again");

    // The resolved tag was moved elsewhere: the content tag's manifest is put back under it.
    std::fs::remove_file(store.join("demo/app/1.0")).unwrap();
    let third = build();
    assert_eq!(third["status"], "unchanged");
    assert_eq!(call_count(), 1);
    assert!(store.join("demo/app/1.0").is_file());
    assert!(requests.lock().unwrap().iter().any(|r| r.line() == "PUT /v2/demo/app/manifests/1.0"));

    std::fs::write(dir.path().join("ctx/main.go"), "package main // changed\n").unwrap();
    let fourth = build();
    assert_eq!(fourth["status"], "built");
    assert_eq!(call_count(), 2);
    assert_ne!(fourth["contentTag"], first["contentTag"]);
    assert_ne!(fourth["manifestDigest"], digest.as_str());
}

#[test]
fn up_and_revise_stop_at_a_failed_build_with_exit_9_before_touching_the_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(dir.path().join("ctx")).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(dir.path().join("ctx/Dockerfile"), "FROM scratch\n").unwrap();
    std::fs::write(bin.join("buildctl"), "#!/bin/sh\necho 'step 1/1: boom' >&2\nexit 1\n").unwrap();
    fake_helm(&bin, "v4.3.2");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("buildctl"), std::fs::Permissions::from_mode(0o755)).unwrap();
    // A registry that answers but has no image: the image is built (and the fake fails).
    let (registry, _) =
        http_stub::serve(|request| http_stub::Response::new(if request.path == "/v2/" { 200 } else { 404 }));
    let port = registry.rsplit(':').next().unwrap().to_string();
    let file = dir.path().join("services.yaml");
    std::fs::write(&file, one_image_stack(&port)).unwrap();
    // `revise` builds first too.
    for command in [vec!["up"], vec!["revise", "7"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
            .args(&command)
            .args(["-f", file.to_str().unwrap(), "--env", "prod", "--kubeconfig", "/nonexistent/kubeconfig"])
            .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
            .env("TMPDIR", dir.path())
            .env_remove("CODEX_BUILDER")
            .env_remove("CODEX_HELM")
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(9), "{command:?}: {stderr}");
        assert!(stderr.contains("building image app failed"), "{stderr}");
        assert!(stderr.contains("command: ") && stderr.contains("build --frontend dockerfile.v0"), "{stderr}");
        assert!(stderr.contains("step 1/1: boom"), "the log's last lines are shown: {stderr}");
        assert!(!stderr.contains("kubeconfig"), "the cluster was never contacted: {stderr}");
    }
}

/// A stack of three images (a, b, c; `bad` in place of `a` when asked) built by a fake buildctl
/// that logs `start NAME` / `end NAME` around a pause, so a test can see what overlapped.
fn parallel_build_fixture(dir: &Path, first: &str) -> (std::path::PathBuf, String, std::path::PathBuf) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(dir.join("ctx")).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(dir.join("ctx/Dockerfile"), "FROM scratch\n").unwrap();
    let log = dir.join("log.txt");
    let script = format!(
        r#"#!/bin/sh
name=""
for a in "$@"; do case "$a" in build-arg:NAME=*) name="${{a#build-arg:NAME=}}" ;; esac; done
while [ $# -gt 0 ]; do case "$1" in --metadata-file) meta="$2"; shift ;; esac; shift; done
echo "start $name" >> '{log}'
if [ "$name" = bad ]; then echo "end $name" >> '{log}'; echo 'boom' >&2; exit 1; fi
sleep 2
echo "end $name" >> '{log}'
printf '{{"containerimage.digest":"sha256:%064d"}}' 0 > "$meta"
"#,
        log = log.display()
    );
    std::fs::write(bin.join("buildctl"), script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("buildctl"), std::fs::Permissions::from_mode(0o755)).unwrap();
    // A registry that answers but has none of the images: everything is built. (Leaked on
    // purpose: the stub lives for the rest of the test process.)
    let (registry, _) =
        http_stub::serve(|request| http_stub::Response::new(if request.path == "/v2/" { 200 } else { 404 }));
    let port = registry.rsplit(':').next().unwrap().to_string();
    let mut lines = vec![
        "apiVersion: codex-k8s.dev/v1alpha1".to_string(),
        "kind: ServiceStack".into(),
        "project: { name: demo }".into(),
        "environments:".into(),
        format!("  prod: {{ registry: \"127.0.0.1:{port}\" }}"),
        "images:".into(),
    ];
    let names = [first, "b", "c"];
    for name in names {
        lines.push(format!(
            "  {name}: {{ build: {{ context: ctx, args: {{ NAME: {name} }} }}, repository: demo/{name}, tag: \"1\" }}"
        ));
    }
    lines.push("services:".into());
    for name in names {
        lines.push(format!("  - {{ name: {name}, phase: internal, workload: {{ kind: Deployment, image: {name} }} }}"));
    }
    let file = dir.join("services.yaml");
    std::fs::write(&file, lines.join("\n")).unwrap();
    (file, format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()), log)
}

fn build_with_jobs(dir: &Path, file: &Path, path: &str, jobs: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args([
            "build",
            "-f",
            file.to_str().unwrap(),
            "--env",
            "prod",
            "--builder",
            "buildctl",
            "--jobs",
            jobs,
            "-o",
            "json",
        ])
        .env("PATH", path)
        .env("TMPDIR", dir)
        .output()
        .unwrap()
}

fn image_names(out: &Output) -> Vec<(String, String)> {
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)));
    report["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["name"].as_str().unwrap().to_string(), i["status"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn builds_run_side_by_side_with_jobs_and_report_in_plan_order() {
    let dir = tempfile::tempdir().unwrap();
    let (file, path, log) = parallel_build_fixture(dir.path(), "a");
    let out = build_with_jobs(dir.path(), &file, &path, "3");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        image_names(&out),
        vec![("a".into(), "built".into()), ("b".into(), "built".into()), ("c".into(), "built".into())]
    );
    let events: Vec<String> = std::fs::read_to_string(&log).unwrap().lines().map(str::to_string).collect();
    assert_eq!(
        events.iter().take(3).filter(|e| e.starts_with("start")).count(),
        3,
        "all three started before any ended: {events:?}"
    );

    std::fs::remove_file(&log).unwrap();
    let out = build_with_jobs(dir.path(), &file, &path, "1");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let events = std::fs::read_to_string(&log).unwrap();
    assert_eq!(events, "start a\nend a\nstart b\nend b\nstart c\nend c\n", "--jobs 1 builds one after another");
}

#[test]
fn after_a_failed_build_no_further_build_starts() {
    let dir = tempfile::tempdir().unwrap();
    let (file, path, log) = parallel_build_fixture(dir.path(), "bad");
    let out = build_with_jobs(dir.path(), &file, &path, "2");
    assert_eq!(out.status.code(), Some(9), "{}", text(&out.stderr));
    // Plan order is b, bad, c: bad fails at once while b runs; c never starts, b finishes and
    // is reported.
    assert_eq!(image_names(&out), vec![("b".into(), "built".into()), ("bad".into(), "failed".into())]);
    let events = std::fs::read_to_string(&log).unwrap();
    assert!(!events.contains("start c"), "{events}");
}

/// `-f services.yaml` run inside the stack's directory: the file's parent is the empty path,
/// and the manifests next to it must still be found.
#[test]
fn manifests_are_found_next_to_a_bare_file_name() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/manifest-stack");
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(["plan", "--env", "staging", "-f", "services.yaml", "-o", "json"])
        .current_dir(&fixture)
        .env_remove("CODEX_ENV")
        .env_remove("CODEX_FILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(plan["phases"].as_array().is_some_and(|p| !p.is_empty()), "{plan}");
}

/// The mirror fixture copied into `dir`, mirroring `source` into the registry `target`.
fn mirror_fixture(dir: &Path, source: &str, target: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(MIRROR_STACK)).unwrap();
    let text = text
        .replace("127.0.0.1:5999/upstream/probe:1", source)
        .replace("registry: 127.0.0.1:5000", &format!("registry: {target}"));
    let file = dir.join("services.yaml");
    std::fs::write(&file, text).unwrap();
    file
}

/// kubectl-codex with nothing on PATH but `bin` (no builder: a stack of mirrors needs none).
fn codex_without_tools(bin: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(args)
        .env("PATH", bin)
        .env_remove("CODEX_BUILDER")
        .env_remove("BUILDKIT_HOST")
        .env_remove("CODEX_HELM")
        .output()
        .unwrap()
}

#[test]
fn build_mirrors_an_image_then_reports_it_present_and_a_missing_source_is_exit_9() {
    let mut upstream = registry_stub::Store::default();
    let (index, _) = registry_stub::seed(&mut upstream, "upstream/redis");
    let (upstream, _, upstream_log) = registry_stub::registry(upstream);
    let (target, target_store, target_log) = registry_stub::registry(registry_stub::Store::default());
    let dir = tempfile::tempdir().unwrap();
    let source = format!("{upstream}/upstream/redis:7");
    let file = mirror_fixture(dir.path(), &source, &target);
    let file = file.to_str().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let reference = format!("{target}/codex-mirror-e2e/probe:1");

    // A dry run says where the image goes and contacts no registry.
    let out = codex_without_tools(&bin, &["build", "-f", file, "--env", "e2e", "--dry-run", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let image = &report["images"][0];
    assert_eq!((image["name"].as_str(), image["status"].as_str()), (Some("probe"), Some("planned")), "{report}");
    assert_eq!(
        (image["reference"].as_str(), image["mirror"].as_str()),
        (Some(reference.as_str()), Some(source.as_str()))
    );
    assert!(upstream_log.lock().unwrap().is_empty() && target_log.lock().unwrap().is_empty());

    let out = codex_without_tools(&bin, &["build", "-f", file, "--env", "e2e", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let image = &report["images"][0];
    assert_eq!(image["status"], "mirrored", "{report}");
    assert_eq!(image["manifestDigest"], index.as_str());
    assert!(image["contentTag"].as_str().unwrap().starts_with(&format!("{target}/codex-mirror-e2e/probe:mirror-")));
    assert!(target_store.lock().unwrap().manifests.contains_key(&("codex-mirror-e2e/probe".into(), "1".into())));

    target_log.lock().unwrap().clear();
    let out = codex_without_tools(&bin, &["build", "-f", file, "--env", "e2e"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.starts_with(&format!("probe            present   {reference} {index} (")), "{shown}");
    assert!(shown.trim_end().ends_with(&format!("from {source}")), "{shown}");
    assert_eq!(target_log.lock().unwrap().len(), 1, "one manifest request");

    // A source the upstream does not have: exit 9 naming it, for build and for up (before the
    // cluster is contacted).
    let missing = format!("{upstream}/upstream/nope:1");
    let file = mirror_fixture(dir.path(), &missing, &target);
    let file = file.to_str().unwrap();
    let out = codex_without_tools(&bin, &["build", "-f", file, "--env", "e2e"]);
    assert_eq!(out.status.code(), Some(9), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(&format!("mirror source {missing} does not exist")), "{}", text(&out.stderr));
    fake_helm(&bin, "v4.3.2");
    let out = codex_without_tools(&bin, &["up", "-f", file, "--env", "e2e", "--kubeconfig", "/nonexistent/kubeconfig"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(9), "{stderr}");
    assert!(stderr.contains(&format!("mirror source {missing} does not exist")), "{stderr}");
    assert!(!stderr.contains("kubeconfig"), "the cluster was never contacted: {stderr}");
}

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

#[test]
fn an_imports_cycle_exits_2_naming_the_chain_and_the_split_fixture_plans() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("services.yaml");
    std::fs::write(&main, "imports: [a.yaml]\napiVersion: codex-k8s.dev/v1alpha1\n").unwrap();
    std::fs::write(dir.path().join("a.yaml"), "imports: [services.yaml]\n").unwrap();
    let out = codex(&["validate", "-f", main.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    let shown = dir.path().join("a.yaml");
    let expected =
        format!("{}:1:11: imports[0]: imports cycle: services.yaml → a.yaml → services.yaml", shown.display());
    assert!(stderr.contains(&expected), "{stderr}");
    let out = codex(&["plan", "--env", "prod", "-f", "tests/fixtures/split-stack/services.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("api [Deployment] split/app:1.4.0"));
}

/// A kubeconfig for an API server at `server`, with a token and no TLS (a stub's plain HTTP).
fn plain_kubeconfig(dir: &Path, server: &str) -> std::path::PathBuf {
    let path = dir.join("kubeconfig");
    let text = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: stub\nclusters:\n- name: stub\n  cluster:\n    server: {server}\n\
         contexts:\n- name: stub\n  context:\n    cluster: stub\n    user: stub\nusers:\n- name: stub\n  user:\n    token: stub-token\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_kubeconfig_pointing_at_nothing_is_exit_4_within_10_seconds_naming_the_server() {
    let dir = tempfile::tempdir().unwrap();
    // A port that was free a moment ago: nothing listens behind it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = format!("http://127.0.0.1:{port}");
    let kubeconfig = plain_kubeconfig(dir.path(), &server);
    let started = std::time::Instant::now();
    let out = codex(&["status", "-n", "codex-nothing", "--kubeconfig", kubeconfig.to_str().unwrap()]);
    let elapsed = started.elapsed();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(elapsed < std::time::Duration::from_secs(10), "took {elapsed:?}: {stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "names the server: {stderr}");
    assert!(stderr.contains("retrying (1)"), "says it retried: {stderr}");
}

#[test]
fn an_api_server_answering_503_is_retried_until_it_answers() {
    let dir = tempfile::tempdir().unwrap();
    let calls = std::sync::atomic::AtomicU32::new(0);
    let (address, requests) = http_stub::serve(move |request| {
        if request.path == "/version" && calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2 {
            return http_stub::Response::new(503).body("apiserver is shutting down");
        }
        if request.path == "/version" {
            let version = r#"{"major":"1","minor":"37","gitVersion":"v1.37.2","gitCommit":"","gitTreeState":"clean","buildDate":"","goVersion":"","compiler":"","platform":"linux/amd64"}"#;
            return http_stub::Response::new(200).header("Content-Type", "application/json").body(version);
        }
        let missing = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}"#;
        http_stub::Response::new(404).header("Content-Type", "application/json").body(missing)
    });
    let kubeconfig = plain_kubeconfig(dir.path(), &format!("http://{address}"));
    let out = codex(&["status", "-n", "codex-stub", "--kubeconfig", kubeconfig.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    let seen: Vec<String> = requests.lock().unwrap().iter().map(|r| r.line()).collect();
    assert_eq!(seen.iter().filter(|l| *l == "GET /version").count(), 3, "{seen:?}\n{stderr}");
    assert!(stderr.contains("HTTP 503 on GET /version), retrying (2)"), "{stderr}");
    assert!(seen.len() > 3, "went on after the server answered: {seen:?}");
    // A 404 is an answer, not a hiccup: asked once each.
    let mut after: Vec<&String> = seen.iter().filter(|l| *l != "GET /version").collect();
    let asked = after.len();
    after.dedup();
    assert_eq!(after.len(), asked, "nothing but /version was repeated: {seen:?}");
}

#[test]
fn a_build_whose_registry_is_down_is_retried_then_exit_9_naming_it_before_the_builder_runs() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(dir.path().join("ctx")).unwrap();
    std::fs::write(dir.path().join("ctx/Dockerfile"), "FROM scratch\n").unwrap();
    // A builder that must never run: it would leave a file behind.
    let ran = dir.path().join("builder-ran");
    std::fs::write(bin.join("buildctl"), format!("#!/bin/sh\ntouch {}\nexit 1\n", ran.display())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("buildctl"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let file = dir.path().join("services.yaml");
    std::fs::write(&file, one_image_stack(port)).unwrap();
    let started = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(["build", "-f", file.to_str().unwrap(), "--env", "prod", "--builder", "buildctl"])
        .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
        .env_remove("CODEX_BUILDER")
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(9), "{stderr}");
    assert!(stderr.contains(&format!("registry 127.0.0.1:{port} is not available: 4 tries")), "{stderr}");
    assert!(started.elapsed() >= std::time::Duration::from_secs(3), "it waited 0.5 + 1 + 2 s between tries");
    assert!(!ran.exists(), "the builder never ran");
}

/// A stack of one image `app` built from `ctx/`, pushed to the registry on 127.0.0.1:`port`.
fn one_image_stack(port: impl std::fmt::Display) -> String {
    [
        "apiVersion: codex-k8s.dev/v1alpha1",
        "kind: ServiceStack",
        "project: { name: demo }",
        "environments:",
        &format!("  prod: {{ registry: \"127.0.0.1:{port}\" }}"),
        "images:",
        "  app: { build: { context: ctx }, repository: demo/app }",
        "services:",
        "  - { name: app, phase: internal, workload: { kind: Deployment, image: app } }",
    ]
    .join("\n")
}
