//! kubelet: cgroupfs driver (PID 1 is not systemd), our containerd, our DNS and
//! resolv.conf, state under the state dir.
use anyhow::Result;

use super::containerd;
use super::layout::{Layout, BRIDGE_IP, CLUSTER_DOMAIN, DNS_SERVICE_IP, NODE_NAME};
use super::pki;
use super::process::Daemon;
use crate::tools;

pub const NAME: &str = "kubelet";

pub fn daemon<'a>(layout: &Layout) -> Result<Daemon<'a>> {
    let config = layout.config("kubelet.yaml");
    Ok(Daemon {
        name: NAME,
        program: tools::tool_path(NAME)?,
        args: vec![
            format!("--config={}", config.display()),
            format!("--kubeconfig={}", layout.component_kubeconfig(pki::KUBELET.file).display()),
            format!("--root-dir={}", layout.kubelet_root().display()),
            format!("--cert-dir={}", layout.kubelet_root().join("pki").display()),
            format!("--hostname-override={NODE_NAME}"),
            // The node's address is the bridge's: the host's own interfaces lead
            // outside, where cluster traffic must not go.
            format!("--node-ip={BRIDGE_IP}"),
        ],
        env: vec![],
        files: vec![(config.clone(), config_yaml(layout))],
    })
}

fn config_yaml(layout: &Layout) -> String {
    format!(
        r#"apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: {BRIDGE_IP}
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: {ca}
authorization:
  mode: Webhook
cgroupDriver: cgroupfs
# From 1.35 on kubelet refuses to start on a cgroup v1 host (this one) unless told so;
# 1.34 only warned. cgroup v1 is in maintenance upstream, and nothing here needs v2.
failCgroupV1: false
containerRuntimeEndpoint: {runtime}
failSwapOn: false
clusterDNS:
- {DNS_SERVICE_IP}
clusterDomain: {CLUSTER_DOMAIN}
resolvConf: {resolv}
# Test workloads must not be evicted because the shared disk is fuller than a
# production node would tolerate. Absolute floors, not percentages: 1 % of a 252 GiB
# disk is 2.7 GB, and a CI run evicted PostgreSQL with 2.6 GB still free.
evictionHard:
  memory.available: "100Mi"
  nodefs.available: "256Mi"
  nodefs.inodesFree: "1%"
  imagefs.available: "256Mi"
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
serializeImagePulls: false
rotateCertificates: false
serverTLSBootstrap: false
"#,
        ca = layout.pki_file("ca.crt").display(),
        runtime = containerd::socket_url(layout),
        resolv = layout.resolv_conf().display(),
    )
}
