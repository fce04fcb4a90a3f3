//! Every pinned version of the local toolchain and cluster, in one place.
//!
//! Bumping one of these makes `cargo xtask tools` build the new version into its
//! own cache directory (`<name>-<version>`); older builds stay until removed.

/// One Kubernetes release line the local cluster can run: `k8s.io/kubernetes`
/// (kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy).
#[derive(Debug)]
pub struct KubernetesLine {
    /// The release; must match the `require` and the staging `replace` lines of the go.mod
    /// in `tools/go/<go_module_dir>`.
    pub version: &'static str,
    /// The folder under `tools/go/` it is built from.
    pub go_module_dir: &'static str,
}

/// The line the local cluster runs by default, and the one kubectl is built from.
/// From 1.35 on kubelet refuses cgroup v1 hosts unless `failCgroupV1: false` says otherwise.
pub const KUBERNETES: KubernetesLine = KubernetesLine { version: "v1.37.2", go_module_dir: "kubernetes" };

/// The oldest line kubectl-codex supports, for the smoke run (`CODEX_K8S_VERSION=1.34`).
pub const KUBERNETES_OLDEST: KubernetesLine = KubernetesLine { version: "v1.34.4", go_module_dir: "kubernetes-1.34" };

/// Every line `CODEX_K8S_VERSION` can select, newest first.
pub const KUBERNETES_LINES: [&KubernetesLine; 2] = [&KUBERNETES, &KUBERNETES_OLDEST];

/// Selects the local cluster's Kubernetes line: `1.37`, `v1.34.4`, … (unset: [`KUBERNETES`]).
pub const KUBERNETES_VERSION_ENV: &str = "CODEX_K8S_VERSION";

impl KubernetesLine {
    /// `1.37` for `v1.37.2`.
    pub fn minor(&self) -> &'static str {
        let bare = self.version.trim_start_matches('v');
        bare.rfind('.').map_or(bare, |end| &bare[..end])
    }
}

/// The line `CODEX_K8S_VERSION` selects, by minor (`1.34`) or exact version (`v1.34.4`).
pub fn kubernetes_line() -> anyhow::Result<&'static KubernetesLine> {
    let asked = std::env::var(KUBERNETES_VERSION_ENV).unwrap_or_default();
    select_kubernetes_line(&asked)
}

fn select_kubernetes_line(asked: &str) -> anyhow::Result<&'static KubernetesLine> {
    let asked = asked.trim();
    if asked.is_empty() {
        return Ok(&KUBERNETES);
    }
    let bare = asked.trim_start_matches('v');
    KUBERNETES_LINES
        .into_iter()
        .find(|line| bare == line.minor() || bare == line.version.trim_start_matches('v'))
        .ok_or_else(|| {
            let known: Vec<String> =
                KUBERNETES_LINES.iter().map(|l| format!("{} ({})", l.minor(), l.version)).collect();
            anyhow::anyhow!(
                "{KUBERNETES_VERSION_ENV}={asked:?} is not a line the local cluster builds; choose one of {}",
                known.join(", ")
            )
        })
}

/// `go.etcd.io/etcd/server/v3`; must match `tools/go/etcd/go.mod`.
pub const ETCD: &str = "v3.6.16";

/// `github.com/coredns/coredns`; must match `tools/go/coredns/go.mod`.
pub const COREDNS: &str = "v1.14.7";

/// `github.com/google/go-containerregistry` (crane, and the registry handler in
/// `tools/go/registry/go.mod`).
pub const GO_CONTAINERREGISTRY: &str = "v0.22.1";

/// `helm.sh/helm/v4`: the Helm everything is tested with by default.
pub const HELM: &str = "v4.3.2";

/// `helm.sh/helm/v3`: the Helm of the compatibility run (security fixes until February 2027).
pub const HELM3: &str = "v3.22.0";

/// `sigs.k8s.io/krew` (krew and validate-krew-manifest, for the install checks of
/// `cargo xtask test`).
pub const KREW: &str = "v0.4.3";

/// `github.com/moby/buildkit` (buildkitd and buildctl, for `cargo xtask buildkit`); must match
/// `tools/go/buildkit/go.mod`. Needs Go 1.26.8 or newer on the host.
pub const BUILDKIT: &str = "v0.34.2";

/// `github.com/cloudnativelabs/kube-router/v2`: only its network-policy controller runs, so the
/// local cluster enforces NetworkPolicy. The newest version the Go module proxy serves us.
/// Security advisories are reported against v2.1.0; that is acceptable here only because it
/// runs in the local test cluster and is never shipped. Bump it once a newer one is served.
pub const KUBE_ROUTER: &str = "v2.1.0";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_lines_are_selected_by_minor_or_exact_version() {
        assert_eq!(select_kubernetes_line("").unwrap().version, KUBERNETES.version);
        assert_eq!(select_kubernetes_line("1.34").unwrap().version, KUBERNETES_OLDEST.version);
        assert_eq!(select_kubernetes_line("v1.34.4").unwrap().version, KUBERNETES_OLDEST.version);
        assert_eq!(select_kubernetes_line("1.37").unwrap().version, KUBERNETES.version);
        let error = select_kubernetes_line("1.30").unwrap_err().to_string();
        assert!(error.contains("1.34 (v1.34.4)") && error.contains("1.37"), "{error}");
        assert!(select_kubernetes_line("v1.34.9").is_err());
    }

    /// kubectl-codex finds the helm and buildctl this file pins in the tool cache by their
    /// versions, so its own constants must name the same ones.
    #[test]
    fn kubectl_codex_looks_for_the_pinned_helm_and_buildctl() {
        let root = crate::repo::repo_root();
        let helm = std::fs::read_to_string(root.join("src/helm/mod.rs")).unwrap();
        assert!(helm.contains(&format!("pub const TESTED_VERSION: &str = \"{HELM}\";")), "src/helm/mod.rs");
        assert!(helm.contains(&format!("pub const TESTED_HELM3_VERSION: &str = \"{HELM3}\";")), "src/helm/mod.rs");
        let builder = std::fs::read_to_string(root.join("src/build/builder.rs")).unwrap();
        let pin = format!("pub const TESTED_BUILDKIT_VERSION: &str = \"{BUILDKIT}\";");
        assert!(builder.contains(&pin), "src/build/builder.rs");
    }
}
