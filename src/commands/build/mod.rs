//! `build`: the environment's images, mirrored (or found present) and built (or found
//! unchanged); also the first step of `up`.

mod report;

use super::connect::runtime;
use super::load::resolve;
use super::output::{self, Layout};
use crate::build::builder::{self, BuilderRequest};
use crate::build::registry::Registry;
use crate::build::{self, mirror, BuildStatus, ImageOutcome};
use crate::cli::{BuildArgs, BuilderArgs, DeployArgs, OutputFormat};
use crate::config::stack::Stack;
use crate::exit::{self, coded, Failure};
use crate::ui::progress::Progress;
use anyhow::{anyhow, Result};
use report::Built;
pub use report::ImageSummary;
use std::path::Path;

pub fn run(args: &BuildArgs) -> Result<(), Failure> {
    let stack = resolve(&args.file.file, &args.selection, args.output.format)?;
    let mirrors = mirror::plan(&stack).map_err(|e| coded(exit::INVALID_INPUT, e))?;
    let builds = build::plan(&stack, base_dir(&args.file.file)).map_err(|e| coded(exit::INVALID_INPUT, e))?;
    let request = builder_request(&args.builder);
    let outcomes = if args.dry_run {
        // The registry client only decides plain HTTP or not here; nothing is contacted.
        let registry = runtime()?.block_on(async { Registry::new(args.builder.insecure_registry.clone()) });
        let mut outcomes = mirror::dry_run(&mirrors);
        outcomes.extend(build::dry_run(&builds, &builder::for_display(&request), &registry));
        outcomes
    } else if builds.is_empty() && mirrors.is_empty() {
        Vec::new()
    } else {
        // No builder, no copying either: the missing tool is said before anything moves.
        let builder = if builds.is_empty() { None } else { Some(builder::locate(&request)?) };
        runtime()?.block_on(async {
            let registry = Registry::new(args.builder.insecure_registry.clone());
            let mut progress = Progress::new();
            let mut outcomes = mirror::run(&mirrors, &registry, &mut progress).await;
            if let (Some(builder), false) = (&builder, failed(&outcomes).is_some()) {
                outcomes.extend(build::run(&builds, builder, &registry, &mut progress, args.builder.jobs()).await);
            }
            outcomes
        })
    };
    report(&stack, &outcomes, args.output.format)?;
    if failed(&outcomes).is_some() {
        return Err(Failure::BuildFailed);
    }
    Ok(())
}

/// The build step of `up` and `revise`, unless `--skip-build`: `None` when skipped.
pub fn unless_skipped(
    stack: &mut Stack,
    file: &Path,
    args: &DeployArgs,
    progress: &mut Progress,
) -> Result<Option<Vec<ImageOutcome>>> {
    if args.skip_build {
        return Ok(None);
    }
    runtime()?.block_on(build_before_deploy(stack, file, &args.builder, progress)).map(Some)
}

/// The build step of `up`: mirrors, then builds (a Dockerfile may start `FROM` a mirrored
/// image), reports each image on stderr, and pins `stack` to what was copied and built. Fails
/// (exit code 9) when a mirror or a build failed.
async fn build_before_deploy(
    stack: &mut Stack,
    file: &Path,
    builder_args: &BuilderArgs,
    progress: &mut Progress,
) -> Result<Vec<ImageOutcome>> {
    let mirrors = mirror::plan(stack).map_err(|e| coded(exit::INVALID_INPUT, e))?;
    let builds = build::plan(stack, base_dir(file)).map_err(|e| coded(exit::INVALID_INPUT, e))?;
    if builds.is_empty() && mirrors.is_empty() {
        return Ok(Vec::new());
    }
    let builder = if builds.is_empty() { None } else { Some(builder::locate(&builder_request(builder_args))?) };
    let registry = Registry::new(builder_args.insecure_registry.clone());
    let mut outcomes = mirror::run(&mirrors, &registry, progress).await;
    if let (Some(builder), None) = (&builder, failed(&outcomes)) {
        outcomes.extend(build::run(&builds, builder, &registry, progress, builder_args.jobs()).await);
    }
    if let Some(failed) = failed(&outcomes) {
        return Err(coded(
            exit::BUILD_FAILED,
            anyhow!("{}", failed.error.clone().unwrap_or_else(|| format!("building image {} failed", failed.name))),
        ));
    }
    build::pin(stack, &outcomes);
    Ok(outcomes)
}

fn failed(outcomes: &[ImageOutcome]) -> Option<&ImageOutcome> {
    outcomes.iter().find(|o| o.status == BuildStatus::Failed)
}

fn builder_request(args: &BuilderArgs) -> BuilderRequest {
    BuilderRequest {
        choice: args.builder,
        buildctl: args.buildctl.clone(),
        docker: args.docker.clone(),
        buildkit_addr: args.buildkit_addr.clone(),
    }
}

/// Build contexts are relative to the directory of services.yaml.
fn base_dir(file: &Path) -> &Path {
    file.parent().unwrap_or(Path::new(""))
}

fn report(stack: &Stack, outcomes: &[ImageOutcome], output: OutputFormat) -> Result<()> {
    output::print(&Built::new(stack, outcomes), output, Layout::Pretty)?;
    if let Some(failed) = failed(outcomes) {
        eprintln!("error: {}", failed.error.as_deref().unwrap_or("build failed"));
    }
    Ok(())
}
