//! `cargo xtask bench core`: wall time and peak memory of `plan` and `render --values-only` on
//! a generated services.yaml of N units, against `helm template` of the same values.
//! Method and how to read the output: docs/benchmarks.md.

mod components;
mod generate;
mod inputs_secrets;
mod manifest_units;
mod yaml;

use generate::{generate, Generated};

use super::harness::{measure, Sample};
use super::stats::{round2, round3, ProcessStats};
use crate::exec;
use anyhow::{ensure, Context, Result};
use clap::{Args, ValueEnum};
use serde_json::json;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The goal from the issue, for both `plan` and `render` (helm excluded).
const GOAL_MS: f64 = 100.0;
const GOAL_MB: f64 = 100.0;
/// The five phases, in deploy order; the generator spreads units over all of them.
const PHASES: [&str; 5] = ["stateful", "migrations", "internal", "edge", "frontend"];

#[derive(Args)]
pub struct CoreArgs {
    /// Units in the generated services.yaml (spread over all five phases).
    #[arg(long, default_value_t = 500)]
    units: usize,
    /// Timed runs of each command (after one untimed warm-up run).
    #[arg(long, default_value_t = 10)]
    runs: usize,
    /// Environment to plan and render: `dev` goes through `from`, dev overrides and overlays.
    #[arg(long, default_value = "dev")]
    env: String,
    #[arg(short, long, value_enum, default_value_t = Format::Text)]
    output: Format,
    /// Keep services.yaml and the rendered values in this directory instead of a temporary one.
    #[arg(long)]
    keep: Option<PathBuf>,
    /// Make every other unit manifest-only (five templated documents each, and an image
    /// edit), as real stacks are written.
    #[arg(long)]
    manifest_units: bool,
    /// Shared unit defaults: this many `components`, every typed unit using one of them.
    #[arg(long, default_value_t = 0)]
    components: usize,
    /// Inputs declared (a fifth of them secret), every typed unit reading one.
    #[arg(long, default_value_t = 0)]
    inputs: usize,
    /// Secrets built from the secret inputs, every typed unit reading one.
    #[arg(long, default_value_t = 0)]
    secrets: usize,
    /// helm binary; default: the pinned build of `cargo xtask tools helm`.
    #[arg(long)]
    helm: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

/// `cargo xtask bench core`.
pub fn run(args: &CoreArgs) -> Result<()> {
    ensure!(args.units >= PHASES.len(), "--units must be at least {} (one per phase)", PHASES.len());
    ensure!(args.runs >= 1, "--runs must be at least 1");
    let chart = crate::repo::repo_root().join("charts/codex-env");
    let helm = match &args.helm {
        Some(path) => path.clone(),
        None => crate::tools::tool_path("helm")?,
    };
    let temp = tempfile::tempdir()?;
    let dir = match &args.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            dir.clone()
        }
        None => temp.path().to_path_buf(),
    };
    let file = dir.join("big.yaml");
    let out = dir.join("rendered");
    let generated = generate(args.units, args.manifest_units, args.components, args.inputs, args.secrets);
    write_workload(&dir, &file, &generated)?;

    let binary = crate::repo::release_binary("")?;
    // A generated file that trips a validation rule would benchmark the error path.
    exec::output(Command::new(&binary).arg("validate").arg("-f").arg(&file))
        .with_context(|| format!("the generated {} does not validate", file.display()))?;
    let plan_args = args_of(&["plan", "--env", &args.env, "-f"], &file, &["-o", "json"]);
    let mut render_args = args_of(&["render", "--env", &args.env, "-f"], &file, &["--values-only", "--out"]);
    render_args.push(out.clone().into());
    // The helm calls are known once `render` has written its phases, in the warm-up.
    let mut commands = Commands { binary, plan_args, render_args, helm, helm_calls: Vec::new() };
    let namespace = commands.warm_up(&out, &chart)?;
    let samples = commands.sample(args.runs)?;

    let rows = rows(args, &namespace, commands.helm_calls.len(), samples);
    match args.output {
        Format::Json => println!("{}", serde_json::to_string_pretty(&json_report(args, &generated, &rows))?),
        Format::Text => print_text(args, &generated, &rows),
    }
    if args.keep.is_some() {
        eprintln!("kept {} and {}", file.display(), out.display());
    }
    Ok(())
}

