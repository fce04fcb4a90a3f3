//! kube-apiserver, kube-controller-manager and kube-scheduler.
//!
//! The apiserver listens on all addresses: clients on the host use 127.0.0.1,
//! while pods reach it through the `kubernetes` Service, whose endpoint is the
//! bridge address (an endpoint may not be a loopback address).
use anyhow::Result;

use super::layout::{Layout, APISERVER_PORT, BRIDGE_IP, CLUSTER_DOMAIN, ETCD_CLIENT_URL, SERVICE_CIDR};
use super::pki;
use super::process::Daemon;
use crate::tools;

pub const APISERVER: &str = "kube-apiserver";
pub const CONTROLLER_MANAGER: &str = "kube-controller-manager";
pub const SCHEDULER: &str = "kube-scheduler";

pub fn apiserver<'a>(layout: &Layout) -> Result<Daemon<'a>> {
    let pki = |name: &str| layout.pki_file(name).display().to_string();
    let kubelet_client = pki::APISERVER_KUBELET_CLIENT.file;
    Ok(Daemon {
        name: APISERVER,
        program: tools::tool_path(APISERVER)?,
        args: vec![
            format!("--advertise-address={BRIDGE_IP}"),
            "--bind-address=0.0.0.0".into(),
            format!("--secure-port={APISERVER_PORT}"),
            format!("--etcd-servers={ETCD_CLIENT_URL}"),
            format!("--service-cluster-ip-range={SERVICE_CIDR}"),
            format!("--client-ca-file={}", pki("ca.crt")),
            format!("--tls-cert-file={}", pki("apiserver.crt")),
            format!("--tls-private-key-file={}", pki("apiserver.key")),
            format!("--kubelet-client-certificate={}", pki(&format!("{kubelet_client}.crt"))),
            format!("--kubelet-client-key={}", pki(&format!("{kubelet_client}.key"))),
            "--kubelet-preferred-address-types=InternalIP".into(),
            format!("--service-account-issuer=https://kubernetes.default.svc.{CLUSTER_DOMAIN}"),
            format!("--service-account-key-file={}", pki("sa.pub")),
            format!("--service-account-signing-key-file={}", pki("sa.key")),
            format!("--requestheader-client-ca-file={}", pki("front-proxy-ca.crt")),
            format!("--requestheader-allowed-names={}", pki::FRONT_PROXY_CLIENT),
            "--requestheader-username-headers=X-Remote-User".into(),
            "--requestheader-group-headers=X-Remote-Group".into(),
            "--requestheader-extra-headers-prefix=X-Remote-Extra-".into(),
            format!("--proxy-client-cert-file={}", pki("front-proxy-client.crt")),
            format!("--proxy-client-key-file={}", pki("front-proxy-client.key")),
            "--authorization-mode=Node,RBAC".into(),
            "--enable-admission-plugins=NodeRestriction".into(),
            "--allow-privileged=true".into(),
            "--profiling=false".into(),
        ],
        env: vec![],
        files: vec![],
    })
}

pub fn controller_manager<'a>(layout: &Layout) -> Result<Daemon<'a>> {
    let pki = |name: &str| layout.pki_file(name).display().to_string();
    let kubeconfig = layout.component_kubeconfig(pki::CONTROLLER_MANAGER.file).display().to_string();
    Ok(Daemon {
        name: CONTROLLER_MANAGER,
        program: tools::tool_path(CONTROLLER_MANAGER)?,
        args: vec![
            format!("--kubeconfig={kubeconfig}"),
            format!("--authentication-kubeconfig={kubeconfig}"),
            format!("--authorization-kubeconfig={kubeconfig}"),
            "--bind-address=127.0.0.1".into(),
            format!("--cluster-signing-cert-file={}", pki("ca.crt")),
            format!("--cluster-signing-key-file={}", pki("ca.key")),
            format!("--root-ca-file={}", pki("ca.crt")),
            format!("--service-account-private-key-file={}", pki("sa.key")),
            "--use-service-account-credentials=true".into(),
            format!("--service-cluster-ip-range={SERVICE_CIDR}"),
            // The pod CIDR is fixed in the CNI config; nothing to allocate.
            "--allocate-node-cidrs=false".into(),
            // One instance only: leader election would just delay the start.
            "--leader-elect=false".into(),
            "--profiling=false".into(),
        ],
        env: vec![],
        files: vec![],
    })
}

pub fn scheduler<'a>(layout: &Layout) -> Result<Daemon<'a>> {
    let kubeconfig = layout.component_kubeconfig(pki::SCHEDULER.file).display().to_string();
    Ok(Daemon {
        name: SCHEDULER,
        program: tools::tool_path(SCHEDULER)?,
        args: vec![
            format!("--kubeconfig={kubeconfig}"),
            format!("--authentication-kubeconfig={kubeconfig}"),
            format!("--authorization-kubeconfig={kubeconfig}"),
            "--bind-address=127.0.0.1".into(),
            "--leader-elect=false".into(),
            "--profiling=false".into(),
        ],
        env: vec![],
        files: vec![],
    })
}
