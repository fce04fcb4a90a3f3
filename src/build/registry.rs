//! Just enough of the Docker Registry HTTP API v2 to skip unchanged builds: read a tag's
//! manifest (with its media type) and put it under another tag. Logs in as Docker clients do
//! when the registry asks (see [`super::registry_auth`]); when it still refuses, the answer
//! is "unknown", and the image is then simply built.

use super::registry_auth::{self, Challenge, DockerConfig};
use anyhow::{anyhow, bail, Context, Result};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Environment variable with more plain-HTTP registry hosts, comma-separated.
pub const INSECURE_ENV: &str = "CODEX_INSECURE_REGISTRIES";

/// Every manifest kind an image tag may point at.
pub const MANIFEST_ACCEPT: &str =
    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// `host[:port]/repository:tag`, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub host: String,
    pub repository: String,
    pub tag: String,
}

impl ImageRef {
    /// Parses a tagged reference (a digest suffix is not expected here). A first component
    /// without `.` or `:` that is not `localhost` is a Docker Hub repository, as in Docker.
    pub fn parse(reference: &str) -> Result<Self> {
        let (name, tag) = match reference.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') => (name, tag.to_string()),
            _ => (reference, "latest".to_string()),
        };
        let (host, repository) = match name.split_once('/') {
            Some((first, rest)) if first.contains('.') || first.contains(':') || first == "localhost" => {
                (first.to_string(), rest.to_string())
            }
            Some(_) => ("docker.io".to_string(), name.to_string()),
            None => ("docker.io".to_string(), format!("library/{name}")),
        };
        if repository.is_empty() || tag.is_empty() {
            bail!("\"{reference}\" is not an image reference");
        }
        Ok(ImageRef { host, repository, tag })
    }

    /// The same repository under another tag.
    pub fn with_tag(&self, tag: &str) -> ImageRef {
        ImageRef { tag: tag.to_string(), ..self.clone() }
    }
}

/// True for hosts reached over plain HTTP: loopback ones, and those named as insecure.
pub fn is_insecure(host: &str, insecure_hosts: &[String]) -> bool {
    let bare =
        host.rsplit_once(':').map_or(host, |(h, port)| if port.chars().all(|c| c.is_ascii_digit()) { h } else { host });
    matches!(bare, "127.0.0.1" | "localhost" | "[::1]") || insecure_hosts.iter().any(|h| h == host || h == bare)
}

/// A manifest as the registry stores it.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub media_type: String,
    pub body: Bytes,
    /// `sha256:…` of the body: the image's manifest digest.
    pub digest: String,
}

/// What a lookup found.
#[derive(Debug)]
pub enum Lookup {
    Found(Manifest),
    Missing,
    /// The registry could not tell (asked for credentials, unreachable, …): build.
    Unknown(String),
}

pub struct Registry {
    http: Client<HttpConnector, Full<Bytes>>,
    https: Result<Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>, String>,
    insecure_hosts: Vec<String>,
    /// Docker's config.json, read once; an unreadable one is reported when a registry asks.
    docker_config: Result<DockerConfig, String>,
    /// `Authorization` values that worked, by `host/repository`: one login per repository.
    authorizations: Mutex<HashMap<String, String>>,
}

impl Registry {
    pub fn new(insecure_hosts: Vec<String>) -> Self {
        let http = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map(|b| Client::builder(TokioExecutor::new()).build(b.https_only().enable_http1().build()))
            .map_err(|e| format!("no CA certificates for HTTPS registries: {e}"));
        let docker_config = DockerConfig::load().map_err(|e| format!("{e:#}"));
        Registry { http, https, insecure_hosts, docker_config, authorizations: Mutex::new(HashMap::new()) }
    }

    /// The same with the given credentials instead of the user's config.json.
    pub fn with_docker_config(insecure_hosts: Vec<String>, docker_config: DockerConfig) -> Self {
        Registry { docker_config: Ok(docker_config), ..Registry::new(insecure_hosts) }
    }

    pub fn is_insecure(&self, host: &str) -> bool {
        is_insecure(host, &self.insecure_hosts)
    }

    fn url(&self, image: &ImageRef) -> String {
        format!("{}/v2/{}/manifests/{}", self.base_url(&image.host), image.repository, image.tag)
    }

