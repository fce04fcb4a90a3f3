//! `cargo xtask bench reload`: edit-to-new-response time on the local cluster, for a Go
//! handler and for a Vite component, three ways in the same invocation:
//!
//! * hot reload (the `dev` runtime): an agent Job (`kubectl-codex agent run`) edits the file
//!   on the shared workspace; devwatch rebuilds and restarts the Go process inside the same
//!   container, Vite's dev server serves the new module. The edit's instant is read inside the
//!   agent pod, right after `sed`, from /proc/uptime: the kernel's clock, which every pod of
//!   this single-node cluster shares with the benchmark (checked: it must fall inside the
//!   agent run as seen from here). The time until the new text answers therefore excludes
//!   the agent Job's own start-up, which is reported on its own line.
//! * rebuild and redeploy with BuildKit (the realistic pipeline, `prod` runtime): the same
//!   edit in a copy of services.yaml and example/ (build contexts are relative to
//!   services.yaml), then `kubectl-codex up --env prod --builder buildctl`, which builds the
//!   images whose inputs changed from the example's Dockerfiles, pushes them and deploys them
//!   pinned by digest, until the new text answers. The copy's repositories are renamed to
//!   `codex-bench-reload/*` so the tags it pushes never replace the example's own images. The
//!   build part is the time until `up` starts its first phase (the phases' `startedAt` in
//!   `up -o json`), the rest of `up` is the deploy.
//! * rebuild and redeploy with a host build and an assembled image (the older baseline,
//!   `prod` runtime): the same edit in a copy of the sources, then `go build` (warm host
//!   cache) or `vite build`, the image assembled and pushed (`image::assemble_and_push`), and
//!   `kubectl-codex up --skip-build` of a services.yaml whose image tag names the new image,
//!   until the new text answers.
//!
//! "Answers" means the unit's Service returns it: `/greeting` for the greeter, the module
//! `/src/title.js` from the dev server, the bundle that `/` references from webserve.
//! Requests go straight to the Service's ClusterIP (this host is the node), polled every 50 ms.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, ensure, Context, Result};
use clap::{Args, ValueEnum};
use serde_json::{json, Value};

use crate::images::example::{write_user_db, DEFAULT_TAG};
use crate::images::oci::{assemble_and_push, ImageSpec};

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
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("xtask sits inside the workspace")?.to_path_buf();
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
    bench
        .codex_ok(&["up", "--skip-build", "-f", path(&prod_file)?, "--env", "staging", "--timeout", "8m"], "up-prod")?;
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
            &["up", "--skip-build", "-f", path(&prod_file)?, "--env", "staging", "--timeout", "8m"],
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
            &["up", "--skip-build", "-f", path(&prod_file)?, "--env", "staging", "--timeout", "8m"],
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

impl Bench {
    fn kubectl(&self, args: &[&str]) -> Command {
        let mut command = Command::new("kubectl");
        command.env("KUBECONFIG", &self.kubeconfig).args(args);
        command
    }

