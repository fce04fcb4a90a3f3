//! Every pinned version of the local toolchain and cluster, in one place.
//!
//! Bumping one of these makes `cargo xtask tools` build the new version into its
//! own cache directory (`<name>-<version>`); older builds stay until removed.

/// `k8s.io/kubernetes` (kube-apiserver, kube-controller-manager, kube-scheduler,
/// kubelet, kube-proxy). 1.34 only warns about the hosts' cgroup v1; 1.35 refuses it.
/// Must match the `require` and the staging `replace` lines in
/// `tools/go/kubernetes/go.mod`.
pub const KUBERNETES: &str = "v1.34.4";

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
