//! `cargo xtask bench up`: wall time of a cold `kubectl-codex up` of the repository's stack on
//! the local cluster, against two references measured in the same invocation:
//!
//! * the readiness floor, from the run's own evidence record: the sum over phases of the
//!   slowest unit's `readyAt − phase.startedAt`. `phase.startedAt` is stamped when the phase
//!   begins (before the release lookup and `helm upgrade --install`); a unit's `readyAt` is
//!   stamped when our gate's 500 ms poll first saw the workload ready, or, for a unit with
//!   readiness hooks, when its hooks passed (hooks start after Helm's `--wait` returned). So
//!   the floor holds Helm's submit time, the pods' real start-up and the gate's poll
//!   granularity, and, where the slowest unit has hooks, also Helm's `--wait` lag (it polls
//!   every 2 s) and the hooks themselves. What `up` spends beyond the floor is the overhead:
//!   process start, namespace, lease, workspace PVC and agent RBAC, evidence writes, the gaps
//!   between phases, the wait for Helm to exit where the slowest unit has no hooks, and the
//!   final bookkeeping. Because the floor hides Helm's lag and the hooks, the report also sums
//!   when the gate first saw each phase's units ready, read from up's timestamped stderr;
//! * the shell-pipeline baseline: the same rendered manifests applied one service at a time
//!   in plan order with `kubectl apply`, each followed by `kubectl rollout status` (or
//!   `kubectl wait --for=condition=complete` for a Job), after creating the namespace and the
//!   workspace PVC that the units mount;
//!
//! plus an unchanged rerun of `up` against the cold run. Every round uses fresh namespaces
//! (`bench-codex-<i>`, `bench-kubectl-<i>`), deleted (and waited for) before the other one is
//! measured, so neither deployment runs next to the other's pods.

use anyhow::{anyhow, bail, ensure, Context, Result};
use clap::{Args, ValueEnum};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Goals (issue 14, with Helm 4): cold `up` at most 5% above the floor and at most 0.8× the
/// one-unit-at-a-time kubectl sequence; an unchanged rerun at most 3% of the cold `up`.
const OVERHEAD_GOAL: f64 = 0.05;
const RERUN_GOAL: f64 = 0.03;
const BASELINE_GOAL: f64 = 0.8;
/// The line of services.yaml that names the `staging` namespace; the per-run copies replace it
/// (as tests/e2e_up.rs does).
const STAGING_NAMESPACE_LINE: &str = "namespace: \"{{ project }}-staging\"";
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

