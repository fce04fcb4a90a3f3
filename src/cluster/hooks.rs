//! Typed readiness hooks (no shell): an HTTP GET through the unit's Service, a TCP connect to
//! one of its pods, or a one-off Job that must succeed. All go through the API server, so they
//! work from a laptop as well as from inside the cluster.

use super::readiness::{job_state, selector, InstalledUnit, UnitState};
use super::{api, FIELD_MANAGER};
use crate::config::duration;
use crate::config::model::PortRef;
use crate::config::stack::{ResolvedHook, ResolvedUnit};
use crate::plan::describe_hook;
use anyhow::{anyhow, Result};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::Client;
use serde_json::json;
use std::time::{Duration, Instant};

const RETRY_EVERY: Duration = Duration::from_millis(500);

/// How long a TCP hook listens for the node's "connection refused" once the forwarded stream
/// is open. The node dials the pod's port as the stream opens and sends a refusal back on the
/// stream's error channel: one round trip between the API server and the node. Opening the
/// stream took at least two of those (the API server's own connection to the node, then the
/// upgrade), so a few times the opening time bounds the refusal's arrival, within a floor for a
/// fast local cluster's jitter and a ceiling for a slow one.
fn refusal_wait(opening: Duration) -> Duration {
    const FLOOR: Duration = Duration::from_millis(60);
    const CEILING: Duration = Duration::from_millis(300);
    (opening * 3).clamp(FLOOR, CEILING)
}

/// Runs one hook until it passes or its timeout runs out; returns how it passed.
pub async fn run(
    client: &Client,
    namespace: &str,
    unit: &ResolvedUnit,
    installed: &InstalledUnit,
    hook: &ResolvedHook,
) -> Result<String> {
    let timeout = hook.timeout;
    let started = Instant::now();
    let mut last_error = String::new();
    while started.elapsed() < timeout {
        let attempt = if let Some(http) = &hook.http {
            http_get(client, namespace, unit, &http.port, &http.path, http.expect_status).await
        } else if let Some(tcp) = &hook.tcp {
            tcp_connect(client, namespace, unit, installed, &tcp.port).await
        } else if let Some(job) = &hook.job {
            return run_job(client, namespace, unit, &job.image, &job.command, &job.args, timeout).await;
        } else {
            Err(anyhow!("empty hook"))
        };
        match attempt {
            Ok(()) => {
                return Ok(format!("{} passed after {:.1}s", describe_hook(hook), started.elapsed().as_secs_f64()))
            }
            Err(e) => last_error = format!("{e:#}"),
        }
        tokio::time::sleep(RETRY_EVERY).await;
    }
    Err(anyhow!("{} did not pass within {}: {last_error}", describe_hook(hook), duration::format(timeout)))
}

/// The Service port a hook port refers to (hooks name container ports; the Service maps them).
fn service_port(unit: &ResolvedUnit, port: &PortRef) -> Option<u16> {
    unit.workload
        .iter()
        .flat_map(|w| &w.ports)
        .find(|p| match port {
            PortRef::Name(name) => &p.name == name,
            PortRef::Number(n) => p.port == *n,
        })
        .map(|p| p.service_port)
}

fn container_port(unit: &ResolvedUnit, port: &PortRef) -> Option<u16> {
    match port {
        PortRef::Number(n) => Some(*n),
        PortRef::Name(name) => unit.workload.iter().flat_map(|w| &w.ports).find(|p| &p.name == name).map(|p| p.port),
    }
}

async fn http_get(
    client: &Client,
    namespace: &str,
    unit: &ResolvedUnit,
    port: &PortRef,
    path: &str,
    expect: u16,
) -> Result<()> {
    let port = service_port(unit, port).ok_or_else(|| anyhow!("no such port on {}", unit.name))?;
    let uri = format!("/api/v1/namespaces/{namespace}/services/{}:{port}/proxy{path}", unit.name);
    let request = http::Request::get(&uri).body(kube::client::Body::empty())?;
    let response = tokio::time::timeout(Duration::from_secs(5), client.send(request))
        .await
        .map_err(|_| anyhow!("GET {path}: no answer in 5s"))??;
    let status = response.status().as_u16();
    if status == expect {
        Ok(())
    } else {
        Err(anyhow!("GET {path} answered {status}, expected {expect}"))
    }
}

async fn tcp_connect(
    client: &Client,
    namespace: &str,
    unit: &ResolvedUnit,
    installed: &InstalledUnit,
    port: &PortRef,
) -> Result<()> {
    let port = container_port(unit, port).ok_or_else(|| anyhow!("no such port on {}", unit.name))?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let list = api(pods.list(&ListParams::default().labels(&selector(installed))).await, || "listing pods".into())?;
    let ready = list.items.iter().find(|p| {
        p.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
    });
    let pod = ready.ok_or_else(|| anyhow!("no ready pod of {}", unit.name))?;
    let name = pod.metadata.name.clone().unwrap_or_default();
    let opening = Instant::now();
    let mut forwarder = pods.portforward(&name, &[port]).await?;
    let wait = refusal_wait(opening.elapsed());
    let stream = forwarder.take_stream(port).ok_or_else(|| anyhow!("port-forward to {name}:{port} gave no stream"))?;
    // Silence on the error channel for a while (refusal_wait) means the connection stands.
    let error = forwarder.take_error(port);
    let outcome = match error {
        Some(error) => match tokio::time::timeout(wait, error).await {
            Ok(Some(message)) => Err(anyhow!("connect to {name}:{port}: {message}")),
            _ => Ok(()),
        },
        None => Ok(()),
    };
    drop(stream);
    forwarder.abort();
    outcome
}

async fn run_job(
    client: &Client,
    namespace: &str,
    unit: &ResolvedUnit,
    image: &str,
    command: &[String],
    args: &[String],
    timeout: Duration,
) -> Result<String> {
    let started = Instant::now();
    let name = format!("{}-hook-{}", unit.name, std::process::id());
    let jobs: Api<Job> = Api::namespaced(client.clone(), namespace);
    let mut container = json!({"name": "hook", "image": image});
    if !command.is_empty() {
        container["command"] = json!(command);
    }
    if !args.is_empty() {
        container["args"] = json!(args);
    }
    let job = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": {crate::labels::MANAGED_BY: crate::labels::MANAGED_BY_VALUE}},
        "spec": {
            "backoffLimit": 0,
            "ttlSecondsAfterFinished": 600,
            "template": {"spec": {"restartPolicy": "Never", "containers": [container]}},
        },
    });
    api(jobs.patch(&name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(&job)).await, || {
        format!("creating hook job {name}")
    })?;
    while started.elapsed() < timeout {
        if let Some(job) = api(jobs.get_opt(&name).await, || format!("reading hook job {name}"))? {
            match job_state(&job) {
                UnitState::Ready(_) => {
                    return Ok(format!("job {name} succeeded after {:.1}s", started.elapsed().as_secs_f64()))
                }
                UnitState::Failed(why) => return Err(anyhow!("hook job {name}: {why}")),
                UnitState::Pending(_) => {}
            }
        }
        tokio::time::sleep(RETRY_EVERY).await;
    }
    Err(anyhow!("hook job {name} did not finish within {}", duration::format(timeout)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_wait_scales_with_the_stream_opening_within_its_bounds() {
        assert_eq!(refusal_wait(Duration::from_millis(5)), Duration::from_millis(60));
        assert_eq!(refusal_wait(Duration::from_millis(40)), Duration::from_millis(120));
        assert_eq!(refusal_wait(Duration::from_secs(2)), Duration::from_millis(300));
    }
}
