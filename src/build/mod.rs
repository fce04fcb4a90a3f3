//! Image builds declared in services.yaml: which images an environment needs built, their
//! input digests and content tags, the builds themselves (one after another), and pinning
//! the deployed references to the manifests that came out.
//!
//! Tag rule: every build pushes the resolved reference (`registry/repository:tag`) and the
//! content tag `registry/repository:build-<first 16 hex of the input digest>`. When the
//! registry already has the content tag, nothing is built: its manifest is put under the
//! resolved tag (if that does not already point at it).

pub mod builder;
pub(crate) mod buildkitd;
pub(crate) mod dockerignore;
pub mod inputs;
pub mod mirror;
pub mod registry;
pub mod registry_auth;

use crate::config::stack::Stack;
use crate::ui::progress::Progress;
use anyhow::{Context, Result};
use builder::{BuildRequest, Builder};
use inputs::BuildInputs;
use registry::{ImageRef, Lookup, Registry};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Prefix of content tags.
pub const CONTENT_TAG_PREFIX: &str = "build-";

/// One image to build, with everything its digest covers.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedImage {
    /// The `images` entry.
    pub name: String,
    /// The resolved reference units deploy.
    pub reference: String,
    /// `<registry>/<repository>:build-<digest16>`.
    pub content_tag: String,
    pub input_digest: String,
    #[serde(skip)]
    pub inputs: BuildInputs,
}

/// One builder run: images with identical inputs (and repository) share it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedBuild {
    pub images: Vec<PlannedImage>,
    pub context: PathBuf,
    pub dockerfile: PathBuf,
    pub target: Option<String>,
    pub args: BTreeMap<String, String>,
    /// Named extra contexts: name → directory.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub contexts: BTreeMap<String, PathBuf>,
    pub platform: String,
    pub input_digest: String,
}

impl PlannedBuild {
    /// Every reference this build pushes: the resolved ones, then the content tags.
    pub fn tags(&self) -> Vec<String> {
        let mut tags: Vec<String> = Vec::new();
        for tag in self.images.iter().map(|i| &i.reference).chain(self.images.iter().map(|i| &i.content_tag)) {
            if !tags.contains(tag) {
                tags.push(tag.clone());
            }
        }
        tags
    }

    pub fn name(&self) -> String {
        self.images.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(",")
    }

    /// Where the builder writes its metadata and log: stable per input digest.
    pub fn work_dir(&self) -> PathBuf {
        std::env::temp_dir().join("kubectl-codex-build").join(&self.input_digest[..16])
    }

    /// The builder's command line for this build.
    pub fn command_line(&self, builder: &Builder, insecure: bool) -> (PathBuf, Vec<String>) {
        let args: Vec<(String, String)> = self.args.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let contexts: Vec<(String, PathBuf)> = self.contexts.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let tags = self.tags();
        let metadata_file = self.work_dir().join("metadata.json");
        builder::command_line(
            builder,
            &BuildRequest {
                context: &self.context,
                dockerfile: &self.dockerfile,
                target: self.target.as_deref(),
                args: &args,
                contexts: &contexts,
                tags: &tags,
                insecure,
                metadata_file: &metadata_file,
            },
        )
    }

    /// True when every host this build pushes to is reached over plain HTTP.
    pub fn insecure(&self, registry: &Registry) -> bool {
        self.images.iter().all(|i| ImageRef::parse(&i.reference).is_ok_and(|r| registry.is_insecure(&r.host)))
    }
}

/// The images `stack` deploys that services.yaml builds: those with `build` that a unit, a
/// readiness job or the agent runs. Identical inputs in one repository build once.
/// `base_dir` is the directory of services.yaml (build contexts are relative to it).
pub fn plan(stack: &Stack, base_dir: &Path) -> Result<Vec<PlannedBuild>> {
    let used = used_references(stack);
    let platform = inputs::host_platform();
    let mut builds: Vec<PlannedBuild> = Vec::new();
    for (name, image) in &stack.images {
        let Some(build) = &image.build else { continue };
        if !used.contains(image.reference.as_str()) {
            continue;
        }
        let context = base_dir.join(&build.context);
        let dockerfile = context.join(build.dockerfile.as_deref().unwrap_or("Dockerfile"));
        let inputs = BuildInputs {
            context: context.clone(),
            dockerfile: dockerfile.clone(),
            target: image.target.clone(),
            args: build.args.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect(),
            platform: platform.clone(),
            contexts: build.contexts.iter().map(|(name, dir)| (name.clone(), base_dir.join(dir))).collect(),
        };
        let input_digest = inputs::digest(&inputs).with_context(|| format!("image {name}"))?;
        let content_tag = content_tag(&image.reference, &input_digest);
        let planned = PlannedImage {
            name: name.clone(),
            reference: image.reference.clone(),
            content_tag,
            input_digest: input_digest.clone(),
            inputs,
        };
        match builds
            .iter_mut()
            .find(|b| b.input_digest == input_digest && b.images[0].content_tag == planned.content_tag)
        {
            Some(existing) => existing.images.push(planned),
            None => builds.push(PlannedBuild {
                context,
                dockerfile,
                target: planned.inputs.target.clone(),
                args: planned.inputs.args.clone(),
                contexts: planned.inputs.contexts.clone(),
                platform: platform.clone(),
                input_digest,
                images: vec![planned],
            }),
        }
    }
    Ok(builds)
}