pub fn run(args: &UpArgs) -> Result<()> {
    ensure!(args.runs >= 1, "--runs must be at least 1");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("xtask sits inside the workspace")?.to_path_buf();
    let helm = match (&args.helm, std::env::var_os("CODEX_HELM")) {
        (Some(path), _) => path.clone(),
        (None, Some(path)) => PathBuf::from(path),
        (None, None) => crate::tools::tool_path("helm")?,
    };
    // The local cluster's kubeconfig when none is set, as `cargo xtask cluster up` prints it.
    let kubeconfig = match std::env::var_os("KUBECONFIG") {
        Some(path) => PathBuf::from(path),
        None => root.join(".local-cluster/kubeconfig"),
    };

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
        text(&ready.stderr).trim()
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
    match args.output {
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
        let output = Command::new(&self.helm)
            .args(["version", "--template", "{{.Version}}"])
            .output()
            .with_context(|| format!("running {} version", self.helm.display()))?;
        ensure!(output.status.success(), "{} version: {}", self.helm.display(), text(&output.stderr).trim());
        Ok(text(&output.stdout).trim().to_string())
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
        let timeout = format!("--timeout={}s", self.timeout);
        let out = self
            .kubectl(&["delete", "namespace", namespace, "--ignore-not-found", "--wait=true", &timeout])
            .output()?;
        ensure!(out.status.success(), "deleting namespace {namespace}: {}", text(&out.stderr).trim());
        Ok(())
    }

    /// A copy of services.yaml whose `staging` environment deploys into `namespace`.
    fn variant(&self, dir: &Path, namespace: &str) -> Result<PathBuf> {
        let original = std::fs::read_to_string(self.root.join("services.yaml")).context("reading services.yaml")?;
        ensure!(
            original.contains(STAGING_NAMESPACE_LINE),
            "services.yaml no longer has the line `{STAGING_NAMESPACE_LINE}` this benchmark replaces"
        );
        let path = dir.join("services.yaml");
        std::fs::write(&path, original.replace(STAGING_NAMESPACE_LINE, &format!("namespace: {namespace}")))?;
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
        let spawned_at = epoch_ns(SystemTime::now());
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
            self.codex_command().args(["evidence", "-n", namespace, "--run", run_id, "-o", "json"]).output()?;
        ensure!(evidence.status.success(), "kubectl-codex evidence -n {namespace}: {}", text(&evidence.stderr).trim());
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

    fn kubectl_round(&self, dir: &Path, namespace: &str) -> Result<KubectlRound> {
        // Preparation, untimed: what a pipeline has before it deploys (rendered manifests).
        let file = self.variant(dir, namespace)?;
        let rendered = dir.join("rendered");
        let out = self
            .codex_command()
            .arg("render")
            .arg("-f")
            .arg(&file)
            .args(["--env", ENV, "--out"])
            .arg(&rendered)
            .output()?;
        ensure!(out.status.success(), "kubectl-codex render: {}", text(&out.stderr).trim());
        let plan = self.codex_command().arg("plan").arg("-f").arg(&file).args(["--env", ENV, "-o", "json"]).output()?;
        ensure!(plan.status.success(), "kubectl-codex plan: {}", text(&plan.stderr).trim());
        let plan: Value = serde_json::from_slice(&plan.stdout).context("reading plan -o json")?;
        let steps = steps(&plan, &rendered)?;
        let pvc = dir.join("workspace-pvc.yaml");
        self.workspace_pvc(&plan, &rendered, namespace, &pvc)?;
        let timeout = format!("--timeout={}s", self.timeout);

        let started = Instant::now();
        run_checked(self.kubectl(&["create", "namespace", namespace]))?;
        run_checked(self.kubectl(&["apply", "-n", namespace, "-f", path_str(&pvc)?]))?;
        let setup = started.elapsed().as_secs_f64();
        let mut units = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            let unit_started = Instant::now();
            let file = dir.join(format!("unit-{:02}-{}.yaml", i + 1, step.unit));
            std::fs::write(&file, &step.manifests)?;
            run_checked(self.kubectl(&["apply", "-n", namespace, "-f", path_str(&file)?]))?;
            match step.kind.as_str() {
                "Deployment" | "StatefulSet" => {
                    let object = format!("{}/{}", step.kind.to_lowercase(), step.resource);
                    run_checked(self.kubectl(&["rollout", "status", "-n", namespace, &object, &timeout]))?;
                }
                "Job" => {
                    let object = format!("job/{}", step.resource);
                    run_checked(self.kubectl(&[
                        "wait",
                        "-n",
                        namespace,
                        "--for=condition=complete",
                        &object,
                        &timeout,
                    ]))?;
                }
                // A CronJob has nothing to become ready until its schedule fires.
                _ => {}
            }
            units.push(UnitTiming {
                phase: step.phase.clone(),
                unit: step.unit.clone(),
                seconds: unit_started.elapsed().as_secs_f64(),
            });
        }
        let total = started.elapsed().as_secs_f64();
        verify(self, namespace)?;
        Ok(KubectlRound { total, setup, units })
    }

    /// The workspace PVC exactly as the chart renders it for plain Helm use
    /// (`global.workspace.create`): the spec `up` gives the claim it creates itself.
    fn workspace_pvc(&self, plan: &Value, rendered: &Path, namespace: &str, out: &Path) -> Result<()> {
        let phase = plan["phases"].as_array().and_then(|p| p.first()).context("the plan has no phases")?;
        let values = rendered.join(phase_dir(phase)?).join("values.yaml");
        let release = phase["release"].as_str().context("plan phase without release")?;
        let chart = self.root.join("charts/codex-env");
        let output = Command::new(&self.helm)
            .args(["template", release])
            .arg(&chart)
            .args(["--namespace", namespace, "-f"])
            .arg(&values)
            .args(["--set", "global.workspace.create=true", "--show-only", "templates/workspace-pvc.yaml"])
            .output()
            .with_context(|| format!("running {}", self.helm.display()))?;
        ensure!(output.status.success(), "helm template of the workspace PVC: {}", text(&output.stderr).trim());
        std::fs::write(out, &output.stdout)?;
        Ok(())
    }
}

