//! The agent Job: one command run inside the environment as its agent — the agent's
//! ServiceAccount, the shared workspace mounted as services.yaml declares it, the one
//! workspace identity — created, watched until it ends, its log streamed as it runs.

use super::slot_access::AGENT_ACCOUNT;
use super::{api, namespace, stuck_container};
use crate::config::stack::{AgentSpec, Stack};
use crate::labels;
use anyhow::{anyhow, Result};
use futures::{AsyncBufReadExt, TryStreamExt};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, LogParams, PostParams, PropagationPolicy};
use kube::Client;
use serde_json::{json, Value};
use std::io::Write;
use std::time::{Duration, Instant};

/// `app.kubernetes.io/name` of agent Jobs.
pub const AGENT_NAME: &str = "codex-agent";
/// The container's name in the agent pod.
pub const CONTAINER: &str = "agent";
/// Finished agent Jobs (and their pods and logs) are kept this long, then Kubernetes
/// deletes them: long enough to look at a failure, short enough not to pile up.
pub const KEEP_FINISHED_SECONDS: u32 = 3600;

/// Name of the Job of one run.
pub fn job_name(run_id: &str) -> String {
    format!("{AGENT_NAME}-{run_id}")
}

/// What to run.
#[derive(Debug, Clone)]
pub struct AgentRun<'a> {
    pub run_id: &'a str,
    pub image: &'a str,
    /// The container's command (replaces the image's entrypoint); args follow it.
    pub command: &'a [String],
    pub args: &'a [String],
    /// The Job's `activeDeadlineSeconds`: Kubernetes stops the run even if we are gone.
    pub deadline: Duration,
}

/// The Job object (pure: same inputs, same object).
pub fn job_manifest(stack: &Stack, agent: &AgentSpec, run: &AgentRun<'_>) -> Value {
    let mut object_labels = namespace::namespace_labels(stack);
    object_labels.insert(labels::NAME.into(), AGENT_NAME.into());
    object_labels.insert(labels::AGENT_RUN.into(), run.run_id.into());
    let workspace = &agent.workspace;
    let mut mount =
        json!({"name": labels::WORKSPACE_VOLUME, "mountPath": workspace.mount_path, "readOnly": workspace.read_only});
    if !workspace.sub_path.is_empty() {
        mount["subPath"] = json!(workspace.sub_path);
    }
    let mut env: Vec<Value> = agent.env.iter().map(|(name, value)| json!({"name": name, "value": value})).collect();
    // Where the agent is: scripts need not be told again.
    for (name, value) in [
        ("CODEX_NAMESPACE", stack.namespace.as_str()),
        ("CODEX_ENV", stack.env.as_str()),
        ("CODEX_SLOT", stack.slot.as_str()),
        ("CODEX_ISSUE", stack.issue.as_str()),
        ("CODEX_AGENT_RUN", run.run_id),
    ] {
        if !agent.env.contains_key(name) {
            env.push(json!({"name": name, "value": value}));
        }
    }
    let w = &stack.workspace;
    let mut container = json!({
        "name": CONTAINER,
        "image": run.image,
        "imagePullPolicy": stack.image_pull_policy.as_str(),
        "workingDir": workspace.mount_path,
        "env": env,
        "volumeMounts": [mount],
        // Pod Security "restricted" asks this of every container; the agent needs no more.
        "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
    });
    if !run.command.is_empty() {
        container["command"] = json!(run.command);
    }
    if !run.args.is_empty() {
        container["args"] = json!(run.args);
    }
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": job_name(run.run_id), "labels": object_labels},
        "spec": {
            // An agent command is not known to be idempotent (an edit, a migration): never
            // run it twice behind the caller's back.
            "backoffLimit": 0,
            "activeDeadlineSeconds": run.deadline.as_secs().max(1),
            "ttlSecondsAfterFinished": KEEP_FINISHED_SECONDS,
            "template": {
                "metadata": {"labels": {(labels::NAME): AGENT_NAME, (labels::AGENT_RUN): run.run_id}},
                "spec": {
                    "serviceAccountName": AGENT_ACCOUNT,
                    "restartPolicy": "Never",
                    "securityContext": {
                        "runAsUser": w.uid,
                        "runAsGroup": w.gid,
                        "fsGroup": w.fs_group,
                        "runAsNonRoot": w.uid != 0,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [{"name": labels::WORKSPACE_VOLUME, "persistentVolumeClaim": {"claimName": w.claim_name}}],
                },
            },
        },
    })
}

/// How a run ended, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum AgentResult {
    #[serde(rename = "succeeded")]
    Succeeded,
    #[serde(rename = "failed")]
    Failed,
    /// Past its deadline: the Job has to be deleted, so that it does not go on editing.
    #[serde(rename = "timed out")]
    TimedOut,
}

