//! `cargo xtask tools`: pinned Go binaries built through the Go module proxy into
//! `~/.cache/kubectl-codex/tools/<name>-<version>/<binary>` (or under `$XDG_CACHE_HOME`).
//!
//! A tool directory that exists is complete: builds go to `<dir>.partial` and are
//! renamed into place, so an interrupted build is redone instead of half-used.
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::versions;

/// How a tool is built.
// Every recipe is a Go build; the names say which `go` invocation, so the shared prefix stays.
#[allow(clippy::enum_variant_names)]
enum Recipe {
    /// `go install <package>@<version>...`: for modules without `replace` directives.
    GoInstall { packages: &'static [&'static str] },
    /// `go build` of packages inside one of our modules under `tools/go/<dir>`, for
    /// modules that `go install` refuses or sources of our own.
    GoModule { dir: &'static str, packages: &'static [&'static str] },
    /// `go build -mod=mod` in a temporary copy of one of our modules: for a command whose
    /// extra dependencies that module's go.sum does not list (kubectl next to the cluster's
    /// binaries), so the go.mod and go.sum the cluster is built from stay exactly as reviewed.
    GoModuleCopy { dir: &'static str, packages: &'static [&'static str] },
}

/// Which version names the cache directory.
enum Version {
    /// An upstream release; `module` is checked against our go.mod, if any, so the
    /// pin in `versions.rs` and the one Go builds cannot drift apart.
    Pinned { version: &'static str, module: &'static str },
    /// Code of ours: the digest of its sources, so an edit triggers a rebuild.
    Sources,
}

struct Tool {
    name: &'static str,
    version: Version,
    binaries: &'static [&'static str],
    recipe: Recipe,
    /// `-X` linker flags that stamp the release version (the argument) where upstream's
    /// release scripts would; without them Kubernetes reports `v0.0.0-master` (which
    /// breaks Helm's `kubeVersion` checks) and Helm reports `v3.22`.
    stamp: fn(&str) -> Vec<String>,
}

fn no_stamp(_version: &str) -> Vec<String> {
    Vec::new()
}

fn kubernetes_stamp(version: &str) -> Vec<String> {
    let mut parts = version.trim_start_matches('v').split('.');
    let major = parts.next().unwrap_or_default();
    let minor = parts.next().unwrap_or_default();
    ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]
        .iter()
        .flat_map(|package| {
            [
                format!("-X {package}.gitVersion={version}"),
                format!("-X {package}.gitMajor={major}"),
                format!("-X {package}.gitMinor={minor}"),
                format!("-X {package}.gitTreeState=clean"),
            ]
        })
        .collect()
}

/// What `kube-router --version` reports (upstream's Makefile stamps the git commit there).
fn kube_router_stamp(version: &str) -> Vec<String> {
    vec![format!("-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version={version}")]
}

/// The Kubernetes version Helm 3's release build stamps as the default for `helm
/// template` and `helm lint` (its Makefile takes client-go's minor: v0.37 for
/// Helm v3.22.0). Follows from [`versions::HELM3`]; change them together. Helm 4 reads
/// client-go's version from the binary's build info, so it needs no stamp for this.
const HELM3_DEFAULT_KUBE_VERSION: (&str, &str) = ("1", "37");

fn helm_stamp(version: &str) -> Vec<String> {
    vec![format!("-X helm.sh/helm/v4/internal/version.version={version}")]
}

fn helm3_stamp(version: &str) -> Vec<String> {
    let (major, minor) = HELM3_DEFAULT_KUBE_VERSION;
    let mut flags = vec![format!("-X helm.sh/helm/v3/internal/version.version={version}")];
    for package in ["helm.sh/helm/v3/pkg/chartutil", "helm.sh/helm/v3/pkg/lint/rules"] {
        flags.push(format!("-X {package}.k8sVersionMajor={major}"));
        flags.push(format!("-X {package}.k8sVersionMinor={minor}"));
    }
    flags
}

/// What `buildkitd --version` and `buildctl --version` report (upstream's Dockerfile sets
/// the same variables from git).
fn buildkit_stamp(version: &str) -> Vec<String> {
    vec![format!("-X github.com/moby/buildkit/version.Version={version}")]
}

const KUBERNETES_BINARIES: &[&str] =
    &["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"];

/// The tool name of every Kubernetes line (their cache folders differ by version).
const KUBERNETES_TOOL: &str = "kubernetes";

/// The cluster's binaries of one Kubernetes line.
const fn kubernetes_tool(line: &'static versions::KubernetesLine) -> Tool {
    Tool {
        name: KUBERNETES_TOOL,
        version: Version::Pinned { version: line.version, module: "k8s.io/kubernetes" },
        binaries: KUBERNETES_BINARIES,
        // One `go build` for all five shares the compilation of their common packages.
        recipe: Recipe::GoModule {
            dir: line.go_module_dir,
            packages: &[
                "k8s.io/kubernetes/cmd/kube-apiserver",
                "k8s.io/kubernetes/cmd/kube-controller-manager",
                "k8s.io/kubernetes/cmd/kube-scheduler",
                "k8s.io/kubernetes/cmd/kubelet",
                "k8s.io/kubernetes/cmd/kube-proxy",
            ],
        },
        stamp: kubernetes_stamp,
    }
}

/// A tool built, unstamped, from the main package of our module `tools/go/<name>` (our own
/// sources, or a wrapper that pins the upstream module).
const fn go_module(name: &'static str, binaries: &'static [&'static str], version: Version) -> Tool {
    Tool { name, version, binaries, recipe: Recipe::GoModule { dir: name, packages: &["."] }, stamp: no_stamp }
}

/// A tool `go install` builds at `(version, module)`: `packages`, giving `binaries`.
const fn go_install(
    name: &'static str,
    (version, module): (&'static str, &'static str),
    binaries: &'static [&'static str],
    packages: &'static [&'static str],
    stamp: fn(&str) -> Vec<String>,
) -> Tool {
    Tool { name, version: Version::Pinned { version, module }, binaries, recipe: Recipe::GoInstall { packages }, stamp }
}

