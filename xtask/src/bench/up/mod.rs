//! `cargo xtask bench up`: a cold `kubectl-codex up` on the local cluster against its readiness
//! floor and against `kubectl apply` + `rollout status` one unit at a time, plus an unchanged
//! rerun. Method and how to read the output: docs/benchmarks.md.

mod baseline;
mod floor;
mod report;

use super::harness::{self, Format, HelmAndOutput};
use super::time;
use crate::exec;
use anyhow::{ensure, Context, Result};
use clap::Args;
use floor::{seen_ready, timings};
use report::{report_json, report_text};
use serde_json::{json, Value};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Goals (issue 14, with Helm 4): cold `up` at most 5% above the floor and at most 0.8× the
/// one-unit-at-a-time kubectl sequence; an unchanged rerun at most 3% of the cold `up`.
const OVERHEAD_GOAL: f64 = 0.05;
const RERUN_GOAL: f64 = 0.03;
const BASELINE_GOAL: f64 = 0.8;
/// The line of services.yaml that names the `staging` namespace; the per-run copies replace it
/// (as tests/e2e_up.rs does).
const ENV: &str = "staging";
const WARMUP_NAMESPACE: &str = "bench-warmup";

#[derive(Args)]
pub struct UpArgs {
    /// Rounds: each is a cold `up`, its unchanged rerun and the kubectl sequence, on fresh
    /// namespaces.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Per-phase timeout of `up`, and per-unit timeout of `kubectl rollout status`/`wait`, in seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// Skip the untimed `up` into `bench-warmup` that first puts every image on the node
    /// (without it, the first measured deployment alone pays for the image pulls).
    #[arg(long)]
    no_warmup: bool,
    #[command(flatten)]
    helm_and_output: HelmAndOutput,
}

pub fn run(args: &UpArgs) -> Result<()> {
    ensure!(args.runs >= 1, "--runs must be at least 1");
    let root = crate::repo::repo_root();
    let helm = harness::helm_binary(args.helm_and_output.helm.as_deref())?;
    let kubeconfig = harness::kubeconfig(&root);

    let codex = crate::repo::release_binary("[bench up] ")?;
    let target = crate::repo::target_dir();
    // Logs, evidence and manifests of every run stay here for a look at where the time went.
    let logs = target.join("bench-up");
    if logs.exists() {
        std::fs::remove_dir_all(&logs).with_context(|| format!("clearing {}", logs.display()))?;
    }
    std::fs::create_dir_all(&logs)?;

    let db_password = crate::repo::example_db_password()?;
    let bench = Bench { root: root.clone(), codex, helm, kubeconfig, timeout: args.timeout, db_password };
    let ready = bench.kubectl(&["get", "--raw", "/readyz"]).output().context("running kubectl")?;
    ensure!(
        ready.status.success(),
        "the cluster behind {} does not answer ({}); start it with `cargo xtask cluster up` and push the example images with `cargo xtask images`",
        bench.kubeconfig.display(),
        String::from_utf8_lossy(&ready.stderr).trim()
    );

    let outcome = measure(&bench, args, &logs);
    // Whatever happened, leave no stack of ours running on the shared cluster (the logs stay).
    let mut namespaces = vec![WARMUP_NAMESPACE.to_string()];
    for i in 1..=args.runs {
        namespaces.extend([format!("bench-codex-{i}"), format!("bench-kubectl-{i}")]);
    }
    for namespace in &namespaces {
        if let Err(e) = bench.delete_namespace(namespace) {
            eprintln!("[bench up] cleaning up: {e:#}");
        }
    }
    let rounds = outcome?;

    let helm_version = bench.helm_version()?;
    let mut report = report_json(&rounds);
    report["helm"] = json!({"path": bench.helm.display().to_string(), "version": helm_version});
    let json = serde_json::to_string_pretty(&report)?;
    // The JSON lands next to the logs in either format, so a text run keeps every sample too.
    std::fs::write(logs.join("report.json"), &json)?;
    match args.helm_and_output.output {
        Format::Json => println!("{json}"),
        Format::Text => print!("helm {helm_version} ({})\n{}", bench.helm.display(), report_text(&rounds)),
    }
    eprintln!("[bench up] logs, evidence, manifests and report.json: {}", logs.display());
    Ok(())
}