/// Each phase's `manifests.yaml`, split per unit in plan order.
struct Step {
    phase: String,
    unit: String,
    kind: String,
    resource: String,
    manifests: String,
    objects: usize,
}

fn phase_dir(phase: &Value) -> Result<String> {
    let number = phase["number"].as_u64().context("plan phase without number")?;
    let name = phase["name"].as_str().context("plan phase without name")?;
    Ok(format!("{number:02}-{name}"))
}

fn steps(plan: &Value, rendered: &Path) -> Result<Vec<Step>> {
    let mut steps = Vec::new();
    for phase in plan["phases"].as_array().context("plan -o json has no phases")? {
        let phase_name = phase["name"].as_str().context("plan phase without name")?;
        let path = rendered.join(phase_dir(phase)?).join("manifests.yaml");
        let yaml = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let units: Vec<(&str, &str)> = phase["units"]
            .as_array()
            .context("plan phase without units")?
            .iter()
            .map(|u| {
                Ok((u["name"].as_str().context("unit without name")?, u["kind"].as_str().context("unit without kind")?))
            })
            .collect::<Result<_>>()?;
        let objects = split_manifests(&yaml);
        let mut phase_steps = Vec::new();
        for (i, (unit, kind)) in units.iter().enumerate() {
            // Objects of no unit (ConfigMaps, extra manifests) go with the phase's first unit.
            let mine: Vec<&Object> = objects
                .iter()
                .filter(|o| {
                    o.unit.as_deref() == Some(*unit)
                        || (i == 0 && !units.iter().any(|(u, _)| o.unit.as_deref() == Some(*u)))
                })
                .collect();
            let workload = mine
                .iter()
                .find(|o| o.kind == *kind && o.unit.as_deref() == Some(*unit))
                .ok_or_else(|| anyhow!("{}: no {kind} labelled app.kubernetes.io/name={unit}", path.display()))?;
            phase_steps.push(Step {
                phase: phase_name.to_string(),
                unit: unit.to_string(),
                kind: kind.to_string(),
                resource: workload.name.clone(),
                manifests: mine.iter().map(|o| format!("---\n{}", o.text)).collect(),
                objects: mine.len(),
            });
        }
        let placed: usize = phase_steps.iter().map(|s| s.objects).sum();
        ensure!(
            placed == objects.len(),
            "{}: {} objects, but {placed} placed with a unit",
            path.display(),
            objects.len()
        );
        steps.extend(phase_steps);
    }
    Ok(steps)
}

/// One object of `helm template` output: its kind, `metadata.name`, the
/// `app.kubernetes.io/name` label of its metadata, and its text.
#[derive(Debug, PartialEq)]
struct Object {
    kind: String,
    name: String,
    unit: Option<String>,
    text: String,
}

/// Splits `helm template` output into objects. Helm writes block YAML with two-space indents,
/// top-level keys at column 0, so `metadata.name` and `metadata.labels.*` are found by their
/// indent alone (without a YAML parser in xtask); the text of each object is kept verbatim.
fn split_manifests(yaml: &str) -> Vec<Object> {
    let mut docs = vec![String::new()];
    for line in yaml.lines() {
        if line.trim_end() == "---" {
            docs.push(String::new());
        } else {
            let doc = docs.last_mut().expect("never empty");
            doc.push_str(line);
            doc.push('\n');
        }
    }
    let mut objects = Vec::new();
    for doc in docs {
        if doc.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
            continue;
        }
        let (mut kind, mut name, mut unit) = (String::new(), String::new(), None);
        let mut top = "";
        let mut in_labels = false;
        for line in doc.lines() {
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            if !line.starts_with(' ') {
                top = line.split(':').next().unwrap_or_default();
                if let Some(value) = line.strip_prefix("kind:") {
                    kind = unquote(value);
                }
                continue;
            }
            if top != "metadata" {
                continue;
            }
            if let Some(rest) = line.strip_prefix("  ").filter(|r| !r.starts_with(' ')) {
                in_labels = rest.trim_end() == "labels:";
                if let Some(value) = rest.strip_prefix("name:") {
                    name = unquote(value);
                }
            } else if let Some(rest) = line.strip_prefix("    ").filter(|r| in_labels && !r.starts_with(' ')) {
                if let Some(value) = rest.strip_prefix("app.kubernetes.io/name:") {
                    unit = Some(unquote(value));
                }
            }
        }
        objects.push(Object { kind, name, unit, text: doc });
    }
    objects
}

