//! NetworkPolicy enforcement: kube-router's network-policy controller alone (no routing,
//! no service proxy, no CNI: the bridge plugin wires pods and kube-proxy serves
//! Services). It turns each policy into iptables chains (`KUBE-ROUTER-*`, `KUBE-NWPLCY-*`,
//! `KUBE-POD-FW-*`) in the filter table and ipsets (`KUBE-SRC-*`, `KUBE-DST-*`) of the
//! pods they select.
use std::process::{Command, Stdio};

use anyhow::Result;

use super::layout::{Layout, NODE_NAME, SERVICE_CIDR};
use super::process::Daemon;
use crate::tools;

pub const NAME: &str = "kube-router";

/// The chains kube-router jumps to from the filter table's built-in chains once its
/// first sync is done.
const TOP_CHAINS: [(&str, &str); 3] =
    [("INPUT", "KUBE-ROUTER-INPUT"), ("FORWARD", "KUBE-ROUTER-FORWARD"), ("OUTPUT", "KUBE-ROUTER-OUTPUT")];

/// Name prefixes of the ipsets the network-policy controller creates.
const IPSET_PREFIXES: [&str; 2] = ["KUBE-SRC-", "KUBE-DST-"];

pub fn daemon<'a>(layout: &Layout) -> Result<Daemon<'a>> {
    // The admin kubeconfig, as for the provisioner: kube-router starts informers on
    // pods, namespaces, networkpolicies, nodes, services, endpoints and endpointslices
    // (all of them, whichever controllers run) and reads its Node. No built-in role
    // grants that set; a dedicated identity would need its own certificate and a
    // ClusterRole applied before the start, for a host process of a throwaway cluster.
    Daemon::admin_client(
        NAME,
        layout,
        &[
            format!("--hostname-override={NODE_NAME}"),
            "--run-firewall=true".into(),
            "--run-router=false".into(),
            "--run-service-proxy=false".into(),
            "--run-loadbalancer=false".into(),
            "--enable-cni=false".into(),
            "--enable-ipv4=true".into(),
            "--enable-ipv6=false".into(),
            // Lets Service traffic through the policies' rules as kube-proxy's, not a pod's.
            format!("--service-cluster-ip-range={SERVICE_CIDR}"),
            // Its health server listens on every interface and cannot be bound to loopback,
            // so it stays off; metrics (off unless given a port) and pprof stay off too.
            "--health-port=0".into(),
            "--metrics-port=0".into(),
            "--enable-pprof=false".into(),
        ],
    )
}

/// Whether the controller has done its first sync: its top-level chains are hooked into
/// the filter table's INPUT, FORWARD and OUTPUT.
pub fn enforcing() -> bool {
    let Ok(output) = Command::new("iptables").args(["-w", "-t", "filter", "-S"]).stderr(Stdio::null()).output() else {
        return false;
    };
    let rules = String::from_utf8_lossy(&output.stdout);
    output.status.success()
        && TOP_CHAINS.iter().all(|(builtin, chain)| {
            rules
                .lines()
                .any(|rule| rule.starts_with(&format!("-A {builtin} ")) && rule.ends_with(&format!("-j {chain}")))
        })
}

/// Removes what kube-router left behind: its ipsets. Call after its process is gone and
/// after [`super::network::teardown`] has deleted every `KUBE-*` chain, its own among them
/// (an ipset that a rule still uses cannot be destroyed).
///
/// Not `kube-router --cleanup-config`: in v2.1.0 it runs the controllers' cleanups on empty
/// structs, so the policy controller's finds no iptables handler and removes nothing (it
/// reports success all the same), the service proxy's flushes every IPVS service on the host
/// (ours or not) and then panics on a nil pointer.
pub fn cleanup() -> Result<()> {
    if tools::on_path("ipset").is_err() {
        return Ok(()); // never installed, so kube-router never ran
    }
    for set in crate::exec::stdout(Command::new("ipset").args(["list", "-n"]))?.lines() {
        if IPSET_PREFIXES.iter().any(|prefix| set.starts_with(prefix)) {
            crate::exec::output(Command::new("ipset").args(["destroy", set]))?;
        }
    }
    Ok(())
}
