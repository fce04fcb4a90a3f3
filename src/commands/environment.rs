//! Commands that work on a live environment: up, status, evidence, down.

use super::offline;
use crate::cli::{DownArgs, EvidenceArgs, KubeArgs, OutputFormat, SelectionArgs, StatusArgs, TargetArgs, UpArgs};
use crate::cluster::{self, lease, namespace, posture, releases, unit_rows};
use crate::config::duration;
use crate::deploy::{self, DeployOptions};
use crate::evidence::record::EvidenceRecord;
use crate::evidence::{store, verify};
use crate::exit::{self, coded};
use crate::plan::phase::Phase;
use crate::ui::progress::Progress;
use crate::ui::status_table;
use crate::{chart, helm, labels, plan};
use anyhow::{anyhow, Context, Result};
use kube::Client;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

pub fn parse_duration(flag: &str, text: &str) -> Result<Duration> {
    duration::parse(text).map_err(|e| coded(exit::USAGE, anyhow!("{flag}: {e}")))
}

pub async fn connect(kube: &KubeArgs) -> Result<Client> {
    cluster::connect(kube.kubeconfig.as_deref(), kube.context.as_deref()).await
}

pub fn up(args: &UpArgs) -> Result<i32> {
    let timeout = parse_duration("--timeout", &args.timeout)?;
    let lock_timeout = parse_duration("--lock-timeout", &args.lock_timeout)?;
    if let Some(ttl) = &args.ttl {
        parse_duration("--ttl", ttl)?;
    }
    let stack = match offline::resolve(&args.file.file, &args.selection, args.output) {
        Ok(stack) => stack,
        Err(code) => return Ok(code),
    };
    let helm_bin = helm::locate(args.helm.helm.as_deref())?;
    let chart_dir = chart::chart_dir(args.helm.chart.as_deref())?;
    let mut stack = stack;
    let mut progress = Progress::new();
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
    let plan = plan::plan(&stack);
    let options = DeployOptions {
        helm: helm_bin,
        chart: chart_dir,
        timeout,
        lock_timeout,
        trigger: "up".into(),
        idle_ttl: args.ttl.clone().unwrap_or_else(|| stack.idle_ttl.clone()),
        force: args.force,
        namespace_decision: String::new(),
    };
    runtime()?.block_on(async {
        let client = connect(&args.kube).await?;
        let decision = match namespace::get(&client, &stack.namespace).await? {
            Some(ns) if ns.phase == "Active" => format!("reused: namespace exists (uid {})", ns.uid),
            Some(_) => "recreated: the namespace was terminating".to_string(),
            None => "created: no namespace yet".to_string(),
        };
        let options = DeployOptions { namespace_decision: decision, ..options };
        let record = deploy::deploy(&client, &stack, &plan, &options, &mut progress).await?;
        report_run_with(
            &record,
            args.output,
            if args.skip_build {
                serde_json::Value::Null
            } else {
                json!({"images": super::build::image_summary(&built)})
            },
        )
    })
}

/// Prints a run's outcome, with `extra` fields merged into the JSON summary, and returns its
/// exit code.
pub fn report_run_with(record: &EvidenceRecord, output: OutputFormat, extra: serde_json::Value) -> Result<i32> {
    let failed = record.result != "deployed";
    match output {
        OutputFormat::Json => {
            let phases: Vec<_> = record
                .phases
                .iter()
                .map(|p| json!({"name": p.name, "release": p.release, "result": p.result.as_str(), "revision": p.revision, "startedAt": p.started_at, "readyAt": p.ready_at}))
                .collect();
            let mut summary = json!({
                "runId": record.run_id,
                "trigger": record.trigger,
                "namespace": record.namespace,
                "namespaceUid": record.namespace_uid,
                "namespaceDecision": record.namespace_decision,
                "result": record.result,
                "evidence": store::config_map_name(&record.run_id),
                "phases": phases,
            });
            if let (Some(summary), serde_json::Value::Object(extra)) = (summary.as_object_mut(), extra) {
                summary.extend(extra);
            }
            println!("{}", serde_json::to_string_pretty(&summary)?);
        }
        OutputFormat::Text => {
            println!("{} {} in namespace {} (run {})", record.trigger, record.result, record.namespace, record.run_id);
            for p in &record.phases {
                println!(
                    "  {:<11} {:<9} {} revision {}",
                    p.name,
                    p.result.as_str(),
                    p.release,
                    p.revision.map_or("-".into(), |r| r.to_string())
                );
            }
        }
    }
    if let Some(error) = record.phases.iter().find_map(|p| p.error.as_ref()) {
        eprint!("{error}");
    }
    Ok(if failed { exit::DEPLOY_FAILED } else { exit::OK })
}

/// The namespace a command targets: `-n`, or services.yaml resolved for `--env`.
fn target_namespace(target: &TargetArgs) -> Result<String, i32> {
    if let Some(namespace) = &target.namespace {
        return Ok(namespace.clone());
    }
    let Some(env) = &target.env else {
        eprintln!("error: give the environment's namespace (-n) or its --env (with --slot/--issue as needed)");
        return Err(exit::USAGE);
    };
    let selection = SelectionArgs {
        env: env.clone(),
        slot: target.slot.clone(),
        issue: target.issue.clone(),
        inputs: target.inputs.clone(),
    };
    offline::resolve_for_namespace(&target.file.file, &selection, target.output).map(|stack| stack.namespace)
}

