//! `cargo xtask bench reload`: edit-to-new-response on the local cluster for a Go handler and a
//! Vite component: hot reload in the dev runtime against rebuild and redeploy, with BuildKit and
//! with a host build and an assembled image. Method and how to read the output:
//! docs/benchmarks.md.

use std::fs;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use clap::Args;

use super::harness::{helm_binary, kubeconfig, load_average, path_str, retarget, Format, HelmAndOutput};
use crate::images::example::DEFAULT_TAG;
use crate::images::oci::{assemble_and_push, ImageSpec};

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
/// The BuildKit baseline deploys the `prod` environment into this namespace.
const BUILD_NAMESPACE: &str = "bench-reload-build";
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
    #[command(flatten)]
    helm_and_output: HelmAndOutput,
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
    let helm = helm_binary(args.helm_and_output.helm.as_deref())?;
    let kubeconfig = kubeconfig(&root);
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
    match args.helm_and_output.output {
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
    let mut setup = deploy(bench)?;
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
        round(bench, &mut setup, &Edit::new(stamp, i), args.runs, &mut report)?;
    }
    let pods_after = (bench.pod_identity(DEV_NAMESPACE, "greeter")?, bench.pod_identity(DEV_NAMESPACE, "web")?);
    report.same_pods = pods_before == pods_after;
    ensure!(report.same_pods, "hot reload replaced or restarted a pod: before {pods_before:?}, after {pods_after:?}");
    Ok(report)
}

/// What the rounds edit and redeploy: the three environments, deployed.
struct Setup {
    prod: ProdCopy,
    sources: Sources,
    build_copy: BuildCopy,
}

/// Deploys the dev runtime, the rebuild baseline and the BuildKit baseline, each into a fresh
/// namespace.
fn deploy(bench: &Bench) -> Result<Setup> {
    eprintln!("[bench reload] dev runtime: up --env dev --slot {DEV_SLOT}");
    bench.delete_namespace(DEV_NAMESPACE)?;
    bench.codex_ok(&["up", "--skip-build", "--env", "dev", "--slot", DEV_SLOT, "--timeout", "8m"], "up-dev")?;
    eprintln!("[bench reload] baseline: up --env staging into {PROD_NAMESPACE}");
    bench.delete_namespace(PROD_NAMESPACE)?;
    let original = fs::read_to_string(bench.root.join("services.yaml")).context("reading services.yaml")?;
    let prod =
        ProdCopy { yaml: retarget(&original, "staging", PROD_NAMESPACE)?, file: bench.work.join("services.yaml") };
    fs::write(&prod.file, &prod.yaml)?;
    prod.up(bench, "up-prod")?;
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
    Ok(Setup { prod, sources, build_copy })
}

/// The lines one round writes into the sources, unique per process and round, so that an
/// old answer never passes for the new one.
struct Edit {
    round: usize,
    go_text: String,
    go_line: String,
    vite_text: String,
    vite_line: String,
    /// The rebuild baseline's image tag.
    tag: String,
}

impl Edit {
    fn new(stamp: u32, round: usize) -> Edit {
        let go_text = format!("hello from greeter reload {stamp}-{round}");
        let vite_text = format!("Codex example reload {stamp}-{round}");
        Edit {
            round,
            go_line: format!("const Message = \"{go_text}\""),
            vite_line: format!("export const title = \"{vite_text}\";"),
            go_text,
            vite_text,
            tag: format!("reload-{stamp}-{round}"),
        }
    }
}

/// One round: each edit shown by hot reload, by rebuild and redeploy, and by a BuildKit `up`.
fn round(bench: &Bench, setup: &mut Setup, edit: &Edit, runs: usize, report: &mut Report) -> Result<()> {
    let i = edit.round;
    // In the dev runtime: the agent edits the shared workspace, the unit reloads in place.
    let go_script = format!("sed -i 's/^const Message = .*/{}/' services/cmd/greeter/message.go", edit.go_line);
    let vite_script = format!("sed -i 's/^export const title = .*/{}/' web/src/title.js", edit.vite_line);
    for (label, script, service, path, wanted, measured) in [
        ("go", &go_script, "greeter", "/greeting", &edit.go_text, &mut report.go_hot),
        ("vite", &vite_script, "web", "/src/title.js", &edit.vite_text, &mut report.vite_hot),
    ] {
        let hot = bench.hot_edit(script, service, path, wanted, i)?;
        eprintln!(
            "[bench reload] run {i}/{runs}: {label} hot reload {:.2}s (agent run {:.2}s)",
            hot.reload, hot.agent_run
        );
        measured.push(hot);
    }

    let rebuild = go_rebuild(bench, setup, edit)?;
    eprintln!(
        "[bench reload] run {i}/{runs}: go rebuild + redeploy {:.2}s (build {:.2}s, image {:.2}s, up {:.2}s)",
        rebuild.total, rebuild.build, rebuild.image, rebuild.up
    );
    report.go_rebuild.push(rebuild);
    let rebuild = vite_rebuild(bench, setup, edit)?;
    eprintln!(
        "[bench reload] run {i}/{runs}: vite rebuild + redeploy {:.2}s (build {:.2}s, image {:.2}s, up {:.2}s)",
        rebuild.total, rebuild.build, rebuild.image, rebuild.up
    );
    report.vite_rebuild.push(rebuild);

    let copy = &setup.build_copy;
    let built = buildkit_up(
        bench,
        copy,
        |c| c.edit_go(&edit.go_line),
        "greeter",
        &format!("up-build-go-{i}"),
        |addr| Ok(http_get(addr, "/greeting")?.contains(&edit.go_text)),
    )?;
    eprintln!("[bench reload] run {i}/{runs}: go BuildKit up {}", built.summary());
    report.go_built.push(built);
    let built = buildkit_up(
        bench,
        copy,
        |c| c.edit_vite(&edit.vite_line),
        "web",
        &format!("up-build-vite-{i}"),
        |addr| bundle_contains(addr, &edit.vite_text),
    )?;
    eprintln!("[bench reload] run {i}/{runs}: vite BuildKit up {}", built.summary());
    report.vite_built.push(built);
    Ok(())
}