/// Every image reference `stack` deploys: units' containers and manifest edits, readiness
/// jobs, the agent. Only these are built or mirrored.
pub fn used_references(stack: &Stack) -> BTreeSet<&str> {
    let mut used: BTreeSet<&str> = BTreeSet::new();
    for unit in &stack.units {
        used.extend(unit.images().map(String::as_str));
        for hook in &unit.hooks {
            if let Some(job) = &hook.job {
                used.insert(&job.image);
            }
        }
    }
    if let Some(agent) = &stack.agent {
        used.insert(&agent.image);
    }
    used
}

/// `registry/repository:tag` → `registry/repository:build-<first 16 hex of the digest>`.
pub fn content_tag(reference: &str, input_digest: &str) -> String {
    let name = match reference.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => name,
        _ => reference,
    };
    format!("{name}:{CONTENT_TAG_PREFIX}{}", &input_digest[..16])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildStatus {
    /// The builder ran and pushed.
    Built,
    /// The registry had the content tag: nothing was built.
    Unchanged,
    Failed,
    /// `--dry-run`: what would run.
    Planned,
    /// A mirror: copied into the environment's registry now.
    Mirrored,
    /// A mirror: the environment's registry had the copy already.
    Present,
}

impl BuildStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BuildStatus::Built => "built",
            BuildStatus::Unchanged => "unchanged",
            BuildStatus::Failed => "failed",
            BuildStatus::Planned => "planned",
            BuildStatus::Mirrored => "mirrored",
            BuildStatus::Present => "present",
        }
    }
}

/// The outcome for one image.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageOutcome {
    pub name: String,
    pub reference: String,
    pub content_tag: String,
    pub input_digest: String,
    /// `sha256:…` of the pushed manifest (none in a dry run or on failure).
    pub manifest_digest: Option<String>,
    pub status: BuildStatus,
    pub seconds: f64,
    pub builder: Option<String>,
    /// The builder's command line (shell-quoted); set when it ran or would run.
    pub command: Option<String>,
    pub error: Option<String>,
    /// A mirror's source (`contentTag` is then its mirror tag, `inputDigest` the source's hash).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirror: Option<String>,
}

impl ImageOutcome {
    /// `registry/repository:tag@sha256:…` once the manifest is known.
    pub fn pinned_reference(&self) -> Option<String> {
        self.manifest_digest.as_ref().map(|d| format!("{}@{d}", self.reference))
    }
}

/// What a dry run reports: the planned builds and their command lines, nothing run.
pub fn dry_run(builds: &[PlannedBuild], builder: &Builder, registry: &Registry) -> Vec<ImageOutcome> {
    let mut out = Vec::new();
    for build in builds {
        let (program, args) = build.command_line(builder, build.insecure(registry));
        let command = builder::display(&program, &args);
        for image in &build.images {
            out.push(outcome(image, BuildStatus::Planned, None, 0.0, Some(builder), Some(command.clone()), None));
        }
    }
    out
}

fn outcome(
    image: &PlannedImage,
    status: BuildStatus,
    manifest_digest: Option<String>,
    seconds: f64,
    builder: Option<&Builder>,
    command: Option<String>,
    error: Option<String>,
) -> ImageOutcome {
    ImageOutcome {
        name: image.name.clone(),
        reference: image.reference.clone(),
        content_tag: image.content_tag.clone(),
        input_digest: image.input_digest.clone(),
        manifest_digest,
        status,
        seconds: (seconds * 1000.0).round() / 1000.0,
        builder: builder.map(|b| b.name().to_string()),
        command,
        error,
        mirror: None,
    }
}

/// Builds run side by side when nothing else is said: BuildKit shares one cache between them
/// and much of a build is waiting (context upload, export, push), but each compile wants a
/// core, so more than the machine's cores only queues work.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4)
}