const TOOLS: &[Tool] = &[
    // Both lines are listed; `find` and `run` take the one CODEX_K8S_VERSION selects.
    kubernetes_tool(&versions::KUBERNETES),
    kubernetes_tool(&versions::KUBERNETES_OLDEST),
    go_module("etcd", &["etcd"], Version::Pinned { version: versions::ETCD, module: "go.etcd.io/etcd/server/v3" }),
    go_module(
        "coredns",
        &["coredns"],
        Version::Pinned { version: versions::COREDNS, module: "github.com/coredns/coredns" },
    ),
    go_install(
        "crane",
        (versions::GO_CONTAINERREGISTRY, "github.com/google/go-containerregistry"),
        &["crane"],
        &["github.com/google/go-containerregistry/cmd/crane"],
        no_stamp,
    ),
    go_install("helm", (versions::HELM, "helm.sh/helm/v4"), &["helm"], &["helm.sh/helm/v4/cmd/helm"], helm_stamp),
    // After `helm`, so that the binary name `helm` finds Helm 4; `helm3` names this one.
    go_install("helm3", (versions::HELM3, "helm.sh/helm/v3"), &["helm"], &["helm.sh/helm/v3/cmd/helm"], helm3_stamp),
    Tool {
        name: "kubectl",
        // Always from the default line: one kubectl for either cluster (it only applies, reads
        // and waits, which the oldest line serves the same way).
        version: Version::Pinned { version: versions::KUBERNETES.version, module: "k8s.io/kubernetes" },
        binaries: &["kubectl"],
        recipe: Recipe::GoModuleCopy {
            dir: versions::KUBERNETES.go_module_dir,
            packages: &["k8s.io/kubernetes/cmd/kubectl"],
        },
        stamp: kubernetes_stamp,
    },
    // Unstamped on purpose: krew without a release tag counts as a development build and
    // never asks GitHub for a newer release. KREW_NO_UPGRADE_CHECK does the same, but
    // validate-krew-manifest runs `kubectl krew install` with a cleared environment.
    go_install(
        "krew",
        (versions::KREW, "sigs.k8s.io/krew"),
        &["krew", "validate-krew-manifest"],
        &["sigs.k8s.io/krew/cmd/krew", "sigs.k8s.io/krew/cmd/validate-krew-manifest"],
        no_stamp,
    ),
    Tool {
        name: "buildkit",
        version: Version::Pinned { version: versions::BUILDKIT, module: "github.com/moby/buildkit" },
        binaries: &["buildkitd", "buildctl"],
        // Static and without upstream's cgo-only `seccomp` tag: RUN steps then get no
        // seccomp profile from buildkitd, which local builds of our own sources do not need.
        recipe: Recipe::GoModule {
            dir: "buildkit",
            packages: &["github.com/moby/buildkit/cmd/buildkitd", "github.com/moby/buildkit/cmd/buildctl"],
        },
        stamp: buildkit_stamp,
    },
    // Its go.mod has no `replace` directives, so `go install` builds it as released.
    go_install(
        "kube-router",
        (versions::KUBE_ROUTER, "github.com/cloudnativelabs/kube-router/v2"),
        &["kube-router"],
        &["github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"],
        kube_router_stamp,
    ),
    go_module("registry", &["registry"], Version::Sources),
    go_module("pause", &["pause"], Version::Sources),
    go_module("provisioner", &["provisioner"], Version::Sources),
];