/// The warm-up and every round; returns the rounds' measurements.
fn measure(bench: &Bench, args: &UpArgs, logs: &Path) -> Result<Vec<Round>> {
    if !args.no_warmup {
        eprintln!("[bench up] warm-up: untimed up into {WARMUP_NAMESPACE}, so that every image is on the node");
        bench.delete_namespace(WARMUP_NAMESPACE)?;
        let dir = logs.join("warmup");
        std::fs::create_dir_all(&dir)?;
        let file = bench.variant(&dir, WARMUP_NAMESPACE)?;
        bench.up(&file, &dir.join("up.stderr"), true)?;
        bench.delete_namespace(WARMUP_NAMESPACE)?;
    }

    let mut rounds = Vec::new();
    for i in 1..=args.runs {
        let codex_ns = format!("bench-codex-{i}");
        let kubectl_ns = format!("bench-kubectl-{i}");
        bench.delete_namespace(&codex_ns)?;
        bench.delete_namespace(&kubectl_ns)?;
        let dir = logs.join(format!("run-{i}"));
        std::fs::create_dir_all(&dir)?;
        // Alternating the order spreads any drift of the machine's load over both.
        let codex_first = i % 2 == 1;
        let mut codex_result = None;
        let mut kubectl_result = None;
        for codex_turn in [codex_first, !codex_first] {
            if codex_turn {
                eprintln!("[bench up] run {i}/{}: kubectl-codex up in {codex_ns}", args.runs);
                codex_result = Some(bench.codex_round(&dir, &codex_ns)?);
                bench.delete_namespace(&codex_ns)?;
            } else {
                eprintln!("[bench up] run {i}/{}: kubectl apply + rollout status in {kubectl_ns}", args.runs);
                kubectl_result = Some(bench.kubectl_round(&dir, &kubectl_ns)?);
                bench.delete_namespace(&kubectl_ns)?;
            }
        }
        let round = Round {
            run: i,
            codex_first,
            codex: codex_result.expect("measured"),
            kubectl: kubectl_result.expect("measured"),
        };
        eprintln!(
            "[bench up] run {i}: cold up {:.2}s, floor {:.2}s ({:+.1}%), rerun {:.2}s ({:.1}%), kubectl sequence {:.2}s",
            round.codex.cold,
            round.codex.floor,
            round.overhead() * 100.0,
            round.codex.warm,
            round.warm_share() * 100.0,
            round.kubectl.total
        );
        rounds.push(round);
    }
    Ok(rounds)
}

struct Bench {
    root: PathBuf,
    codex: PathBuf,
    helm: PathBuf,
    kubeconfig: PathBuf,
    timeout: u64,
    /// The example's secret input `dbPassword`.
    db_password: String,
}

/// One phase of a cold `up`, from its evidence: offsets in seconds.
struct PhaseTiming {
    name: String,
    /// The floor's share: the slowest unit's `readyAt − startedAt`.
    slowest_unit: f64,
    slowest_unit_name: String,
    /// `readyAt − startedAt` of the phase.
    span: f64,
    /// From the previous phase's `readyAt` (or, for the first phase, from the process start)
    /// to this phase's `startedAt`.
    gap_before: f64,
    /// From up's stderr (0.1 s stamps): the phase's `helm upgrade --install` line to the last
    /// `✓ <unit> ready:` line, i.e. when the gate first saw every workload ready, before Helm's
    /// `--wait` returned and before hooks. The evidence keeps no such time for hooked units.
    seen_ready: Option<f64>,
}

struct CodexRound {
    cold: f64,
    floor: f64,
    warm: f64,
    warm_skipped: usize,
    phases: Vec<PhaseTiming>,
    /// From the last phase's `readyAt` to the process exit.
    finish: f64,
}

struct UnitTiming {
    phase: String,
    unit: String,
    seconds: f64,
}

struct KubectlRound {
    total: f64,
    /// `kubectl create namespace` and the PVC.
    setup: f64,
    units: Vec<UnitTiming>,
}

struct Round {
    run: usize,
    codex_first: bool,
    codex: CodexRound,
    kubectl: KubectlRound,
}

impl Round {
    fn overhead(&self) -> f64 {
        self.codex.cold / self.codex.floor - 1.0
    }
    fn warm_share(&self) -> f64 {
        self.codex.warm / self.codex.cold
    }
    fn up_over_kubectl(&self) -> f64 {
        self.codex.cold / self.kubectl.total
    }
}

impl Bench {
    /// What the helm under test says it is (`v4.3.2`), for the report.
    fn helm_version(&self) -> Result<String> {
        let version = exec::stdout(Command::new(&self.helm).args(["version", "--template", "{{.Version}}"]))?;
        Ok(version.trim().to_string())
    }

    fn kubectl(&self, args: &[&str]) -> Command {
        let mut command = Command::new("kubectl");
        command.args(args).env("KUBECONFIG", &self.kubeconfig).stdin(Stdio::null());
        command
    }

    fn codex_command(&self) -> Command {
        let mut command = Command::new(&self.codex);
        command
            .current_dir(&self.root)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("CODEX_HELM", &self.helm)
            .env(crate::repo::DB_PASSWORD_ENV, &self.db_password)
            .stdin(Stdio::null());
        command
    }

    fn delete_namespace(&self, namespace: &str) -> Result<()> {
        harness::delete_namespace(self.kubectl(&[]), namespace, std::time::Duration::from_secs(self.timeout))
    }

