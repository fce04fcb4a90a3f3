//! `cargo xtask bench core`: wall time and peak memory of the offline core of kubectl-codex
//! (`plan`, `render --values-only`) on a generated services.yaml of N units, measured in one
//! invocation next to `helm template` of the very same values, which is the baseline.
//!
//! Each measurement is a separate process of the release binary, as a user runs it, so the
//! numbers include start-up, reading the file and writing the output. Peak memory is the
//! child's own `ru_maxrss`, read with `wait4`, so nothing of this process leaks into it.

mod components;
mod inputs_secrets;
mod manifest_units;

use anyhow::{bail, ensure, Context, Result};
use clap::{Args, ValueEnum};
use serde_json::json;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("xtask sits inside the workspace")?.to_path_buf();
    let chart = root.join("charts/codex-env");
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
    std::fs::write(&file, &generated.yaml).with_context(|| format!("writing {}", file.display()))?;
    for (path, content) in &generated.manifests {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().context("a manifest has a directory")?)?;
        std::fs::write(&target, content).with_context(|| format!("writing {}", target.display()))?;
    }

    let binary = crate::repo::release_binary("")?;

    // A generated file that trips a validation rule would benchmark the error path.
    let validate = Command::new(&binary).arg("validate").arg("-f").arg(&file).output()?;
    if !validate.status.success() {
        bail!(
            "the generated {} does not validate ({}):\n{}{}",
            file.display(),
            validate.status,
            String::from_utf8_lossy(&validate.stdout),
            String::from_utf8_lossy(&validate.stderr)
        );
    }

    let plan_args = args_of(&["plan", "--env", &args.env, "-f"], &file, &["-o", "json"]);
    let mut render_args = args_of(&["render", "--env", &args.env, "-f"], &file, &["--values-only", "--out"]);
    render_args.push(out.clone().into());

    // Warm-up: page cache, the helm chart read once; also yields the namespace and the phases.
    let plan_json = Command::new(&binary).args(&plan_args).output()?;
    ensure!(plan_json.status.success(), "plan failed: {}", String::from_utf8_lossy(&plan_json.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&plan_json.stdout).context("reading plan -o json")?;
    let namespace = plan["namespace"].as_str().context("plan has a namespace")?.to_string();
    measure(&binary, &render_args)?;
    let helm_calls = helm_calls(&out, &chart, &namespace);
    ensure!(helm_calls.len() == PHASES.len(), "render wrote {} phases, expected {}", helm_calls.len(), PHASES.len());
    for call in &helm_calls {
        measure(&helm, call)?;
    }

    let mut plan_samples = Vec::new();
    let mut render_samples = Vec::new();
    let mut helm_samples = Vec::new();
    for run in 1..=args.runs {
        eprint!("\rrun {run}/{}", args.runs);
        // Interleaved, so drift of the machine's load hits all three alike.
        plan_samples.push(measure(&binary, &plan_args)?);
        render_samples.push(measure(&binary, &render_args)?);
        let mut total = Sample { wall: Duration::ZERO, max_rss_kb: 0 };
        for call in &helm_calls {
            let one = measure(&helm, call)?;
            total.wall += one.wall;
            total.max_rss_kb = total.max_rss_kb.max(one.max_rss_kb);
        }
        helm_samples.push(total);
    }
    eprintln!();

    let helm_stats = Stats::of(&helm_samples);
    let rows = [
        ("plan", format!("kubectl-codex plan --env {} -f big.yaml -o json", args.env), Stats::of(&plan_samples)),
        (
            "render",
            format!("kubectl-codex render --env {} -f big.yaml --out DIR --values-only", args.env),
            Stats::of(&render_samples),
        ),
        (
            "helm",
            format!("helm template codex-<phase> charts/codex-env -f DIR/<phase>/values.yaml --namespace {namespace}, {} phases summed", helm_calls.len()),
            helm_stats.clone(),
        ),
    ];
    let goal_met = |s: &Stats| s.median_ms <= GOAL_MS && s.peak_mb <= GOAL_MB;

    match args.output {
        Format::Json => {
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
            let report = json!({
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
            });
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Format::Text => {
            let per_phase: Vec<String> =
                PHASES.iter().zip(generated.per_phase).map(|(p, n)| format!("{n} {p}")).collect();
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
                println!(
                    "{} of them manifest-only, {} documents each",
                    generated.manifests.len(),
                    manifest_units::DOCUMENTS
                );
            }
            println!();
            println!(
                "{:<8} {:>10} {:>10} {:>12} {:>14} {:>13}",
                "", "median ms", "min ms", "peak RSS MB", "time vs helm", "RSS vs helm"
            );
            for (name, _, s) in &rows {
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
            for (name, command, _) in &rows {
                println!("{name:<8} = {command}");
            }
            let verdict = |s: &Stats| if goal_met(s) { "met" } else { "MISSED" };
            println!(
                "goal (median < {GOAL_MS} ms and peak < {GOAL_MB} MB): plan {}, render {}",
                verdict(&rows[0].2),
                verdict(&rows[1].2)
            );
        }
    }
    if args.keep.is_some() {
        eprintln!("kept {} and {}", file.display(), out.display());
    }
    Ok(())
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

pub(crate) struct Sample {
    pub(crate) wall: Duration,
    pub(crate) max_rss_kb: u64,
}

/// Runs `program` to completion (output discarded) and returns its wall time and peak RSS.
pub(crate) fn measure(program: &Path, args: &[OsString]) -> Result<Sample> {
    let stderr = tempfile::tempfile()?;
    let start = Instant::now();
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr.try_clone()?)
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own child, not yet reaped (std reaps only in wait/try_wait,
        // which are never called on `child`); both out-pointers are valid for writes.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            break;
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error).context("wait4");
        }
    }
    let wall = start.elapsed();
    drop(child);
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        let mut message = String::new();
        use std::io::{Read, Seek};
        let mut stderr = stderr;
        stderr.rewind()?;
        stderr.read_to_string(&mut message)?;
        bail!("{} {:?} failed (wait status {status}): {}", program.display(), args, message.trim());
    }
    // Linux reports ru_maxrss in KiB.
    Ok(Sample { wall, max_rss_kb: usage.ru_maxrss.max(0) as u64 })
}