/// Names accepted by `cargo xtask tools` and [`tool_path`]: tool names and binary names.
pub fn known_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = TOOLS.iter().map(|t| t.name).collect();
    names.dedup(); // the Kubernetes lines share one name, and stand next to each other
    for tool in TOOLS {
        for binary in tool.binaries {
            if !names.contains(binary) {
                names.push(binary);
            }
        }
    }
    names
}

/// Path of a pinned binary (e.g. `kubelet`, `crane`, `helm`), building it first if missing.
pub fn tool_path(name: &str) -> Result<PathBuf> {
    let tool = find(name)?;
    let binary = if tool.binaries.contains(&name) { name } else { tool.binaries[0] };
    Ok(ensure(tool)?.join(binary))
}

/// The version label of a tool's cache directory: its pin, or `src-<digest>` for
/// our own sources (a good image tag for what is built from it).
pub fn version_of(name: &str) -> Result<String> {
    version_label(find(name)?)
}

/// Path of a pinned binary if it is already built (never builds: for teardown).
pub fn built_path(name: &str) -> Result<Option<PathBuf>> {
    let tool = find(name)?;
    let dir = cache_root()?.join("tools").join(format!("{}-{}", tool.name, version_label(tool)?));
    let binary = if tool.binaries.contains(&name) { name } else { tool.binaries[0] };
    Ok(complete(tool, &dir).then(|| dir.join(binary)))
}

/// `cargo xtask tools [NAME...]`: builds the named tools, or all of them (of the Kubernetes
/// lines, the selected one).
pub fn run(names: &[String]) -> Result<()> {
    let selected: Vec<&Tool> = if names.is_empty() {
        let line = versions::kubernetes_line()?;
        TOOLS.iter().filter(|t| t.name != KUBERNETES_TOOL || is_line(t, line)).collect()
    } else {
        names.iter().map(|n| find(n)).collect::<Result<_>>()?
    };
    for tool in selected {
        let dir = ensure(tool)?;
        for binary in tool.binaries {
            println!("{}", dir.join(binary).display());
        }
    }
    Ok(())
}