fn unquote(value: &str) -> String {
    let v = value.trim();
    let quoted =
        v.len() >= 2 && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')));
    if quoted { &v[1..v.len() - 1] } else { v }.to_string()
}

/// The floor and the per-phase timings of one evidence record; `spawned_at` and `exited_at`
/// are the wall-clock times of the process (same host clock as the evidence stamps).
fn timings(record: &Value, spawned_at: i128, exited_at: i128) -> Result<(f64, Vec<PhaseTiming>, f64)> {
    let secs = |ns: i128| ns as f64 / 1e9;
    let mut floor = 0.0;
    let mut phases = Vec::new();
    let mut previous_end = spawned_at;
    for phase in record["phases"].as_array().context("evidence without phases")? {
        let name = phase["name"].as_str().unwrap_or_default().to_string();
        let started =
            rfc3339_ns(phase["startedAt"].as_str().with_context(|| format!("phase {name} without startedAt"))?)?;
        let ready = rfc3339_ns(phase["readyAt"].as_str().with_context(|| format!("phase {name} without readyAt"))?)?;
        let mut slowest: Option<(i128, String)> = None;
        for unit in phase["units"].as_array().into_iter().flatten() {
            let unit_name = unit["name"].as_str().unwrap_or_default().to_string();
            let at = rfc3339_ns(
                unit["readyAt"]
                    .as_str()
                    .with_context(|| format!("unit {unit_name} of phase {name} without readyAt"))?,
            )?;
            if slowest.as_ref().is_none_or(|(s, _)| at - started > *s) {
                slowest = Some((at - started, unit_name));
            }
        }
        let (slowest, slowest_name) = slowest.with_context(|| format!("phase {name} has no units"))?;
        floor += secs(slowest);
        phases.push(PhaseTiming {
            name,
            slowest_unit: secs(slowest),
            slowest_unit_name: slowest_name,
            span: secs(ready - started),
            gap_before: secs(started - previous_end),
            seen_ready: None,
        });
        previous_end = ready;
    }
    Ok((floor, phases, secs(exited_at - previous_end)))
}

/// Per phase, from up's plain progress lines (`[  5.7s] 1. stateful: helm upgrade --install
/// …`, `[  8.1s]   ✓ postgres ready: …`): seconds from the phase's Helm start to the last
/// unit the gate saw ready.
fn seen_ready(log: &str) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = Vec::new();
    let mut current: Option<(String, f64)> = None;
    for line in log.lines() {
        let Some((stamp, message)) = line.strip_prefix('[').and_then(|l| l.split_once("s] ")) else {
            continue;
        };
        let Ok(at) = stamp.trim().parse::<f64>() else {
            continue;
        };
        let message = message.trim();
        let phase_start = message.split_once(". ").and_then(|(n, rest)| {
            n.bytes().all(|c| c.is_ascii_digit()).then_some(())?;
            rest.split_once(": helm upgrade --install").map(|(name, _)| name.to_string())
        });
        if let Some(name) = phase_start {
            current = Some((name, at));
        } else if let (Some(rest), Some((name, started))) = (message.strip_prefix("✓ "), &current) {
            if rest.contains(" ready: ") {
                match out.iter_mut().find(|(n, _)| n == name) {
                    Some(entry) => entry.1 = entry.1.max(at - started),
                    None => out.push((name.clone(), at - started)),
                }
            }
        }
    }
    out
}

/// The stack answers end to end: the gateway reaches greeter, and the frontend is served.
fn verify(bench: &Bench, namespace: &str) -> Result<()> {
    let get = |service: &str, path: &str| -> Result<String> {
        let url = format!("/api/v1/namespaces/{namespace}/services/{service}:80/proxy{path}");
        let out = bench.kubectl(&["get", "--raw", &url]).output()?;
        ensure!(out.status.success(), "GET {url}: {}", text(&out.stderr).trim());
        Ok(text(&out.stdout))
    };
    let greeting: Value =
        serde_json::from_str(&get("gateway", "/api/greeting")?).context("gateway /api/greeting is not JSON")?;
    ensure!(greeting["service"] == "greeter", "gateway /api/greeting in {namespace} answered {greeting}");
    ensure!(get("web", "/")?.contains("<div id=\"app\""), "web / in {namespace} does not serve the page");
    Ok(())
}