pub fn status(status_args: &StatusArgs) -> Result<i32> {
    let args = &status_args.target;
    let ns_name = match target_namespace(args) {
        Ok(ns) => ns,
        Err(code) => return Ok(code),
    };
    runtime()?.block_on(async {
        let client = connect(&args.kube).await?;
        if status_args.watch {
            return super::status_watch::watch(&client, &ns_name, args.output, status_args.watch_timeout).await;
        }
        let Some(ns) = namespace::get(&client, &ns_name).await? else {
            match args.output {
                OutputFormat::Json => println!("{}", json!({"namespace": ns_name, "exists": false})),
                OutputFormat::Text => println!("namespace {ns_name} does not exist"),
            }
            return Ok(exit::OK);
        };
        let holder = lease::current_holder(&client, &ns_name).await?;
        let now = k8s_openapi::jiff::Timestamp::now();
        let idle = namespace::idle_for(ns.last_activity.as_deref(), now);
        let ttl = namespace::ttl_of(ns.idle_ttl.as_deref());
        let expires_in = match (&idle, &ttl) {
            (Ok(idle), Ok(ttl)) => Some(ttl.saturating_sub(*idle)),
            _ => None,
        };
        let records = releases::latest(&client, &ns_name, None).await?;
        let rows = unit_rows::snapshot(&client, &ns_name).await?;
        let quota = posture::read_quota_use(&client, &ns_name).await?;
        let mut phases = Vec::new();
        for phase in Phase::ORDER {
            let release = labels::release_name(phase);
            let Some(record) = records.iter().find(|r| r.name == release) else { continue };
            let units = unit_rows::of_phase(&rows, phase);
            phases.push(json!({"name": phase.as_str(), "release": release, "revision": record.revision, "status": record.status, "units": units}));
        }
        match args.output {
            OutputFormat::Json => println!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "namespace": ns_name, "exists": true, "uid": ns.uid, "phase": ns.phase, "managed": ns.managed,
                    "labels": ns.labels, "lastActivity": ns.last_activity, "idleTTL": ns.idle_ttl,
                    "idleSeconds": idle.as_ref().ok().map(|d| d.as_secs()),
                    "expiresInSeconds": expires_in.map(|d| d.as_secs()),
                    "lease": holder.as_ref().map(|(h, until)| json!({"holder": h, "validUntil": until})),
                    "phases": phases,
                    "quota": quota.as_ref().map(|q| json!({"name": q.name, "hard": q.hard, "used": q.used})),
                }))?
            ),
            OutputFormat::Text => {
                println!("namespace {ns_name} ({}, {})", ns.phase, if ns.managed { "managed by kubectl-codex" } else { "NOT managed by kubectl-codex" });
                println!(
                    "  last activity {} · idle TTL {} · {}",
                    ns.last_activity.as_deref().unwrap_or("unknown"),
                    ns.idle_ttl.as_deref().unwrap_or("unset"),
                    match (&idle, expires_in) {
                        (Ok(_), Some(left)) if left.is_zero() => "expired".to_string(),
                        (Ok(_), Some(left)) => format!("expires in {}", duration::format(Duration::from_secs(left.as_secs()))),
                        (Err(why), _) => format!("lease unknown: {why}"),
                        _ => "no TTL".into(),
                    }
                );
                match &holder {
                    Some((h, until)) => println!("  run in progress: {h} (until {until})"),
                    None => println!("  no run in progress"),
                }
                if let Some(quota) = &quota {
                    println!("  {}", status_table::quota_line(quota));
                }
                for phase in &phases {
                    println!("  {} {} revision {} ({})", phase["name"].as_str().unwrap_or(""), phase["release"].as_str().unwrap_or(""), phase["revision"], phase["status"].as_str().unwrap_or(""));
                    for unit in phase["units"].as_array().into_iter().flatten() {
                        println!("    {:<14} {:<12} {}", unit["name"].as_str().unwrap_or(""), unit["kind"].as_str().unwrap_or(""), unit["state"].as_str().unwrap_or(""));
                    }
                }
            }
        }
        Ok(exit::OK)
    })
}

