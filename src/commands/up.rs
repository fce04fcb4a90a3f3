//! `kubectl codex up`: images first, then the environment phase by phase through Helm.

use super::connect::{connect, runtime};
use super::load::resolve;
use super::{build, report};
use crate::cli::UpArgs;
use crate::cluster::namespace::{self, NamespacePhase};
use crate::deploy::{self, DeployOptions};
use crate::exit::Failure;
use crate::ui::progress::Progress;
use crate::{chart, helm, plan};
use serde_json::json;

pub fn run(args: &UpArgs) -> Result<(), Failure> {
    let deploy_args = &args.deploy;
    let mut stack = resolve(&args.file.file, &args.selection, deploy_args.output.format)?;
    let helm_bin = helm::locate(deploy_args.helm.helm.as_deref())?;
    let chart_dir = chart::chart_dir(deploy_args.helm.chart.as_deref())?;
    let mut progress = Progress::new();
    let built = build::unless_skipped(&mut stack, &args.file.file, deploy_args, &mut progress)?;
    let plan = plan::plan(&stack);
    let options = DeployOptions {
        helm: helm_bin,
        chart: chart_dir,
        timeout: deploy_args.timeout,
        lock_timeout: deploy_args.lock_timeout,
        trigger: "up".into(),
        idle_ttl: deploy_args.ttl.clone().unwrap_or_else(|| stack.idle_ttl.clone()),
        force: args.force,
        namespace_decision: String::new(),
    };
    runtime()?.block_on(async {
        let client = connect(&deploy_args.kube).await?;
        let decision = match namespace::get(&client, &stack.namespace).await? {
            Some(ns) if ns.phase == NamespacePhase::Active => format!("reused: namespace exists (uid {})", ns.uid),
            Some(_) => "recreated: the namespace was terminating".to_string(),
            None => "created: no namespace yet".to_string(),
        };
        let options = DeployOptions { namespace_decision: decision, ..options };
        let record = deploy::deploy(&client, &stack, &plan, &options, &mut progress).await?;
        let extra = match &built {
            Some(built) => json!({"images": build::image_summary(built)}),
            None => serde_json::Value::Null,
        };
        report::deploy_run(&record, deploy_args.output.format, extra)
    })
}