/// A tool by its name, or by a binary's name. Kubernetes (and its binaries) is the line
/// `CODEX_K8S_VERSION` selects.
fn find(name: &str) -> Result<&'static Tool> {
    if name == KUBERNETES_TOOL || KUBERNETES_BINARIES.contains(&name) {
        let line = versions::kubernetes_line()?;
        return TOOLS
            .iter()
            .find(|t| t.name == KUBERNETES_TOOL && is_line(t, line))
            .with_context(|| format!("no tool builds Kubernetes {}", line.version));
    }
    TOOLS
        .iter()
        .find(|t| t.name == name)
        .or_else(|| TOOLS.iter().find(|t| t.binaries.contains(&name)))
        .with_context(|| format!("unknown tool {name:?}; known: {}", known_names().join(", ")))
}

fn is_line(tool: &Tool, line: &versions::KubernetesLine) -> bool {
    matches!(tool.version, Version::Pinned { version, .. } if version == line.version)
}

/// Root of the tool cache, honouring `$XDG_CACHE_HOME`.
pub fn cache_root() -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?).join(".cache"),
    };
    Ok(base.join("kubectl-codex"))
}

fn go_sources_dir(dir: &str) -> PathBuf {
    crate::repo::repo_root().join("tools/go").join(dir)
}

fn version_label(tool: &Tool) -> Result<String> {
    match tool.version {
        Version::Pinned { version, .. } => Ok(version.to_string()),
        Version::Sources => {
            let Recipe::GoModule { dir, .. } = tool.recipe else {
                bail!("{}: only our own Go modules are versioned by their sources", tool.name)
            };
            Ok(format!("src-{}", sources_digest(&go_sources_dir(dir))?))
        }
    }
}

/// Digest of a module directory's go.mod, go.sum and Go files (the build inputs).
pub fn sources_digest(dir: &Path) -> Result<String> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name == "go.mod" || name == "go.sum" || name.ends_with(".go")
        })
        .collect();
    files.sort();
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(file.file_name().unwrap_or_default().as_encoded_bytes());
        hasher.update(fs::read(&file).with_context(|| format!("reading {}", file.display()))?);
    }
    let digest = hasher.finalize();
    Ok(digest[..6].iter().map(|b| format!("{b:02x}")).collect())
}

/// The tool's cache directory, built if it does not exist yet.
fn ensure(tool: &Tool) -> Result<PathBuf> {
    let root = cache_root()?.join("tools");
    let dir = root.join(format!("{}-{}", tool.name, version_label(tool)?));
    if complete(tool, &dir) {
        return Ok(dir);
    }
    fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    // Two xtask runs (say, a test and a demo) must not build into one directory.
    let lock_path = root.join(format!("{}.lock", tool.name));
    let lock = File::create(&lock_path).with_context(|| format!("creating {}", lock_path.display()))?;
    lock.lock().with_context(|| format!("locking {}", lock_path.display()))?;
    if complete(tool, &dir) {
        return Ok(dir);
    }
    build(tool, &dir)?;
    Ok(dir)
}

fn complete(tool: &Tool, dir: &Path) -> bool {
    tool.binaries.iter().all(|b| dir.join(b).is_file())
}