#[derive(Clone)]
pub(crate) struct Stats {
    pub(crate) median_ms: f64,
    pub(crate) min_ms: f64,
    /// The highest peak RSS of any run, in MB (10^6 bytes).
    pub(crate) peak_mb: f64,
    pub(crate) samples_ms: Vec<f64>,
}

impl Stats {
    pub(crate) fn of(samples: &[Sample]) -> Stats {
        let samples_ms: Vec<f64> = samples.iter().map(|s| s.wall.as_secs_f64() * 1000.0).collect();
        let mut sorted = samples_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median_ms = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
        let peak_kb = samples.iter().map(|s| s.max_rss_kb).max().unwrap_or(0);
        Stats { median_ms, min_ms: sorted[0], peak_mb: peak_kb as f64 * 1024.0 / 1e6, samples_ms }
    }
}

pub(crate) fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

// ---------------------------------------------------------------------------------------------
// The generator: a services.yaml shaped like a large real project, deterministic for a given N.

/// A YAML node whose mappings keep insertion order, so the file reads like a hand-written one.
enum Node {
    Map(Vec<(String, Node)>),
    Seq(Vec<Node>),
    Str(String),
    Int(i64),
    Bool(bool),
}

impl From<&str> for Node {
    fn from(s: &str) -> Node {
        Node::Str(s.to_string())
    }
}
impl From<String> for Node {
    fn from(s: String) -> Node {
        Node::Str(s)
    }
}
impl From<i64> for Node {
    fn from(n: i64) -> Node {
        Node::Int(n)
    }
}
impl From<bool> for Node {
    fn from(b: bool) -> Node {
        Node::Bool(b)
    }
}

