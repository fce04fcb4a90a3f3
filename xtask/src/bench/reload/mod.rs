//! `cargo xtask bench reload`: edit-to-new-response on the local cluster for a Go handler and a
//! Vite component: hot reload in the dev runtime against rebuild and redeploy, with BuildKit and
//! with a host build and an assembled image. Method and how to read the output:
//! docs/benchmarks.md.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use clap::{Args, ValueEnum};

use super::harness::{load_average, path_str};
use crate::images::example::DEFAULT_TAG;
use crate::images::oci::assemble_and_push;

mod cluster;
mod copies;
mod report;

use cluster::{bundle_contains, http_get};
use copies::{set_tag, BuildCopy, Sources};

/// `{{ project }}-dev-{{ slot }}` in services.yaml.
const DEV_SLOT: &str = "reload-bench";
const DEV_NAMESPACE: &str = "codex-dev-reload-bench";
/// The baseline deploys the `staging` environment (prod runtime) into this namespace.
const PROD_NAMESPACE: &str = "bench-reload-prod";
const STAGING_NAMESPACE_LINE: &str = "namespace: \"{{ project }}-staging\"";
/// The BuildKit baseline deploys the `prod` environment into this namespace.
const BUILD_NAMESPACE: &str = "bench-reload-build";
const PROD_NAMESPACE_LINE: &str = "namespace: \"{{ project }}-prod\"";
/// The BuildKit baseline's copy pushes under this prefix instead of `codex-example/`.
const BUILD_REPOSITORY_PREFIX: &str = "codex-bench-reload/";
const POLL: Duration = Duration::from_millis(50);

#[derive(Args)]
pub struct ReloadArgs {
    /// Edits measured per file and per way (hot reload, rebuild and redeploy).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Do not build and push the example's prod and dev images first (they are pushed already).
    #[arg(long)]
    no_images: bool,
    /// Leave both environments running afterwards.
    #[arg(long)]
    keep: bool,
    /// How long one edit may take to show, in seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// helm binary; default: $CODEX_HELM, then the pinned build of `cargo xtask tools helm`.
    #[arg(long)]
    helm: Option<PathBuf>,
    #[arg(short, long, value_enum, default_value_t = Format::Text)]
    output: Format,
}

#[derive(ValueEnum, Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

/// One measured hot reload.
struct Hot {
    /// From the edit (inside the agent pod) to the first answer with the new text.
    reload: f64,
    /// The whole `kubectl-codex agent run` (Job created, pod started, edit, pod done).
    agent_run: f64,
}

/// One measured `kubectl-codex up` that built with BuildKit, with its parts.
struct Built {
    /// From the edit to the first answer with the new text.
    total: f64,
    /// From starting `up` to its first phase: planning, registry checks, the builds.
    build: f64,
    /// The rest of `up`: the deploy, until it returned.
    deploy: f64,
    /// Images `up` reported as built (the others were unchanged).
    built: Vec<String>,
}

/// One measured rebuild and redeploy, with its parts.
struct Rebuild {
    total: f64,
    build: f64,
    image: f64,
    up: f64,
}

struct Bench {
    root: PathBuf,
    codex: PathBuf,
    helm: PathBuf,
    kubeconfig: PathBuf,
    work: PathBuf,
    timeout: Duration,
    buildctl: PathBuf,
    buildkit_host: String,
    /// The example's secret input `dbPassword`.
    db_password: String,
}

pub fn run(args: &ReloadArgs) -> Result<()> {
    ensure!(args.runs >= 1, "--runs must be at least 1");
    let root = crate::repo::repo_root();
    let helm = match (&args.helm, std::env::var_os("CODEX_HELM")) {
        (Some(path), _) => path.clone(),
        (None, Some(path)) => PathBuf::from(path),
        (None, None) => crate::tools::tool_path("helm")?,
    };
    let kubeconfig =
        std::env::var_os("KUBECONFIG").map_or_else(|| root.join(".local-cluster/kubeconfig"), PathBuf::from);
    let codex = crate::repo::release_binary("[bench reload] ")?;
    let target = crate::repo::target_dir();
    let work = target.join("bench-reload");
    if work.exists() {
        fs::remove_dir_all(&work).with_context(|| format!("clearing {}", work.display()))?;
    }
    fs::create_dir_all(&work)?;
    let bench = Bench {
        root,
        codex,
        helm,
        kubeconfig,
        work,
        timeout: Duration::from_secs(args.timeout),
        buildkit_host: crate::buildkit::up().context("starting BuildKit (cargo xtask buildkit up)")?,
        buildctl: crate::buildkit::buildctl()?,
        db_password: crate::repo::example_db_password()?,
    };
    let ready = bench.kubectl(&["get", "--raw", "/readyz"]).output().context("running kubectl")?;
    ensure!(
        ready.status.success(),
        "the cluster behind {} does not answer ({}); start it with `cargo xtask cluster up`",
        bench.kubeconfig.display(),
        String::from_utf8_lossy(&ready.stderr).trim()
    );
    if !args.no_images {
        crate::images::example::build_example_images(DEFAULT_TAG)?;
        crate::images::dev::build_dev_images(DEFAULT_TAG)?;
    }
    let load_before = load_average()?;
    let outcome = measure(&bench, args);
    if !args.keep {
        for namespace in [DEV_NAMESPACE, PROD_NAMESPACE, BUILD_NAMESPACE] {
            if let Err(e) = bench.delete_namespace(namespace) {
                eprintln!("[bench reload] cleaning up: {e:#}");
            }
        }
    }
    let mut report = outcome?;
    report.load = (load_before, load_average()?);
    match args.output {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report.json())?),
        Format::Text => print!("{}", report.text()),
    }
    eprintln!("[bench reload] logs of every step: {}", bench.work.display());
    Ok(())
}

