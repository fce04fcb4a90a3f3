//! Mirrored images are copied between registries through the registry API: against two
//! in-memory registry stand-ins that log every request, so the tests can count them (the real
//! registry binary plays the upstream in e2e_mirror).

use crate::support::{http_stub, registry_stub};

use http_stub::Request;
use kubectl_codex::build::mirror::{self, Mirror, Retry};
use kubectl_codex::build::registry::Registry;
use kubectl_codex::build::registry_auth::{Credentials, DockerConfig};
use kubectl_codex::build::BuildStatus;
use registry_stub::*;
use std::time::Duration;

fn client() -> Registry {
    Registry::with_docker_config(vec![], DockerConfig::default())
}

fn quick() -> Retry {
    Retry { attempts: 3, first_delay: Duration::from_millis(20) }
}

fn lines(log: &Log) -> Vec<String> {
    log.lock().unwrap().iter().map(Request::line).collect()
}

#[tokio::test]
async fn an_index_is_copied_with_every_child_and_blob_and_keeps_its_digest_then_costs_one_request() {
    let mut upstream = Store { redirect_blobs: true, ..Store::default() };
    let (index, blobs) = seed(&mut upstream, "upstream/redis");
    let (source, _, source_log) = registry(upstream);
    let (target, target_store, target_log) = registry(Store::default());
    let planned =
        mirror::planned("redis", &format!("{source}/upstream/redis:7"), &format!("{target}/mirror/redis:7-bookworm"))
            .unwrap();
    let registry = client();
    let copy = Mirror::new(&registry, quick());

    let first = copy.mirror(&planned).await.unwrap();
    assert_eq!((first.status, first.digest.as_str()), (BuildStatus::Mirrored, index.as_str()));
    assert_eq!((first.blobs_copied, first.blobs_present, first.blobs_mounted), (5, 1, 0), "the shared layer once");
    {
        let store = target_store.lock().unwrap();
        let tag = planned.mirror_tag.rsplit_once(':').unwrap().1.to_string();
        for reference in ["7-bookworm".to_string(), tag, index.clone()] {
            let (media_type, body) = &store.manifests[&("mirror/redis".to_string(), reference.clone())];
            assert_eq!((media_type.as_str(), digest_of(body)), (OCI_INDEX, index.clone()), "{reference}");
        }
        for blob in &blobs {
            assert!(store.blobs.contains_key(&("mirror/redis".to_string(), blob.clone())), "blob {blob}");
        }
        assert_eq!(store.manifests.len(), 5, "the index under two tags and its digest, and both children");
    }
    let blob_gets = lines(&source_log).iter().filter(|l| l.starts_with("GET /cdn/")).count();
    assert_eq!(blob_gets, 5, "each blob fetched once, through the redirect: {:?}", lines(&source_log));

    // Present: one HEAD of the mirror tag on the target; nothing at all upstream.
    source_log.lock().unwrap().clear();
    target_log.lock().unwrap().clear();
    let second = Mirror::new(&client(), quick()).mirror(&planned).await.unwrap();
    assert_eq!((second.status, second.digest.as_str()), (BuildStatus::Present, index.as_str()));
    let tag = planned.mirror_tag.rsplit_once(':').unwrap().1;
    assert_eq!(lines(&target_log), [format!("HEAD /v2/mirror/redis/manifests/{tag}")]);
    assert_eq!(lines(&source_log), Vec::<String>::new());
}

#[tokio::test]
async fn children_and_blobs_the_target_has_are_not_fetched_again() {
    let mut upstream = Store::default();
    let (_, _) = seed(&mut upstream, "upstream/redis");
    // The target already has the amd64 child (from an earlier mirror of another tag) and its blobs.
    let mut existing = Store::default();
    let (_, _) = seed(&mut existing, "mirror/redis");
    existing.manifests.retain(|(_, reference), _| reference != "7");
    let arm64 = {
        let index: serde_json::Value =
            serde_json::from_slice(&upstream.manifests[&("upstream/redis".into(), "7".into())].1).unwrap();
        index["manifests"][1]["digest"].as_str().unwrap().to_string()
    };
    existing.manifests.retain(|(_, reference), _| reference != &arm64);
    let (source, _, source_log) = registry(upstream);
    let (target, _, _) = registry(existing);
    let planned =
        mirror::planned("redis", &format!("{source}/upstream/redis:7"), &format!("{target}/mirror/redis:7")).unwrap();
    let done = Mirror::new(&client(), quick()).mirror(&planned).await.unwrap();
    assert_eq!(done.status, BuildStatus::Mirrored);
    assert_eq!((done.blobs_copied, done.blobs_present), (0, 3), "the arm64 child's blobs were all there");
    let fetched: Vec<String> = lines(&source_log).into_iter().filter(|l| l.starts_with("GET")).collect();
    assert_eq!(
        fetched,
        ["GET /v2/upstream/redis/manifests/7".to_string(), format!("GET /v2/upstream/redis/manifests/{arm64}")],
        "only the index and the child the target lacked"
    );
}