fn map<const N: usize>(entries: [(&str, Node); N]) -> Node {
    Node::Map(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn seq<T: Into<Node>>(items: impl IntoIterator<Item = T>) -> Node {
    Node::Seq(items.into_iter().map(Into::into).collect())
}

impl Node {
    fn push(&mut self, key: &str, value: impl Into<Node>) {
        if let Node::Map(entries) = self {
            entries.push((key.to_string(), value.into()));
        }
    }
}

/// Block-style YAML. Strings are plain when that cannot change their meaning, otherwise
/// double-quoted (a JSON string is a valid YAML double-quoted scalar).
fn emit(node: &Node, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match node {
        Node::Map(entries) => {
            for (key, value) in entries {
                match value {
                    Node::Map(inner) if !inner.is_empty() => {
                        let _ = writeln!(out, "{pad}{key}:");
                        emit(value, indent + 2, out);
                    }
                    Node::Seq(items) if !items.is_empty() => {
                        let _ = writeln!(out, "{pad}{key}:");
                        emit(value, indent + 2, out);
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}{key}: {}", scalar(value));
                    }
                }
            }
        }
        Node::Seq(items) => {
            for item in items {
                match item {
                    Node::Map(inner) if !inner.is_empty() => {
                        // The first entry shares the line of the dash: "- name: x".
                        let mut block = String::new();
                        emit(item, indent + 2, &mut block);
                        let _ = write!(out, "{pad}- {}", &block[indent + 2..]);
                    }
                    Node::Seq(inner) if !inner.is_empty() => {
                        let _ = writeln!(out, "{pad}-");
                        emit(item, indent + 2, out);
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}- {}", scalar(item));
                    }
                }
            }
        }
        scalar_node => {
            let _ = writeln!(out, "{pad}{}", scalar(scalar_node));
        }
    }
}

fn scalar(node: &Node) -> String {
    match node {
        Node::Map(_) => "{}".into(),
        Node::Seq(_) => "[]".into(),
        Node::Int(n) => n.to_string(),
        Node::Bool(b) => b.to_string(),
        Node::Str(s) => {
            let safe = !s.is_empty()
                && s.chars().all(|c| c.is_ascii_alphanumeric() || "/_.-".contains(c))
                && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '/')
                && !matches!(
                    s.as_str(),
                    "true" | "false" | "null" | "True" | "False" | "Null" | "TRUE" | "FALSE" | "NULL"
                );
            if safe {
                s.clone()
            } else {
                serde_json::to_string(s).expect("a string serialises")
            }
        }
    }
}

/// Deterministic xorshift: the same N always yields the same file, so runs compare.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

struct Generated {
    yaml: String,
    /// Manifest files of manifest-only units, (path relative to services.yaml, content).
    manifests: Vec<(String, String)>,
    per_phase: [usize; 5],
    dependencies: usize,
}

/// Unit names of each phase: `db-001`, `migrate-001`, `svc-001`, `gw-001`, `web-001`.
fn unit_name(phase: usize, i: usize) -> String {
    let prefix = ["db", "migrate", "svc", "gw", "web"][phase];
    format!("{prefix}-{i:03}")
}

/// `units` split like a real system: a few stores and migrations, many internal services.
fn split(units: usize) -> [usize; 5] {
    let share = |percent: usize| (units * percent / 100).max(1);
    let (stateful, migrations, edge, frontend) = (share(8), share(8), share(15), share(15));
    [stateful, migrations, units - stateful - migrations - edge - frontend, edge, frontend]
}

