//! `kubectl codex down`: the phase releases uninstalled in reverse order, then the namespace
//! deleted (only a managed one).

use super::connect::{connect, runtime};
use super::load::target_namespace;
use crate::cli::DownArgs;
use crate::cluster::{self, lease, namespace, releases};
use crate::config::phase::Phase;
use crate::exit::{self, coded, Failure};
use crate::{helm, labels};
use anyhow::anyhow;

pub fn run(args: &DownArgs) -> Result<(), Failure> {
    let ns_name = target_namespace(&args.target)?;
    let helm_bin = helm::locate(args.helm.helm.as_deref())?;
    runtime()?.block_on(async {
        let client = connect(&args.target.kube).await?;
        let Some(ns) = namespace::get(&client, &ns_name).await? else {
            println!("namespace {ns_name} does not exist; nothing to do");
            return Ok(());
        };
        if !ns.managed {
            return Err(coded(
                exit::INVALID_INPUT,
                anyhow!(
                    "namespace {ns_name} is not managed by kubectl-codex (no {}={} label); refusing to touch it",
                    labels::MANAGED_BY,
                    labels::MANAGED_BY_VALUE
                ),
            )
            .into());
        }
        let held =
            lease::acquire(&client, &ns_name, &format!("down/{}", std::process::id()), args.lock_timeout, |who| {
                eprintln!("waiting for the environment's lease, held by {who}");
            })
            .await?;
        let existing = releases::latest(&client, &ns_name, None).await?;
        for phase in Phase::ORDER.iter().rev() {
            let release = labels::release_name(*phase);
            if existing.iter().any(|r| r.name == release) {
                eprintln!("uninstalling {release}");
                helm::uninstall(&helm_bin, &release, &ns_name, args.timeout).await?;
            }
        }
        held.release().await;
        if args.keep_namespace {
            println!("releases of {ns_name} uninstalled; namespace kept");
            return Ok(());
        }
        let namespaces: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(client.clone());
        cluster::api(namespaces.delete(&ns_name, &Default::default()).await, || {
            format!("deleting namespace {ns_name}")
        })?;
        println!("releases uninstalled; namespace {ns_name} deleted");
        Ok::<(), Failure>(())
    })
}