impl AgentResult {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentResult::Succeeded => "succeeded",
            AgentResult::Failed => "failed",
            AgentResult::TimedOut => "timed out",
        }
    }
}

impl std::fmt::Display for AgentResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub result: AgentResult,
    pub exit_code: Option<i32>,
    /// Why, in words: `Completed`, `Error`, `DeadlineExceeded`, an image pull failure, …
    pub reason: String,
    pub pod: Option<String>,
}

pub async fn create(client: &Client, namespace: &str, manifest: &Value) -> Result<()> {
    let jobs: Api<Job> = Api::namespaced(client.clone(), namespace);
    let job: Job = serde_json::from_value(manifest.clone())?;
    let name = job.metadata.name.clone().unwrap_or_default();
    api(jobs.create(&PostParams::default(), &job).await, || format!("creating the agent Job {name}"))?;
    Ok(())
}

/// Deletes the Job and its pod (a run that timed out must not go on editing).
pub async fn delete(client: &Client, namespace: &str, job: &str) -> Result<()> {
    let jobs: Api<Job> = Api::namespaced(client.clone(), namespace);
    let params = DeleteParams { propagation_policy: Some(PropagationPolicy::Background), ..Default::default() };
    api(jobs.delete(job, &params).await.map(|_| ()), || format!("deleting the agent Job {job}"))
}

/// Runs the created Job to its end: waits for its pod, copies the container's log to `log`
/// while it runs, then reads the result. `Err` only for API failures; a run that fails or
/// times out is an `Outcome`.
pub async fn follow(
    client: &Client,
    namespace: &str,
    job: &str,
    deadline: Instant,
    log: &mut (dyn Write + Send),
) -> Result<Outcome> {
    let pod = match wait_for_start(client, namespace, job, deadline).await? {
        Started::Pod(pod) => pod,
        Started::Failed(outcome) => return Ok(outcome),
    };
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let params = LogParams { container: Some(CONTAINER.into()), follow: true, ..Default::default() };
    let stream = api(pods.log_stream(&pod, &params).await, || format!("reading the log of {pod}"))?;
    let mut lines = stream.lines();
    let copy = async {
        while let Some(line) = lines.try_next().await? {
            writeln!(log, "{line}")?;
            log.flush()?;
        }
        Ok::<(), anyhow::Error>(())
    };
    let left = deadline.saturating_duration_since(Instant::now());
    if tokio::time::timeout(left, copy).await.is_err() {
        return Ok(timed_out(Some(pod)));
    }
    wait_for_end(client, namespace, job, &pod, deadline).await
}

enum Started {
    Pod(String),
    Failed(Outcome),
}

fn timed_out(pod: Option<String>) -> Outcome {
    Outcome { result: AgentResult::TimedOut, exit_code: None, reason: AgentResult::TimedOut.as_str().into(), pod }
}