/// The greeter built on the host, assembled into an image and redeployed.
fn go_rebuild(bench: &Bench, setup: &mut Setup, edit: &Edit) -> Result<Rebuild> {
    let started = Instant::now();
    setup.sources.edit_go(&edit.go_line)?;
    let binary = setup.sources.build_greeter()?;
    let build = started.elapsed().as_secs_f64();
    let image = setup.sources.greeter_image(&binary, &edit.tag);
    let (image, up) = setup.prod.redeploy(bench, &image, "codex-example/greeter", &format!("up-go-{}", edit.round))?;
    bench.wait_for(PROD_NAMESPACE, "greeter", |addr| Ok(http_get(addr, "/greeting")?.contains(&edit.go_text)))?;
    Ok(Rebuild { total: started.elapsed().as_secs_f64(), build, image, up })
}

/// The web bundle built on the host with Vite, assembled into an image and redeployed.
fn vite_rebuild(bench: &Bench, setup: &mut Setup, edit: &Edit) -> Result<Rebuild> {
    let started = Instant::now();
    setup.sources.edit_vite(&edit.vite_line)?;
    let dist = setup.sources.vite_build()?;
    let build = started.elapsed().as_secs_f64();
    let image = setup.sources.web_image(&dist, &edit.tag);
    let (image, up) = setup.prod.redeploy(bench, &image, "codex-example/web", &format!("up-vite-{}", edit.round))?;
    bench.wait_for(PROD_NAMESPACE, "web", |addr| bundle_contains(addr, &edit.vite_text))?;
    Ok(Rebuild { total: started.elapsed().as_secs_f64(), build, image, up })
}

/// `edit`, then `kubectl-codex up` building with BuildKit, until `unit` answers `ready`;
/// `unit` must be among the images `up` built.
fn buildkit_up(
    bench: &Bench,
    copy: &BuildCopy,
    edit: impl FnOnce(&BuildCopy) -> Result<()>,
    unit: &str,
    log: &str,
    ready: impl Fn(SocketAddr) -> Result<bool>,
) -> Result<Built> {
    let started = Instant::now();
    edit(copy)?;
    let mut built = bench.up_with_build(copy, log)?;
    bench.wait_for(BUILD_NAMESPACE, unit, ready)?;
    built.total = started.elapsed().as_secs_f64();
    ensure!(
        built.built.iter().any(|n| n == unit),
        "up did not rebuild {unit} after the edit (built: {:?})",
        built.built
    );
    Ok(built)
}

impl Built {
    /// `12.34s (build …s, deploy …s; built greeter)`, for the progress lines.
    fn summary(&self) -> String {
        format!(
            "{:.2}s (build {:.2}s, deploy {:.2}s; built {})",
            self.total,
            self.build,
            self.deploy,
            self.built.join(", ")
        )
    }
}

/// The rebuild baseline's services.yaml: `staging` deployed into [`PROD_NAMESPACE`], its image
/// tags moved on by every rebuild.
struct ProdCopy {
    yaml: String,
    file: PathBuf,
}

impl ProdCopy {
    fn up(&self, bench: &Bench, log: &str) -> Result<()> {
        bench.codex_ok(
            &["up", "--skip-build", "-f", path_str(&self.file)?, "--env", "staging", "--timeout", "8m"],
            log,
        )?;
        Ok(())
    }

    /// Pushes `image`, points `repository` at its tag and runs `up`: the image's and the
    /// `up`'s seconds.
    fn redeploy(&mut self, bench: &Bench, image: &ImageSpec, repository: &str, log: &str) -> Result<(f64, f64)> {
        let image_started = Instant::now();
        assemble_and_push(image)?;
        let image_seconds = image_started.elapsed().as_secs_f64();
        self.yaml = set_tag(&self.yaml, repository, &image.tag)?;
        fs::write(&self.file, &self.yaml)?;
        let up_started = Instant::now();
        self.up(bench, log)?;
        Ok((image_seconds, up_started.elapsed().as_secs_f64()))
    }
}