    fn delete_namespace(&self, namespace: &str) -> Result<()> {
        let out = self
            .kubectl(&["delete", "namespace", namespace, "--ignore-not-found", "--wait=true", "--timeout=300s"])
            .output()?;
        ensure!(
            out.status.success(),
            "deleting namespace {namespace}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Ok(())
    }

    /// `kubectl-codex up --env prod` in the BuildKit baseline's copy, building with buildctl;
    /// `total` is left at the `up` run's own length.
    fn up_with_build(&self, copy: &BuildCopy, log: &str) -> Result<Built> {
        let buildctl = path(&self.buildctl)?;
        let started_at = epoch_seconds();
        let started = Instant::now();
        let out = self.codex_in(
            &copy.dir,
            &[
                "up",
                "-f",
                "services.yaml",
                "--env",
                "prod",
                "--timeout",
                "8m",
                "-o",
                "json",
                "--builder",
                "buildctl",
                "--buildctl",
                buildctl,
            ],
            log,
        )?;
        let up = started.elapsed().as_secs_f64();
        let answer: Value =
            serde_json::from_str(&out).with_context(|| format!("{log}: `up -o json` printed no JSON"))?;
        let first_phase = answer["phases"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["startedAt"].as_str().and_then(parse_rfc3339))
            .min_by(f64::total_cmp)
            .with_context(|| format!("{log}: no phase startedAt in {answer}"))?;
        let build = (first_phase - started_at).clamp(0.0, up);
        let built = answer["images"]
            .as_array()
            .with_context(|| format!("{log}: no images in {answer}"))?
            .iter()
            .filter(|i| i["status"] == "built")
            .filter_map(|i| i["name"].as_str().map(str::to_string))
            .collect();
        Ok(Built { total: up, build, deploy: up - build, built })
    }

    /// Runs kubectl-codex; its output goes to <work>/<log>.{out,err}. Returns stdout.
    fn codex_ok(&self, args: &[&str], log: &str) -> Result<String> {
        self.codex_in(&self.root, args, log)
    }

    /// As [`Bench::codex_ok`], from `dir`.
    fn codex_in(&self, dir: &Path, args: &[&str], log: &str) -> Result<String> {
        let out = Command::new(&self.codex)
            .args(args)
            .current_dir(dir)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("BUILDKIT_HOST", &self.buildkit_host)
            .env("CODEX_HELM", &self.helm)
            .env(crate::repo::DB_PASSWORD_ENV, &self.db_password)
            .output()
            .with_context(|| format!("running {}", self.codex.display()))?;
        fs::write(self.work.join(format!("{log}.out")), &out.stdout)?;
        fs::write(self.work.join(format!("{log}.err")), &out.stderr)?;
        ensure!(
            out.status.success(),
            "kubectl-codex {} failed ({}); see {}",
            args.join(" "),
            out.status,
            self.work.join(format!("{log}.err")).display()
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The agent edits the workspace with `script`, then prints the kernel's uptime; the
    /// time from there until `service` answers `path` with `wanted` is the hot reload. The
    /// Service is polled while the agent run is still going: its Job takes about a second to
    /// end after the edit, and a fast reload is over by then.
    fn hot_edit(&self, script: &str, service: &str, path_: &str, wanted: &str, run: usize) -> Result<Hot> {
        let log = format!("agent-{service}-{run}");
        let (stdout_path, stderr_path) = (self.work.join(format!("{log}.out")), self.work.join(format!("{log}.err")));
        let before = uptime()?;
        let started = Instant::now();
        let script = format!("{script} && cat /proc/uptime");
        let mut agent = Command::new(&self.codex)
            .args(["agent", "run", "--env", "dev", "--slot", DEV_SLOT, "--timeout", "5m", "--", "sh", "-c", &script])
            .current_dir(&self.root)
            .env("KUBECONFIG", &self.kubeconfig)
            .env(crate::repo::DB_PASSWORD_ENV, &self.db_password)
            .stdout(fs::File::create(&stdout_path)?)
            .stderr(fs::File::create(&stderr_path)?)
            .spawn()
            .with_context(|| format!("running {}", self.codex.display()))?;
        let addr = self.service_address(DEV_NAMESPACE, service)?;
        let deadline = Instant::now() + self.timeout;
        let mut finished = None;
        let seen = loop {
            if http_get(addr, path_).is_ok_and(|body| body.contains(wanted)) {
                break uptime()?;
            }
            if finished.is_none() {
                finished = agent.try_wait()?;
            }
            if let Some(status) = finished.filter(|s| !s.success()) {
                bail!("kubectl-codex agent run failed ({status}); see {}", stderr_path.display());
            }
            ensure!(
                Instant::now() < deadline,
                "{DEV_NAMESPACE}/{service} did not answer with the edit within {:?}",
                self.timeout
            );
            std::thread::sleep(POLL);
        };
        let status = agent.wait()?;
        let agent_run = started.elapsed().as_secs_f64();
        ensure!(status.success(), "kubectl-codex agent run failed ({status}); see {}", stderr_path.display());
        let after = uptime()?;
        let printed = fs::read_to_string(&stdout_path)?;
        let edited = printed.lines().rev().find_map(parse_uptime).context("the agent printed no /proc/uptime line")?;
        // A reading outside the run would mean the pod's clock is not this host's.
        ensure!(
            before - 0.02 <= edited && edited <= after + 0.02,
            "the agent pod's uptime {edited} is outside the run ({before}..{after}): is the cluster on another machine?"
        );
        ensure!(seen + 0.02 >= edited, "{service} answered with the edit ({seen}) before it was made ({edited})");
        Ok(Hot { reload: (seen - edited).max(0.0), agent_run })
    }

    /// The Service's ClusterIP and port 80: this host is the node, so it reaches Services directly.
    fn service_address(&self, namespace: &str, service: &str) -> Result<SocketAddr> {
        let out =
            self.kubectl(&["get", "service", service, "-n", namespace, "-o", "jsonpath={.spec.clusterIP}"]).output()?;
        let ip = String::from_utf8_lossy(&out.stdout).trim().to_string();
        ensure!(
            out.status.success() && !ip.is_empty(),
            "no ClusterIP for {namespace}/{service}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        format!("{ip}:80").parse().with_context(|| format!("ClusterIP {ip:?}"))
    }

    /// Polls the Service until `ready`; returns the kernel uptime when it first held.
    fn wait_for(&self, namespace: &str, service: &str, ready: impl Fn(SocketAddr) -> Result<bool>) -> Result<f64> {
        let addr = self.service_address(namespace, service)?;
        let deadline = Instant::now() + self.timeout;
        loop {
            if ready(addr).unwrap_or(false) {
                return uptime();
            }
            if Instant::now() > deadline {
                bail!("{namespace}/{service} did not answer with the edit within {:?}", self.timeout);
            }
            std::thread::sleep(POLL);
        }
    }

    fn pod_identity(&self, namespace: &str, unit: &str) -> Result<String> {
        let out = self
            .kubectl(&[
                "get",
                "pods",
                "-n",
                namespace,
                "-l",
                &format!("app.kubernetes.io/name={unit}"),
                "-o",
                "jsonpath={range .items[*]}{.metadata.uid}:{.status.containerStatuses[0].restartCount} {end}",
            ])
            .output()?;
        ensure!(out.status.success(), "listing pods of {unit}: {}", String::from_utf8_lossy(&out.stderr));
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

/// The BuildKit baseline's copy of services.yaml and example/ (build contexts are relative
/// to services.yaml; example/web/.npm-cache, which web/Dockerfile installs from, comes along).
struct BuildCopy {
    dir: PathBuf,
}

impl BuildCopy {
    fn prepare(bench: &Bench, services_yaml: &str) -> Result<BuildCopy> {
        ensure!(
            services_yaml.contains(PROD_NAMESPACE_LINE),
            "services.yaml no longer has the line `{PROD_NAMESPACE_LINE}` this benchmark replaces"
        );
        ensure!(
            services_yaml.contains("repository: codex-example/"),
            "services.yaml no longer names repositories `codex-example/…`"
        );
        let dir = bench.work.join("buildkit");
        fs::create_dir_all(&dir)?;
        run_tool(Command::new("cp").arg("-a").arg(bench.root.join("example")).arg(&dir), "cp -a example")?;
        let yaml = services_yaml
            .replace(PROD_NAMESPACE_LINE, &format!("namespace: {BUILD_NAMESPACE}"))
            .replace("repository: codex-example/", &format!("repository: {BUILD_REPOSITORY_PREFIX}"));
        fs::write(dir.join("services.yaml"), yaml)?;
        Ok(BuildCopy { dir })
    }

    fn edit_go(&self, line: &str) -> Result<()> {
        replace_line(&self.dir.join("example/services/cmd/greeter/message.go"), "const Message = ", line)
    }

    fn edit_vite(&self, line: &str) -> Result<()> {
        replace_line(&self.dir.join("example/web/src/title.js"), "export const title = ", line)
    }
}

/// The baseline's own copy of the sources, so the repository is never edited.
struct Sources {
    services: PathBuf,
    web: PathBuf,
    bin: PathBuf,
    etc: PathBuf,
}

impl Sources {
    fn prepare(bench: &Bench) -> Result<Sources> {
        let services = bench.work.join("services");
        let web = bench.work.join("web");
        let bin = bench.work.join("bin");
        let etc = bench.work.join("etc");
        copy_tree(&bench.root.join("example/services"), &services, &[])?;
        copy_tree(&bench.root.join("example/web"), &web, &["node_modules", "dist"])?;
        // Dependencies as a pipeline's cache would have them: installed once, not per edit.
        std::os::unix::fs::symlink(bench.root.join("example/web/node_modules"), web.join("node_modules"))?;
        write_user_db(&etc, "app", "/app")?;
        fs::create_dir_all(&bin)?;
        // webserve does not change with the frontend's sources: built once, like a cached layer.
        run_tool(
            go(&services)
                .args(["build", "-mod=vendor", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o"])
                .arg(bin.join("webserve"))
                .arg("./cmd/webserve"),
            "go build webserve",
        )?;
        Ok(Sources { services, web, bin, etc })
    }

    fn edit_go(&self, line: &str) -> Result<()> {
        replace_line(&self.services.join("cmd/greeter/message.go"), "const Message = ", line)
    }

    fn edit_vite(&self, line: &str) -> Result<()> {
        replace_line(&self.web.join("src/title.js"), "export const title = ", line)
    }

    /// The prod build of example_images.rs for one command, with the host's warm cache.
    fn build_greeter(&self) -> Result<PathBuf> {
        let out = self.bin.join("greeter");
        run_tool(
            go(&self.services)
                .args(["build", "-mod=vendor", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o"])
                .arg(&out)
                .arg("./cmd/greeter"),
            "go build greeter",
        )?;
        Ok(out)
    }

    fn vite_build(&self) -> Result<PathBuf> {
        run_tool(
            Command::new("node").current_dir(&self.web).args([
                "node_modules/vite/bin/vite.js",
                "build",
                "--logLevel",
                "warn",
            ]),
            "vite build",
        )?;
        Ok(self.web.join("dist"))
    }

    fn user_db(&self) -> Vec<(PathBuf, String)> {
        vec![(self.etc.join("passwd"), "/etc/passwd".into()), (self.etc.join("group"), "/etc/group".into())]
    }

    /// The same image `cargo xtask images` makes for the greeter, under a new tag.
    fn greeter_image(&self, binary: &Path, tag: &str) -> ImageSpec {
        let mut files = vec![(binary.to_path_buf(), "/app/greeter".to_string())];
        files.extend(self.user_db());
        ImageSpec {
            repository: "codex-example/greeter".into(),
            tag: tag.into(),
            files,
            entrypoint: vec!["/app/greeter".into()],
            user: Some(crate::images::example::app_user()),
            ..ImageSpec::default()
        }
    }

    fn web_image(&self, dist: &Path, tag: &str) -> ImageSpec {
        let mut files = vec![
            (self.bin.join("webserve"), "/app/webserve".to_string()),
            (dist.to_path_buf(), "/srv/www".to_string()),
        ];
        files.extend(self.user_db());
        ImageSpec {
            repository: "codex-example/web".into(),
            tag: tag.into(),
            files,
            entrypoint: vec!["/app/webserve".into()],
            env: vec![("WEB_ROOT".into(), "/srv/www".into())],
            user: Some(crate::images::example::app_user()),
            ..ImageSpec::default()
        }
    }
}

fn go(module: &Path) -> Command {
    let mut go = Command::new("go");
    go.current_dir(module)
        .env("CGO_ENABLED", "0")
        .env("GOOS", "linux")
        .env("GOARCH", "amd64")
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "");
    go
}

fn run_tool(command: &mut Command, what: &str) -> Result<()> {
    let out = command.output().with_context(|| format!("running {what}"))?;
    ensure!(out.status.success(), "{what} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
    Ok(())
}

fn path(p: &Path) -> Result<&str> {
    p.to_str().with_context(|| format!("{} is not UTF-8", p.display()))
}

/// Copies a directory tree (files, directories, symlinks), leaving out top-level `skip` names.
fn copy_tree(from: &Path, to: &Path, skip: &[&str]) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from).with_context(|| format!("listing {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        let (source, dest) = (entry.path(), to.join(&name));
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&source)?, &dest)?;
        } else if kind.is_dir() {
            copy_tree(&source, &dest, &[])?;
        } else {
            fs::copy(&source, &dest).with_context(|| format!("copying {}", source.display()))?;
        }
    }
    Ok(())
}

/// Replaces the one line starting with `prefix`.
pub(crate) fn replace_line(file: &Path, prefix: &str, line: &str) -> Result<()> {
    let text = fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let mut found = false;
    let changed: Vec<&str> = text
        .lines()
        .map(|l| {
            if l.starts_with(prefix) {
                found = true;
                line
            } else {
                l
            }
        })
        .collect();
    ensure!(found, "{} has no line starting with {prefix:?}", file.display());
    fs::write(file, changed.join("\n") + "\n")?;
    Ok(())
}

/// services.yaml with the `tag:` right after `repository: <repository>` set to `tag`.
fn set_tag(yaml: &str, repository: &str, tag: &str) -> Result<String> {
    let anchor = format!("repository: {repository}\n");
    let at = yaml.find(&anchor).with_context(|| format!("services.yaml has no `{anchor}`"))? + anchor.len();
    let rest = &yaml[at..];
    let line_end = rest.find('\n').unwrap_or(rest.len());
    let line = &rest[..line_end];
    let indent = line.len() - line.trim_start().len();
    ensure!(line.trim_start().starts_with("tag: "), "the line after `{}` is not its tag: {line:?}", anchor.trim());
    Ok(format!("{}{}tag: \"{tag}\"{}", &yaml[..at], &line[..indent], &rest[line_end..]))
}

/// Seconds since the Unix epoch, now.
fn epoch_seconds() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// Seconds since the Unix epoch of a UTC RFC 3339 time as kubectl-codex records them
/// (`2025-06-01T17:39:57.123456789Z`, fraction optional).
fn parse_rfc3339(text: &str) -> Option<f64> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut date = date.split('-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (date.next()??, date.next()??, date.next()??);
    let (hms, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut hms = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (hour, minute, second) = (hms.next()??, hms.next()??, hms.next()??);
    if date.next().is_some() || hms.next().is_some() || !(1..=12).contains(&month) {
        return None;
    }
    let fraction = if fraction.is_empty() { 0.0 } else { format!("0.{fraction}").parse::<f64>().ok()? };
    // Days from 1970-01-01 to the date (proleptic Gregorian; H. Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hour * 3_600 + minute * 60 + second) as f64 + fraction)
}

/// The 1-minute load average (/proc/loadavg).
pub(crate) fn load_average() -> Result<f64> {
    fs::read_to_string("/proc/loadavg")?
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .context("unreadable /proc/loadavg")
}

/// The kernel's uptime in seconds: the clock the agent pod reads too.
fn uptime() -> Result<f64> {
    parse_uptime(&fs::read_to_string("/proc/uptime")?).context("unreadable /proc/uptime")
}

fn parse_uptime(line: &str) -> Option<f64> {
    let mut parts = line.split_whitespace();
    let first = parts.next()?.parse().ok()?;
    parts.next()?.parse::<f64>().ok()?;
    parts.next().is_none().then_some(first)
}

/// A plain HTTP/1.0 GET (1.0: never chunked); the body, or an error for a non-2xx status.
fn http_get(addr: SocketAddr, path: &str) -> Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\nAccept: */*\r\n\r\n")?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status: u16 = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).context("no HTTP status")?;
    ensure!((200..300).contains(&status), "GET {path}: {status}");
    Ok(body.to_string())
}

/// Whether the JavaScript bundle the page loads contains `wanted` (webserve in prod).
fn bundle_contains(addr: SocketAddr, wanted: &str) -> Result<bool> {
    let page = http_get(addr, "/")?;
    let Some(script) = page.split("src=\"").skip(1).filter_map(|s| s.split('"').next()).find(|s| s.ends_with(".js"))
    else {
        return Ok(false);
    };
    Ok(http_get(addr, script)?.contains(wanted))
}

fn stats(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
    (median, sorted[0], sorted[n - 1])
}

impl Report {
    fn text(&self) -> String {
        let mut out = format!("edit-to-new-response, {} edit(s) each; seconds: median (min–max)\n\n", self.runs);
        let cell = |v: &[f64]| {
            let (median, min, max) = stats(v);
            format!("{median:.2} ({min:.2}–{max:.2})")
        };
        out.push_str(&format!(
            "  {:<24}{:<20}{:<26}{}\n",
            "edit", "hot reload (dev)", "BuildKit: codex up", "host build + assembled image"
        ));
        for (name, hot, built, rebuild) in [
            ("Go greeter message.go", &self.go_hot, &self.go_built, &self.go_rebuild),
            ("Vite web src/title.js", &self.vite_hot, &self.vite_built, &self.vite_rebuild),
        ] {
            let hot_values: Vec<f64> = hot.iter().map(|h| h.reload).collect();
            let built_values: Vec<f64> = built.iter().map(|b| b.total).collect();
            let rebuild_values: Vec<f64> = rebuild.iter().map(|r| r.total).collect();
            out.push_str(&format!(
                "  {name:<24}{:<20}{:<26}{}\n",
                cell(&hot_values),
                cell(&built_values),
                cell(&rebuild_values)
            ));
        }
        out.push('\n');
        for (name, built) in [("Go", &self.go_built), ("Vite", &self.vite_built)] {
            let part = |f: fn(&Built) -> f64| stats(&built.iter().map(f).collect::<Vec<_>>()).0;
            let mut images: Vec<&str> = built.iter().flat_map(|b| b.built.iter().map(String::as_str)).collect();
            images.sort_unstable();
            images.dedup();
            out.push_str(&format!(
                "  {name} BuildKit up, medians: build {:.2}s, deploy {:.2}s, after up {:.2}s; images rebuilt: {}\n",
                part(|b| b.build),
                part(|b| b.deploy),
                part(|b| b.total - b.build - b.deploy),
                images.join(", ")
            ));
        }
        for (name, rebuild) in [("Go", &self.go_rebuild), ("Vite", &self.vite_rebuild)] {
            let part = |f: fn(&Rebuild) -> f64| stats(&rebuild.iter().map(f).collect::<Vec<_>>()).0;
            out.push_str(&format!(
                "  {name} host build + assembled image, medians: build {:.2}s, image {:.2}s, kubectl-codex up {:.2}s\n",
                part(|r| r.build),
                part(|r| r.image),
                part(|r| r.up)
            ));
        }
        let agent: Vec<f64> = self.go_hot.iter().chain(&self.vite_hot).map(|h| h.agent_run).collect();
        out.push_str(&format!(
            "  kubectl-codex agent run (Job start, edit, end; not in the hot reload times): median {:.2}s\n",
            stats(&agent).0
        ));
        out.push_str(&format!("  1-minute load average: {:.2} before, {:.2} after\n", self.load.0, self.load.1));
        out.push_str(&format!(
            "  greeter and web pods during hot reload: {}\n",
            if self.same_pods { "same pod uid, restartCount unchanged" } else { "REPLACED OR RESTARTED" }
        ));
        out
    }

    fn json(&self) -> Value {
        let hot = |v: &[Hot]| {
            v.iter().map(|h| json!({"reloadSeconds": h.reload, "agentRunSeconds": h.agent_run})).collect::<Vec<_>>()
        };
        let rebuild = |v: &[Rebuild]| {
            v.iter().map(|r| json!({"totalSeconds": r.total, "buildSeconds": r.build, "imageSeconds": r.image, "upSeconds": r.up})).collect::<Vec<_>>()
        };
        let built = |v: &[Built]| {
            v.iter().map(|b| json!({"totalSeconds": b.total, "buildSeconds": b.build, "deploySeconds": b.deploy, "imagesBuilt": b.built})).collect::<Vec<_>>()
        };
        json!({
            "runs": self.runs,
            "go": {"hotReload": hot(&self.go_hot), "buildkitUp": built(&self.go_built), "rebuildRedeploy": rebuild(&self.go_rebuild)},
            "vite": {"hotReload": hot(&self.vite_hot), "buildkitUp": built(&self.vite_built), "rebuildRedeploy": rebuild(&self.vite_rebuild)},
            "loadAverage": {"before": self.load.0, "after": self.load.1},
            "samePods": self.same_pods,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_set_right_after_their_repository() {
        let yaml = "images:\n  greeter:\n    repository: codex-example/greeter\n    tag: \"{{ versions.app }}\"\n  web:\n    repository: codex-example/web\n    tag: \"x\"\n";
        let changed = set_tag(yaml, "codex-example/greeter", "reload-1").unwrap();
        assert_eq!(changed, yaml.replace("tag: \"{{ versions.app }}\"", "tag: \"reload-1\""));
        assert!(set_tag(yaml, "codex-example/nothing", "t").is_err());
    }

    #[test]
    fn uptime_lines_are_recognised() {
        assert_eq!(parse_uptime("4452.80 316.49"), Some(4452.80));
        assert_eq!(parse_uptime("const Message = \"x\""), None);
        assert_eq!(parse_uptime("1 2 3"), None);
    }

    #[test]
    fn rfc3339_times_are_read_as_epoch_seconds() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse_rfc3339("2000-03-01T00:00:01Z"), Some(951_868_801.0));
        let t = parse_rfc3339("2024-06-19T15:22:45.25Z").unwrap();
        assert!((t - 1_718_810_565.25).abs() < 1e-6, "{t}");
        assert_eq!(parse_rfc3339("2024-06-19T15:22:45+02:00"), None);
        assert_eq!(parse_rfc3339("2024-13-19T15:22:45Z"), None);
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(stats(&[3.0, 1.0, 2.0]), (2.0, 1.0, 3.0));
        assert_eq!(stats(&[4.0, 1.0, 2.0, 3.0]), (2.5, 1.0, 4.0));
    }
}