fn generate(units: usize, manifest_units: bool, components: usize, inputs: usize, secrets: usize) -> Generated {
    let per_phase = split(units);
    let [n_db, n_migrate, n_svc, n_gw, n_web] = per_phase;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut dependencies = 0;
    let mut images: Vec<(String, Node)> = vec![
        ("postgres".into(), map([("ref", "docker.io/library/postgres:16.4".into())])),
        ("redis".into(), map([("ref", "docker.io/library/redis:7.4".into())])),
    ];
    let mut infrastructure = Vec::new();
    let mut services = Vec::new();

    for i in 0..n_db {
        let name = unit_name(0, i);
        // Every third store starts a group; the others (replicas) wait for the one before.
        let depends: Vec<String> = if i % 3 != 0 { vec![unit_name(0, i - 1)] } else { vec![] };
        dependencies += depends.len();
        let postgres = i % 2 == 0;
        let (image, port_name, port) = if postgres { ("postgres", "pg", 5432) } else { ("redis", "redis", 6379) };
        let mut env = map([]);
        if postgres {
            env.push("POSTGRES_USER", "app");
            env.push("POSTGRES_PASSWORD", "app");
            env.push("POSTGRES_DB", "app");
            env.push("PGDATA", "/var/lib/postgresql/data/pgdata");
        }
        env.push("INSTANCE", format!("{name}.{{{{ namespace }}}}"));
        let mut unit = map([("name", name.clone().into())]);
        if !depends.is_empty() {
            unit.push("dependsOn", seq(depends));
        }
        unit.push(
            "workload",
            map([
                ("kind", "StatefulSet".into()),
                ("image", image.into()),
                ("env", env),
                ("ports", seq([map([("name", port_name.into()), ("port", i64::from(port).into())])])),
                (
                    "probes",
                    map([(
                        "readiness",
                        map([("tcp", map([("port", port_name.into())])), ("periodSeconds", 2.into())]),
                    )]),
                ),
                ("resources", resources()),
                (
                    "volumes",
                    seq([map([
                        ("name", "data".into()),
                        ("mountPath", "/var/lib/data".into()),
                        ("size", "5Gi".into()),
                    ])]),
                ),
            ]),
        );
        unit.push("hooks", map([("readiness", seq([map([("tcp", map([("port", port_name.into())]))])]))]));
        unit.push("overlays", map([("prod", map([("workload", map([("replicas", 3.into())]))]))]));
        infrastructure.push(unit);
    }

    for i in 0..n_migrate {
        let name = unit_name(1, i);
        let mut depends = vec![unit_name(0, (i * 2) % n_db)];
        if i % 2 == 1 {
            depends.push(unit_name(1, i - 1));
        }
        dependencies += depends.len();
        images.push((name.clone(), built_image(&name)));
        let db = unit_name(0, (i * 2) % n_db);
        let mut unit = map([
            ("name", name.clone().into()),
            ("phase", "migrations".into()),
            ("dependsOn", seq(depends)),
            (
                "workload",
                map([
                    ("kind", "Job".into()),
                    ("image", name.clone().into()),
                    ("args", seq(["up", "--dir", "/migrations"])),
                    (
                        "env",
                        map([(
                            "DATABASE_URL",
                            format!("postgres://app:app@{db}:5432/app?application_name={{{{ env }}}}").into(),
                        )]),
                    ),
                    ("backoffLimit", 4.into()),
                ]),
            ),
        ]);
        if i % 4 == 0 {
            let check =
                map([("image", name.clone().into()), ("command", seq(["/app/check"])), ("args", seq(["--schema"]))]);
            unit.push("hooks", map([("readiness", seq([map([("job", check), ("timeout", "5m".into())])]))]));
        }
        services.push(unit);
    }

    for i in 0..n_svc {
        let name = unit_name(2, i);
        let mut depends = vec![unit_name(1, i % n_migrate), unit_name(0, i % n_db)];
        // Chains of five services, plus an occasional call to an older service.
        if i % 5 != 0 {
            depends.push(unit_name(2, i - 1));
        }
        if i >= 2 && i % 3 == 0 {
            depends.push(unit_name(2, rng.below(i - 1)));
        }
        depends.dedup();
        dependencies += depends.len();
        images.push((name.clone(), built_image(&name)));
        let cron = i % 10 == 9;
        let mut unit =
            map([("name", name.clone().into()), ("phase", "internal".into()), ("dependsOn", seq(depends.clone()))]);
        let mut workload =
            map([("kind", if cron { "CronJob" } else { "Deployment" }.into()), ("image", name.clone().into())]);
        workload.push("env", service_env(&name, &depends));
        if cron {
            workload.push("schedule", "*/15 * * * *");
        } else {
            workload.push("ports", service_ports());
            workload.push("probes", probes());
            workload.push("resources", resources());
            workload.push("replicas", 2);
        }
        let hot = !cron && i % 2 == 0;
        if hot {
            workload.push("dev", dev_override(&name));
        }
        unit.push("workload", workload);
        add_code_update(&mut unit, &format!("services/{name}"), hot, cron);
        if !cron && i % 3 == 0 {
            unit.push(
                "hooks",
                map([(
                    "readiness",
                    seq([map([("http", map([("path", "/healthz".into()), ("port", "http".into())]))])]),
                )]),
            );
        }
        if i % 10 == 0 {
            unit.push(
                "overlays",
                map([
                    ("prod", map([("workload", map([("replicas", 4.into())]))])),
                    ("dev", map([("workload", map([("env", map([("LOG_LEVEL", "debug".into())]))]))])),
                ]),
            );
        }
        services.push(unit);
    }

    for i in 0..n_gw {
        let name = unit_name(3, i);
        let mut depends: Vec<String> = (0..3).map(|_| unit_name(2, rng.below(n_svc))).collect();
        if i % 4 != 0 {
            depends.push(unit_name(3, i - 1));
        }
        depends.sort();
        depends.dedup();
        dependencies += depends.len();
        images.push((name.clone(), built_image(&name)));
        let hot = i % 2 == 0;
        let mut workload = map([
            ("kind", "Deployment".into()),
            ("image", name.clone().into()),
            ("env", service_env(&name, &depends)),
            ("ports", service_ports()),
            ("probes", probes()),
            ("resources", resources()),
        ]);
        if hot {
            workload.push("dev", dev_override(&name));
        }
        let mut unit = map([
            ("name", name.clone().into()),
            ("phase", "edge".into()),
            ("dependsOn", seq(depends)),
            ("workload", workload),
        ]);
        add_code_update(&mut unit, &format!("services/{name}"), hot, false);
        unit.push(
            "hooks",
            map([(
                "readiness",
                seq([map([(
                    "http",
                    map([("path", "/api/status".into()), ("port", "http".into()), ("expectStatus", 200.into())]),
                )])]),
            )]),
        );
        services.push(unit);
    }

    for i in 0..n_web {
        let name = unit_name(4, i);
        let mut depends = vec![unit_name(3, i % n_gw), unit_name(2, rng.below(n_svc))];
        if i % 3 != 0 {
            depends.push(unit_name(4, i - 1));
        }
        depends.dedup();
        dependencies += depends.len();
        images.push((name.clone(), built_image(&name)));
        let mut unit = map([
            ("name", name.clone().into()),
            ("phase", "frontend".into()),
            ("dependsOn", seq(depends.clone())),
            (
                "workload",
                map([
                    ("kind", "Deployment".into()),
                    ("image", name.clone().into()),
                    ("env", service_env(&name, &depends)),
                    ("ports", service_ports()),
                    ("probes", probes()),
                    (
                        "dev",
                        map([
                            ("command", seq(["node"])),
                            ("args", seq(["node_modules/vite/bin/vite.js", "--host", "0.0.0.0", "--port", "8080"])),
                            ("workingDir", "/workspace".into()),
                        ]),
                    ),
                ]),
            ),
        ]);
        add_code_update(&mut unit, &format!("web/{name}"), true, false);
        unit.push(
            "ingress",
            map([("host", format!("{{{{ namespace }}}}-{name}.localtest.me").into()), ("path", "/".into())]),
        );
        // A debug toolbar only outside prod: only on units nobody depends on (the last of
        // each chain of three), since `dependsOn` may not point at an excluded unit.
        if i % 3 == 2 || i + 1 == n_web {
            unit.push("when", "{{ runtime == 'dev' or env == 'staging' }}");
        }
        services.push(unit);
    }

    let mut document = map([
        ("apiVersion", "codex-k8s.dev/v1alpha1".into()),
        ("kind", "ServiceStack".into()),
        (
            "project",
            map([
                ("name", "acme".into()),
                ("description", format!("Generated by cargo xtask bench core: {units} units.").into()),
            ]),
        ),
        ("versions", map([("app", "2.14.0".into()), ("schema", "2024.06".into())])),
        (
            "environments",
            map([
                (
                    "prod",
                    map([
                        ("namespace", "{{ project }}-prod".into()),
                        ("runtime", "prod".into()),
                        ("registry", "registry.example.test/acme".into()),
                        ("idleTTL", "720h".into()),
                    ]),
                ),
                (
                    "staging",
                    map([
                        ("from", "prod".into()),
                        ("namespace", "{{ project }}-staging".into()),
                        ("idleTTL", "24h".into()),
                    ]),
                ),
                (
                    "dev",
                    map([
                        ("from", "prod".into()),
                        ("runtime", "dev".into()),
                        ("imagePullPolicy", "Always".into()),
                        ("namespace", "{{ project }}-dev{% if slot %}-{{ slot }}{% endif %}".into()),
                        ("idleTTL", "8h".into()),
                    ]),
                ),
                (
                    "ai",
                    map([
                        ("from", "dev".into()),
                        (
                            "namespace",
                            "{{ project }}-ai-{% if issue %}issue-{{ issue }}{% else %}slot-{{ slot }}{% endif %}"
                                .into(),
                        ),
                        ("disableKinds", seq(["Ingress"])),
                    ]),
                ),
            ]),
        ),
        ("images", Node::Map(images)),
        (
            "workspace",
            map([
                ("claimName", "acme-workspace".into()),
                ("size", "20Gi".into()),
                ("accessMode", "ReadWriteMany".into()),
                ("uid", 10001.into()),
                ("gid", 10001.into()),
                ("fsGroup", 10001.into()),
            ]),
        ),
        (
            "agent",
            map([
                ("image", unit_name(2, 0).into()),
                ("workspace", map([("mountPath", "/workspace".into()), ("readOnly", false.into())])),
                (
                    "permissions",
                    seq([map([
                        ("apiGroups", seq([""])),
                        ("resources", seq(["pods", "pods/log", "services"])),
                        ("verbs", seq(["get", "list", "watch"])),
                    ])]),
                ),
            ]),
        ),
        ("infrastructure", Node::Seq(infrastructure)),
        ("services", Node::Seq(services)),
    ]);
    let mut manifests = Vec::new();
    if manifest_units {
        if let Node::Map(entries) = &mut document {
            for (key, value) in entries.iter_mut() {
                if let (true, Node::Seq(units)) = (key == "infrastructure" || key == "services", value) {
                    manifests.extend(manifest_units::convert(units));
                }
            }
        }
    }
    if inputs > 0 || secrets > 0 {
        inputs_secrets::convert(&mut document, inputs, secrets);
    }
    if components > 0 {
        components::convert(&mut document, components);
    }
    let mut yaml = String::from("# Generated by `cargo xtask bench core`; see xtask/src/bench_core.rs.\n");
    emit(&document, 0, &mut yaml);
    Generated { yaml, manifests, per_phase, dependencies }
}

