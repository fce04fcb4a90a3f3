//! `kubectl codex up`: images first, then the environment phase by phase through Helm.

use super::build;
use super::connect::{connect, runtime};
use super::load::resolve;
use super::report::{self, DeployRun};
use crate::cli::{DeployArgs, UpArgs};
use crate::cluster::namespace::{self, NamespacePhase};
use crate::deploy::{self, DeployOptions};
use crate::exit::Failure;
use crate::ui::progress::Progress;
use crate::{chart, helm, plan};

pub fn run(args: &UpArgs) -> Result<(), Failure> {
    let deploy_args = &args.deploy;
    let mut stack = resolve(&args.file.file, &args.selection, deploy_args.output.format)?;
    let options = DeployOptions { force: args.force, ..deploy_options(deploy_args, &stack.idle_ttl, "up".into())? };
    let mut progress = Progress::new();
    let built = build::unless_skipped(&mut stack, &args.file.file, deploy_args, &mut progress)?;
    let plan = plan::plan(&stack);
    runtime()?.block_on(async {
        let client = connect(&deploy_args.kube).await?;
        let decision = match namespace::get(&client, &stack.namespace).await? {
            Some(ns) if ns.phase == NamespacePhase::Active => format!("reused: namespace exists (uid {})", ns.uid),
            Some(_) => "recreated: the namespace was terminating".to_string(),
            None => "created: no namespace yet".to_string(),
        };
        let options = DeployOptions { namespace_decision: decision, ..options };
        let record = deploy::deploy(&client, &stack, &plan, &options, &mut progress).await?;
        report::deploy_run(&record, deploy_args.output.format, DeployRun::new(&record, built.as_deref()))
    })
}

/// What `up` and `revise` deploy with: helm and the chart located (before any build or cluster
/// contact, so a missing helm fails first), the shared deploy flags, and `trigger` for the
/// evidence record. `force` and the namespace decision are the caller's.
pub(super) fn deploy_options(
    deploy_args: &DeployArgs,
    idle_ttl: &str,
    trigger: String,
) -> Result<DeployOptions, Failure> {
    Ok(DeployOptions {
        helm: helm::locate(deploy_args.helm.helm.as_deref())?,
        chart: chart::chart_dir(deploy_args.helm.chart.as_deref())?,
        timeout: deploy_args.timeout,
        lock_timeout: deploy_args.lock_timeout,
        trigger,
        idle_ttl: deploy_args.ttl.clone().unwrap_or_else(|| idle_ttl.to_string()),
        force: false,
        namespace_decision: String::new(),
    })
}
