//! End to end, with the real BuildKit (`cargo xtask buildkit up`), the local registry, the
//! local cluster and the real helm: `kubectl codex build` builds the images that
//! services.yaml declares, unchanged inputs are never rebuilt, `up` builds first and deploys
//! the built images pinned by digest, a changed source rolls out although the tag stays, and
//! `revise` builds the same way; a registry that asks for a login gets it from config.json.
//! Needs KUBECONFIG, CODEX_HELM, BUILDKIT_HOST and CODEX_E2E_BUILDCTL (`cargo xtask test`
//! provides them).

use crate::support::cluster::*;
use crate::support::*;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

const NAMESPACE: &str = "codex-build-e2e";

/// `build`, `up` or `revise` from `dir` (build contexts are relative paths) with the real
/// BuildKit builder: `--builder buildctl --buildctl $CODEX_E2E_BUILDCTL` follow `args`.
fn codex_building_in(dir: &Path, args: &[&str]) -> Output {
    codex_building_with_docker_config(dir, args, None)
}

/// Like [`codex_building_in`], with `DOCKER_CONFIG` (read by kubectl-codex and buildctl alike) set.
fn codex_building_with_docker_config(dir: &Path, args: &[&str], docker_config: Option<&Path>) -> Output {
    let buildctl = std::env::var("CODEX_E2E_BUILDCTL").expect("CODEX_E2E_BUILDCTL names the buildctl binary");
    let mut command = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"));
    command.args(args).args(["--builder", "buildctl", "--buildctl", &buildctl]).current_dir(dir);
    if let Some(config_dir) = docker_config {
        command.env("DOCKER_CONFIG", config_dir);
    }
    command.output().expect("kubectl-codex runs")
}

/// A copy of testdata/build-e2e in a fresh directory.
fn copy_fixture(to: &Path) {
    let from = root().join("testdata/build-e2e");
    let status = Command::new("cp").arg("-a").arg(format!("{}/.", from.display())).arg(to).status().unwrap();
    assert!(status.success());
}

/// Writes a message nobody built before into hello's sources, so the build really runs.
fn fresh_message(dir: &Path, round: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let message = format!("hello from build round {round} ({nanos})");
    std::fs::write(dir.join("hello/message.txt"), &message).unwrap();
    message
}

fn json(out: &Output, what: &str) -> Value {
    assert_eq!(out.status.code(), Some(0), "{what} failed:\n{}\n{}", text(&out.stdout), text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{what}: not JSON ({e}):\n{}", text(&out.stdout)))
}

/// name → status of every image in a `build -o json` answer (or `up -o json`'s `images`).
fn statuses(images: &Value) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = images
        .as_array()
        .unwrap_or_else(|| panic!("no image list in {images}"))
        .iter()
        .map(|i| (i["name"].as_str().unwrap().to_string(), i["status"].as_str().unwrap().to_string()))
        .collect();
    found.sort();
    found
}

fn image<'a>(images: &'a Value, name: &str) -> &'a Value {
    images
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no image {name} in {images}"))
}

/// The list of images in a `build -o json` answer, whatever its top-level shape.
fn build_images(answer: &Value) -> &Value {
    if answer.is_array() {
        answer
    } else {
        &answer["images"]
    }
}