    /// `http[s]://host` of a registry host (Docker Hub's API host for `docker.io`).
    pub(super) fn base_url(&self, host: &str) -> String {
        let scheme = if self.is_insecure(host) { "http" } else { "https" };
        let host = if host == "docker.io" { "registry-1.docker.io" } else { host };
        format!("{scheme}://{host}")
    }

    pub(super) async fn send(&self, request: http::Request<Full<Bytes>>) -> Result<http::Response<Bytes>> {
        self.send_within(request, REQUEST_TIMEOUT).await
    }

    /// [`Self::send`] with another limit for the whole exchange (blob transfers take longer).
    pub(super) async fn send_within(
        &self,
        request: http::Request<Full<Bytes>>,
        timeout: Duration,
    ) -> Result<http::Response<Bytes>> {
        let https = request.uri().scheme_str() == Some("https");
        let call = async {
            let response = if https {
                let client = self.https.as_ref().map_err(|e| anyhow!("{e}"))?;
                client.request(request).await?
            } else {
                self.http.request(request).await?
            };
            let (parts, body) = response.into_parts();
            let body = body.collect().await?.to_bytes();
            Ok::<_, anyhow::Error>(http::Response::from_parts(parts, body))
        };
        tokio::time::timeout(timeout, call).await.map_err(|_| anyhow!("no answer within {}s", timeout.as_secs()))?
    }

    /// GET of a tag's manifest.
    pub async fn manifest(&self, image: &ImageRef) -> Lookup {
        let url = self.url(image);
        let get = |authorization: Option<&str>| {
            let mut request = http::Request::get(&url).header(http::header::ACCEPT, MANIFEST_ACCEPT);
            if let Some(value) = authorization {
                request = request.header(http::header::AUTHORIZATION, value);
            }
            request.body(Full::new(Bytes::new())).map_err(anyhow::Error::from)
        };
        match self.send_authorized(image, "pull", get).await {
            Ok(response) if response.status() == http::StatusCode::OK => {
                let media_type = response
                    .headers()
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.split(';').next().unwrap_or(v).trim().to_string())
                    .or_else(|| media_type_in(response.body()));
                let Some(media_type) = media_type else {
                    return Lookup::Unknown(format!("GET {url}: the manifest has no media type"));
                };
                let body = response.into_body();
                let digest = format!("sha256:{}", super::inputs::sha256_hex(&body));
                Lookup::Found(Manifest { media_type, body, digest })
            }
            Ok(response) if response.status() == http::StatusCode::NOT_FOUND => Lookup::Missing,
            Ok(response) if response.status() == http::StatusCode::UNAUTHORIZED => {
                Lookup::Unknown(format!("GET {url}: {}; {}", response.status(), self.login_hint(&image.host)))
            }
            Ok(response) => Lookup::Unknown(format!("GET {url}: {}", response.status())),
            Err(e) => Lookup::Unknown(format!("GET {url}: {e:#}")),
        }
    }

    /// PUT of a manifest under a tag.
    pub async fn put_manifest(&self, image: &ImageRef, manifest: &Manifest) -> Result<()> {
        let url = self.url(image);
        let put = |authorization: Option<&str>| {
            let mut request = http::Request::put(&url).header(http::header::CONTENT_TYPE, &manifest.media_type);
            if let Some(value) = authorization {
                request = request.header(http::header::AUTHORIZATION, value);
            }
            request.body(Full::new(manifest.body.clone())).context("building the request")
        };
        let response = self.send_authorized(image, "pull,push", put).await.with_context(|| format!("PUT {url}"))?;
        if response.status() == http::StatusCode::UNAUTHORIZED {
            bail!("PUT {url}: {}; {}", response.status(), self.login_hint(&image.host));
        }
        if !response.status().is_success() {
            bail!("PUT {url}: {} {}", response.status(), String::from_utf8_lossy(response.body()).trim());
        }
        Ok(())
    }
}

impl Registry {
    /// Sends the request; when the registry answers 401 with a challenge, logs in (Basic, or
    /// a token from the challenge's realm) and sends it once more. `make` builds the request
    /// with the given `Authorization` value.
    async fn send_authorized(
        &self,
        image: &ImageRef,
        actions: &str,
        make: impl Fn(Option<&str>) -> Result<http::Request<Full<Bytes>>>,
    ) -> Result<http::Response<Bytes>> {
        self.send_authorized_within(image, actions, REQUEST_TIMEOUT, make).await
    }

