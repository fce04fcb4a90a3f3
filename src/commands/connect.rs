//! What every command that talks to the cluster starts with: the async runtime, the client,
//! and (for commands that work inside an environment) its namespace.

use crate::cli::KubeArgs;
use crate::cluster;
use crate::cluster::namespace::{self, NamespacePhase};
use crate::config::stack::Stack;
use crate::exit::{self, coded};
use anyhow::{anyhow, Context, Result};
use kube::Client;

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

pub async fn connect(kube: &KubeArgs) -> Result<Client> {
    cluster::connect(kube.kubeconfig.as_deref(), kube.context.as_deref()).await
}

/// The environment must exist: the agent works in it, with the account `up` created.
pub async fn require_namespace(client: &Client, stack: &Stack) -> Result<()> {
    match namespace::get(client, &stack.namespace).await? {
        Some(ns) if ns.phase == NamespacePhase::Active => Ok(()),
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
