use super::*;
use crate::config::stack::{Selection, Stack};
use std::path::Path;

/// Writes a services.yaml of project `demo` into `dir`: the header, then `lines`.
pub(super) fn services_yaml(dir: &Path, lines: &[&str]) -> PathBuf {
    let file = dir.join("services.yaml");
    let header = ["apiVersion: codex-k8s.dev/v1alpha1", "kind: ServiceStack", "project: { name: demo }"];
    std::fs::write(&file, header.iter().chain(lines).copied().collect::<Vec<_>>().join("\n")).unwrap();
    file
}

/// The stack `file` describes, in its `prod` environment.
pub(super) fn prod_stack(file: &Path) -> Stack {
    let selection = Selection { env: "prod".into(), ..Default::default() };
    crate::config::load_path(file).unwrap().resolve(&selection).unwrap()
}

#[test]
fn content_tags_keep_registry_and_repository() {
    let digest = "0123456789abcdef0123456789abcdef";
    assert_eq!(
        content_tag("127.0.0.1:5000/codex-example/greeter:0.1.0-dev", digest),
        "127.0.0.1:5000/codex-example/greeter:build-0123456789abcdef"
    );
    assert_eq!(
        content_tag("127.0.0.1:5000/codex-example/greeter", digest),
        "127.0.0.1:5000/codex-example/greeter:build-0123456789abcdef"
    );
}

/// An image just built and pushed as `manifest_digest`.
fn built_image(name: &str, reference: &str, manifest_digest: &str) -> ImageOutcome {
    ImageOutcome {
        name: name.into(),
        reference: reference.into(),
        content_tag: String::new(),
        input_digest: String::new(),
        manifest_digest: Some(manifest_digest.into()),
        status: BuildStatus::Built,
        seconds: 1.0,
        builder: None,
        command: None,
        error: None,
        mirror: None,
    }
}

#[test]
fn pinning_points_every_use_of_a_built_image_at_its_manifest() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("services.yaml");
    let loaded = crate::config::load_path(&file).unwrap();
    let selection = crate::config::stack::Selection { env: "dev".into(), slot: "1".into(), issue: String::new() };
    let mut stack = loaded.resolve_with(&selection, &crate::config::inputs::GivenInputs::stand_ins()).unwrap();
    let before = stack.clone();
    let greeter = "127.0.0.1:5000/codex-example/greeter:0.1.0-dev";
    let built = built_image("greeter", greeter, "sha256:1111");
    pin(&mut stack, &[built]);
    let unit = stack.units.iter().find(|u| u.name == "greeter").unwrap();
    assert_eq!(unit.workload.as_ref().unwrap().image, format!("{greeter}@sha256:1111"));
    assert_eq!(stack.images["greeter"].reference, format!("{greeter}@sha256:1111"));
    let others = |s: &Stack| {
        s.units.iter().filter(|u| u.name != "greeter").map(|u| u.images().next().cloned()).collect::<Vec<_>>()
    };
    assert_eq!(others(&stack), others(&before));
    assert_ne!(stack.input_digest, before.input_digest, "the evidence's input digest covers the pin");
}

#[test]
fn a_manifest_units_image_edit_is_built_and_pinned_like_a_workload() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/manifest-stack/services.yaml");
    let loaded = crate::config::load_path(&file).unwrap();
    let selection = crate::config::stack::Selection { env: "staging".into(), ..Default::default() };
    let mut stack = loaded.resolve(&selection).unwrap();
    let api = stack.units.iter().find(|u| u.name == "api").unwrap();
    assert_eq!(api.images().collect::<Vec<_>>(), [&"PROBE_IMAGE".to_string()]);
    let built = built_image("probe", "PROBE_IMAGE", "sha256:2222");
    pin(&mut stack, &[built]);
    for unit in stack.units.iter().filter(|u| u.image_edit.is_some()) {
        assert_eq!(unit.image_edit.as_ref().unwrap().image, "PROBE_IMAGE@sha256:2222", "{}", unit.name);
    }
    // The pinned reference reaches the installed manifests of every container named.
    let plan = crate::plan::plan(&stack);
    let values = crate::values::phase_values(&stack, &plan);
    let internal = values.iter().find(|v| v.release == "codex-internal").unwrap();
    let api = internal
        .values
        .extra_manifests
        .iter()
        .find(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == "api")
        .unwrap();
    let images: Vec<&str> = api["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["image"].as_str().unwrap())
        .collect();
    assert_eq!(images, ["PROBE_IMAGE@sha256:2222", "PROBE_IMAGE@sha256:2222"]);
}

#[test]
fn build_args_are_rendered_and_a_named_context_is_passed_and_digested() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    std::fs::create_dir_all(dir.path().join("shared")).unwrap();
    std::fs::write(dir.path().join("app/Dockerfile"), "FROM scratch\nCOPY --from=shared . /shared\n").unwrap();
    std::fs::write(dir.path().join("shared/lib.txt"), "one\n").unwrap();
    let file = services_yaml(
        dir.path(),
        &[
            "versions: { golang: \"1.24\" }",
            "environments: { prod: { registry: \"127.0.0.1:5000\" } }",
            "images:",
            "  base: { mirror: \"golang:1.24\", repository: mirror/golang }",
            "  app:",
            "    build:",
            "      context: app",
            "      contexts: { shared: shared }",
            "      args: { GO: \"{{ versions.golang }}\", BASE: \"{{ images.base }}\", PLAIN: 1 }",
            "services:",
            "  - { name: app, phase: internal, workload: { kind: Deployment, image: app } }",
        ],
    );
    let plan_now = || {
        let stack = prod_stack(&file);
        plan(&stack, dir.path()).unwrap().remove(0)
    };
    let build = plan_now();
    assert_eq!(
        build.args,
        BTreeMap::from([
            ("BASE".to_string(), "127.0.0.1:5000/mirror/golang:1.24".to_string()),
            ("GO".to_string(), "1.24".to_string()),
            ("PLAIN".to_string(), "1".to_string()),
        ])
    );
    assert_eq!(build.contexts, BTreeMap::from([("shared".to_string(), dir.path().join("shared"))]));
    let builder = Builder::Buildctl { program: "buildctl".into(), addr: None };
    let (_, line) = build.command_line(&builder, true);
    let shared = format!("shared={}", dir.path().join("shared").display());
    assert!(line.windows(2).any(|w| w == ["--local", shared.as_str()]), "{line:?}");
    assert!(line.windows(2).any(|w| w == ["--opt", "context:shared=local:shared"]), "{line:?}");
    assert!(line.windows(2).any(|w| w == ["--opt", "build-arg:GO=1.24"]), "{line:?}");
    std::fs::write(dir.path().join("shared/lib.txt"), "two\n").unwrap();
    assert_ne!(plan_now().input_digest, build.input_digest, "a changed file in the extra context rebuilds");
}

#[test]
fn builder_metadata_gives_the_manifest_digest() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.json");
    std::fs::write(&file, r#"{"containerimage.digest":"sha256:abc","image.name":"x"}"#).unwrap();
    assert_eq!(metadata_digest(&file).as_deref(), Some("sha256:abc"));
    std::fs::write(&file, "{}").unwrap();
    assert_eq!(metadata_digest(&file), None);
}