fn built_image(name: &str) -> Node {
    map([
        (
            "build",
            map([
                ("context", "services".into()),
                ("dockerfile", "Dockerfile".into()),
                ("targets", map([("prod", "prod".into()), ("dev", "dev".into())])),
                ("args", map([("SERVICE", name.into()), ("VERSION", "{{ versions.app }}".into())])),
            ]),
        ),
        ("repository", format!("acme/{name}").into()),
        ("tag", "{{ versions.app }}-{{ runtime }}".into()),
    ])
}

fn service_env(name: &str, depends: &[String]) -> Node {
    let mut env = map([
        ("SERVICE_NAME", name.into()),
        ("LOG_LEVEL", "info".into()),
        ("PORT", 8080.into()),
        ("NAMESPACE", "{{ namespace }}".into()),
        ("VERSION", "{{ versions.app }}".into()),
        ("TRACING_ENABLED", true.into()),
    ]);
    // Jobs have no Service to call; every other dependency is reached by its Service name.
    for dependency in depends.iter().filter(|d| !d.starts_with("migrate-")) {
        let key = format!("{}_URL", dependency.to_uppercase().replace('-', "_"));
        let url = if dependency.starts_with("db-") {
            format!("postgres://app:app@{dependency}:5432/app")
        } else {
            format!("http://{dependency}.{{{{ namespace }}}}.svc:80")
        };
        env.push(&key, url);
    }
    env
}