#[tokio::test]
async fn within_one_registry_blobs_are_mounted_not_sent() {
    let mut store = Store::default();
    let (index, _) = seed(&mut store, "upstream/redis");
    let (address, store, log) = registry(store);
    let planned =
        mirror::planned("redis", &format!("{address}/upstream/redis:7"), &format!("{address}/mirror/redis:7")).unwrap();
    let done = Mirror::new(&client(), quick()).mirror(&planned).await.unwrap();
    assert_eq!((done.digest.as_str(), done.blobs_mounted, done.blobs_copied), (index.as_str(), 5, 0));
    let log = lines(&log);
    assert!(!log.iter().any(|l| l.starts_with("GET /v2/upstream/redis/blobs/")), "no blob was read: {log:?}");
    assert_eq!(log.iter().filter(|l| l.contains("?mount=")).count(), 5, "{log:?}");
    assert!(store.lock().unwrap().manifests.contains_key(&("mirror/redis".into(), "7".into())));
}

#[tokio::test]
async fn a_source_pinned_by_digest_is_checked_and_a_login_is_given_where_asked() {
    let mut upstream = Store::default();
    let (index, _) = seed(&mut upstream, "upstream/redis");
    let (source, _, _) = registry(upstream);
    let login = Credentials { username: "ci".into(), password: "pw".into() };
    let (target, _, target_log) = registry(Store { authorization: Some(login.basic_header()), ..Store::default() });
    let auth = base64_auth("ci", "pw");
    let config: DockerConfig = serde_json::from_value(serde_json::json!({"auths": {&target: {"auth": auth}}})).unwrap();
    let registry = Registry::with_docker_config(vec![], config);
    let planned =
        mirror::planned("redis", &format!("{source}/upstream/redis:7@{index}"), &format!("{target}/mirror/redis:7"))
            .unwrap();
    let done = Mirror::new(&registry, quick()).mirror(&planned).await.unwrap();
    assert_eq!((done.status, done.digest.as_str()), (BuildStatus::Mirrored, index.as_str()));
    assert!(target_log.lock().unwrap().iter().any(|r| r.authorization.is_some()));

    let wrong = format!("sha256:{}", "0".repeat(64));
    let planned =
        mirror::planned("redis", &format!("{source}/upstream/redis@{wrong}"), &format!("{target}/mirror/redis:x"))
            .unwrap();
    let error = Mirror::new(&registry, quick()).mirror(&planned).await.unwrap_err();
    assert_eq!(kubectl_codex::exit::code_of(&error), kubectl_codex::exit::BUILD_FAILED);
    assert!(
        format!("{error:#}").contains(&format!("mirror source {source}/upstream/redis@{wrong} does not exist")),
        "{error:#}"
    );
}

fn base64_auth(user: &str, password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

#[tokio::test]
async fn a_source_the_upstream_does_not_have_is_exit_9_naming_it() {
    let (source, _, _) = registry(Store::default());
    let (target, target_store, _) = registry(Store::default());
    let planned =
        mirror::planned("redis", &format!("{source}/upstream/nope:1"), &format!("{target}/mirror/nope:1")).unwrap();
    let error = Mirror::new(&client(), quick()).mirror(&planned).await.unwrap_err();
    assert_eq!(kubectl_codex::exit::code_of(&error), kubectl_codex::exit::BUILD_FAILED);
    let message = format!("{error:#}");
    assert!(message.contains(&format!("mirror source {source}/upstream/nope:1 does not exist")), "{message}");
    assert!(target_store.lock().unwrap().manifests.is_empty());
}

#[tokio::test]
async fn a_registry_that_is_down_is_retried_then_named_and_one_that_recovers_is_used() {
    let down = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    }; // closed again: connections are refused
    let (target, _, _) = registry(Store::default());
    let planned =
        mirror::planned("redis", &format!("{down}/upstream/redis:7"), &format!("{target}/mirror/redis:7")).unwrap();
    let started = std::time::Instant::now();
    let error = Mirror::new(&client(), quick()).mirror(&planned).await.unwrap_err();
    assert_eq!(kubectl_codex::exit::code_of(&error), kubectl_codex::exit::BUILD_FAILED);
    let message = format!("{error:#}");
    assert!(message.contains(&format!("registry {down} is not available: 3 tries")), "{message}");
    assert!(started.elapsed() >= Duration::from_millis(60), "it waited 20 + 40 ms between the tries");

    // The target is the one down: named too, before anything is read upstream.
    let (source, _, source_log) = registry(Store::default());
    let planned =
        mirror::planned("redis", &format!("{source}/upstream/redis:7"), &format!("{down}/mirror/redis:7")).unwrap();
    let message = format!("{:#}", Mirror::new(&client(), quick()).mirror(&planned).await.unwrap_err());
    assert!(message.contains(&format!("registry {down} is not available")), "{message}");
    assert!(lines(&source_log).is_empty());

    // 503 twice, then answers: the third try goes through.
    let mut upstream = Store { unavailable: 2, ..Store::default() };
    let (index, _) = seed(&mut upstream, "upstream/redis");
    let (source, _, _) = registry(upstream);
    let planned =
        mirror::planned("redis", &format!("{source}/upstream/redis:7"), &format!("{target}/mirror/redis:7")).unwrap();
    assert_eq!(Mirror::new(&client(), quick()).mirror(&planned).await.unwrap().digest, index);
}