/// Polls until the Job's pod has a container that started (or already ended).
async fn wait_for_start(client: &Client, namespace: &str, job: &str, deadline: Instant) -> Result<Started> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let jobs: Api<Job> = Api::namespaced(client.clone(), namespace);
    let selector = format!("job-name={job}");
    loop {
        let list =
            api(pods.list(&ListParams::default().labels(&selector)).await, || format!("listing the pods of {job}"))?;
        if let Some(pod) = list.items.iter().max_by_key(|p| p.metadata.creation_timestamp.as_ref().map(|t| t.0)) {
            let name = pod.metadata.name.clone().unwrap_or_default();
            let status = pod.status.as_ref();
            for container in status.and_then(|s| s.container_statuses.as_ref()).into_iter().flatten() {
                let state = container.state.as_ref();
                if state.is_some_and(|s| s.running.is_some() || s.terminated.is_some()) {
                    return Ok(Started::Pod(name));
                }
            }
            if let Some((_, why)) = stuck_container::stuck_container(pod) {
                return Ok(Started::Failed(Outcome {
                    result: AgentResult::Failed,
                    exit_code: None,
                    reason: why,
                    pod: Some(name),
                }));
            }
        } else if let Some(job_object) = api(jobs.get_opt(job).await, || format!("reading the agent Job {job}"))? {
            // No pod at all, and the Job gave up (e.g. its deadline passed, admission refused).
            if let Some(reason) = failed_condition(&job_object) {
                return Ok(Started::Failed(Outcome {
                    result: AgentResult::Failed,
                    exit_code: None,
                    reason,
                    pod: None,
                }));
            }
        }
        if Instant::now() >= deadline {
            return Ok(Started::Failed(timed_out(None)));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn failed_condition(job: &Job) -> Option<String> {
    job.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == "Failed" && c.status == "True").map(|c| {
        let reason = c.reason.clone().unwrap_or_else(|| "Failed".into());
        match c.message.as_deref() {
            Some(message) if !message.is_empty() => format!("{reason}: {message}"),
            _ => reason,
        }
    })
}

/// After the log ended: the container's exit code, then the Job's verdict.
async fn wait_for_end(client: &Client, namespace: &str, job: &str, pod: &str, deadline: Instant) -> Result<Outcome> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let jobs: Api<Job> = Api::namespaced(client.clone(), namespace);
    loop {
        let terminated = api(pods.get_opt(pod).await, || format!("reading pod {pod}"))?
            .and_then(|p| p.status?.container_statuses?.into_iter().find(|c| c.name == CONTAINER)?.state?.terminated);
        if let Some(terminated) = terminated {
            // The exit code decides; the Job's own condition follows a moment later and
            // only adds the reason when the container did not say.
            let job_failure = api(jobs.get_opt(job).await, || format!("reading the agent Job {job}"))?
                .as_ref()
                .and_then(failed_condition);
            let reason = terminated.reason.clone().or(job_failure).unwrap_or_else(|| "terminated".into());
            return Ok(Outcome {
                result: if terminated.exit_code == 0 { AgentResult::Succeeded } else { AgentResult::Failed },
                exit_code: Some(terminated.exit_code),
                reason,
                pod: Some(pod.to_string()),
            });
        }
        if let Some(reason) =
            api(jobs.get_opt(job).await, || format!("reading the agent Job {job}"))?.as_ref().and_then(failed_condition)
        {
            return Ok(Outcome { result: AgentResult::Failed, exit_code: None, reason, pod: Some(pod.to_string()) });
        }
        if Instant::now() >= deadline {
            return Ok(timed_out(Some(pod.to_string())));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The agent's declared image, or an error naming what is missing.
pub fn agent_of(stack: &Stack) -> Result<&AgentSpec> {
    stack.agent.as_ref().ok_or_else(|| anyhow!("services.yaml declares no \"agent\"; nothing to run"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{self, stack::Selection};
    use std::path::Path;

    fn example(env: &str, slot: &str) -> Stack {
        let loaded = config::load_path(&Path::new(env!("CARGO_MANIFEST_DIR")).join("services.yaml")).unwrap();
        let selection = Selection { env: env.into(), slot: slot.into(), issue: String::new() };
        loaded.resolve_with(&selection, &config::inputs::GivenInputs::stand_ins()).unwrap()
    }

    #[test]
    fn the_job_runs_as_the_agent_with_the_workspace_identity_and_mount() {
        let stack = example("dev", "3");
        let agent = agent_of(&stack).unwrap();
        let command = vec!["sh".to_string(), "-c".to_string(), "true".to_string()];
        let run = AgentRun {
            run_id: "20261127t101500z-1a2b",
            image: &agent.image,
            command: &command,
            args: &[],
            deadline: Duration::from_secs(600),
        };
        let job = job_manifest(&stack, agent, &run);
        assert_eq!(job["metadata"]["name"], "codex-agent-20261127t101500z-1a2b");
        assert_eq!(job["metadata"]["labels"][labels::AGENT_RUN], "20261127t101500z-1a2b");
        assert_eq!(job["metadata"]["labels"][labels::SLOT], "3");
        let spec = &job["spec"]["template"]["spec"];
        assert_eq!(spec["serviceAccountName"], AGENT_ACCOUNT);
        assert_eq!(
            spec["securityContext"],
            json!({
                "runAsUser": 10001,
                "runAsGroup": 10001,
                "fsGroup": 10001,
                "runAsNonRoot": true,
                "seccompProfile": {"type": "RuntimeDefault"},
            })
        );
        let container = &spec["containers"][0];
        assert_eq!(container["image"], "127.0.0.1:5000/codex-example/agent:0.1.0");
        assert_eq!(container["command"], json!(["sh", "-c", "true"]));
        assert!(container.get("args").is_none());
        assert_eq!(
            container["volumeMounts"][0],
            json!({"name": labels::WORKSPACE_VOLUME, "mountPath": "/workspace", "readOnly": false})
        );
        assert_eq!(spec["volumes"][0]["persistentVolumeClaim"]["claimName"], "codex-workspace");
        assert_eq!(job["spec"]["backoffLimit"], 0);
        assert_eq!(job["spec"]["activeDeadlineSeconds"], 600);
        // The object parses as a Job, so `create` cannot fail on its shape.
        let _: Job = serde_json::from_value(job).unwrap();
    }
}