    /// [`Self::send_authorized`] with another time limit for the request itself.
    pub(super) async fn send_authorized_within(
        &self,
        image: &ImageRef,
        actions: &str,
        timeout: Duration,
        make: impl Fn(Option<&str>) -> Result<http::Request<Full<Bytes>>>,
    ) -> Result<http::Response<Bytes>> {
        let key = format!("{}/{}", image.host, image.repository);
        let cached = self.authorizations.lock().map_err(|_| anyhow!("poisoned lock"))?.get(&key).cloned();
        let response = self.send_within(make(cached.as_deref())?, timeout).await?;
        if response.status() != http::StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let Some(challenge) = response
            .headers()
            .get(http::header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .and_then(registry_auth::parse_challenge)
        else {
            return Ok(response);
        };
        let credentials = match &self.docker_config {
            Ok(config) => config.credentials(&image.host)?,
            Err(e) => bail!("{e}"),
        };
        let authorization = match challenge {
            Challenge::Basic => match credentials {
                Some(credentials) => credentials.basic_header(),
                None => return Ok(response),
            },
            Challenge::Bearer { realm, service, scope } => {
                let url =
                    registry_auth::token_url(&realm, service.as_deref(), scope.as_deref(), &image.repository, actions);
                let mut request = http::Request::get(&url);
                if let Some(credentials) = &credentials {
                    request = request.header(http::header::AUTHORIZATION, credentials.basic_header());
                }
                let answer = self
                    .send(request.body(Full::new(Bytes::new()))?)
                    .await
                    .with_context(|| format!("asking {realm} for a token"))?;
                if answer.status() == http::StatusCode::UNAUTHORIZED || answer.status() == http::StatusCode::FORBIDDEN {
                    return Ok(response); // refused: reported as the original 401
                }
                if !answer.status().is_success() {
                    bail!("asking {realm} for a token: {}", answer.status());
                }
                format!(
                    "Bearer {}",
                    registry_auth::token_from(answer.body()).with_context(|| format!("asking {realm} for a token"))?
                )
            }
        };
        let retried = self.send_within(make(Some(&authorization))?, timeout).await?;
        if retried.status() != http::StatusCode::UNAUTHORIZED {
            self.authorizations.lock().map_err(|_| anyhow!("poisoned lock"))?.insert(key, authorization);
        }
        Ok(retried)
    }

    /// What to do about a 401 from `host`.
    pub(super) fn login_hint(&self, host: &str) -> String {
        let read_from = self.docker_config.as_ref().ok().and_then(|c| c.source.clone());
        let file = read_from
            .or_else(registry_auth::docker_config_path)
            .map_or_else(|| "Docker's config.json".to_string(), |p| p.display().to_string());
        match &self.docker_config {
            Err(e) => format!("cannot read credentials: {e}"),
            Ok(config) => match config.credentials(host) {
                Ok(Some(_)) => format!("the credentials for {host} in {file} were refused"),
                Ok(None) => format!("no credentials for {host} in {file} (run `docker login {host}`, or set ${} to a directory with a config.json)", registry_auth::DOCKER_CONFIG_ENV),
                Err(e) => format!("cannot read credentials for {host}: {e:#}"),
            },
        }
    }
}

/// The `mediaType` field of a manifest, for registries that send no Content-Type.
fn media_type_in(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(body).ok()?.get("mediaType")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_host_repository_and_tag() {
        let image = ImageRef::parse("127.0.0.1:5000/codex-example/greeter:0.1.0-dev").unwrap();
        assert_eq!(
            image,
            ImageRef {
                host: "127.0.0.1:5000".into(),
                repository: "codex-example/greeter".into(),
                tag: "0.1.0-dev".into()
            }
        );
        assert_eq!(image.with_tag("build-1").tag, "build-1");
        let hub = ImageRef::parse("postgres").unwrap();
        assert_eq!(
            (hub.host.as_str(), hub.repository.as_str(), hub.tag.as_str()),
            ("docker.io", "library/postgres", "latest")
        );
        let local = ImageRef::parse("localhost/team/app:v1").unwrap();
        assert_eq!(local.host, "localhost");
    }

    #[test]
    fn loopback_and_named_hosts_are_plain_http() {
        assert!(is_insecure("127.0.0.1:5000", &[]));
        assert!(is_insecure("localhost", &[]));
        assert!(!is_insecure("registry.example:5000", &[]));
        assert!(is_insecure("registry.example:5000", &["registry.example".into()]));
        assert!(is_insecure("registry.example:5000", &["registry.example:5000".into()]));
    }
}