fn run_checked(mut command: Command) -> Result<Output> {
    let shown = format!("{command:?}");
    let out = command.output().with_context(|| format!("starting {shown}"))?;
    if !out.status.success() {
        bail!("{shown} failed ({}): {}{}", out.status, text(&out.stdout), text(&out.stderr));
    }
    Ok(out)
}

fn path_str(path: &Path) -> Result<&str> {
    path.to_str().with_context(|| format!("{} is not UTF-8", path.display()))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn epoch_ns(time: SystemTime) -> i128 {
    time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_nanos() as i128
}

/// Nanoseconds since the epoch of an RFC 3339 time (`2025-01-02T03:04:05.123456789Z`, or
/// with a `±hh:mm` offset); xtask has no date crate, and this is all the evidence needs.
fn rfc3339_ns(s: &str) -> Result<i128> {
    let bad = || anyhow!("not an RFC 3339 time: {s:?}");
    let b = s.as_bytes();
    let shape = b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && matches!(b[10], b'T' | b't' | b' ')
        && b[13] == b':'
        && b[16] == b':';
    ensure!(shape, bad());
    let num = |from: usize, to: usize| -> Result<i64> {
        s.get(from..to).filter(|t| t.bytes().all(|c| c.is_ascii_digit())).and_then(|t| t.parse().ok()).ok_or_else(bad)
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    ensure!((1..=12).contains(&month) && (1..=31).contains(&day) && hour < 24 && minute < 60 && second <= 60, bad());
    let mut i = 19;
    let mut nanos: i64 = 0;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = i - start;
        ensure!((1..=9).contains(&digits), bad());
        nanos = num(start, i)? * 10_i64.pow(9 - digits as u32);
    }
    let offset = match &s[i..] {
        "Z" | "z" => 0,
        zone if zone.len() == 6 && matches!(zone.as_bytes()[0], b'+' | b'-') && zone.as_bytes()[3] == b':' => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            sign * (num(i + 1, i + 3)? * 3600 + num(i + 4, i + 6)? * 60)
        }
        _ => bail!(bad()),
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Ok(i128::from(seconds) * 1_000_000_000 + i128::from(nanos))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Median and minimum of one quantity over the rounds.
#[derive(Clone, Copy)]
struct Stat {
    median: f64,
    min: f64,
}

fn stat(values: impl IntoIterator<Item = f64>) -> Stat {
    let mut v: Vec<f64> = values.into_iter().collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 };
    Stat { median, min: v[0] }
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// The rows of the result table: (key, label, unit, per-round values).
fn rows(rounds: &[Round]) -> Vec<(&'static str, &'static str, &'static str, Vec<f64>)> {
    vec![
        ("coldUpS", "cold up", "s", rounds.iter().map(|r| r.codex.cold).collect()),
        ("floorS", "readiness floor (evidence)", "s", rounds.iter().map(|r| r.codex.floor).collect()),
        ("overheadPct", "overhead: cold up / floor - 1", "%", rounds.iter().map(|r| r.overhead() * 100.0).collect()),
        ("rerunS", "unchanged rerun", "s", rounds.iter().map(|r| r.codex.warm).collect()),
        ("rerunPctOfCold", "rerun / cold up", "%", rounds.iter().map(|r| r.warm_share() * 100.0).collect()),
        (
            "seenReadyS",
            "units first seen ready (stderr)",
            "s",
            rounds.iter().map(|r| r.codex.phases.iter().map(|p| p.seen_ready.unwrap_or(f64::NAN)).sum()).collect(),
        ),
        ("kubectlS", "kubectl apply + rollout status", "s", rounds.iter().map(|r| r.kubectl.total).collect()),
        ("upOverKubectl", "cold up / kubectl sequence", "x", rounds.iter().map(Round::up_over_kubectl).collect()),
    ]
}

/// One phase over the rounds.
struct PhaseRow {
    name: String,
    /// The unit that was slowest in most rounds.
    slowest: String,
    gap_before: Stat,
    floor_share: Stat,
    span: Stat,
    seen_ready: Stat,
    /// The kubectl sequence's apply + wait time for the same units.
    kubectl: Stat,
}

fn phase_rows(rounds: &[Round]) -> Vec<PhaseRow> {
    let first = &rounds[0].codex.phases;
    first
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let of = |f: &dyn Fn(&PhaseTiming) -> f64| stat(rounds.iter().filter_map(|r| r.codex.phases.get(i)).map(f));
            let kubectl = stat(
                rounds
                    .iter()
                    .map(|r| r.kubectl.units.iter().filter(|u| u.phase == p.name).map(|u| u.seconds).sum::<f64>()),
            );
            let names: Vec<&str> =
                rounds.iter().filter_map(|r| r.codex.phases.get(i)).map(|t| t.slowest_unit_name.as_str()).collect();
            let slowest = names
                .iter()
                .max_by_key(|n| names.iter().filter(|m| m == n).count())
                .copied()
                .unwrap_or(&p.slowest_unit_name);
            PhaseRow {
                name: p.name.clone(),
                slowest: slowest.to_string(),
                gap_before: of(&|t| t.gap_before),
                floor_share: of(&|t| t.slowest_unit),
                span: of(&|t| t.span),
                seen_ready: of(&|t| t.seen_ready.unwrap_or(f64::NAN)),
                kubectl,
            }
        })
        .collect()
}