struct Report {
    runs: usize,
    go_hot: Vec<Hot>,
    vite_hot: Vec<Hot>,
    go_rebuild: Vec<Rebuild>,
    vite_rebuild: Vec<Rebuild>,
    go_built: Vec<Built>,
    vite_built: Vec<Built>,
    /// /proc/loadavg's 1-minute load before and after the measurements.
    load: (f64, f64),
    /// Pod uid and restart count of greeter and web before and after every hot reload.
    same_pods: bool,
}

fn measure(bench: &Bench, args: &ReloadArgs) -> Result<Report> {
    eprintln!("[bench reload] dev runtime: up --env dev --slot {DEV_SLOT}");
    bench.delete_namespace(DEV_NAMESPACE)?;
    bench.codex_ok(&["up", "--skip-build", "--env", "dev", "--slot", DEV_SLOT, "--timeout", "8m"], "up-dev")?;
    eprintln!("[bench reload] baseline: up --env staging into {PROD_NAMESPACE}");
    bench.delete_namespace(PROD_NAMESPACE)?;
    let original = fs::read_to_string(bench.root.join("services.yaml")).context("reading services.yaml")?;
    ensure!(
        original.contains(STAGING_NAMESPACE_LINE),
        "services.yaml no longer has the line `{STAGING_NAMESPACE_LINE}` this benchmark replaces"
    );
    let mut prod_yaml = original.replace(STAGING_NAMESPACE_LINE, &format!("namespace: {PROD_NAMESPACE}"));
    let prod_file = bench.work.join("services.yaml");
    fs::write(&prod_file, &prod_yaml)?;
    bench.codex_ok(
        &["up", "--skip-build", "-f", path_str(&prod_file)?, "--env", "staging", "--timeout", "8m"],
        "up-prod",
    )?;
    let sources = Sources::prepare(bench)?;
    eprintln!("[bench reload] BuildKit baseline: up --env prod into {BUILD_NAMESPACE}");
    bench.delete_namespace(BUILD_NAMESPACE)?;
    let build_copy = BuildCopy::prepare(bench, &original)?;
    let first = bench.up_with_build(&build_copy, "up-build")?;
    eprintln!(
        "[bench reload] BuildKit baseline deployed (build {:.2}s, deploy {:.2}s, built: {})",
        first.build,
        first.deploy,
        if first.built.is_empty() { "none".to_string() } else { first.built.join(", ") }
    );

    let pods_before = (bench.pod_identity(DEV_NAMESPACE, "greeter")?, bench.pod_identity(DEV_NAMESPACE, "web")?);
    let mut report = Report {
        runs: args.runs,
        go_hot: vec![],
        vite_hot: vec![],
        go_rebuild: vec![],
        vite_rebuild: vec![],
        go_built: vec![],
        vite_built: vec![],
        load: (0.0, 0.0),
        same_pods: false,
    };
    let stamp = std::process::id();
    for i in 1..=args.runs {
        let go_text = format!("hello from greeter reload {stamp}-{i}");
        let go_line = format!("const Message = \"{go_text}\"");
        let vite_text = format!("Codex example reload {stamp}-{i}");
        let vite_line = format!("export const title = \"{vite_text}\";");

        let hot = bench.hot_edit(
            &format!("sed -i 's/^const Message = .*/{go_line}/' services/cmd/greeter/message.go"),
            "greeter",
            "/greeting",
            &go_text,
            i,
        )?;
        eprintln!(
            "[bench reload] run {i}/{}: go hot reload {:.2}s (agent run {:.2}s)",
            args.runs, hot.reload, hot.agent_run
        );
        report.go_hot.push(hot);
        let hot = bench.hot_edit(
            &format!("sed -i 's/^export const title = .*/{vite_line}/' web/src/title.js"),
            "web",
            "/src/title.js",
            &vite_text,
            i,
        )?;
        eprintln!(
            "[bench reload] run {i}/{}: vite hot reload {:.2}s (agent run {:.2}s)",
            args.runs, hot.reload, hot.agent_run
        );
        report.vite_hot.push(hot);

        let started = Instant::now();
        sources.edit_go(&go_line)?;
        let binary = sources.build_greeter()?;
        let build = started.elapsed().as_secs_f64();
        let tag = format!("reload-{stamp}-{i}");
        let image_started = Instant::now();
        assemble_and_push(&sources.greeter_image(&binary, &tag))?;
        let image = image_started.elapsed().as_secs_f64();
        prod_yaml = set_tag(&prod_yaml, "codex-example/greeter", &tag)?;
        fs::write(&prod_file, &prod_yaml)?;
        let up_started = Instant::now();
        bench.codex_ok(
            &["up", "--skip-build", "-f", path_str(&prod_file)?, "--env", "staging", "--timeout", "8m"],
            &format!("up-go-{i}"),
        )?;
        let up = up_started.elapsed().as_secs_f64();
        bench.wait_for(PROD_NAMESPACE, "greeter", |addr| Ok(http_get(addr, "/greeting")?.contains(&go_text)))?;
        let rebuild = Rebuild { total: started.elapsed().as_secs_f64(), build, image, up };
        eprintln!("[bench reload] run {i}/{}: go rebuild + redeploy {:.2}s (build {build:.2}s, image {image:.2}s, up {up:.2}s)", args.runs, rebuild.total);
        report.go_rebuild.push(rebuild);

        let started = Instant::now();
        sources.edit_vite(&vite_line)?;
        let dist = sources.vite_build()?;
        let build = started.elapsed().as_secs_f64();
        let image_started = Instant::now();
        assemble_and_push(&sources.web_image(&dist, &tag))?;
        let image = image_started.elapsed().as_secs_f64();
        prod_yaml = set_tag(&prod_yaml, "codex-example/web", &tag)?;
        fs::write(&prod_file, &prod_yaml)?;
        let up_started = Instant::now();
        bench.codex_ok(
            &["up", "--skip-build", "-f", path_str(&prod_file)?, "--env", "staging", "--timeout", "8m"],
            &format!("up-vite-{i}"),
        )?;
        let up = up_started.elapsed().as_secs_f64();
        bench.wait_for(PROD_NAMESPACE, "web", |addr| bundle_contains(addr, &vite_text))?;
        let rebuild = Rebuild { total: started.elapsed().as_secs_f64(), build, image, up };
        eprintln!("[bench reload] run {i}/{}: vite rebuild + redeploy {:.2}s (build {build:.2}s, image {image:.2}s, up {up:.2}s)", args.runs, rebuild.total);
        report.vite_rebuild.push(rebuild);

        let started = Instant::now();
        build_copy.edit_go(&go_line)?;
        let mut built = bench.up_with_build(&build_copy, &format!("up-build-go-{i}"))?;
        bench.wait_for(BUILD_NAMESPACE, "greeter", |addr| Ok(http_get(addr, "/greeting")?.contains(&go_text)))?;
        built.total = started.elapsed().as_secs_f64();
        ensure!(
            built.built.iter().any(|n| n == "greeter"),
            "up did not rebuild greeter after the edit (built: {:?})",
            built.built
        );
        eprintln!(
            "[bench reload] run {i}/{}: go BuildKit up {:.2}s (build {:.2}s, deploy {:.2}s; built {})",
            args.runs,
            built.total,
            built.build,
            built.deploy,
            built.built.join(", ")
        );
        report.go_built.push(built);

        let started = Instant::now();
        build_copy.edit_vite(&vite_line)?;
        let mut built = bench.up_with_build(&build_copy, &format!("up-build-vite-{i}"))?;
        bench.wait_for(BUILD_NAMESPACE, "web", |addr| bundle_contains(addr, &vite_text))?;
        built.total = started.elapsed().as_secs_f64();
        ensure!(
            built.built.iter().any(|n| n == "web"),
            "up did not rebuild web after the edit (built: {:?})",
            built.built
        );
        eprintln!(
            "[bench reload] run {i}/{}: vite BuildKit up {:.2}s (build {:.2}s, deploy {:.2}s; built {})",
            args.runs,
            built.total,
            built.build,
            built.deploy,
            built.built.join(", ")
        );
        report.vite_built.push(built);
    }
    let pods_after = (bench.pod_identity(DEV_NAMESPACE, "greeter")?, bench.pod_identity(DEV_NAMESPACE, "web")?);
    report.same_pods = pods_before == pods_after;
    ensure!(report.same_pods, "hot reload replaced or restarted a pod: before {pods_before:?}, after {pods_after:?}");
    Ok(report)
}