/// Runs the builds, at most `jobs` at once, and returns their outcomes in plan order. After a
/// failure no further build starts; the ones already running finish and are reported.
pub async fn run(
    builds: &[PlannedBuild],
    builder: &Builder,
    registry: &Registry,
    progress: &mut Progress,
    jobs: usize,
) -> Vec<ImageOutcome> {
    use futures::StreamExt;
    // A registry that is down is asked again a few times, then named, before any builder
    // runs: otherwise the builder fails minutes later with its own words for it.
    let check = mirror::Mirror::new(registry, mirror::Retry::default());
    for host in registry_hosts(builds) {
        if let Err(error) = check.ensure_available(&host).await {
            let message = format!("{:#}", error.context("nothing was built"));
            progress.note(&message);
            let failed = |image| outcome(image, BuildStatus::Failed, None, 0.0, None, None, Some(message.clone()));
            return builds.iter().flat_map(|b| b.images.iter().map(failed)).collect();
        }
    }
    let progress = std::cell::RefCell::new(progress);
    let failed = std::cell::Cell::new(false);
    // Every borrow of `progress` ends before the next await, so the builds polled side by side
    // on this task never hold it at once.
    let runs = futures::stream::iter(builds.iter().enumerate())
        .map(|(index, build)| {
            let (progress, failed) = (&progress, &failed);
            async move {
                if failed.get() {
                    return (index, Vec::new());
                }
                let outcomes = build_one(build, builder, registry, progress).await;
                if outcomes.iter().any(|o| o.status == BuildStatus::Failed) {
                    failed.set(true);
                }
                (index, outcomes)
            }
        })
        .buffer_unordered(jobs.max(1));
    let mut done: Vec<(usize, Vec<ImageOutcome>)> = runs.collect().await;
    done.sort_by_key(|(index, _)| *index);
    done.into_iter().flat_map(|(_, outcomes)| outcomes).collect()
}

/// One build: found unchanged in the registry, or run by the builder.
async fn build_one(
    build: &PlannedBuild,
    builder: &Builder,
    registry: &Registry,
    progress: &std::cell::RefCell<&mut Progress>,
) -> Vec<ImageOutcome> {
    let started = Instant::now();
    let name = build.name();
    let key = format!("build {name}");
    progress
        .borrow_mut()
        .line(&key, &format!("{name}: checking {} for {}", registry_host(build), build.images[0].content_tag));
    let (reused, note) = reuse_unchanged(build, registry).await;
    if let Some(note) = note {
        progress.borrow_mut().note(&note);
    }
    if let Some(reused) = reused {
        let seconds = started.elapsed().as_secs_f64();
        progress.borrow_mut().finish(&key, &format!("{name}: unchanged ({})", short(&reused)));
        return build
            .images
            .iter()
            .map(|i| outcome(i, BuildStatus::Unchanged, Some(reused.clone()), seconds, None, None, None))
            .collect();
    }
    progress.borrow_mut().line(&key, &format!("{name}: building with {}", builder.name()));
    let (program, args) = build.command_line(builder, build.insecure(registry));
    let command = builder::display(&program, &args);
    let result = run_builder(build, &program, &args, &name, registry).await;
    let seconds = started.elapsed().as_secs_f64();
    match result {
        Ok(digest) => {
            progress
                .borrow_mut()
                .finish(&key, &format!("{name}: built {} ({})", build.images[0].reference, short(&digest)));
            build
                .images
                .iter()
                .map(|i| {
                    outcome(
                        i,
                        BuildStatus::Built,
                        Some(digest.clone()),
                        seconds,
                        Some(builder),
                        Some(command.clone()),
                        None,
                    )
                })
                .collect()
        }
        Err(error) => {
            progress.borrow_mut().finish(&key, &format!("{name}: build failed"));
            let mut message = format!("{error:#}");
            if let Builder::Buildctl { addr, .. } = builder {
                if let Some(hint) = buildkitd::unreachable_hint(&message, addr.as_deref()) {
                    message.push_str(&format!("\n{hint}"));
                }
            }
            build
                .images
                .iter()
                .map(|i| {
                    outcome(
                        i,
                        BuildStatus::Failed,
                        None,
                        seconds,
                        Some(builder),
                        Some(command.clone()),
                        Some(message.clone()),
                    )
                })
                .collect()
        }
    }
}

/// The registries the builds push to, each once (for the availability check before building).
pub fn registry_hosts(builds: &[PlannedBuild]) -> BTreeSet<String> {
    builds.iter().filter_map(|b| ImageRef::parse(&b.images[0].reference).ok().map(|r| r.host)).collect()
}

fn registry_host(build: &PlannedBuild) -> String {
    ImageRef::parse(&build.images[0].reference).map_or_else(|_| "the registry".into(), |r| r.host)
}

