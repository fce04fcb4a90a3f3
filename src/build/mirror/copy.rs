//! The copy itself: manifests and blobs through the Docker Registry HTTP API v2, each blob
//! skipped, mounted or sent (see the parent module for the protocol and why it is minimal).

use super::{Mirrored, PlannedMirror, Retry};
use crate::build::registry::{ImageRef, Manifest, Registry, MANIFEST_ACCEPT};
use crate::build::BuildStatus;
use crate::config::reference;
use crate::exit::{self, coded};
use anyhow::{anyhow, bail, Context, Result};
use futures::{StreamExt, TryStreamExt};
use http_body_util::Full;
use hyper::body::Bytes;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Time for one blob transfer (the whole body, buffered).
const BLOB_TIMEOUT: Duration = Duration::from_secs(600);
/// Indexes of indexes, at most this deep.
const MAX_DEPTH: usize = 4;
/// Blobs of one manifest copied at once.
const BLOBS_AT_ONCE: usize = 4;
/// Redirects followed for one blob.
const MAX_REDIRECTS: usize = 5;

pub(super) const INDEX_TYPES: [&str; 2] =
    ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"];
pub(super) const IMAGE_TYPES: [&str; 2] =
    ["application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"];

#[derive(Default)]
struct Counts {
    copied: AtomicU64,
    mounted: AtomicU64,
    present: AtomicU64,
    bytes: AtomicU64,
}

/// Copies images between registries.
pub struct Mirror<'a> {
    registry: &'a Registry,
    retry: Retry,
}

impl<'a> Mirror<'a> {
    pub fn new(registry: &'a Registry, retry: Retry) -> Self {
        Mirror { registry, retry }
    }

    /// Mirrors one image, or finds it present. Errors carry exit code 9 and name the source
    /// (missing, refused) or the registry (unreachable).
    pub async fn mirror(&self, planned: &PlannedMirror) -> Result<Mirrored> {
        self.mirror_inner(planned).await.map_err(|e| coded(exit::BUILD_FAILED, e))
    }

    async fn mirror_inner(&self, planned: &PlannedMirror) -> Result<Mirrored> {
        let target = ImageRef::parse(&planned.reference)?;
        let marker = ImageRef::parse(&planned.mirror_tag)?;
        let counts = Counts::default();
        let done = |status, digest: String| Mirrored {
            status,
            digest,
            blobs_copied: counts.copied.load(Ordering::Relaxed),
            blobs_mounted: counts.mounted.load(Ordering::Relaxed),
            blobs_present: counts.present.load(Ordering::Relaxed),
            bytes_copied: counts.bytes.load(Ordering::Relaxed),
        };
        if let Some(digest) = self.head_manifest(&marker).await? {
            return Ok(done(BuildStatus::Present, digest));
        }
        let parsed =
            reference::parse(&planned.source).map_err(|why| anyhow!("mirror \"{}\": {why}", planned.source))?;
        let source = ImageRef {
            host: parsed.host.clone(),
            repository: parsed.repository.clone(),
            tag: parsed.manifest_reference().to_string(),
        };
        let manifest = match self.get_manifest(&source, MANIFEST_ACCEPT, Some(&planned.source)).await? {
            Some(manifest) => manifest,
            None => bail!("mirror source {} does not exist: {} answered 404 for it", planned.source, source.host),
        };
        if let Some(pinned) = &parsed.digest {
            if &manifest.digest != pinned {
                bail!(
                    "mirror source {}: {} sent a manifest whose digest is {}",
                    planned.source,
                    source.host,
                    manifest.digest
                );
            }
        }
        self.copy_referenced(&source, &target, &manifest, 0, &counts)
            .await
            .with_context(|| format!("copying {} to {}", planned.source, planned.reference))?;
        self.put_manifest(&target, &manifest).await?;
        // Last: the mirror tag says the copy is complete.
        self.put_manifest(&marker, &manifest).await?;
        Ok(done(BuildStatus::Mirrored, manifest.digest))
    }

