//! `kubectl codex agent run`: one command inside the environment, as its agent.

use super::offline;
use crate::cli::{AgentRunArgs, KubeArgs, OutputFormat};
use crate::cluster::{self, agent_job, namespace};
use crate::config::duration;
use crate::config::stack::Stack;
use crate::evidence::record::new_run_id;
use crate::exit::{self, coded};
use anyhow::{anyhow, Context, Result};
use kube::Client;
use serde_json::json;
use std::io::Write;
use std::time::{Duration, Instant};

pub(super) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

pub(super) fn parse_duration(flag: &str, text: &str) -> Result<Duration> {
    duration::parse(text).map_err(|e| coded(exit::USAGE, anyhow!("{flag}: {e}")))
}

pub(super) async fn connect(kube: &KubeArgs) -> Result<Client> {
    cluster::connect(kube.kubeconfig.as_deref(), kube.context.as_deref()).await
}

/// The environment must exist: the agent works in it, with the account `up` created.
pub(super) async fn require_namespace(client: &Client, stack: &Stack) -> Result<()> {
    match namespace::get(client, &stack.namespace).await? {
        Some(ns) if ns.phase == "Active" => Ok(()),
        Some(ns) => Err(coded(
            exit::INVALID_INPUT,
            anyhow!("namespace {} is {}; bring the environment up again first", stack.namespace, ns.phase),
        )),
        None => Err(coded(
            exit::INVALID_INPUT,
            anyhow!(
                "namespace {} does not exist; bring the environment up first (kubectl codex up --env {})",
                stack.namespace,
                stack.env
            ),
        )),
    }
}

pub fn run(args: &AgentRunArgs) -> Result<i32> {
    let timeout = parse_duration("--timeout", &args.timeout)?;
    let stack = match offline::resolve(&args.file.file, &args.selection, args.output) {
        Ok(stack) => stack,
        Err(code) => return Ok(code),
    };
    let agent = agent_job::agent_of(&stack).map_err(|e| coded(exit::INVALID_INPUT, e))?;
    // The command after `--` replaces the declared one, arguments and all.
    let (command, command_args) = if args.command.is_empty() {
        (agent.command.clone(), agent.args.clone())
    } else {
        (args.command.clone(), Vec::new())
    };
    if command.is_empty() && command_args.is_empty() {
        return Err(coded(
            exit::USAGE,
            anyhow!("give the agent's command after `--` (services.yaml declares no agent.command)"),
        ));
    }
    let image = args.image.clone().unwrap_or_else(|| agent.image.clone());
    let run_id = new_run_id();
    let job = agent_job::job_name(&run_id);
    let run = agent_job::AgentRun {
        run_id: &run_id,
        image: &image,
        command: &command,
        args: &command_args,
        deadline: timeout,
    };
    let manifest = agent_job::job_manifest(&stack, agent, &run);
    runtime()?.block_on(async {
        let client = connect(&args.kube).await?;
        require_namespace(&client, &stack).await?;
        let started = Instant::now();
        let started_at = crate::clock::now_seconds();
        agent_job::create(&client, &stack.namespace, &manifest).await?;
        eprintln!("agent run {run_id}: Job {job} in {} ({image})", stack.namespace);
        // The log is the command's output: stdout, unless stdout carries the JSON summary.
        let mut log: Box<dyn Write + Send> = match args.output {
            OutputFormat::Text => Box::new(std::io::stdout()),
            OutputFormat::Json => Box::new(std::io::stderr()),
        };
        let outcome = agent_job::follow(&client, &stack.namespace, &job, started + timeout, log.as_mut()).await?;
        let elapsed = started.elapsed();
        let timed_out = outcome.reason == "timed out";
        if timed_out {
            // A run past its time must not keep editing the workspace.
            agent_job::delete(&client, &stack.namespace, &job).await?;
        }
        let result = if outcome.succeeded {
            "succeeded"
        } else if timed_out {
            "timed out"
        } else {
            "failed"
        };
        match args.output {
            OutputFormat::Json => println!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "runId": run_id,
                    "job": job,
                    "pod": outcome.pod,
                    "namespace": stack.namespace,
                    "image": image,
                    "command": command.iter().chain(command_args.iter()).collect::<Vec<_>>(),
                    "result": result,
                    "exitCode": outcome.exit_code,
                    "reason": outcome.reason,
                    "startedAt": started_at,
                    "seconds": (elapsed.as_secs_f64() * 10.0).round() / 10.0,
                }))?
            ),
            OutputFormat::Text => eprintln!(
                "agent run {run_id}: {result}{} ({}) after {:.1}s",
                outcome.exit_code.map_or(String::new(), |c| format!(", exit code {c}")),
                outcome.reason,
                elapsed.as_secs_f64()
            ),
        }
        Ok(if outcome.succeeded { exit::OK } else { exit::AGENT_FAILED })
    })
}