fn short(digest: &str) -> &str {
    &digest[..digest.len().min(19)]
}

/// When the registry has every content tag of the build: points each resolved tag at that
/// manifest and returns its digest. `None` means build; the note says why, when it is not
/// simply missing.
async fn reuse_unchanged(build: &PlannedBuild, registry: &Registry) -> (Option<String>, Option<String>) {
    let mut found = Vec::new();
    for image in &build.images {
        let Ok(content) = ImageRef::parse(&image.content_tag) else { return (None, None) };
        match registry.manifest(&content).await {
            Lookup::Found(manifest) => found.push((image, manifest)),
            Lookup::Missing => return (None, None),
            Lookup::Unknown(why) => {
                return (
                    None,
                    Some(format!("{}: cannot tell whether {} exists ({why}); building", image.name, image.content_tag)),
                );
            }
        }
    }
    for (image, manifest) in &found {
        let Ok(target) = ImageRef::parse(&image.reference) else { return (None, None) };
        if let Lookup::Found(current) = registry.manifest(&target).await {
            if current.digest == manifest.digest {
                continue;
            }
        }
        if let Err(error) = registry.put_manifest(&target, manifest).await {
            return (
                None,
                Some(format!(
                    "{}: could not tag {} as {} ({error:#}); building",
                    image.name, image.content_tag, image.reference
                )),
            );
        }
    }
    (found.first().map(|(_, m)| m.digest.clone()), None)
}

/// Runs the builder with its output in a log; on failure the error names the image, the
/// command line and the log's last lines.
async fn run_builder(
    build: &PlannedBuild,
    program: &Path,
    args: &[String],
    name: &str,
    registry: &Registry,
) -> Result<String> {
    let work_dir = build.work_dir();
    std::fs::create_dir_all(&work_dir).with_context(|| format!("creating {}", work_dir.display()))?;
    let metadata_file = work_dir.join("metadata.json");
    let _ = std::fs::remove_file(&metadata_file);
    let log_file = work_dir.join("build.log");
    let log = std::fs::File::create(&log_file).with_context(|| format!("creating {}", log_file.display()))?;
    let status = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .status()
        .await
        .with_context(|| format!("running {}", program.display()))
        .map_err(|e| crate::exit::coded(crate::exit::TOOL_MISSING, e))?;
    if !status.success() {
        let text = std::fs::read_to_string(&log_file).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        anyhow::bail!(
            "building image {name} failed ({status})\ncommand: {}\nlast lines of {}:\n{tail}",
            builder::display(program, args),
            log_file.display()
        );
    }
    if let Some(digest) = metadata_digest(&metadata_file) {
        return Ok(digest);
    }
    // No metadata: ask the registry what the content tag now is.
    let content = ImageRef::parse(&build.images[0].content_tag)?;
    match registry.manifest(&content).await {
        Lookup::Found(manifest) => Ok(manifest.digest),
        _ => anyhow::bail!(
            "image {name} was built but {} has no containerimage.digest and the registry does not show {}",
            metadata_file.display(),
            build.images[0].content_tag
        ),
    }
}

fn metadata_digest(file: &Path) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value.get("containerimage.digest")?.as_str().filter(|d| d.starts_with("sha256:")).map(str::to_string)
}

/// Points what `stack` deploys at the manifests just built or found: every use of a built
/// image's reference becomes `reference@sha256:…`, so a changed image rolls out even under
/// an unchanged tag. The stack's input digest then covers the pins too.
pub fn pin(stack: &mut Stack, outcomes: &[ImageOutcome]) {
    let pins: BTreeMap<String, String> =
        outcomes.iter().filter_map(|o| o.pinned_reference().map(|p| (o.reference.clone(), p))).collect();
    if pins.is_empty() {
        return;
    }
    let swap = |image: &mut String| {
        if let Some(pinned) = pins.get(image.as_str()) {
            *image = pinned.clone();
        }
    };
    for unit in &mut stack.units {
        unit.images_mut().for_each(swap);
        for hook in &mut unit.hooks {
            if let Some(job) = &mut hook.job {
                swap(&mut job.image);
            }
        }
    }
    if let Some(agent) = &mut stack.agent {
        swap(&mut agent.image);
    }
    for image in stack.images.values_mut() {
        swap(&mut image.reference);
    }
    let mut text = stack.input_digest.clone();
    for (reference, pinned) in &pins {
        text.push_str(&format!("\n{reference} {pinned}"));
    }
    stack.input_digest = inputs::sha256_hex(text.as_bytes());
}

#[cfg(test)]
mod tests;
