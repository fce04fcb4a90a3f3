//! Everything that talks to the Kubernetes API. One place builds the client.

pub mod access_review;
pub mod agent_job;
pub mod diagnose;
pub mod hooks;
pub mod lease;
pub mod namespace;
pub mod object_gate;
pub mod object_readiness;
pub mod readiness;
pub mod releases;
pub mod secrets;
pub mod server_version;
pub mod slot_access;
pub mod stuck_container;
pub mod workspace_audit;

use crate::exit::{self, coded};
use anyhow::{Context, Result};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use std::path::Path;

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
    let client =
        Client::try_from(config).context("building the Kubernetes client").map_err(|e| coded(exit::CLUSTER, e))?;
    let info = client
        .apiserver_version()
        .await
        .with_context(|| format!("the Kubernetes API server at {server} does not answer"))
        .map_err(|e| coded(exit::CLUSTER, e))?;
    if let Some(warning) = server_version::warning(&info.major, &info.minor) {
        eprintln!("{warning}");
    }
    Ok(client)
}

/// Marks an API error as a cluster error (exit code 4).
pub fn api<T>(result: Result<T, kube::Error>, what: impl FnOnce() -> String) -> Result<T> {
    result.with_context(what).map_err(|e| coded(exit::CLUSTER, e))
}