pub fn evidence(args: &EvidenceArgs) -> Result<i32> {
    if let Some(path) = &args.from_file {
        return super::evidence_picture::from_file(args, path);
    }
    let ns_name = match target_namespace(&args.target) {
        Ok(ns) => ns,
        Err(code) => return Ok(code),
    };
    runtime()?.block_on(async {
        let client = connect(&args.target.kube).await?;
        let mut records = store::load_all(&client, &ns_name).await?;
        if let Some(run) = &args.run {
            records.retain(|r| &r.run_id == run);
            if records.is_empty() {
                return Err(coded(exit::INVALID_INPUT, anyhow!("no evidence of run {run} in namespace {ns_name}")));
            }
        }
        if super::evidence_picture::wanted(args) {
            return super::evidence_picture::write(args, &records);
        }
        if !args.verify {
            print_records(&records, args.target.output, &ns_name)?;
            return Ok(exit::OK);
        }
        anyhow::ensure!(!records.is_empty(), "no evidence in namespace {ns_name} to verify");
        let helm_bin = helm::locate(args.helm.helm.as_deref())?;
        let mut histories = BTreeMap::new();
        for phase in Phase::ORDER {
            let release = labels::release_name(phase);
            histories.insert(release.clone(), helm::history(&helm_bin, &release, &ns_name).await?);
        }
        let verdict = verify::verify(&records, &histories);
        match args.target.output {
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&json!({"verified": verdict.violations.is_empty(), "runs": records.len(), "proofs": verdict.proofs, "violations": verdict.violations}))?),
            OutputFormat::Text => {
                for proof in &verdict.proofs {
                    println!("ok   {} {}: {}", proof.run_id, proof.phase, proof.statement);
                }
                for v in &verdict.violations {
                    println!("FAIL {} {}: {}", v.run_id, v.phase, v.message);
                }
                println!(
                    "{} run(s), {} check(s) held, {} violation(s)",
                    records.len(),
                    verdict.proofs.len(),
                    verdict.violations.len()
                );
            }
        }
        Ok(if verdict.violations.is_empty() { exit::OK } else { exit::VERIFY_FAILED })
    })
}

/// The records as `evidence` lists them (text or JSON); `ns_name` names where they came from.
pub fn print_records(records: &[EvidenceRecord], output: OutputFormat, ns_name: &str) -> Result<()> {
    match output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(records)?),
        OutputFormat::Text => {
            if records.is_empty() {
                println!("no evidence in namespace {ns_name}");
            }
            for r in records {
                println!(
                    "run {} ({}) {} · started {} · input {}",
                    r.run_id,
                    r.trigger,
                    r.result,
                    r.started_at,
                    r.input_digest.get(..12).unwrap_or(&r.input_digest)
                );
                if !r.namespace_decision.is_empty() {
                    println!("  namespace: {}", r.namespace_decision);
                }
                for p in &r.phases {
                    println!(
                        "  {:<11} {:<9} {} rev {} · started {} · ready {}",
                        p.name,
                        p.result.as_str(),
                        p.release,
                        p.revision.map_or("-".into(), |v| v.to_string()),
                        p.started_at,
                        p.ready_at.as_deref().unwrap_or("-")
                    );
                    for w in &p.waves {
                        println!(
                            "    wave {} rev {} ({}) · started {} · ready {}",
                            w.wave,
                            w.revision.map_or("-".into(), |v| v.to_string()),
                            w.units.join(", "),
                            w.started_at,
                            w.ready_at.as_deref().unwrap_or("-")
                        );
                    }
                    for u in p.units.iter().filter(|u| !u.objects.is_empty()) {
                        for o in &u.objects {
                            println!(
                                "    {} {}: {} · ready {}",
                                u.name,
                                o.object,
                                o.observed.as_deref().unwrap_or("not ready"),
                                o.ready_at.as_deref().unwrap_or("-")
                            );
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

pub fn down(args: &DownArgs) -> Result<i32> {
    let timeout = parse_duration("--timeout", &args.timeout)?;
    let lock_timeout = parse_duration("--lock-timeout", &args.lock_timeout)?;
    let ns_name = match target_namespace(&args.target) {
        Ok(ns) => ns,
        Err(code) => return Ok(code),
    };
    let helm_bin = helm::locate(args.helm.helm.as_deref())?;
    runtime()?.block_on(async {
        let client = connect(&args.target.kube).await?;
        let Some(ns) = namespace::get(&client, &ns_name).await? else {
            println!("namespace {ns_name} does not exist; nothing to do");
            return Ok(exit::OK);
        };
        if !ns.managed {
            return Err(coded(
                exit::INVALID_INPUT,
                anyhow!(
                    "namespace {ns_name} is not managed by kubectl-codex (no {}={} label); refusing to touch it",
                    labels::MANAGED_BY,
                    labels::MANAGED_BY_VALUE
                ),
            ));
        }
        let held = lease::acquire(&client, &ns_name, &format!("down/{}", std::process::id()), lock_timeout, |who| {
            eprintln!("waiting for the environment's lease, held by {who}");
        })
        .await?;
        let existing = releases::latest(&client, &ns_name, None).await?;
        for phase in Phase::ORDER.iter().rev() {
            let release = labels::release_name(*phase);
            if existing.iter().any(|r| r.name == release) {
                eprintln!("uninstalling {release}");
                helm::uninstall(&helm_bin, &release, &ns_name, timeout).await?;
            }
        }
        held.release().await;
        if args.keep_namespace {
            println!("releases of {ns_name} uninstalled; namespace kept");
            return Ok(exit::OK);
        }
        let namespaces: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(client.clone());
        cluster::api(namespaces.delete(&ns_name, &Default::default()).await, || {
            format!("deleting namespace {ns_name}")
        })?;
        println!("releases uninstalled; namespace {ns_name} deleted");
        Ok(exit::OK)
    })
}
