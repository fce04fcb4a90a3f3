//! `cargo xtask cluster up|down|status`: a real single-node Kubernetes cluster on
//! this machine, made of upstream components run as host processes (no Docker).
//!
//! `up` is a sequence of idempotent steps, each printed with its duration; on a
//! running cluster it only checks health and returns. `down` stops everything by
//! pid, in the order that keeps kubelet from restarting what is being removed,
//! and cleans mounts, cgroups, network and state.
use std::fs::{self, File};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

mod cgroups;
mod containerd;
mod control_plane;
mod dns;
mod etcd;
mod kube_proxy;
mod kubeconfig;
mod kubectl;
mod kubelet;
pub(crate) mod layout;
pub(crate) mod mounts;
mod network;
mod network_policy;
mod node_access;
pub(crate) mod packages;
mod pki;
pub(crate) mod process;
mod registry;
mod storage;

use layout::{Layout, CLUSTER_DOMAIN, KUBERNETES_SERVICE_IP, NODE_NAME};
use process::Daemon;

/// What the rest of xtask needs to use the cluster.
#[derive(Debug, Clone)]
pub struct ClusterInfo {
    /// The admin kubeconfig (`.local-cluster/kubeconfig`).
    pub kubeconfig: PathBuf,
    /// The registry images are pulled from, e.g. `127.0.0.1:5000`.
    pub registry: String,
}

#[derive(clap::Subcommand, Debug)]
pub enum ClusterCommand {
    /// Start the cluster (builds what is missing; fast when it already runs).
    Up,
    /// Stop the cluster and remove its containers, mounts, network and state.
    Down,
    /// Show the cluster's processes and the node's readiness; fails unless running.
    Status,
    /// Stop one component (SIGTERM) and start it again, then wait until the cluster is
    /// healthy: for the fault-injection suite (`cargo xtask faults`).
    Restart {
        /// One of: registry, etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
        /// containerd, kubelet, kube-proxy, kube-router, provisioner.
        component: String,
    },
    /// Print the pid of a running component (for SIGSTOP/SIGCONT in the fault suite).
    Pid { component: String },
}

pub fn run_cli(command: ClusterCommand) -> Result<()> {
    match command {
        ClusterCommand::Up => {
            let info = up()?;
            println!("export KUBECONFIG={}", info.kubeconfig.display());
            Ok(())
        }
        ClusterCommand::Down => down(),
        ClusterCommand::Status => status(),
        ClusterCommand::Restart { component } => restart(&component).map(drop),
        ClusterCommand::Pid { component } => {
            let layout = Layout::for_repo()?;
            let name = daemon_name(&component)?;
            let pid = process::running_pid(&layout, name).with_context(|| format!("{name} is not running"))?;
            println!("{pid}");
            Ok(())
        }
    }
}

fn daemon_name(component: &str) -> Result<&'static str> {
    DAEMONS
        .iter()
        .copied()
        .find(|name| *name == component)
        .with_context(|| format!("unknown component {component:?}; one of {}", DAEMONS.join(", ")))
}

/// Stops `component` and brings the cluster back (which starts what is missing), returning
/// how long the component was away.
pub fn restart(component: &str) -> Result<Duration> {
    let name = daemon_name(component)?;
    let layout = Layout::for_repo()?;
    let started = Instant::now();
    {
        let _lock = lock(&layout)?;
        step(&format!("stop {name}"), || process::stop(&layout, name, Duration::from_secs(15)).map(drop))?;
    }
    up()?;
    let away = started.elapsed();
    crate::say!("[cluster] {name} restarted, cluster healthy after {:.1}s", away.as_secs_f64());
    Ok(away)
}

/// Daemons in start order; `down` stops them in reverse (kubelet handled first).
const DAEMONS: &[&str] = &[
    registry::NAME,
    etcd::NAME,
    control_plane::APISERVER,
    control_plane::CONTROLLER_MANAGER,
    control_plane::SCHEDULER,
    containerd::NAME,
    kubelet::NAME,
    kube_proxy::NAME,
    network_policy::NAME,
    storage::NAME,
];

