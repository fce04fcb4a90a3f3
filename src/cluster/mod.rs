//! Everything that talks to the Kubernetes API. One place builds the client.

pub mod access_review;
pub mod agent_job;
pub mod diagnose;
#[cfg(test)]
pub mod fake_api;
pub mod hooks;
pub mod job_pods;
pub mod lease;
pub mod namespace;
pub mod object_gate;
pub mod object_readiness;
pub mod posture;
pub mod readiness;
pub mod releases;
pub mod request_count;
pub mod retry;
pub mod secrets;
pub mod server_version;
pub mod slot_access;
pub mod stuck_container;
pub mod unit_rows;
pub mod workspace_audit;

use crate::exit::{self, coded};
use anyhow::{Context, Result};
use kube::client::ClientBuilder;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use std::path::Path;
use std::time::Duration;
use tower::buffer::BufferLayer;
use tower::retry::RetryLayer;

/// The field manager of every server-side apply we make.
pub const FIELD_MANAGER: &str = "kubectl-codex";

/// Connects with the given kubeconfig and context, or the usual defaults ($KUBECONFIG,
/// ~/.kube/config, in-cluster), and checks the API server answers.
pub async fn connect(kubeconfig: Option<&Path>, context: Option<&str>) -> Result<Client> {
    let options = KubeConfigOptions { context: context.map(str::to_string), ..Default::default() };
    let config = match kubeconfig {
        Some(path) => {
            let file = Kubeconfig::read_from(path).with_context(|| format!("reading kubeconfig {}", path.display()))?;
            Config::from_custom_kubeconfig(file, &options).await.context("loading kubeconfig")?
        }
        None if context.is_some() => Config::from_kubeconfig(&options).await.context("loading kubeconfig")?,
        None => Config::infer().await.context("finding a kubeconfig (set KUBECONFIG or pass --kubeconfig)")?,
    };
    let server = config.cluster_url.to_string();
    let counter = retry::RetryCounter::default();
    // The probe gives up soon, so that a kubeconfig pointing at nothing is a quick exit 4;
    // once the server has answered, a stall is ridden out for much longer.
    let probe = client_with_retries(config.clone(), retry::PROBE_BUDGET, counter.clone())?;
    let info = probe
        .apiserver_version()
        .await
        .with_context(|| format!("the Kubernetes API server at {server} does not answer"))
        .map_err(|e| coded(exit::CLUSTER, e))?;
    if let Some(warning) = server_version::warning(&info.major, &info.minor) {
        eprintln!("{warning}");
    }
    client_with_retries(config, retry::REQUEST_BUDGET, counter)
}

/// kube's default stack (TLS, auth, timeouts) with [`retry::TransientRetry`] around it.
fn client_with_retries(mut config: Config, budget: Duration, counter: retry::RetryCounter) -> Result<Client> {
    // kube's own retry of 429/503/504 (up to 15 times, waits growing to minutes) would hide
    // those from ours, which reports them and keeps within a budget.
    config.default_retry = false;
    let builder = ClientBuilder::try_from(config)
        .context("building the Kubernetes client")
        .map_err(|e| coded(exit::CLUSTER, e))?;
    // Retry needs a service it can clone; kube's stack is boxed, so a buffer fronts it.
    let builder = builder
        .with_layer(&request_count::CountLayer)
        .with_layer(&BufferLayer::new(1024))
        .with_layer(&RetryLayer::new(retry::TransientRetry::new(budget, counter)));
    Ok(builder.build())
}

/// Marks an API error as a cluster error (exit code 4).
pub fn api<T>(result: Result<T, kube::Error>, what: impl FnOnce() -> String) -> Result<T> {
    result.with_context(what).map_err(|e| coded(exit::CLUSTER, e))
}
