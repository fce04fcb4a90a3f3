//! `build` with a fake buildctl and a stub registry: dry runs, skipping unchanged inputs,
//! parallel jobs, and a failed build stopping `up` and `revise`.

use super::*;

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

/// kubectl-codex with the example's input and only `home` as PATH and HOME: no builder on PATH
/// and none in the tool cache, unless the test puts one there; no CODEX_BUILDER.
fn codex_in_home(home: &Path, args: &[&str]) -> Output {
    codex_command(args)
        .env("CODEX_INPUT_DBPASSWORD", DB_PASSWORD)
        .env("PATH", home)
        .env("HOME", home)
        .env_remove("XDG_CACHE_HOME")
        .env_remove("CODEX_BUILDER")
        .output()
        .unwrap()
}

#[test]
fn build_without_a_builder_says_how_to_get_one_and_exits_3() {
    let empty = tempfile::tempdir().unwrap();
    // No tool cache either (HOME is empty too): the buildctl `cargo xtask tools` builds is found there.
    let out = codex_in_home(empty.path(), &["build", "--env", "prod"]);
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
    let out = codex_in_home(home.path(), &["build", "--env", "prod", "--dry-run", "-o", "json"]);
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
