//! What buildkitd is started with: its command line and its `buildkitd.toml`. Pure functions
//! of [`Settings`], so the tests read the exact text the daemon gets.
use std::path::PathBuf;

use crate::cluster::layout::REGISTRY;

/// Debian's runc (the `runc` package the cluster installs too).
pub const RUNC: &str = "/usr/sbin/runc";

/// Registries BuildKit talks to over plain HTTP: the local one, under both names a
/// Dockerfile or `--output name=…` may use.
pub fn insecure_registries() -> [String; 2] {
    let (_, port) = REGISTRY.rsplit_once(':').expect("the registry address has a port");
    [REGISTRY.to_string(), format!("localhost:{port}")]
}

/// Build cache BuildKit keeps before its garbage collector frees space (it only removes
/// records nothing uses, oldest first).
const KEEP_STORAGE_MB: u64 = 10 * 1024;

/// Where the daemon keeps its files.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The unix socket clients connect to.
    pub socket: PathBuf,
    /// buildkitd's `--root`: snapshots, content store and build cache.
    pub state_dir: PathBuf,
    pub config_file: PathBuf,
}

impl Settings {
    /// What clients put in `BUILDKIT_HOST` or `buildctl --addr`.
    pub fn buildkit_host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }
}

/// buildkitd's flags. Only the OCI worker, with runc and the host's network for RUN steps:
/// builds here never need a network of their own, and a CNI setup would be one more thing
/// to install.
pub fn daemon_args(settings: &Settings) -> Vec<String> {
    vec![
        format!("--config={}", settings.config_file.display()),
        format!("--addr={}", settings.buildkit_host()),
        format!("--root={}", settings.state_dir.display()),
        "--oci-worker=true".to_string(),
        "--containerd-worker=false".to_string(),
        "--oci-worker-net=host".to_string(),
        format!("--oci-worker-binary={RUNC}"),
    ]
}

/// `buildkitd.toml`: plain HTTP for the local registry (pulls of the base images and
/// pushes of build results) and a bounded build cache.
pub fn render_toml() -> String {
    let mut toml = String::from(
        "# Written by `cargo xtask buildkit up`; edits are overwritten on the next start.\n\
         # Worker selection, socket and state directory are on buildkitd's command line.\n\n\
         [worker.oci]\n  gc = true\n",
    );
    toml.push_str(&format!("  gckeepstorage = \"{KEEP_STORAGE_MB}MB\"\n"));
    toml.push_str("\n[worker.containerd]\n  enabled = false\n");
    for registry in insecure_registries() {
        toml.push_str(&format!("\n[registry.\"{registry}\"]\n  http = true\n  insecure = true\n"));
    }
    toml
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            socket: PathBuf::from("/repo/.local-cluster/buildkit/buildkitd.sock"),
            state_dir: PathBuf::from("/cache/kubectl-codex/buildkit"),
            config_file: PathBuf::from("/repo/.local-cluster/buildkit/buildkitd.toml"),
        }
    }

    #[test]
    fn clients_reach_the_daemon_at_its_unix_socket() {
        assert_eq!(settings().buildkit_host(), "unix:///repo/.local-cluster/buildkit/buildkitd.sock");
    }

    #[test]
    fn the_daemon_runs_only_the_runc_worker_on_the_host_network() {
        let args = daemon_args(&settings());
        for expected in [
            "--addr=unix:///repo/.local-cluster/buildkit/buildkitd.sock",
            "--root=/cache/kubectl-codex/buildkit",
            "--config=/repo/.local-cluster/buildkit/buildkitd.toml",
            "--oci-worker=true",
            "--containerd-worker=false",
            "--oci-worker-net=host",
            "--oci-worker-binary=/usr/sbin/runc",
        ] {
            assert!(args.iter().any(|a| a == expected), "{expected} in {args:?}");
        }
    }

    #[test]
    fn both_names_of_the_local_registry_are_plain_http() {
        let toml = render_toml();
        for registry in ["127.0.0.1:5000", "localhost:5000"] {
            let section = format!("[registry.\"{registry}\"]\n  http = true\n  insecure = true\n");
            assert!(toml.contains(&section), "{section} in\n{toml}");
        }
        assert!(toml.contains("[worker.containerd]\n  enabled = false\n"), "{toml}");
    }
}
