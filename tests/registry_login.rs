//! `build`'s registry look-ups log in as Docker clients do: against a registry stand-in that
//! answers with Bearer or Basic challenges (the real local registry in token mode is in
//! e2e_build).

use crate::support::http_stub;

use base64::Engine;
use http_stub::{Request, Response};
use hyper::body::Bytes;
use kubectl_codex::build::registry::{ImageRef, Lookup, Manifest, Registry};
use kubectl_codex::build::registry_auth::{Credentials, DockerConfig};

fn logged_in(user: &str, password: &str, host: &str) -> DockerConfig {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    serde_json::from_value(serde_json::json!({"auths": {host: {"auth": auth}}})).unwrap()
}

fn basic(user: &str, password: &str) -> String {
    Credentials { username: user.into(), password: password.into() }.basic_header()
}

const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#;

/// Bearer challenges for everything; the token only for ci:pw.
fn token_registry(realm_host: String) -> impl Fn(&Request) -> Response {
    move |request| {
        let authorization = request.authorization.as_deref();
        match (request.method.as_str(), request.path.as_str()) {
            ("GET", path) if path.starts_with("/token?") => match authorization {
                Some(a) if a == basic("ci", "pw") => Response::new(200).body(r#"{"access_token":"t0k3n"}"#),
                _ => Response::new(401),
            },
            ("GET", "/v2/team/app/manifests/build-1") if authorization == Some("Bearer t0k3n") => {
                Response::new(200).header("Content-Type", "application/vnd.oci.image.manifest.v1+json").body(MANIFEST)
            }
            ("PUT", "/v2/team/app/manifests/1") if authorization == Some("Bearer t0k3n") => Response::new(201),
            _ => Response::new(401).header(
                "WWW-Authenticate",
                &format!(
                    r#"Bearer realm="http://{realm_host}/token",service="fake",scope="repository:team/app:pull,push""#
                ),
            ),
        }
    }
}

/// A stub whose Bearer realm is itself.
fn start_token_registry() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Request>>>) {
    // The realm names the stub's own address, known only once it listens.
    let holder = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let realm = holder.clone();
    let (address, requests) = http_stub::serve(move |request| token_registry(realm.lock().unwrap().clone())(request));
    *holder.lock().unwrap() = address.clone();
    (address, requests)
}

#[tokio::test]
async fn a_bearer_challenge_is_answered_with_a_token_for_the_configured_login_once_per_repository() {
    let (address, requests) = start_token_registry();
    let registry = Registry::with_docker_config(vec![], logged_in("ci", "pw", &address));
    let image = ImageRef::parse(&format!("{address}/team/app:build-1")).unwrap();
    let Lookup::Found(manifest) = registry.manifest(&image).await else {
        panic!("not found; requests: {:?}", requests.lock().unwrap())
    };
    assert_eq!(manifest.media_type, "application/vnd.oci.image.manifest.v1+json");
    registry.put_manifest(&image.with_tag("1"), &manifest).await.unwrap();
    let seen: Vec<String> = requests
        .lock()
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r.line(), r.authorization.as_deref().unwrap_or("-")))
        .collect();
    assert_eq!(seen.iter().filter(|r| r.contains("/token?")).count(), 1, "one login for both requests: {seen:?}");
    assert!(seen.iter().any(|r| r.contains("/token?service=fake&scope=repository:team/app:pull%2Cpush")), "{seen:?}");
    assert!(seen.last().unwrap().starts_with("PUT /v2/team/app/manifests/1 Bearer"), "{seen:?}");
}

#[tokio::test]
async fn without_or_with_wrong_credentials_the_lookup_says_which() {
    let (address, _) = start_token_registry();
    let image = ImageRef::parse(&format!("{address}/team/app:build-1")).unwrap();
    let anonymous = Registry::with_docker_config(vec![], DockerConfig::default());
    let Lookup::Unknown(why) = anonymous.manifest(&image).await else { panic!("expected unknown") };
    assert!(why.contains("401") && why.contains(&format!("no credentials for {address}")), "{why}");
    let wrong = Registry::with_docker_config(vec![], logged_in("ci", "nope", &address));
    let Lookup::Unknown(why) = wrong.manifest(&image).await else { panic!("expected unknown") };
    assert!(why.contains(&format!("the credentials for {address} in")) && !why.contains("nope"), "{why}");
    let refused = wrong
        .put_manifest(&image, &Manifest { media_type: "x".into(), body: Bytes::new(), digest: "sha256:0".into() })
        .await;
    let error = format!("{:#}", refused.unwrap_err());
    assert!(error.contains("401"), "{error}");
}

#[tokio::test]
async fn a_basic_challenge_gets_the_credentials_directly() {
    let (address, _) = http_stub::serve(|request| match request.authorization.as_deref() {
        Some(a) if a == basic("ci", "pw") && request.path.ends_with("/manifests/build-1") => Response::new(404),
        _ => Response::new(401).header("WWW-Authenticate", r#"Basic realm="fake""#),
    });
    let registry = Registry::with_docker_config(vec![], logged_in("ci", "pw", &address));
    let image = ImageRef::parse(&format!("{address}/team/app:build-1")).unwrap();
    assert!(matches!(registry.manifest(&image).await, Lookup::Missing));
}