    /// Everything `manifest` refers to, copied from `from` to `to`: an index's child manifests
    /// (and theirs), an image's config and layers. Not the manifest itself.
    async fn copy_referenced(
        &self,
        from: &ImageRef,
        to: &ImageRef,
        manifest: &Manifest,
        depth: usize,
        counts: &Counts,
    ) -> Result<()> {
        let value: serde_json::Value = serde_json::from_slice(&manifest.body)
            .with_context(|| format!("manifest {} is not JSON", manifest.digest))?;
        let media_type = manifest.media_type.as_str();
        if INDEX_TYPES.contains(&media_type) {
            anyhow::ensure!(depth < MAX_DEPTH, "manifest {}: indexes nest deeper than {MAX_DEPTH}", manifest.digest);
            let children = value.get("manifests").and_then(|m| m.as_array()).cloned().unwrap_or_default();
            for child in children {
                let digest = descriptor_digest(&child)?;
                let target = to.with_tag(&digest);
                if self.head_manifest(&target).await?.is_some() {
                    continue;
                }
                let accept = child.get("mediaType").and_then(|m| m.as_str()).unwrap_or(MANIFEST_ACCEPT);
                let Some(child_manifest) = self.get_manifest(&from.with_tag(&digest), accept, None).await? else {
                    bail!("{}/{} lists manifest {digest}, which it does not have", from.host, from.repository);
                };
                anyhow::ensure!(
                    child_manifest.digest == digest,
                    "{}/{} sent manifest {} for {digest}",
                    from.host,
                    from.repository,
                    child_manifest.digest
                );
                Box::pin(self.copy_referenced(from, to, &child_manifest, depth + 1, counts)).await?;
                self.put_manifest(&target, &child_manifest).await?;
            }
            Ok(())
        } else if IMAGE_TYPES.contains(&media_type) {
            let mut blobs = Vec::new();
            for descriptor in value.get("config").into_iter().chain(value["layers"].as_array().into_iter().flatten()) {
                let kind = descriptor.get("mediaType").and_then(|m| m.as_str()).unwrap_or_default();
                // Foreign (non-distributable) layers are fetched from their own URLs, not registries.
                if kind.contains("foreign") || kind.contains("nondistributable") {
                    continue;
                }
                let digest = descriptor_digest(descriptor)?;
                if !blobs.contains(&digest) {
                    blobs.push(digest);
                }
            }
            futures::stream::iter(blobs)
                .map(|digest| async move { self.copy_blob(from, to, &digest, counts).await })
                .buffer_unordered(BLOBS_AT_ONCE)
                .try_collect::<Vec<()>>()
                .await?;
            Ok(())
        } else {
            bail!(
                "manifest {} is {media_type}; mirrors copy OCI and Docker v2 images and indexes only",
                manifest.digest
            )
        }
    }