/// GET hello through its Service. `up` waits for the pod to be ready; the endpoints controller
/// may publish it to the Service a moment later (a CI run right after cluster start saw "no
/// endpoints available"), so that one answer is retried for up to 15 s.
fn get_hello() -> String {
    let url = format!("/api/v1/namespaces/{NAMESPACE}/services/hello:http/proxy/");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let out = kubectl(&["get", "--raw", &url]);
        if out.status.success() {
            return text(&out.stdout);
        }
        let stderr = text(&out.stderr);
        let not_routed_yet = stderr.contains("no endpoints available");
        assert!(not_routed_yet && std::time::Instant::now() < deadline, "GET {url}: {stderr}");
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

fn deployed_image() -> String {
    let out = kubectl(&[
        "get",
        "deployment",
        "hello",
        "-n",
        NAMESPACE,
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn images_build_with_buildkit_are_skipped_when_unchanged_and_roll_out_when_changed() {
    let dir = tempfile::tempdir().unwrap();
    let dir: PathBuf = dir.path().to_path_buf();
    copy_fixture(&dir);
    let _namespace = NamespaceGuard::fresh(NAMESPACE);

    // Round 1: hello's sources are new, so it is built for real; note may have been built by
    // an earlier run of this test (the registry keeps its content tag): built or unchanged.
    let first_message = fresh_message(&dir, "1");
    let started = Instant::now();
    let first = json(&codex_building_in(&dir, &["build", "--env", "e2e", "-o", "json"]), "first build");
    let cold = started.elapsed();
    let images = build_images(&first);
    assert_eq!(image(images, "hello")["status"], "built", "{first}");
    assert!(["built", "unchanged"].contains(&image(images, "note")["status"].as_str().unwrap()), "{first}");
    let hello_digest = image(images, "hello")["manifestDigest"].as_str().unwrap().to_string();
    assert!(hello_digest.starts_with("sha256:"), "{first}");
    assert!(image(images, "hello")["contentTag"].as_str().unwrap().contains(":build-"), "{first}");

    // Round 2: nothing changed, nothing is built, and the same manifest is reported.
    let started = Instant::now();
    let second = json(&codex_building_in(&dir, &["build", "--env", "e2e", "-o", "json"]), "second build");
    let warm = started.elapsed();
    assert_eq!(
        statuses(build_images(&second)),
        vec![("hello".into(), "unchanged".into()), ("note".into(), "unchanged".into())]
    );
    assert_eq!(image(build_images(&second), "hello")["manifestDigest"], hello_digest.as_str());
    eprintln!("build with new sources {:.1}s, unchanged {:.2}s", cold.as_secs_f64(), warm.as_secs_f64());

    // `up` builds first (nothing to do), then deploys the built image pinned by its digest,
    // and the pod runs what BuildKit built.
    let up = json(&codex_building_in(&dir, &["up", "--env", "e2e", "--timeout", "4m", "-o", "json"]), "first up");
    assert_eq!(
        statuses(&up["images"]),
        vec![("hello".into(), "unchanged".into()), ("note".into(), "unchanged".into())],
        "{up}"
    );
    assert!(
        deployed_image().ends_with(&format!("@{hello_digest}")),
        "deployed {} is not pinned to {hello_digest}",
        deployed_image()
    );
    assert_eq!(get_hello(), first_message);

    // A changed source: hello is rebuilt under the same tag, note is not, and `up` rolls the
    // new image out because the pinned digest changed.
    let second_message = fresh_message(&dir, "2");
    let up = json(&codex_building_in(&dir, &["up", "--env", "e2e", "--timeout", "4m", "-o", "json"]), "second up");
    assert_eq!(
        statuses(&up["images"]),
        vec![("hello".into(), "built".into()), ("note".into(), "unchanged".into())],
        "{up}"
    );
    let new_digest = image(&up["images"], "hello")["manifestDigest"].as_str().unwrap().to_string();
    assert_ne!(new_digest, hello_digest);
    assert!(deployed_image().ends_with(&format!("@{new_digest}")), "deployed {}", deployed_image());
    assert_eq!(get_hello(), second_message);
    assert_eq!(
        image(&up["images"], "hello")["reference"],
        format!("127.0.0.1:5000/codex-build-e2e/hello:1@{new_digest}").as_str(),
        "{up}"
    );

    // A review round (`revise`) builds first like `up`: another change is rebuilt and served.
    // The round adds the issue label to everything in the namespace `up` made; the note Job's
    // pod template is immutable, so it must come back under a new name, not be patched.
    let third_message = fresh_message(&dir, "3");
    let revised =
        json(&codex_building_in(&dir, &["revise", "7", "--env", "e2e", "--timeout", "4m", "-o", "json"]), "revise");
    assert_eq!(revised["result"], "deployed", "{revised}");
    assert_eq!(
        statuses(&revised["images"]),
        vec![("hello".into(), "built".into()), ("note".into(), "unchanged".into())],
        "{revised}"
    );
    let revised_digest = image(&revised["images"], "hello")["manifestDigest"].as_str().unwrap().to_string();
    assert!(deployed_image().ends_with(&format!("@{revised_digest}")), "deployed {}", deployed_image());
    assert_eq!(get_hello(), third_message);
}

/// A Docker config directory whose config.json logs in to `host` (the inline `auth` form
/// `docker login` writes).
fn docker_config(user: &str, password: &str, host: &str) -> tempfile::TempDir {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let config = serde_json::json!({"auths": {host: {"auth": auth}}});
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    dir
}

#[test]
fn a_registry_that_asks_for_a_login_gets_one_from_docker_config_for_pushes_and_the_skip_check() {
    let password = format!("pw-{}", SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos());
    // A second registry that answers like hosted ones: 401 with a Bearer challenge, a token only
    // for the right credentials.
    let registry = LocalRegistry::start(&[format!("--token-auth=codex-e2e:{password}")], 401);
    let dir = tempfile::tempdir().unwrap();
    let dir: PathBuf = dir.path().to_path_buf();
    copy_fixture(&dir);
    let manifest = std::fs::read_to_string(dir.join("services.yaml")).unwrap();
    let moved = manifest.replace("registry: 127.0.0.1:5000", &format!("registry: {}", registry.address));
    assert_ne!(moved, manifest, "the fixture names its registry");
    std::fs::write(dir.join("services.yaml"), moved).unwrap();
    fresh_message(&dir, "login");
    let no_login = tempfile::tempdir().unwrap(); // an empty DOCKER_CONFIG: no credentials at all
    let wrong = docker_config("codex-e2e", "wrong", &registry.address);
    let right = docker_config("codex-e2e", &password, &registry.address);
    let build =
        |config: &Path| codex_building_with_docker_config(&dir, &["build", "--env", "e2e", "-o", "json"], Some(config));

    // Without credentials, or with wrong ones: the look-up says why it cannot tell, BuildKit's
    // push is refused, and the build fails with its own exit code.
    for (config, why) in [
        (no_login.path(), format!("no credentials for {}", registry.address)),
        (wrong.path(), format!("the credentials for {} in", registry.address)),
    ] {
        let out = build(config);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(9), "build without a valid login:\n{}\n{stderr}", text(&out.stdout));
        assert!(stderr.contains(&why), "expected \"{why}\" in:\n{stderr}");
    }

    // With them: both images are built and pushed, then found again by the authenticated
    // look-up, so the second run builds nothing.
    let first = json(&build(right.path()), "build with a login");
    assert_eq!(
        statuses(build_images(&first)),
        vec![("hello".into(), "built".into()), ("note".into(), "built".into())],
        "{first}"
    );
    let second = build(right.path());
    let second_json = json(&second, "second build with a login");
    assert_eq!(
        statuses(build_images(&second_json)),
        vec![("hello".into(), "unchanged".into()), ("note".into(), "unchanged".into())],
        "{second_json}"
    );
    assert_eq!(
        image(build_images(&second_json), "hello")["manifestDigest"],
        image(build_images(&first), "hello")["manifestDigest"]
    );
    for shown in [text(&second.stdout), text(&second.stderr)] {
        assert!(!shown.contains(&password), "the password leaked into the output:\n{shown}");
    }
}