fn build(tool: &Tool, dir: &Path) -> Result<()> {
    let partial = dir.with_extension("partial");
    if partial.exists() {
        fs::remove_dir_all(&partial).with_context(|| format!("removing {}", partial.display()))?;
    }
    fs::create_dir_all(&partial)?;
    let started = Instant::now();
    crate::say!(
        "[tools] building {} ({})… this can take a while on a cold Go cache",
        tool.name,
        tool.binaries.join(", ")
    );
    let mut ldflags = vec!["-s".to_string(), "-w".to_string()];
    ldflags.extend((tool.stamp)(&version_label(tool)?));
    let ldflags = format!("-ldflags={}", ldflags.join(" "));
    let mut go = Command::new("go");
    // Static binaries: they run on the host and inside images without a libc.
    go.env("CGO_ENABLED", "0");
    match tool.recipe {
        Recipe::GoInstall { packages } => {
            let Version::Pinned { version, .. } = tool.version else {
                bail!("{}: go install needs a pinned version", tool.name)
            };
            go.env("GOBIN", &partial)
                .args(["install", "-trimpath", &ldflags])
                .args(packages.iter().map(|package| format!("{package}@{version}")));
        }
        Recipe::GoModule { dir: module_dir, packages } => {
            let sources = go_sources_dir(module_dir);
            if let Version::Pinned { version, module } = tool.version {
                check_go_mod_pin(&sources, module, version)?;
            }
            let mut out = partial.as_os_str().to_owned();
            out.push("/");
            go.current_dir(&sources).args(["build", "-trimpath", &ldflags, "-o"]).arg(out).args(packages);
        }
        Recipe::GoModuleCopy { dir: module_dir, packages } => {
            let sources = go_sources_dir(module_dir);
            if let Version::Pinned { version, module } = tool.version {
                check_go_mod_pin(&sources, module, version)?;
            }
            // Only go.mod and go.sum: the packages come from the module graph, not our files.
            let copy = partial.join("module");
            fs::create_dir_all(&copy)?;
            for file in ["go.mod", "go.sum"] {
                fs::copy(sources.join(file), copy.join(file))
                    .with_context(|| format!("copying {file} of {}", sources.display()))?;
            }
            let mut out = partial.as_os_str().to_owned();
            out.push("/");
            go.current_dir(&copy).args(["build", "-mod=mod", "-trimpath", &ldflags, "-o"]).arg(out).args(packages);
        }
    }
    crate::exec::logged(&mut go).with_context(|| format!("building {} (is Go installed and on PATH?)", tool.name))?;
    let copy = partial.join("module");
    if copy.exists() {
        fs::remove_dir_all(&copy).with_context(|| format!("removing {}", copy.display()))?;
    }
    if !complete(tool, &partial) {
        bail!("building {} did not produce {} in {}", tool.name, tool.binaries.join(", "), partial.display());
    }
    if dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    fs::rename(&partial, dir).with_context(|| format!("moving {} to {}", partial.display(), dir.display()))?;
    crate::say!("[tools] building {}… done in {:.1}s", tool.name, started.elapsed().as_secs_f64());
    Ok(())
}

/// Fails when our go.mod requires another version than `versions.rs` pins.
fn check_go_mod_pin(module_dir: &Path, module: &str, version: &str) -> Result<()> {
    let go_mod = module_dir.join("go.mod");
    let text = fs::read_to_string(&go_mod).with_context(|| format!("reading {}", go_mod.display()))?;
    let pinned = text.lines().any(|line| {
        let mut words = line.trim().trim_start_matches("require").split_whitespace();
        words.next() == Some(module) && words.next() == Some(version)
    });
    if !pinned {
        bail!(
            "{} does not require {module} {version} as xtask/src/versions.rs pins; \
             update both together",
            go_mod.display()
        );
    }
    if module == "k8s.io/kubernetes" {
        // The staging modules (k8s.io/api, …) are tagged v0.X.Y for Kubernetes v1.X.Y.
        let staging = format!("v0.{}", version.trim_start_matches("v1."));
        let stale: Vec<&str> =
            text.lines().filter(|line| line.contains("=> k8s.io/") && !line.trim_end().ends_with(&staging)).collect();
        if !stale.is_empty() {
            bail!("{}: staging replace lines must use {staging}: {}", go_mod.display(), stale.join("; "));
        }
    }
    Ok(())
}

/// The first `program` on PATH (a host tool such as busybox or debootstrap).
pub fn on_path(program: &str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .with_context(|| format!("{program} is not on PATH"))
}
