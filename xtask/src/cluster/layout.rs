//! Where the local cluster keeps its files, and the fixed facts of its network.
//!
//! Everything lives under `.local-cluster/` in the repository root (gitignored),
//! except the registry's storage, which sits in the tool cache so pushed images
//! survive `cluster down`.
use std::path::PathBuf;

use anyhow::Result;

/// The node's name, also the CN of its client certificate.
pub const NODE_NAME: &str = "codex-node";
/// Our own bridge; the pod network's gateway, node IP and apiserver advertise address.
pub const BRIDGE: &str = "codex0";
pub const BRIDGE_IP: &str = "10.244.0.1";
pub const POD_CIDR: &str = "10.244.0.0/24";
pub const SERVICE_CIDR: &str = "10.96.0.0/16";
/// First address of the service CIDR: the `kubernetes` Service.
pub const KUBERNETES_SERVICE_IP: &str = "10.96.0.1";
pub const DNS_SERVICE_IP: &str = "10.96.0.10";
pub const CLUSTER_DOMAIN: &str = "cluster.local";
pub const APISERVER_PORT: u16 = 6443;
pub const ETCD_CLIENT_URL: &str = "http://127.0.0.1:2379";
pub const ETCD_PEER_URL: &str = "http://127.0.0.1:2380";
/// The local registry, on loopback only: the node pulls from it, xtask pushes to it (unless
/// `$CODEX_REGISTRY` says otherwise, see `images::oci::registry_address`). Defined here once.
pub const REGISTRY: &str = "127.0.0.1:5000";
/// The default StorageClass and the provisioner that serves it.
pub const STORAGE_CLASS: &str = "codex-local";
pub const PROVISIONER_NAME: &str = "codex.local/hostpath";

/// Paths of one cluster's state directory.
#[derive(Debug, Clone)]
pub struct Layout {
    pub root: PathBuf,
}

impl Layout {
    /// The repository's `.local-cluster/`.
    pub fn for_repo() -> Result<Layout> {
        let repo = crate::repo::repo_root().canonicalize()?;
        Ok(Layout { root: repo.join(".local-cluster") })
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.root.join("kubeconfig")
    }
    pub fn pki(&self) -> PathBuf {
        self.root.join("pki")
    }
    pub fn pki_file(&self, name: &str) -> PathBuf {
        self.pki().join(name)
    }
    /// Kubeconfigs of the components (the admin one is [`Layout::kubeconfig`]).
    pub fn component_kubeconfig(&self, component: &str) -> PathBuf {
        self.root.join("kubeconfigs").join(format!("{component}.conf"))
    }
    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }
    pub fn log(&self, component: &str) -> PathBuf {
        self.logs().join(format!("{component}.log"))
    }
    pub fn pid_file(&self, component: &str) -> PathBuf {
        self.run_file(&format!("{component}.pid"))
    }
    /// Small runtime records (pids, values to restore on `down`).
    pub fn run_file(&self, name: &str) -> PathBuf {
        self.root.join("run").join(name)
    }
    pub fn config_dir(&self) -> PathBuf {
        self.root.join("config")
    }
    pub fn config(&self, name: &str) -> PathBuf {
        self.config_dir().join(name)
    }
    pub fn etcd_data(&self) -> PathBuf {
        self.root.join("etcd")
    }
    pub fn containerd(&self) -> PathBuf {
        self.root.join("containerd")
    }
    pub fn containerd_socket(&self) -> PathBuf {
        self.containerd().join("containerd.sock")
    }
    pub fn kubelet_root(&self) -> PathBuf {
        self.root.join("kubelet")
    }
    pub fn cni_conf_dir(&self) -> PathBuf {
        self.root.join("cni/net.d")
    }
    pub fn cni_ipam_dir(&self) -> PathBuf {
        self.root.join("cni/ipam")
    }
    /// The node's resolv.conf for pods: deliberately without any nameserver, so
    /// nothing inside the cluster can reach a resolver outside it.
    pub fn resolv_conf(&self) -> PathBuf {
        self.root.join("resolv.conf")
    }
    pub fn volumes(&self) -> PathBuf {
        self.root.join("volumes")
    }
    /// `cargo xtask buildkit`'s socket and config; `cluster down` leaves it alone.
    pub fn buildkit(&self) -> PathBuf {
        self.root.join("buildkit")
    }
}

/// The apiserver as clients on the host reach it.
pub fn apiserver_url() -> String {
    format!("https://127.0.0.1:{APISERVER_PORT}")
}

/// Storage of the registry, outside the state dir so images outlive `down`.
pub fn registry_storage() -> Result<PathBuf> {
    Ok(crate::tools::cache_root()?.join("registry"))
}