    /// A copy of services.yaml whose `staging` environment deploys into `namespace`.
    fn variant(&self, dir: &Path, namespace: &str) -> Result<PathBuf> {
        let original = std::fs::read_to_string(self.root.join("services.yaml")).context("reading services.yaml")?;
        let path = dir.join("services.yaml");
        std::fs::write(&path, harness::retarget(&original, "staging", namespace)?)?;
        Ok(path)
    }

    /// `up -o json`; for a `cold` run, checks that every phase was deployed. Returns the wall time, the summary
    /// and the wall-clock time of the spawn in nanoseconds since the epoch.
    fn up(&self, file: &Path, stderr_log: &Path, cold: bool) -> Result<(f64, Value, i128)> {
        let timeout = format!("{}s", self.timeout);
        let stderr = File::create(stderr_log)?;
        let mut command = self.codex_command();
        command
            .arg("up")
            .arg("--skip-build")
            .arg("-f")
            .arg(file)
            .args(["--env", ENV, "--timeout", &timeout, "-o", "json"])
            .stderr(stderr);
        let spawned_at = time::now_ns();
        let started = Instant::now();
        let out = command.output().with_context(|| format!("running {}", self.codex.display()))?;
        let wall = started.elapsed().as_secs_f64();
        let log = std::fs::read_to_string(stderr_log).unwrap_or_default();
        ensure!(
            out.status.success(),
            "kubectl-codex up -f {} failed ({}):\n{}",
            file.display(),
            out.status,
            tail(&log, 40)
        );
        let summary: Value = serde_json::from_slice(&out.stdout).context("reading up -o json")?;
        let results: Vec<&str> =
            summary["phases"].as_array().into_iter().flatten().filter_map(|p| p["result"].as_str()).collect();
        ensure!(!results.is_empty(), "up -o json lists no phases: {summary}");
        if cold {
            ensure!(results.iter().all(|r| *r == "deployed"), "a cold up left phases {results:?}:\n{}", tail(&log, 40));
        }
        Ok((wall, summary, spawned_at))
    }

    fn codex_round(&self, dir: &Path, namespace: &str) -> Result<CodexRound> {
        let file = self.variant(dir, namespace)?;
        let (cold, summary, spawned_at) = self.up(&file, &dir.join("up-cold.stderr"), true)?;
        let exited_at = spawned_at + (cold * 1e9) as i128;
        let run_id = summary["runId"].as_str().context("up -o json has a runId")?;
        let evidence =
            exec::output(self.codex_command().args(["evidence", "-n", namespace, "--run", run_id, "-o", "json"]))?;
        std::fs::write(dir.join("evidence-cold.json"), &evidence.stdout)?;
        let records: Value = serde_json::from_slice(&evidence.stdout).context("reading evidence -o json")?;
        let record = records.as_array().and_then(|r| r.first()).context("the cold run left no evidence record")?;
        let (floor, mut phases, finish) = timings(record, spawned_at, exited_at)?;
        let seen = seen_ready(&std::fs::read_to_string(dir.join("up-cold.stderr"))?);
        for phase in &mut phases {
            phase.seen_ready = seen.iter().find(|(name, _)| *name == phase.name).map(|(_, t)| *t);
        }
        verify(self, namespace)?;

        let (warm, rerun, _) = self.up(&file, &dir.join("up-rerun.stderr"), false)?;
        let warm_skipped =
            rerun["phases"].as_array().into_iter().flatten().filter(|p| p["result"] == "skipped").count();
        Ok(CodexRound { cold, floor, warm, warm_skipped, phases, finish })
    }
}

/// The stack answers end to end: the gateway reaches greeter, and the frontend is served.
fn verify(bench: &Bench, namespace: &str) -> Result<()> {
    let get = |service: &str, path: &str| -> Result<String> {
        let url = format!("/api/v1/namespaces/{namespace}/services/{service}:80/proxy{path}");
        // A Deployment is available a moment before the EndpointSlice controller lists its
        // pod: right after `rollout status` the proxy may still answer "no endpoints
        // available". That lag is not what this check is about, so it waits for it (untimed).
        let deadline = Instant::now() + std::time::Duration::from_secs(15);
        loop {
            match exec::stdout(&mut bench.kubectl(&["get", "--raw", &url])) {
                Ok(body) => return Ok(body),
                Err(e) if e.to_string().contains("no endpoints available") && Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(200))
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let greeting: Value =
        serde_json::from_str(&get("gateway", "/api/greeting")?).context("gateway /api/greeting is not JSON")?;
    ensure!(greeting["service"] == "greeter", "gateway /api/greeting in {namespace} answered {greeting}");
    ensure!(get("web", "/")?.contains("<div id=\"app\""), "web / in {namespace} does not serve the page");
    Ok(())
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