/// Brings the cluster up (or confirms it is up) and returns how to reach it.
pub fn up() -> Result<ClusterInfo> {
    let layout = Layout::for_repo()?;
    fs::create_dir_all(layout.logs())?;
    let _lock = lock(&layout)?;
    let started = Instant::now();
    let info = ClusterInfo { kubeconfig: layout.kubeconfig(), registry: registry::address() };
    let line = crate::versions::kubernetes_line()?;
    if running(&layout) && healthy(&layout) {
        let serving = serving_version(&layout).unwrap_or_default();
        if serving != line.version {
            bail!(
                "the running local cluster serves Kubernetes {serving}, but {} selects {}; \
                 stop it first with `cargo xtask cluster down`",
                crate::versions::KUBERNETES_VERSION_ENV,
                line.version
            );
        }
        eprintln!(
            "{}",
            crate::progress::line('✓', &format!("cluster: already running, Kubernetes {serving}"), started.elapsed())
        );
        return Ok(info);
    }

    let pause = prepare_host(&layout)?;
    start_control_plane(&layout)?;
    start_node(&layout, &pause)?;
    start_addons(&layout)?;
    eprintln!(
        "{}",
        crate::progress::line(
            '✓',
            &format!(
                "cluster: Kubernetes {} up (registry {}, apiserver {})",
                line.version,
                info.registry,
                layout::apiserver_url()
            ),
            started.elapsed()
        )
    );
    Ok(info)
}

/// Packages, tools, network, certificates and the registry with the pause image; returns the
/// pause image's reference.
fn prepare_host(layout: &Layout) -> Result<String> {
    step("install Debian packages", || packages::ensure().map(drop))?;
    step("build tools", build_tools)?;
    step("set up the host network", || {
        if process::running_pid(layout, containerd::NAME).is_none() {
            network::detach_stale_pods()?;
        }
        network::setup(layout)
    })?;
    step("make certificates and kubeconfigs", || {
        pki::ensure(layout)?;
        kubeconfig::write_all(layout)
    })?;
    step("start the registry", || start_registry(layout))?;
    step("load the pause image", registry::ensure_pause_image)
}

/// etcd, the apiserver (until ready), the controller-manager and the scheduler.
fn start_control_plane(layout: &Layout) -> Result<()> {
    step("start etcd", || {
        start(layout, etcd::daemon(layout)?)?;
        wait_for(layout, "etcd to be healthy", etcd::NAME, Duration::from_secs(60), etcd::healthy)
    })?;
    step("start kube-apiserver", || {
        start(layout, control_plane::apiserver(layout)?)?;
        wait_for(layout, "the apiserver to be ready", control_plane::APISERVER, Duration::from_secs(120), || {
            kubectl::output(layout, &["get", "--raw=/readyz"]).is_ok()
        })
    })?;
    step("let the node read volume claims", || node_access::grant(layout))?;
    step("start controller-manager and scheduler", || {
        start(layout, control_plane::controller_manager(layout)?)?;
        start(layout, control_plane::scheduler(layout)?)
    })
}

/// containerd and the kubelet, until the node is Ready.
fn start_node(layout: &Layout, pause: &str) -> Result<()> {
    step("start containerd", || {
        start(layout, containerd::daemon(layout, pause)?)?;
        wait_for(layout, "containerd to answer", containerd::NAME, Duration::from_secs(30), || {
            containerd::responds(layout)
        })
    })?;
    step("start kubelet (node Ready)", || {
        start(layout, kubelet::daemon(layout)?)?;
        wait_for(layout, "the node to be Ready", kubelet::NAME, Duration::from_secs(120), || {
            kubectl::node_ready(layout, NODE_NAME)
        })
    })
}

