//! Mirrored images (`images.*.mirror`): copying another registry's image into the
//! environment's registry through the Docker Registry HTTP API v2, before deploy, so the
//! cluster pulls only from the environment's registry and units run it pinned by digest.
//!
//! **The copy.** The source manifest is read as is (OCI or Docker, image or multi-arch index)
//! and put unchanged, so its digest stays the source's. An index brings every child manifest
//! (every platform, attestations too) and their blobs; an image manifest its config and
//! layers. A blob the target repository already has (`HEAD /v2/<repo>/blobs/<digest>`) is not
//! sent; one in another repository of the same registry is mounted
//! (`POST …/blobs/uploads/?mount=<digest>&from=<repo>`); any other is fetched whole
//! (following the redirect to a CDN that Docker Hub answers with), checked against its digest,
//! and put in one monolithic upload (`POST …/blobs/uploads/`, `PUT <location>?digest=…`). A
//! child manifest the target has (`HEAD` by digest) is skipped with all it refers to.
//!
//! **Skipping a present copy: one request.** The copy is put under the reference units deploy,
//! `<registry>/<repository>:<tag>`, and last, once everything it refers to is there, under the
//! *mirror tag* `<registry>/<repository>:mirror-<first 16 hex of sha256(normalised source)>`.
//! Before copying, the target is asked for the mirror tag alone: `HEAD
//! /v2/<repository>/manifests/mirror-<hash>`; its `Docker-Content-Digest` is the digest units
//! are pinned to. So an image already mirrored costs that one manifest request, no blob
//! traffic and no request at all to the source registry (no upstream rate limit, no upstream
//! outage, matters). Why this is correct and why it is the minimum:
//! - The mirror tag names the source *as written* (normalised: `redis:7` and
//!   `docker.io/library/redis:7` are one source): a changed `mirror:` is a new mirror tag and
//!   is copied, whatever `tag` says. Comparing the target's `<tag>` with the source would need
//!   a request to the source as well (two at least: HEAD source, HEAD target).
//! - It is written only after the manifest and everything under it, so its presence means a
//!   complete copy.
//! - A source pinned by digest (`…@sha256:…`) is immutable, so this is exact. A source named
//!   by tag is copied once and kept, as Kubernetes' `IfNotPresent` keeps a pulled tag: a later
//!   push upstream under the same tag is not picked up until the source changes. Pin the
//!   digest (or name a new tag) to move.
//!
//! Logging in is the one `build` uses ([`super::registry`]). A registry that cannot be reached
//! (or answers 502, 503, 504) is retried with doubling waits, then the mirror fails naming it.

mod copy;

pub use copy::Mirror;

use super::registry::{ImageRef, Registry};
use super::{BuildStatus, ImageOutcome};
use crate::config::reference;
use crate::config::stack::Stack;
use crate::ui::progress::Progress;
use anyhow::{anyhow, Result};
use serde::Serialize;
use std::time::{Duration, Instant};

/// Prefix of mirror tags.
pub const MIRROR_TAG_PREFIX: &str = "mirror-";

/// One image to mirror.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedMirror {
    /// The `images` entry.
    pub name: String,
    /// The source, normalised.
    pub source: String,
    /// Where it goes: the resolved reference units deploy.
    pub reference: String,
    /// `<registry>/<repository>:mirror-<hash16>`.
    pub mirror_tag: String,
    /// sha256 (hex) of the normalised source: what the mirror tag is made of.
    pub source_digest: String,
}

/// The mirrored images `stack` deploys (used by a unit, a readiness job or the agent) or
/// builds from (named in a build arg of an image it builds, `BASE: "{{ images.golang }}"`).
pub fn plan(stack: &Stack) -> Result<Vec<PlannedMirror>> {
    let used = super::used_references(stack);
    let build_args: Vec<&str> = stack
        .images
        .values()
        .filter(|image| used.contains(image.reference.as_str()))
        .filter_map(|image| image.build.as_ref())
        .flat_map(|build| build.args.values().map(|v| v.as_str()))
        .collect();
    let mut mirrors = Vec::new();
    for (name, image) in &stack.images {
        let Some(source) = &image.mirror else { continue };
        let reference = image.reference.as_str();
        if used.contains(reference) || build_args.iter().any(|arg| arg.contains(reference)) {
            mirrors.push(planned(name, source, &image.reference)?);
        }
    }
    Ok(mirrors)
}

