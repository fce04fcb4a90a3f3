//! Just enough of the Docker Registry HTTP API v2 to skip unchanged builds: read a tag's
//! manifest (with its media type) and put it under another tag. Anonymous only: a registry
//! that asks for credentials answers "unknown", and the image is then simply built.

use anyhow::{anyhow, bail, Context, Result};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// Environment variable with more plain-HTTP registry hosts, comma-separated.
pub const INSECURE_ENV: &str = "CODEX_INSECURE_REGISTRIES";

/// Every manifest kind an image tag may point at.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, \
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
            Some((first, rest)) if first.contains('.') || first.contains(':') || first == "localhost" => (first.to_string(), rest.to_string()),
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
    let bare = host.rsplit_once(':').map_or(host, |(h, port)| if port.chars().all(|c| c.is_ascii_digit()) { h } else { host });
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
}

impl Registry {
    pub fn new(insecure_hosts: Vec<String>) -> Self {
        let http = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map(|b| Client::builder(TokioExecutor::new()).build(b.https_only().enable_http1().build()))
            .map_err(|e| format!("no CA certificates for HTTPS registries: {e}"));
        Registry { http, https, insecure_hosts }
    }

    pub fn is_insecure(&self, host: &str) -> bool {
        is_insecure(host, &self.insecure_hosts)
    }

    fn url(&self, image: &ImageRef) -> String {
        let scheme = if self.is_insecure(&image.host) { "http" } else { "https" };
        let host = if image.host == "docker.io" { "registry-1.docker.io" } else { &image.host };
        format!("{scheme}://{host}/v2/{}/manifests/{}", image.repository, image.tag)
    }

    async fn send(&self, request: http::Request<Full<Bytes>>) -> Result<http::Response<Bytes>> {
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
        tokio::time::timeout(REQUEST_TIMEOUT, call).await.map_err(|_| anyhow!("no answer within {}s", REQUEST_TIMEOUT.as_secs()))?
    }

    /// GET of a tag's manifest.
    pub async fn manifest(&self, image: &ImageRef) -> Lookup {
        let url = self.url(image);
        let request = http::Request::get(&url).header(http::header::ACCEPT, MANIFEST_ACCEPT).body(Full::new(Bytes::new()));
        let response = match request.map_err(anyhow::Error::from) {
            Ok(request) => self.send(request).await,
            Err(e) => Err(e),
        };
        match response {
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
            Ok(response) => Lookup::Unknown(format!("GET {url}: {}", response.status())),
            Err(e) => Lookup::Unknown(format!("GET {url}: {e:#}")),
        }
    }

    /// PUT of a manifest under a tag.
    pub async fn put_manifest(&self, image: &ImageRef, manifest: &Manifest) -> Result<()> {
        let url = self.url(image);
        let request = http::Request::put(&url)
            .header(http::header::CONTENT_TYPE, &manifest.media_type)
            .body(Full::new(manifest.body.clone()))
            .context("building the request")?;
        let response = self.send(request).await.with_context(|| format!("PUT {url}"))?;
        if !response.status().is_success() {
            bail!("PUT {url}: {} {}", response.status(), String::from_utf8_lossy(response.body()).trim());
        }
        Ok(())
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
        assert_eq!(image, ImageRef { host: "127.0.0.1:5000".into(), repository: "codex-example/greeter".into(), tag: "0.1.0-dev".into() });
        assert_eq!(image.with_tag("build-1").tag, "build-1");
        let hub = ImageRef::parse("postgres").unwrap();
        assert_eq!((hub.host.as_str(), hub.repository.as_str(), hub.tag.as_str()), ("docker.io", "library/postgres", "latest"));
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