/// kube-proxy, NetworkPolicy, the default StorageClass and cluster DNS.
fn start_addons(layout: &Layout) -> Result<()> {
    step("start kube-proxy", || start(layout, kube_proxy::daemon(layout)?))?;
    step("start kube-router (NetworkPolicy)", || {
        start(layout, network_policy::daemon(layout)?)?;
        wait_for(
            layout,
            "kube-router's policy chains",
            network_policy::NAME,
            Duration::from_secs(60),
            network_policy::enforcing,
        )
    })?;
    step("start the provisioner (default StorageClass)", || {
        start(layout, storage::daemon(layout)?)?;
        storage::apply_storage_class(layout)
    })?;
    step("deploy cluster DNS", || {
        dns::deploy(layout)?;
        wait_for(layout, "CoreDNS to be available", kubelet::NAME, Duration::from_secs(180), || {
            dns::deployment_available(layout)
        })?;
        wait_for(
            layout,
            "kubernetes.default to resolve",
            kube_proxy::NAME,
            Duration::from_secs(60),
            kubernetes_service_resolves,
        )
    })
}

/// The `gitVersion` the running apiserver reports.
fn serving_version(layout: &Layout) -> Result<String> {
    let text = kubectl::output(layout, &["get", "--raw=/version"])?;
    let version: serde_json::Value = serde_json::from_str(&text).context("reading the apiserver's /version")?;
    Ok(version["gitVersion"].as_str().unwrap_or_default().to_string())
}

/// Starts the local registry and waits until it answers.
fn start_registry(layout: &Layout) -> Result<()> {
    start(layout, registry::daemon()?)?;
    wait_for(layout, "the registry to answer", registry::NAME, Duration::from_secs(30), registry::responds)
}

/// Starts the local registry alone when it is not running (`cargo xtask buildkit up` pushes
/// there without a cluster); a later `cluster up` adopts it, `cluster down` stops it.
/// Returns its address.
pub fn ensure_registry() -> Result<String> {
    let layout = Layout::for_repo()?;
    fs::create_dir_all(layout.logs())?;
    let _lock = lock(&layout)?;
    if !registry::responds() {
        step("start the registry", || start_registry(&layout))?;
    }
    Ok(registry::address())
}

/// Stops the cluster and removes everything `up` made (except the logs and the
/// registry's storage, which keeps pushed images for the next `up`).
pub fn down() -> Result<()> {
    let layout = Layout::for_repo()?;
    if !layout.root.exists() {
        eprintln!("[cluster] nothing to stop");
        return Ok(());
    }
    let _lock = lock(&layout)?;
    let started = Instant::now();
    step("stop kubelet", || process::stop(&layout, kubelet::NAME, Duration::from_secs(15)).map(drop))?;
    step("stop containers and containerd", || containerd::stop_with_containers(&layout))?;
    step("remove pod cgroups", cgroups::remove_pod_cgroups)?;
    step("stop the control plane and helpers", || {
        for name in DAEMONS.iter().rev().filter(|n| **n != kubelet::NAME && **n != containerd::NAME) {
            process::stop(&layout, name, Duration::from_secs(15))?;
        }
        Ok(())
    })?;
    step("unmount", || mounts::unmount_all_under(&layout.root))?;
    step("remove the network", || {
        kube_proxy::cleanup(&layout)?;
        network::teardown(&layout)?;
        network_policy::cleanup()
    })?;
    step("remove state", || remove_state(&layout))?;
    eprintln!("{}", crate::progress::line('✓', "cluster: down", started.elapsed()));
    Ok(())
}

