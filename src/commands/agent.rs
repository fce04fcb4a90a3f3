//! `kubectl codex agent run`: one command inside the environment, as its agent.

use super::connect::{connect, require_namespace, runtime};
use super::load::resolve;
use super::output::{self, Layout};
use crate::cli::{AgentRunArgs, OutputFormat};
use crate::cluster::agent_job::{self, AgentResult};
use crate::evidence::record::new_run_id;
use crate::exit::{self, coded, Failure};
use serde::{Serialize, Serializer};
use std::fmt;
use std::io::Write;
use std::time::{Duration, Instant};

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
        let report = Ran {
            run_id: run_id.clone(),
            job: job.clone(),
            namespace: stack.namespace.clone(),
            image: image.clone(),
            command: command.iter().chain(command_args.iter()).cloned().collect(),
            pod: outcome.pod,
            result: outcome.result,
            exit_code: outcome.exit_code,
            reason: outcome.reason,
            started_at,
            elapsed,
        };
        // The text is a last line after the log, on stderr like the first one.
        match args.output.format {
            OutputFormat::Json => println!("{}", output::to_json(&report, Layout::Pretty)?),
            OutputFormat::Text => eprint!("{report}"),
        }
        if report.result != AgentResult::Succeeded {
            return Err(Failure::AgentFailed);
        }
        Ok::<(), Failure>(())
    })
}

/// How an agent run ended: its Job and Pod, the command, the outcome and how long it took.
/// Fields in the order `-o json` has always listed them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Ran {
    run_id: String,
    job: String,
    pod: Option<String>,
    namespace: String,
    image: String,
    /// The command and its arguments, as one list.
    command: Vec<String>,
    result: AgentResult,
    exit_code: Option<i32>,
    /// Why, in words (`Completed`, `DeadlineExceeded`, …).
    reason: String,
    started_at: String,
    /// Seconds to a tenth in JSON; the text rounds the exact time itself.
    #[serde(rename = "seconds", serialize_with = "tenths")]
    elapsed: Duration,
}

fn tenths<S: Serializer>(elapsed: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    ((elapsed.as_secs_f64() * 10.0).round() / 10.0).serialize(serializer)
}

impl fmt::Display for Ran {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "agent run {}: {}{} ({}) after {:.1}s",
            self.run_id,
            self.result,
            self.exit_code.map_or(String::new(), |c| format!(", exit code {c}")),
            self.reason,
            self.elapsed.as_secs_f64()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ran(result: AgentResult, exit_code: Option<i32>, elapsed: Duration) -> Ran {
        Ran {
            run_id: "r1".into(),
            job: "codex-agent-r1".into(),
            pod: Some("codex-agent-r1-x".into()),
            namespace: "codex-dev-1".into(),
            image: "agent:1".into(),
            command: vec!["make".into(), "test".into()],
            result,
            exit_code,
            reason: "Completed".into(),
            started_at: "2026-11-27T11:00:00Z".into(),
            elapsed,
        }
    }

    #[test]
    fn json_keeps_the_keys_in_their_order_with_the_seconds_to_a_tenth() {
        let report = ran(AgentResult::TimedOut, None, Duration::from_millis(12_345));
        assert_eq!(
            output::to_json(&report, Layout::OneLine).unwrap(),
            r#"{"runId":"r1","job":"codex-agent-r1","pod":"codex-agent-r1-x","namespace":"codex-dev-1","image":"agent:1","command":["make","test"],"result":"timed out","exitCode":null,"reason":"Completed","startedAt":"2026-11-27T11:00:00Z","seconds":12.3}"#
        );
    }

    #[test]
    fn text_is_one_line_with_the_exit_code_when_there_is_one() {
        let text = ran(AgentResult::Failed, Some(2), Duration::from_millis(1_250)).to_string();
        assert_eq!(text, "agent run r1: failed, exit code 2 (Completed) after 1.2s\n");
        let text = ran(AgentResult::Succeeded, None, Duration::from_secs(3)).to_string();
        assert_eq!(text, "agent run r1: succeeded (Completed) after 3.0s\n");
    }
}
