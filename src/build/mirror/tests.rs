use super::copy::{descriptor_digest, infer_media_type, IMAGE_TYPES, INDEX_TYPES};
use super::*;
use crate::build::tests::{prod_stack, services_yaml};

#[test]
fn an_image_a_build_arg_names_is_mirrored_and_an_unused_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    let file = services_yaml(
        dir.path(),
        &[
            "environments: { prod: { registry: \"127.0.0.1:5000\" } }",
            "images:",
            "  base: { mirror: \"golang:1.24\", repository: mirror/golang }",
            "  redis: { mirror: \"redis:7\" }",
            "  unused: { mirror: \"busybox:1\" }",
            "  app: { build: { context: app, args: { BASE: \"{{ images.base }}\" } } }",
            "services:",
            "  - { name: app, phase: internal, workload: { kind: Deployment, image: app } }",
            "  - { name: cache, phase: stateful, workload: { kind: StatefulSet, image: redis } }",
        ],
    );
    let stack = prod_stack(&file);
    let planned = plan(&stack).unwrap();
    let names: Vec<(&str, &str)> = planned.iter().map(|m| (m.name.as_str(), m.reference.as_str())).collect();
    assert_eq!(
        names,
        [("base", "127.0.0.1:5000/mirror/golang:1.24"), ("redis", "127.0.0.1:5000/demo/redis:7")],
        "the default repository is <project>/<name>, the default tag the source's"
    );
}

#[test]
fn the_mirror_tag_names_the_normalised_source() {
    let a = planned("redis", "redis:7-bookworm", "127.0.0.1:5000/mirror/redis:7-bookworm").unwrap();
    let b = planned("redis", "docker.io/library/redis:7-bookworm", "127.0.0.1:5000/mirror/redis:7-bookworm").unwrap();
    assert_eq!(a.source, "docker.io/library/redis:7-bookworm");
    assert_eq!(a.mirror_tag, b.mirror_tag, "two spellings of one source are one mirror");
    assert!(a.mirror_tag.starts_with("127.0.0.1:5000/mirror/redis:mirror-"), "{}", a.mirror_tag);
    assert_eq!(a.mirror_tag.len(), "127.0.0.1:5000/mirror/redis:mirror-".len() + 16);
    let other = planned("redis", "redis:7.4-bookworm", "127.0.0.1:5000/mirror/redis:7-bookworm").unwrap();
    assert_ne!(other.mirror_tag, a.mirror_tag, "another source under the same tag is copied again");
}

#[test]
fn media_types_are_inferred_from_the_manifest_when_not_sent() {
    assert_eq!(infer_media_type(br#"{"manifests": []}"#).as_deref(), Some(INDEX_TYPES[0]));
    assert_eq!(infer_media_type(br#"{"layers": [], "config": {}}"#).as_deref(), Some(IMAGE_TYPES[0]));
    assert_eq!(infer_media_type(br#"{"mediaType": "x"}"#).as_deref(), Some("x"));
    assert_eq!(infer_media_type(b"nope"), None);
}

#[test]
fn descriptors_must_carry_a_sha256_digest() {
    let good = format!("sha256:{}", "a".repeat(64));
    assert_eq!(descriptor_digest(&serde_json::json!({"digest": good})).unwrap(), good);
    assert!(descriptor_digest(&serde_json::json!({"digest": "sha512:ab"})).is_err());
    assert!(descriptor_digest(&serde_json::json!({})).is_err());
}