/// Prints each process and the node's readiness; an error unless all is up.
pub fn status() -> Result<()> {
    let layout = Layout::for_repo()?;
    let mut all_running = true;
    let mut rss_kib = 0;
    for name in DAEMONS {
        match process::running_pid(&layout, name) {
            Some(pid) => {
                let rss = process::rss_kib(pid);
                rss_kib += rss;
                println!("{name:<24} pid {pid:<8} running  {:>6.1} MiB", rss as f64 / 1024.0);
            }
            None => {
                all_running = false;
                println!("{name:<24} {:<12} stopped", "");
            }
        }
    }
    let mut workload = process::pids_with_arg(&layout.containerd_socket().display().to_string());
    workload.extend(cgroups::pod_pids());
    workload.sort_unstable();
    workload.dedup();
    let others = process::rss_kib_of(&workload);
    println!("{:<24} {:<12} {:>15.1} MiB", "shims and pods", "", others as f64 / 1024.0);
    println!("{:<24} {:<12} {:>15.1} MiB", "total RSS", "", (rss_kib + others) as f64 / 1024.0);
    let ready = all_running && kubectl::node_ready(&layout, NODE_NAME);
    println!("node {NODE_NAME}: {}", if ready { "Ready" } else { "not Ready" });
    println!("kubeconfig: {}", layout.kubeconfig().display());
    if !ready {
        bail!("the local cluster is not running (start it with `cargo xtask cluster up`)");
    }
    Ok(())
}

fn running(layout: &Layout) -> bool {
    DAEMONS.iter().all(|name| process::running_pid(layout, name).is_some())
}

/// The checks `up` ends with, for the fast path on a running cluster.
fn healthy(layout: &Layout) -> bool {
    kubectl::node_ready(layout, NODE_NAME)
        && storage::storage_class_is_default(layout)
        && dns::deployment_available(layout)
        && kubernetes_service_resolves()
}

fn kubernetes_service_resolves() -> bool {
    let name = format!("kubernetes.default.svc.{CLUSTER_DOMAIN}");
    matches!(dns::resolve(&name), Ok(Some(ip)) if ip.to_string() == KUBERNETES_SERVICE_IP)
}

fn build_tools() -> Result<()> {
    for tool in ["kubernetes", "etcd", "coredns", "crane", "registry", "pause", "provisioner", "kube-router"] {
        crate::tools::tool_path(tool)?;
    }
    Ok(())
}

fn start(layout: &Layout, daemon: Daemon<'_>) -> Result<()> {
    daemon.ensure_running(layout).map(drop)
}

/// Runs one step of `up`/`down` as a progress step (one line; tool output in its log).
fn step<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    crate::progress::step(&format!("cluster: {what}"), f)
}

/// Polls `check` until it passes; fails early, with the log's tail, if the
/// component it depends on has exited.
fn wait_for(
    layout: &Layout,
    what: &str,
    component: &str,
    timeout: Duration,
    mut check: impl FnMut() -> bool,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if check() {
            return Ok(());
        }
        if process::running_pid(layout, component).is_none() {
            bail!(
                "{component} exited while waiting for {what}; last lines of {}:\n{}",
                layout.log(component).display(),
                process::log_tail(layout, component, 30)
            );
        }
        if Instant::now() > deadline {
            bail!(
                "timed out after {}s waiting for {what}; last lines of {}:\n{}",
                timeout.as_secs(),
                layout.log(component).display(),
                process::log_tail(layout, component, 30)
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Serialises `up` and `down` between concurrent xtask runs.
fn lock(layout: &Layout) -> Result<File> {
    let path = layout.logs().join(".lock");
    fs::create_dir_all(layout.logs())?;
    let file = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    file.lock().with_context(|| format!("locking {}", path.display()))?;
    Ok(file)
}

fn remove_state(layout: &Layout) -> Result<()> {
    for entry in fs::read_dir(&layout.root)? {
        let path = entry?.path();
        // BuildKit (`cargo xtask buildkit`) has its own lifecycle and may outlive the cluster.
        if path == layout.logs() || path == layout.buildkit() {
            continue;
        }
        let result = if path.is_dir() { fs::remove_dir_all(&path) } else { fs::remove_file(&path) };
        result.with_context(|| format!("removing {}", path.display()))?;
    }
    Ok(())
}