fn report_text(rounds: &[Round]) -> String {
    let mut out = String::new();
    let n = rounds.len();
    let _ = writeln!(
        out,
        "kubectl-codex up of services.yaml (--env {ENV}) on the local cluster, {n} run(s), fresh namespaces each"
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "{:<34} {:>10} {:>10}   per run", "", "median", "min");
    for (_, label, unit, values) in rows(rounds) {
        let s = stat(values.iter().copied());
        let show = |v: f64| match unit {
            "%" => format!("{v:.1}%"),
            "x" => format!("{v:.3}x"),
            _ => format!("{v:.2}s"),
        };
        let per_run: Vec<String> = values.iter().map(|v| show(*v)).collect();
        let _ = writeln!(out, "{:<34} {:>10} {:>10}   {}", label, show(s.median), show(s.min), per_run.join(" "));
    }
    let _ = writeln!(out);
    let overhead = stat(rounds.iter().map(Round::overhead));
    let rerun = stat(rounds.iter().map(Round::warm_share));
    let against_kubectl = stat(rounds.iter().map(Round::up_over_kubectl));
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    let _ = writeln!(
        out,
        "goals (medians): overhead <= {:.0}%: {}; rerun <= {:.0}% of cold: {}; cold up <= {:.1}x the kubectl sequence: {}",
        OVERHEAD_GOAL * 100.0,
        verdict(overhead.median <= OVERHEAD_GOAL),
        RERUN_GOAL * 100.0,
        verdict(rerun.median <= RERUN_GOAL),
        BASELINE_GOAL,
        verdict(against_kubectl.median <= BASELINE_GOAL)
    );
    let skipped: Vec<String> =
        rounds.iter().map(|r| format!("{}/{}", r.codex.warm_skipped, r.codex.phases.len())).collect();
    let _ = writeln!(out, "phases skipped by the rerun, per run: {}", skipped.join(" "));
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "where the cold up's time goes (medians, s; floor share = slowest unit's readyAt - phase startedAt):"
    );
    let _ = writeln!(
        out,
        "{:<11} {:<10} {:>10} {:>10} {:>12} {:>11} {:>13}",
        "phase", "slowest", "gap before", "seen ready", "floor share", "phase span", "kubectl units"
    );
    for row in phase_rows(rounds) {
        let _ = writeln!(
            out,
            "{:<11} {:<10} {:>10.2} {:>10.1} {:>12.2} {:>11.2} {:>13.2}",
            row.name,
            row.slowest,
            row.gap_before.median,
            row.seen_ready.median,
            row.floor_share.median,
            row.span.median,
            row.kubectl.median
        );
    }
    let finish = stat(rounds.iter().map(|r| r.codex.finish));
    let setup = stat(rounds.iter().map(|r| r.kubectl.setup));
    let _ =
        writeln!(out, "{:<22} {:>10.2}   (last phase readyAt -> process exit)", "after the last phase", finish.median);
    let _ =
        writeln!(out, "{:<22} {:>10.2}   (kubectl: create namespace + workspace PVC)", "kubectl setup", setup.median);
    let _ = writeln!(out, "gap before = previous phase readyAt (first phase: process start) -> phase startedAt");
    let _ = writeln!(out, "seen ready = up's stderr: phase's helm start -> last '✓ <unit> ready' (the gate looks when a watch reports a change; before helm's wait returns and hooks run)");
    let gaps = stat(rounds.iter().map(|r| r.codex.phases.iter().map(|p| p.gap_before).sum::<f64>()));
    let beyond = stat(rounds.iter().map(|r| r.codex.phases.iter().map(|p| p.span - p.slowest_unit).sum::<f64>()));
    let excess = stat(rounds.iter().map(|r| r.codex.cold - r.codex.floor));
    let _ = writeln!(
        out,
        "cold up - floor = {:.2}s: gaps before phases {:.2}s + phase spans beyond their slowest unit {:.2}s + after the last phase {:.2}s (medians of each)",
        excess.median, gaps.median, beyond.median, finish.median
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "cold up  = kubectl-codex up -f <copy, namespace bench-codex-<i>> --env {ENV} -o json (new namespace)"
    );
    let _ = writeln!(out, "rerun    = the same command again, nothing changed");
    let _ = writeln!(out, "kubectl  = kubectl create namespace + apply workspace PVC, then per unit in plan order:");
    let _ = writeln!(
        out,
        "           kubectl apply -f <its objects>; kubectl rollout status deployment|statefulset/<name>"
    );
    let _ =
        writeln!(out, "           or kubectl wait --for=condition=complete job/<name>  (namespace bench-kubectl-<i>)");
    let order: Vec<String> = rounds
        .iter()
        .map(|r| format!("{}:{}", r.run, if r.codex_first { "up first" } else { "kubectl first" }))
        .collect();
    let _ = writeln!(out, "order per run: {}", order.join(", "));
    out
}

