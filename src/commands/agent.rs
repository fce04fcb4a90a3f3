//! `kubectl codex agent run`: one command inside the environment, as its agent.

use super::connect::{connect, require_namespace, runtime};
use super::load::resolve;
use crate::cli::{AgentRunArgs, OutputFormat};
use crate::cluster::agent_job::{self, AgentResult};
use crate::evidence::record::new_run_id;
use crate::exit::{self, coded, Failure};
use serde_json::json;
use std::io::Write;
use std::time::Instant;

pub fn run(args: &AgentRunArgs) -> Result<(), Failure> {
    let timeout = args.timeout;
    let stack = resolve(&args.file.file, &args.selection, args.output.format)?;
    let agent = agent_job::agent_of(&stack).map_err(|e| coded(exit::INVALID_INPUT, e))?;
    // The command after `--` replaces the declared one, arguments and all.
    let (command, command_args) = if args.command.is_empty() {
        (agent.command.clone(), agent.args.clone())
    } else {
        (args.command.clone(), Vec::new())
    };
    if command.is_empty() && command_args.is_empty() {
        return Err(Failure::Usage(
            "give the agent's command after `--` (services.yaml declares no agent.command)".into(),
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
        let mut log: Box<dyn Write + Send> = match args.output.format {
            OutputFormat::Text => Box::new(std::io::stdout()),
            OutputFormat::Json => Box::new(std::io::stderr()),
        };
        let outcome = agent_job::follow(&client, &stack.namespace, &job, started + timeout, log.as_mut()).await?;
        let elapsed = started.elapsed();
        if outcome.result == AgentResult::TimedOut {
            // A run past its time must not keep editing the workspace.
            agent_job::delete(&client, &stack.namespace, &job).await?;
        }
        match args.output.format {
            OutputFormat::Json => println!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "runId": run_id,
                    "job": job,
                    "pod": outcome.pod,
                    "namespace": stack.namespace,
                    "image": image,
                    "command": command.iter().chain(command_args.iter()).collect::<Vec<_>>(),
                    "result": outcome.result,
                    "exitCode": outcome.exit_code,
                    "reason": outcome.reason,
                    "startedAt": started_at,
                    "seconds": (elapsed.as_secs_f64() * 10.0).round() / 10.0,
                }))?
            ),
            OutputFormat::Text => eprintln!(
                "agent run {run_id}: {}{} ({}) after {:.1}s",
                outcome.result,
                outcome.exit_code.map_or(String::new(), |c| format!(", exit code {c}")),
                outcome.reason,
                elapsed.as_secs_f64()
            ),
        }
        if outcome.result != AgentResult::Succeeded {
            return Err(Failure::AgentFailed);
        }
        Ok::<(), Failure>(())
    })
}
