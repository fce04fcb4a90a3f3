//! Images built or mirrored: build contexts and args; a mirror's source, tag or digest, and the
//! environment registry it goes to.

use super::*;

/// MINIMAL with image `app` replaced by `lines` (its fields, indented four spaces) and the
/// environments given a registry, so a mirror has somewhere to go.
fn with_app_image(lines: &str) -> String {
    edited("    ref: registry.test/app:1\n", lines).replacen(
        "    runtime: prod\n",
        "    runtime: prod\n    registry: 127.0.0.1:5000\n",
        1,
    )
}

#[test]
fn a_mirror_is_valid_and_resolves_into_the_environments_registry() {
    let text = with_app_image("    mirror: docker.io/library/redis:7-bookworm\n    repository: mirror/redis\n");
    assert!(problems(text.as_bytes().to_vec()).is_empty(), "{}", problems(text.as_bytes().to_vec()));
    let loaded = config::load_bytes("services.yaml", text.into_bytes(), Path::new("tests/fixtures")).unwrap();
    let selection = config::stack::Selection { env: "prod".into(), ..Default::default() };
    let image = &loaded.resolve(&selection).unwrap().images["app"];
    assert_eq!(image.reference, "127.0.0.1:5000/mirror/redis:7-bookworm", "the tag defaults to the source's");
    assert_eq!(image.mirror.as_deref(), Some("docker.io/library/redis:7-bookworm"));
}

#[test]
fn a_mirror_source_that_is_not_an_image_reference() {
    let text = with_app_image("    mirror: \"Redis:7 bookworm\"\n");
    assert_error(&text, 14, 13, "images.app.mirror", "is not an image reference");
    let text = with_app_image("    mirror: https://docker.io/library/redis:7\n");
    assert_error(&text, 14, 13, "images.app.mirror", "\"https:\" is not a registry host");
}

#[test]
fn a_templated_mirror_source_is_checked_once_rendered() {
    let text = with_app_image("    mirror: \"{{ project }}:not a tag\"\n");
    assert_error(&text, 14, 13, "images.app.mirror", "\"demo:not a tag\" is not an image reference");
}

#[test]
fn a_mirror_by_digest_alone_needs_a_tag() {
    let digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let text = with_app_image(&format!("    mirror: redis@{digest}\n"));
    assert_error(&text, 14, 13, "images.app.mirror", "give the mirror a \"tag\"");
    assert!(problems(with_app_image(&format!("    mirror: redis@{digest}\n    tag: \"7\"\n")).into_bytes()).is_empty());
}

#[test]
fn a_mirror_needs_an_environment_registry_and_a_valid_target() {
    let text = edited("    ref: registry.test/app:1\n", "    mirror: redis:7\n");
    assert_error(&text, 13, 13, "images.app.mirror", "environment \"prod\" has none");
    let text = with_app_image("    mirror: redis:7\n    repository: Mirror/Redis\n");
    assert_error(&text, 15, 17, "images.app.repository", "not a repository path component");
}

#[test]
fn an_image_with_ref_and_mirror() {
    let text = with_app_image("    ref: registry.test/app:1\n    mirror: redis:7\n");
    assert_error(&text, 14, 5, "images.app", "not both \"ref\" and \"mirror\"");
}

#[test]
fn build_contexts_are_confined_and_named_as_buildkit_allows() {
    let text = with_app_image("    build:\n      context: .\n      contexts:\n        shared: ../outside\n");
    assert_error(&text, 17, 17, "images.app.build.contexts.shared", "no '..'");
    let text = with_app_image("    build:\n      context: .\n      contexts:\n        dockerfile: manifest-stack\n");
    assert_error(&text, 17, 9, "images.app.build.contexts.dockerfile", "choose another");
    let text = with_app_image("    build:\n      context: .\n      contexts:\n        shared: no-such-dir\n");
    assert_error(&text, 17, 17, "images.app.build.contexts.shared", "cannot read");
    let text = with_app_image("    build:\n      context: .\n      contexts:\n        shared: minimal.yaml\n");
    assert_error(&text, 17, 17, "images.app.build.contexts.shared", "is not a directory");
    let ok = with_app_image("    build:\n      context: .\n      contexts:\n        shared: manifest-stack\n");
    assert!(problems(ok.into_bytes()).is_empty());
}

#[test]
fn build_args_are_templates() {
    let text = with_app_image("    build:\n      context: .\n      args:\n        GO: \"{{ versions.golang }}\"\n");
    assert_error(&text, 17, 13, "images.app.build.args.GO", "versions.golang");
}
