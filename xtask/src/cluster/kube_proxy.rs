//! kube-proxy in iptables mode: makes Service addresses route to pods, for pods
//! and for the host alike.
use std::fs;
use std::process::Command;

use anyhow::Result;

use super::layout::{Layout, NODE_NAME, POD_CIDR};
use super::pki;
use super::process::Daemon;
use crate::tools;

pub const NAME: &str = "kube-proxy";

pub fn daemon<'a>(layout: &Layout) -> Result<Daemon<'a>> {
    let config = layout.config("kube-proxy.yaml");
    let content = format!(
        r#"apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection:
  kubeconfig: {kubeconfig}
hostnameOverride: {NODE_NAME}
clusterCIDR: {POD_CIDR}
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# NodePorts on the node's own (bridge) address only, not on the host's uplink.
nodePortAddresses:
- primary
# Leave the host's conntrack table sizes alone.
conntrack:
  maxPerCore: 0
"#,
        kubeconfig = layout.component_kubeconfig(pki::KUBE_PROXY.file).display(),
    );
    Ok(Daemon {
        name: NAME,
        program: tools::tool_path(NAME)?,
        args: vec![format!("--config={}", config.display())],
        env: vec![],
        files: vec![(config.clone(), content)],
    })
}

/// Removes kube-proxy's iptables rules (it has a mode for exactly that).
pub fn cleanup(layout: &Layout) -> Result<()> {
    let Some(program) = tools::built_path(NAME)? else {
        return Ok(());
    };
    let output = Command::new(program).arg("--cleanup").output()?;
    if !output.status.success() {
        // Not fatal: the network teardown sweeps the remaining chains anyway.
        let _ = fs::write(layout.log("kube-proxy-cleanup"), &output.stderr);
    }
    Ok(())
}