/// The plan for one image: `source` copied to `reference` (`registry/repository:tag`).
pub fn planned(name: &str, source: &str, reference: &str) -> Result<PlannedMirror> {
    let source =
        reference::parse(source).map_err(|why| anyhow!("image {name}: mirror \"{source}\": {why}"))?.to_string();
    let target = ImageRef::parse(reference)?;
    let source_digest = super::inputs::sha256_hex(source.as_bytes());
    let mirror_tag = text(&target.with_tag(&format!("{MIRROR_TAG_PREFIX}{}", &source_digest[..16])));
    Ok(PlannedMirror { name: name.into(), source, reference: reference.into(), mirror_tag, source_digest })
}

fn text(image: &ImageRef) -> String {
    format!("{}/{}:{}", image.host, image.repository, image.tag)
}

/// How often a registry that does not answer is asked again.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Tries in all (at least one).
    pub attempts: u32,
    /// Wait after the first failure; doubled after each further one.
    pub first_delay: Duration,
}

impl Default for Retry {
    /// Four tries, 0.5 + 1 + 2 s apart: a registry restarting (or a port-forward coming up)
    /// is waited for; one that is down fails in under 4 s.
    fn default() -> Self {
        Retry { attempts: 4, first_delay: Duration::from_millis(500) }
    }
}

/// What one mirror did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirrored {
    /// `Mirrored` (copied now) or `Present` (the mirror tag was there).
    pub status: BuildStatus,
    /// `sha256:…` of the manifest (the source's).
    pub digest: String,
    /// Blobs sent, blobs mounted from another repository, blobs the target had already.
    pub blobs_copied: u64,
    pub blobs_mounted: u64,
    pub blobs_present: u64,
    /// Bytes of the blobs sent.
    pub bytes_copied: u64,
}

/// What a dry run reports: each mirror, planned.
pub fn dry_run(mirrors: &[PlannedMirror]) -> Vec<ImageOutcome> {
    mirrors.iter().map(|m| outcome(m, BuildStatus::Planned, None, 0.0, None)).collect()
}

/// Mirrors one after another; after a failure no further one starts.
pub async fn run(mirrors: &[PlannedMirror], registry: &Registry, progress: &mut Progress) -> Vec<ImageOutcome> {
    let mirror = Mirror::new(registry, Retry::default());
    let mut outcomes = Vec::new();
    for planned in mirrors {
        let started = Instant::now();
        let key = format!("mirror {}", planned.name);
        progress.line(&key, &format!("{}: looking for {}", planned.name, planned.mirror_tag));
        let result = mirror.mirror(planned).await;
        let seconds = started.elapsed().as_secs_f64();
        match result {
            Ok(done) => {
                let line = match done.status {
                    BuildStatus::Present => format!("{}: present ({})", planned.name, short(&done.digest)),
                    _ => format!(
                        "{}: mirrored {} ({}; {} blob(s), {} sent, {} mounted, {} already there)",
                        planned.name,
                        planned.source,
                        short(&done.digest),
                        done.blobs_copied + done.blobs_mounted + done.blobs_present,
                        size(done.bytes_copied),
                        done.blobs_mounted,
                        done.blobs_present
                    ),
                };
                progress.finish(&key, &line);
                outcomes.push(outcome(planned, done.status, Some(done.digest), seconds, None));
            }
            Err(error) => {
                progress.finish(&key, &format!("{}: mirror failed", planned.name));
                outcomes.push(outcome(planned, BuildStatus::Failed, None, seconds, Some(format!("{error:#}"))));
                break;
            }
        }
    }
    outcomes
}

fn outcome(
    planned: &PlannedMirror,
    status: BuildStatus,
    manifest_digest: Option<String>,
    seconds: f64,
    error: Option<String>,
) -> ImageOutcome {
    ImageOutcome {
        name: planned.name.clone(),
        reference: planned.reference.clone(),
        content_tag: planned.mirror_tag.clone(),
        input_digest: planned.source_digest.clone(),
        manifest_digest,
        status,
        seconds: (seconds * 1000.0).round() / 1000.0,
        builder: None,
        command: None,
        error,
        mirror: Some(planned.source.clone()),
    }
}

fn short(digest: &str) -> &str {
    &digest[..digest.len().min(19)]
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / f64::from(1 << 10)),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests;