/// services.yaml and the manifest files of manifest-only units, under `dir`.
fn write_workload(dir: &Path, file: &Path, generated: &Generated) -> Result<()> {
    std::fs::write(file, &generated.yaml).with_context(|| format!("writing {}", file.display()))?;
    for (path, content) in &generated.manifests {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().context("a manifest has a directory")?)?;
        std::fs::write(&target, content).with_context(|| format!("writing {}", target.display()))?;
    }
    Ok(())
}

/// The three measured commands: kubectl-codex `plan` and `render`, and helm once per phase.
struct Commands {
    binary: PathBuf,
    plan_args: Vec<OsString>,
    render_args: Vec<OsString>,
    helm: PathBuf,
    helm_calls: Vec<Vec<OsString>>,
}

impl Commands {
    /// Warm-up: page cache, the helm chart read once; also yields the namespace and the phases
    /// (the helm calls), which `render` has written by then.
    fn warm_up(&mut self, out: &Path, chart: &Path) -> Result<String> {
        let plan_json = exec::output(Command::new(&self.binary).args(&self.plan_args))?;
        let plan: serde_json::Value = serde_json::from_slice(&plan_json.stdout).context("reading plan -o json")?;
        let namespace = plan["namespace"].as_str().context("plan has a namespace")?.to_string();
        measure(&self.binary, &self.render_args)?;
        self.helm_calls = helm_calls(out, chart, &namespace);
        let phases = self.helm_calls.len();
        ensure!(phases == PHASES.len(), "render wrote {phases} phases, expected {}", PHASES.len());
        for call in &self.helm_calls {
            measure(&self.helm, call)?;
        }
        Ok(namespace)
    }

    /// The timed runs: plan, render and helm samples, in that order.
    fn sample(&self, runs: usize) -> Result<[Vec<Sample>; 3]> {
        let mut plan_samples = Vec::new();
        let mut render_samples = Vec::new();
        let mut helm_samples = Vec::new();
        for run in 1..=runs {
            eprint!("\rrun {run}/{runs}");
            // Interleaved, so drift of the machine's load hits all three alike.
            plan_samples.push(measure(&self.binary, &self.plan_args)?);
            render_samples.push(measure(&self.binary, &self.render_args)?);
            let mut total = Sample { wall: Duration::ZERO, max_rss_kb: 0 };
            for call in &self.helm_calls {
                let one = measure(&self.helm, call)?;
                total.wall += one.wall;
                total.max_rss_kb = total.max_rss_kb.max(one.max_rss_kb);
            }
            helm_samples.push(total);
        }
        eprintln!();
        Ok([plan_samples, render_samples, helm_samples])
    }
}

