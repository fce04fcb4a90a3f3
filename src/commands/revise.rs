//! `kubectl codex revise ISSUE`: a review round of an issue, in its warm environment when it
//! is still within its idle TTL, else in a fresh one.

use super::build;
use super::connect::{connect, runtime};
use super::load::resolve;
use super::report::{self, DeployRun, Revised};
use crate::cli::{ReviseArgs, SelectionArgs};
use crate::deploy::{self, DeployOptions};
use crate::exit::Failure;
use crate::lifecycle::revise;
use crate::plan;
use crate::ui::progress::Progress;

pub fn run(args: &ReviseArgs) -> Result<(), Failure> {
    let deploy_args = &args.deploy;
    let selection = SelectionArgs {
        env: args.env.clone(),
        slot: String::new(),
        issue: args.issue.clone(),
        inputs: args.inputs.clone(),
    };
    let mut stack = resolve(&args.file.file, &selection, deploy_args.output.format)?;
    let options = super::up::deploy_options(deploy_args, &stack.idle_ttl, format!("revise {}", args.issue))?;
    let mut progress = Progress::new();
    // As in `up`: images first, before any cluster contact, pinned by digest once built.
    let built = build::unless_skipped(&mut stack, &args.file.file, deploy_args, &mut progress)?;
    runtime()?.block_on(async {
        let client = connect(&deploy_args.kube).await?;
        let decision = revise::prepare(&client, &stack, deploy_args.timeout).await?;
        progress.note(&format!("revise {}: {:?} — {}", args.issue, decision.path, decision.reason));
        // The environment found by its labels wins over the name the template gives today.
        stack.namespace = decision.namespace.clone();
        let plan = plan::plan(&stack);
        let options = DeployOptions {
            namespace_decision: format!(
                "{}: {}",
                serde_json::to_value(&decision.path)?.as_str().unwrap_or_default(),
                decision.reason
            ),
            ..options
        };
        let record = deploy::deploy(&client, &stack, &plan, &options, &mut progress).await?;
        let summary = DeployRun {
            revised: Some(Revised { path: &decision.path, reason: &decision.reason }),
            ..DeployRun::new(&record, built.as_deref())
        };
        report::deploy_run(&record, deploy_args.output.format, summary)
    })
}