    /// One blob, unless the target has it: mounted within one registry, else fetched and put.
    async fn copy_blob(&self, from: &ImageRef, to: &ImageRef, digest: &str, counts: &Counts) -> Result<()> {
        let base = self.registry.base_url(&to.host);
        let url = format!("{base}/v2/{}/blobs/{digest}", to.repository);
        let head =
            self.request(to, "pull,push", None, |auth| http_request("HEAD", &url, auth, None, Bytes::new())).await?;
        match head.status().as_u16() {
            200 => {
                counts.present.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            404 => {}
            _ => bail!("HEAD {url}: {}{}", head.status(), self.hint(&to.host, head.status())),
        }
        let mut upload = None;
        if from.host == to.host {
            let mount = format!("{base}/v2/{}/blobs/uploads/?mount={digest}&from={}", to.repository, from.repository);
            let answer = self
                .request(to, "pull,push", None, |auth| http_request("POST", &mount, auth, None, Bytes::new()))
                .await?;
            match answer.status().as_u16() {
                201 => {
                    counts.mounted.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                202 => upload = Some(self.location(&to.host, &answer)?),
                _ => bail!("POST {mount}: {}{}", answer.status(), self.hint(&to.host, answer.status())),
            }
        }
        let body = self.get_blob(from, digest).await?;
        let upload = match upload {
            Some(location) => location,
            None => {
                let start = format!("{base}/v2/{}/blobs/uploads/", to.repository);
                let answer = self
                    .request(to, "pull,push", None, |auth| http_request("POST", &start, auth, None, Bytes::new()))
                    .await?;
                if answer.status().as_u16() != 202 {
                    bail!("POST {start}: {}{}", answer.status(), self.hint(&to.host, answer.status()));
                }
                self.location(&to.host, &answer)?
            }
        };
        let separator = if upload.contains('?') { '&' } else { '?' };
        let put = format!("{upload}{separator}digest={}", digest.replace(':', "%3A"));
        let size = body.len() as u64;
        let answer = self
            .request(to, "pull,push", Some(BLOB_TIMEOUT), |auth| {
                http_request("PUT", &put, auth, Some("application/octet-stream"), body.clone())
            })
            .await?;
        if answer.status().as_u16() != 201 {
            bail!(
                "uploading blob {digest} to {}/{}: {} {}",
                to.host,
                to.repository,
                answer.status(),
                String::from_utf8_lossy(answer.body()).trim()
            );
        }
        counts.copied.fetch_add(1, Ordering::Relaxed);
        counts.bytes.fetch_add(size, Ordering::Relaxed);
        Ok(())
    }

    /// A blob's bytes, checked against its digest; redirects (a CDN) are followed without our
    /// credentials.
    async fn get_blob(&self, from: &ImageRef, digest: &str) -> Result<Bytes> {
        let url = format!("{}/v2/{}/blobs/{digest}", self.registry.base_url(&from.host), from.repository);
        let mut answer = self
            .request(from, "pull", Some(BLOB_TIMEOUT), |auth| http_request("GET", &url, auth, None, Bytes::new()))
            .await?;
        let mut hops = 0;
        while answer.status().is_redirection() {
            hops += 1;
            anyhow::ensure!(hops <= MAX_REDIRECTS, "GET {url}: more than {MAX_REDIRECTS} redirects");
            let next = self.location(&from.host, &answer)?;
            answer = self
                .retrying(&from.host, || async {
                    self.registry.send_within(http_request("GET", &next, None, None, Bytes::new())?, BLOB_TIMEOUT).await
                })
                .await?;
        }
        if answer.status().as_u16() != 200 {
            bail!("GET {url}: {}{}", answer.status(), self.hint(&from.host, answer.status()));
        }
        let body = answer.into_body();
        let found = format!("sha256:{}", crate::build::inputs::sha256_hex(&body));
        anyhow::ensure!(found == digest, "GET {url}: the blob's digest is {found}");
        Ok(body)
    }

    /// The digest of a manifest the registry has, `None` when it has none by that reference.
    async fn head_manifest(&self, image: &ImageRef) -> Result<Option<String>> {
        let url = manifest_url(self.registry, image);
        let answer =
            self.request(image, "pull", None, |auth| manifest_request("HEAD", &url, auth, MANIFEST_ACCEPT)).await?;
        match answer.status().as_u16() {
            200 => {
                let header = answer.headers().get("docker-content-digest").and_then(|v| v.to_str().ok());
                match header.filter(|d| d.starts_with("sha256:")) {
                    Some(digest) => Ok(Some(digest.to_string())),
                    // A registry that does not say: read the manifest itself.
                    None => Ok(self.get_manifest(image, MANIFEST_ACCEPT, None).await?.map(|m| m.digest)),
                }
            }
            404 => Ok(None),
            _ => bail!("HEAD {url}: {}{}", answer.status(), self.hint(&image.host, answer.status())),
        }
    }

    /// A manifest, `None` when the registry has none by that reference. `source` names the
    /// mirror's source in the messages when `image` is it.
    async fn get_manifest(&self, image: &ImageRef, accept: &str, source: Option<&str>) -> Result<Option<Manifest>> {
        let url = manifest_url(self.registry, image);
        let answer = self.request(image, "pull", None, |auth| manifest_request("GET", &url, auth, accept)).await?;
        match answer.status().as_u16() {
            200 => {}
            404 => return Ok(None),
            401 | 403 if source.is_some() => bail!(
                "mirror source {} was refused by {} ({}): it does not exist there, or needs a login; {}",
                source.unwrap_or_default(),
                image.host,
                answer.status(),
                self.registry.login_hint(&image.host)
            ),
            _ => bail!("GET {url}: {}{}", answer.status(), self.hint(&image.host, answer.status())),
        }
        let media_type = answer
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_string())
            .filter(|t| {
                INDEX_TYPES.contains(&t.as_str()) || IMAGE_TYPES.contains(&t.as_str()) || t.contains("manifest")
            });
        let body = answer.into_body();
        let media_type = media_type
            .or_else(|| infer_media_type(&body))
            .ok_or_else(|| anyhow!("GET {url}: the manifest has no media type"))?;
        let digest = format!("sha256:{}", crate::build::inputs::sha256_hex(&body));
        Ok(Some(Manifest { media_type, body, digest }))
    }

    async fn put_manifest(&self, image: &ImageRef, manifest: &Manifest) -> Result<()> {
        let url = manifest_url(self.registry, image);
        let answer = self
            .request(image, "pull,push", None, |auth| {
                http_request("PUT", &url, auth, Some(&manifest.media_type), manifest.body.clone())
            })
            .await?;
        if !answer.status().is_success() {
            bail!(
                "PUT {url}: {} {}{}",
                answer.status(),
                String::from_utf8_lossy(answer.body()).trim(),
                self.hint(&image.host, answer.status())
            );
        }
        Ok(())
    }

    /// One request with the registry's login, retried while the registry does not answer.
    async fn request(
        &self,
        image: &ImageRef,
        actions: &str,
        timeout: Option<Duration>,
        make: impl Fn(Option<&str>) -> Result<http::Request<Full<Bytes>>>,
    ) -> Result<http::Response<Bytes>> {
        let timeout = timeout.unwrap_or(Duration::from_secs(15));
        self.retrying(&image.host, || self.registry.send_authorized_within(image, actions, timeout, &make)).await
    }

    /// Asks `host`'s API root (`GET /v2/`) with the same retries: any answer but 502–504
    /// (401 included: a login comes later) means it is up. Builds check this before they
    /// start, so that a registry that is down is named instead of failing inside the builder.
    pub async fn ensure_available(&self, host: &str) -> Result<()> {
        let url = format!("{}/v2/", self.registry.base_url(host));
        self.retrying(host, || async {
            let request = http::Request::get(&url).body(Full::new(Bytes::new()))?;
            self.registry.send(request).await
        })
        .await
        .map(drop)
    }

    /// `call`, again after 0.5, 1, 2 … s while it fails to reach `host` or `host` answers 502,
    /// 503 or 504; then an error naming `host`.
    async fn retrying<F, Fut>(&self, host: &str, call: F) -> Result<http::Response<Bytes>>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<http::Response<Bytes>>>,
    {
        let started = Instant::now();
        let mut delay = self.retry.first_delay;
        let attempts = self.retry.attempts.max(1);
        for attempt in 1..=attempts {
            let why = match call().await {
                Ok(answer) if !matches!(answer.status().as_u16(), 502..=504) => return Ok(answer),
                Ok(answer) => format!("it answered {}", answer.status()),
                Err(e) => format!("{e:#}"),
            };
            if attempt == attempts {
                bail!(
                    "registry {host} is not available: {attempts} tries over {:.1}s, the last: {why}",
                    started.elapsed().as_secs_f64()
                );
            }
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
        unreachable!("the loop returns")
    }

    /// An upload or redirect `Location`, made absolute.
    fn location(&self, host: &str, answer: &http::Response<Bytes>) -> Result<String> {
        let location = answer
            .headers()
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| anyhow!("{host} answered {} without a Location", answer.status()))?;
        Ok(if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else {
            format!("{}{location}", self.registry.base_url(host))
        })
    }

    fn hint(&self, host: &str, status: http::StatusCode) -> String {
        if status == http::StatusCode::UNAUTHORIZED {
            format!("; {}", self.registry.login_hint(host))
        } else {
            String::new()
        }
    }
}

fn manifest_url(registry: &Registry, image: &ImageRef) -> String {
    format!("{}/v2/{}/manifests/{}", registry.base_url(&image.host), image.repository, image.tag)
}

fn manifest_request(
    method: &str,
    url: &str,
    authorization: Option<&str>,
    accept: &str,
) -> Result<http::Request<Full<Bytes>>> {
    let mut builder = http::Request::builder().method(method).uri(url).header(http::header::ACCEPT, accept);
    if let Some(value) = authorization {
        builder = builder.header(http::header::AUTHORIZATION, value);
    }
    builder.body(Full::new(Bytes::new())).context("building the request")
}

fn http_request(
    method: &str,
    url: &str,
    authorization: Option<&str>,
    content_type: Option<&str>,
    body: Bytes,
) -> Result<http::Request<Full<Bytes>>> {
    let mut builder = http::Request::builder().method(method).uri(url);
    if let Some(value) = authorization {
        builder = builder.header(http::header::AUTHORIZATION, value);
    }
    if let Some(value) = content_type {
        builder = builder.header(http::header::CONTENT_TYPE, value);
    }
    builder.body(Full::new(body)).context("building the request")
}

/// A descriptor's `digest`, checked to be one we can verify.
pub(super) fn descriptor_digest(descriptor: &serde_json::Value) -> Result<String> {
    let digest = descriptor.get("digest").and_then(|d| d.as_str()).unwrap_or_default();
    let hex = digest.strip_prefix("sha256:").unwrap_or_default();
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("a manifest names \"{digest}\"; only sha256 digests are copied");
    }
    Ok(digest.to_string())
}

/// The media type of a manifest served without one: its `mediaType`, else its shape.
pub(super) fn infer_media_type(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    if let Some(declared) = value.get("mediaType").and_then(|m| m.as_str()) {
        return Some(declared.to_string());
    }
    if value.get("manifests").is_some() {
        Some(INDEX_TYPES[0].to_string())
    } else if value.get("layers").is_some() {
        Some(IMAGE_TYPES[0].to_string())
    } else {
        None
    }
}