/// One row of the report: name, the command as a reader would type it, its statistics.
type Row = (&'static str, String, ProcessStats);

/// plan, render and helm, in that order (the report indexes them so).
fn rows(args: &CoreArgs, namespace: &str, phases: usize, samples: [Vec<Sample>; 3]) -> [Row; 3] {
    let [plan, render, helm] = samples;
    [
        ("plan", format!("kubectl-codex plan --env {} -f big.yaml -o json", args.env), ProcessStats::of(&plan)),
        (
            "render",
            format!("kubectl-codex render --env {} -f big.yaml --out DIR --values-only", args.env),
            ProcessStats::of(&render),
        ),
        (
            "helm",
            format!("helm template codex-<phase> charts/codex-env -f DIR/<phase>/values.yaml --namespace {namespace}, {phases} phases summed"),
            ProcessStats::of(&helm),
        ),
    ]
}

fn goal_met(s: &ProcessStats) -> bool {
    s.median_ms <= GOAL_MS && s.peak_mb <= GOAL_MB
}

fn json_report(args: &CoreArgs, generated: &Generated, rows: &[Row; 3]) -> serde_json::Value {
    let helm_stats = &rows[2].2;
    let results: Vec<_> = rows
        .iter()
        .map(|(name, command, s)| {
            json!({
                "name": name,
                "command": command,
                "medianMs": round2(s.median_ms),
                "minMs": round2(s.min_ms),
                "peakRssMb": round2(s.peak_mb),
                "timeRatioToHelm": round3(s.median_ms / helm_stats.median_ms),
                "rssRatioToHelm": round3(s.peak_mb / helm_stats.peak_mb),
                "samplesMs": s.samples_ms.iter().map(|v| round2(*v)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "units": args.units,
        "unitsPerPhase": PHASES.iter().zip(generated.per_phase).map(|(p, n)| (p.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "dependencies": generated.dependencies,
        "servicesYamlBytes": generated.yaml.len(),
        "manifestOnlyUnits": generated.manifests.len(),
        "documentsPerManifestUnit": manifest_units::DOCUMENTS,
        "components": args.components,
        "inputs": args.inputs,
        "secrets": args.secrets,
        "env": args.env,
        "runs": args.runs,
        "goal": { "ms": GOAL_MS, "mb": GOAL_MB, "planMet": goal_met(&rows[0].2), "renderMet": goal_met(&rows[1].2) },
        "results": results,
    })
}

fn print_text(args: &CoreArgs, generated: &Generated, rows: &[Row; 3]) {
    let helm_stats = &rows[2].2;
    let per_phase: Vec<String> = PHASES.iter().zip(generated.per_phase).map(|(p, n)| format!("{n} {p}")).collect();
    println!(
        "services.yaml: {} units ({}), {} dependsOn edges, {} KiB; env {}; {} runs",
        args.units,
        per_phase.join(", "),
        generated.dependencies,
        generated.yaml.len() / 1024,
        args.env,
        args.runs
    );
    if args.components > 0 {
        println!("{} components, every typed unit using one", args.components);
    }
    if args.inputs > 0 || args.secrets > 0 {
        println!(
            "{} inputs (a fifth secret), {} secrets, every typed unit reading one of each",
            args.inputs, args.secrets
        );
    }
    if !generated.manifests.is_empty() {
        println!("{} of them manifest-only, {} documents each", generated.manifests.len(), manifest_units::DOCUMENTS);
    }
    println!();
    println!(
        "{:<8} {:>10} {:>10} {:>12} {:>14} {:>13}",
        "", "median ms", "min ms", "peak RSS MB", "time vs helm", "RSS vs helm"
    );
    for (name, _, s) in rows {
        println!(
            "{:<8} {:>10.1} {:>10.1} {:>12.1} {:>13.3}x {:>12.3}x",
            name,
            s.median_ms,
            s.min_ms,
            s.peak_mb,
            s.median_ms / helm_stats.median_ms,
            s.peak_mb / helm_stats.peak_mb
        );
    }
    println!();
    for (name, command, _) in rows {
        println!("{name:<8} = {command}");
    }
    let verdict = |s: &ProcessStats| if goal_met(s) { "met" } else { "MISSED" };
    println!(
        "goal (median < {GOAL_MS} ms and peak < {GOAL_MB} MB): plan {}, render {}",
        verdict(&rows[0].2),
        verdict(&rows[1].2)
    );
}

fn args_of(before: &[&str], file: &Path, after: &[&str]) -> Vec<OsString> {
    let mut args: Vec<OsString> = before.iter().map(OsString::from).collect();
    args.push(file.into());
    args.extend(after.iter().map(OsString::from));
    args
}

/// One `helm template` per phase directory that `render` wrote, in deploy order.
fn helm_calls(out: &Path, chart: &Path, namespace: &str) -> Vec<Vec<OsString>> {
    let mut calls = Vec::new();
    for (i, phase) in PHASES.iter().enumerate() {
        let values = out.join(format!("{:02}-{phase}", i + 1)).join("values.yaml");
        if values.is_file() {
            let mut call = args_of(&["template", &format!("codex-{phase}")], chart, &["--namespace", namespace, "-f"]);
            call.push(values.into());
            calls.push(call);
        }
    }
    calls
}
