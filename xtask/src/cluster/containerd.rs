//! Our own containerd instance (Debian's 1.6): its own config, root, state and
//! socket, so it never touches a system containerd; cgroupfs driver, images from
//! the local plain-HTTP registry, CNI from our config dir and Debian's plugins.
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::Result;

use super::layout::{Layout, REGISTRY};
use super::packages::CNI_BIN_DIR;
use super::process::{self, Daemon};

pub const NAME: &str = "containerd";
/// The containerd namespace the CRI plugin keeps Kubernetes' containers in.
const K8S_NAMESPACE: &str = "k8s.io";
const CTR: &str = "/usr/bin/ctr";

pub fn daemon<'a>(layout: &Layout, sandbox_image: &str) -> Result<Daemon<'a>> {
    let config = layout.config("containerd.toml");
    Ok(Daemon {
        name: NAME,
        program: PathBuf::from("/usr/bin/containerd"),
        args: vec!["--config".into(), config.display().to_string()],
        env: vec![],
        files: vec![(config, config_toml(layout, sandbox_image)), registry_hosts(layout)],
    })
}

pub fn socket_url(layout: &Layout) -> String {
    format!("unix://{}", layout.containerd_socket().display())
}

/// Whether the daemon answers on its socket.
pub fn responds(layout: &Layout) -> bool {
    ctr(layout, &["version"]).is_ok()
}

/// The registry speaks plain HTTP on loopback and is the only one reachable.
fn registry_hosts(layout: &Layout) -> (PathBuf, String) {
    let registry = REGISTRY;
    let path = layout.containerd().join("certs.d").join(registry).join("hosts.toml");
    let content = format!(
        "server = \"http://{registry}\"\n\n[host.\"http://{registry}\"]\n  capabilities = [\"pull\", \"resolve\"]\n"
    );
    (path, content)
}

fn config_toml(layout: &Layout, sandbox_image: &str) -> String {
    let base = layout.containerd();
    format!(
        r#"version = 2
root = "{root}"
state = "{state}"

[grpc]
  address = "{socket}"

[plugins."io.containerd.internal.v1.opt"]
  path = "{opt}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{sandbox_image}"
  stream_server_address = "127.0.0.1"
  enable_selinux = false
  # These machines withhold CAP_SYS_RESOURCE even from root, so the negative
  # oom_score_adj kubelet asks for (-998 for sandboxes) would make runc fail;
  # clamp it to containerd's own value instead.
  restrict_oom_score_adj = true

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        SystemdCgroup = false

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{cni_bin}"
    conf_dir = "{cni_conf}"

  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{certs_d}"
"#,
        root = base.join("root").display(),
        state = base.join("state").display(),
        socket = layout.containerd_socket().display(),
        opt = base.join("opt").display(),
        cni_bin = CNI_BIN_DIR,
        cni_conf = layout.cni_conf_dir().display(),
        certs_d = base.join("certs.d").display(),
    )
}

/// Kills every Kubernetes container and stops containerd, leaving no shim or
/// network namespace behind. Kubelet must already be stopped, or it would
/// restart what is killed here.
pub fn stop_with_containers(layout: &Layout) -> Result<()> {
    let mut namespaces = Vec::new();
    if responds(layout) {
        namespaces = sandbox_network_namespaces(layout);
        let tasks = ctr(layout, &["-n", K8S_NAMESPACE, "tasks", "ls", "-q"]).unwrap_or_default();
        for id in tasks.lines().filter(|l| !l.is_empty()) {
            // `rm -f` kills the task first; an already gone task is fine.
            let _ = ctr(layout, &["-n", K8S_NAMESPACE, "tasks", "rm", "-f", id]);
        }
    }
    process::stop(layout, NAME, Duration::from_secs(10))?;
    let socket = layout.containerd_socket().display().to_string();
    for pid in process::pids_with_arg(&socket) {
        process::terminate(pid, Duration::from_secs(5))?;
    }
    for path in namespaces {
        super::mounts::unmount(&path)?;
        let _ = fs::remove_file(&path);
    }
    Ok(())
}

/// Network namespaces the CRI plugin created for pod sandboxes (bind mounts
/// under /var/run/netns, outside our state dir).
fn sandbox_network_namespaces(layout: &Layout) -> Vec<PathBuf> {
    let ids = ctr(layout, &["-n", K8S_NAMESPACE, "containers", "ls", "-q"]).unwrap_or_default();
    let mut paths = Vec::new();
    for id in ids.lines().filter(|l| !l.is_empty()) {
        let Ok(info) = ctr(layout, &["-n", K8S_NAMESPACE, "containers", "info", id]) else {
            continue;
        };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&info) else {
            continue;
        };
        let namespaces = json.pointer("/Spec/linux/namespaces").and_then(|n| n.as_array()).cloned().unwrap_or_default();
        for ns in namespaces {
            if ns["type"] == "network" {
                if let Some(path) =
                    ns["path"].as_str().filter(|p| p.starts_with("/var/run/netns/") || p.starts_with("/run/netns/"))
                {
                    if !paths.iter().any(|p: &PathBuf| p == Path::new(path)) {
                        paths.push(PathBuf::from(path));
                    }
                }
            }
        }
    }
    paths
}

/// Runs `ctr` against our socket.
pub fn ctr(layout: &Layout, args: &[&str]) -> Result<String> {
    let mut ctr = Command::new(CTR);
    ctr.arg("--address").arg(layout.containerd_socket()).args(["--timeout", "10s"]).args(args);
    Ok(crate::exec::stdout(&mut ctr)?)
}