fn service_ports() -> Node {
    seq([
        map([("name", "http".into()), ("port", 8080.into()), ("servicePort", 80.into())]),
        map([("name", "metrics".into()), ("port", 9090.into())]),
    ])
}

fn probes() -> Node {
    map([
        (
            "readiness",
            map([("http", map([("path", "/readyz".into()), ("port", "http".into())])), ("periodSeconds", 2.into())]),
        ),
        ("liveness", map([("tcp", map([("port", "http".into())])), ("initialDelaySeconds", 5.into())])),
    ])
}

fn resources() -> Node {
    map([
        ("requests", map([("cpu", "50m".into()), ("memory", "64Mi".into())])),
        ("limits", map([("memory", "256Mi".into())])),
    ])
}

fn dev_override(name: &str) -> Node {
    map([
        ("command", seq(["/app/devwatch"])),
        (
            "args",
            seq([
                "-dir".to_string(),
                format!("/workspace/services/{name}"),
                "-run".to_string(),
                format!("/tmp/devwatch/{name}"),
            ]),
        ),
        ("env", map([("GOFLAGS", "-mod=vendor".into())])),
    ])
}

/// Hot reload needs the workspace mounted; the others rebuild their image (CronJobs restart).
fn add_code_update(unit: &mut Node, sub_path: &str, hot: bool, cron: bool) {
    if hot {
        unit.push(
            "workspace",
            map([("mountPath", "/workspace".into()), ("subPath", sub_path.into()), ("readOnly", true.into())]),
        );
        unit.push("codeUpdateStrategy", "hot-reload");
    } else {
        unit.push("codeUpdateStrategy", if cron { "restart" } else { "rebuild" });
    }
}
