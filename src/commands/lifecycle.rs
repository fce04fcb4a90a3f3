//! Commands about environments over time: revise (reuse within the TTL) and gc.

use super::environment::{connect, parse_duration, report_run_with, runtime};
use super::offline;
use crate::cli::{GcArgs, OutputFormat, ReviseArgs, SelectionArgs};
use crate::deploy::{self, DeployOptions};
use crate::exit;
use crate::lifecycle::{gc as sweep, revise as round};
use crate::ui::progress::Progress;
use crate::{chart, helm, plan};
use anyhow::Result;
use serde_json::json;

pub fn revise(args: &ReviseArgs) -> Result<i32> {
    let timeout = parse_duration("--timeout", &args.timeout)?;
    let lock_timeout = parse_duration("--lock-timeout", &args.lock_timeout)?;
    if let Some(ttl) = &args.ttl {
        parse_duration("--ttl", ttl)?;
    }
    let selection = SelectionArgs {
        env: args.env.clone(),
        slot: String::new(),
        issue: args.issue.clone(),
        inputs: args.inputs.clone(),
    };
    let mut stack = match offline::resolve(&args.file.file, &selection, args.output) {
        Ok(stack) => stack,
        Err(code) => return Ok(code),
    };
    let helm_bin = helm::locate(args.helm.helm.as_deref())?;
    let chart_dir = chart::chart_dir(args.helm.chart.as_deref())?;
    let mut progress = Progress::new();
    // As in `up`: images first, before any cluster contact, pinned by digest once built.
    let built = if args.skip_build {
        Vec::new()
    } else {
        runtime()?.block_on(super::build::build_before_deploy(
            &mut stack,
            &args.file.file,
            &args.builder,
            &mut progress,
        ))?
    };
    runtime()?.block_on(async {
        let client = connect(&args.kube).await?;
        let decision = round::prepare(&client, &stack, timeout).await?;
        progress.note(&format!("revise {}: {:?} — {}", args.issue, decision.path, decision.reason));
        // The environment found by its labels wins over the name the template gives today.
        stack.namespace = decision.namespace.clone();
        let plan = plan::plan(&stack);
        let options = DeployOptions {
            helm: helm_bin,
            chart: chart_dir,
            timeout,
            lock_timeout,
            trigger: format!("revise {}", args.issue),
            idle_ttl: args.ttl.clone().unwrap_or_else(|| stack.idle_ttl.clone()),
            force: false,
            namespace_decision: format!(
                "{}: {}",
                serde_json::to_value(&decision.path)?.as_str().unwrap_or_default(),
                decision.reason
            ),
        };
        let record = deploy::deploy(&client, &stack, &plan, &options, &mut progress).await?;
        let mut extra = json!({"path": decision.path, "reason": decision.reason});
        if !args.skip_build {
            extra["images"] = super::build::image_summary(&built);
        }
        report_run_with(&record, args.output, extra)
    })
}

pub fn gc(args: &GcArgs) -> Result<i32> {
    runtime()?.block_on(async {
        let client = connect(&args.kube).await?;
        let report = sweep::sweep(&client, args.dry_run, k8s_openapi::jiff::Timestamp::now()).await?;
        match args.output {
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
            OutputFormat::Text => {
                if report.decisions.is_empty() {
                    println!("no namespaces managed by kubectl-codex");
                }
                for d in &report.decisions {
                    let action = serde_json::to_value(&d.action)?.as_str().unwrap_or_default().to_string();
                    println!("{:<13} {:<40} {}", action, d.namespace, d.reason);
                }
                println!("{} API request(s)", report.api_requests);
            }
        }
        Ok(exit::OK)
    })
}