fn report_json(rounds: &[Round]) -> Value {
    let summary: serde_json::Map<String, Value> = rows(rounds)
        .into_iter()
        .map(|(key, _, _, values)| {
            let s = stat(values.iter().copied());
            (key.to_string(), json!({"median": round3(s.median), "min": round3(s.min)}))
        })
        .collect();
    let per_run: Vec<Value> = rounds
        .iter()
        .map(|r| {
            json!({
                "run": r.run,
                "order": if r.codex_first { "up first" } else { "kubectl first" },
                "coldUpS": round3(r.codex.cold),
                "floorS": round3(r.codex.floor),
                "overheadPct": round3(r.overhead() * 100.0),
                "rerunS": round3(r.codex.warm),
                "rerunPctOfCold": round3(r.warm_share() * 100.0),
                "rerunPhasesSkipped": r.codex.warm_skipped,
                "kubectlS": round3(r.kubectl.total),
                "upOverKubectl": round3(r.up_over_kubectl()),
                "phases": r.codex.phases.iter().map(|p| json!({
                    "name": p.name,
                    "gapBeforeS": round3(p.gap_before),
                    "slowestUnit": p.slowest_unit_name,
                    "floorShareS": round3(p.slowest_unit),
                    "spanS": round3(p.span),
                    "seenReadyS": p.seen_ready.map(round3),
                })).collect::<Vec<_>>(),
                "afterLastPhaseS": round3(r.codex.finish),
                "kubectlSetupS": round3(r.kubectl.setup),
                "kubectlUnits": r.kubectl.units.iter().map(|u| json!({"phase": u.phase, "unit": u.unit, "seconds": round3(u.seconds)})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let overhead = stat(rounds.iter().map(Round::overhead));
    let rerun = stat(rounds.iter().map(Round::warm_share));
    json!({
        "env": ENV,
        "runs": rounds.len(),
        "floorDefinition": "sum over phases of max over units of (unit.readyAt - phase.startedAt) from the cold run's evidence; unit.readyAt is when the gate first saw the workload ready, or when its readiness hooks passed",
        "goals": {
            "overheadMaxPct": OVERHEAD_GOAL * 100.0,
            "overheadMet": overhead.median <= OVERHEAD_GOAL,
            "rerunMaxPctOfCold": RERUN_GOAL * 100.0,
            "rerunMet": rerun.median <= RERUN_GOAL,
        },
        "summary": summary,
        "perRun": per_run,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_parse_to_nanoseconds() {
        assert_eq!(rfc3339_ns("1970-01-01T00:00:00Z").unwrap(), 0);
        assert_eq!(rfc3339_ns("2000-03-01T00:00:00Z").unwrap(), 951_868_800 * 1_000_000_000);
        assert_eq!(
            rfc3339_ns("2025-11-27T14:10:00.5Z").unwrap() - rfc3339_ns("2025-11-27T14:09:59.25Z").unwrap(),
            1_250_000_000
        );
        assert_eq!(rfc3339_ns("2025-11-27T14:10:00.000000001Z").unwrap() % 1_000_000_000, 1);
        assert_eq!(rfc3339_ns("2025-11-27T15:10:00+01:00").unwrap(), rfc3339_ns("2025-11-27T14:10:00Z").unwrap());
        assert!(rfc3339_ns("2025-11-27 14:10").is_err());
        assert!(rfc3339_ns("2025-11-27T14:10:00.Z").is_err());
    }

    #[test]
    fn the_floor_sums_each_phases_slowest_unit() {
        let record = json!({"phases": [
            {"name": "a", "startedAt": "2025-01-01T00:00:01Z", "readyAt": "2025-01-01T00:00:05Z",
             "units": [{"name": "x", "readyAt": "2025-01-01T00:00:03Z"}, {"name": "y", "readyAt": "2025-01-01T00:00:04.5Z"}]},
            {"name": "b", "startedAt": "2025-01-01T00:00:06Z", "readyAt": "2025-01-01T00:00:08Z",
             "units": [{"name": "z", "readyAt": "2025-01-01T00:00:07Z"}]},
        ]});
        let spawned = rfc3339_ns("2025-01-01T00:00:00Z").unwrap();
        let exited = rfc3339_ns("2025-01-01T00:00:09Z").unwrap();
        let (floor, phases, finish) = timings(&record, spawned, exited).unwrap();
        assert!(phases.iter().all(|p| p.seen_ready.is_none()));
        assert!((floor - 4.5).abs() < 1e-9);
        assert_eq!(phases[0].slowest_unit_name, "y");
        assert!((phases[0].gap_before - 1.0).abs() < 1e-9 && (phases[1].gap_before - 1.0).abs() < 1e-9);
        assert!((phases[0].span - 4.0).abs() < 1e-9);
        assert!((finish - 1.0).abs() < 1e-9);
    }

    #[test]
    fn progress_lines_give_when_the_gate_first_saw_each_phase_ready() {
        let log = "[   0.0s] namespace x (created: no namespace yet)\n\
                   [   0.1s] 1. stateful: helm upgrade --install codex-stateful\n\
                   [   5.7s]   ✓ postgres ready: statefulset ready (1/1)\n\
                   [   7.9s]   ✓ postgres hooks passed\n\
                   [   8.0s] 2. migrations: helm upgrade --install codex-migrations\n\
                   [   9.0s]   ✓ a ready: job complete\n\
                   [  12.5s]   ✓ b ready: job complete\n";
        let seen = seen_ready(log);
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].0, "stateful");
        assert!((seen[0].1 - 5.6).abs() < 1e-9);
        assert!((seen[1].1 - 4.5).abs() < 1e-9);
    }

    #[test]
    fn manifests_split_by_the_metadata_name_label() {
        let yaml = "---\n# Source: x/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels:\n    app.kubernetes.io/name: web\nspec:\n  selector:\n    app.kubernetes.io/name: \"other\"\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels:\n    app.kubernetes.io/name: codex-env\n  name: \"settings\"\n";
        let objects = split_manifests(yaml);
        assert_eq!(objects.len(), 2);
        assert_eq!(
            (objects[0].kind.as_str(), objects[0].name.as_str(), objects[0].unit.as_deref()),
            ("Service", "web", Some("web"))
        );
        assert_eq!(
            (objects[1].kind.as_str(), objects[1].name.as_str(), objects[1].unit.as_deref()),
            ("ConfigMap", "settings", Some("codex-env"))
        );
        assert!(objects[0].text.starts_with("# Source") && objects[0].text.contains("selector"));
    }
}
