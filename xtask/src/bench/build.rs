//! `cargo xtask bench build`: `kubectl codex build` of the example after a Go edit, builds side
//! by side (`--jobs`) against one at a time (`--jobs 1`), on the local BuildKit (no cluster).
//! Method and how to read the output: docs/benchmarks.md.

use super::harness::{load_average, replace_line};
use super::stats::median;
use crate::buildkit;
use crate::exec;
use crate::repo::{release_binary, repo_root, target_dir};
use anyhow::{ensure, Context, Result};
use clap::Args;
use serde_json::{json, Value};
use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

#[derive(Args)]
pub struct BuildArgs {
    /// Measured rounds; each builds once one at a time and once side by side.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// `--jobs` of the side-by-side builds (default: kubectl-codex's own default).
    #[arg(long)]
    jobs: Option<usize>,
    /// Print the result as JSON too.
    #[arg(long)]
    json: bool,
}

/// The example's images go to their own repositories here, so the example's tags stay as
/// the demo and the tests pushed them.
const REPOSITORY_PREFIX: &str = "codex-bench-build/";
const GO_MESSAGE_FILE: &str = "example/services/cmd/greeter/message.go";
const GO_MESSAGE_PREFIX: &str = "const Message = ";

struct Round {
    seconds: f64,
    built: usize,
}

pub fn run(args: &BuildArgs) -> Result<()> {
    ensure!(args.runs >= 1, "--runs must be at least 1");
    let buildkit_host = buildkit::up()?;
    let buildctl = buildkit::buildctl()?;
    let codex = release_binary("[bench build] ")?;
    let db_password = crate::repo::example_db_password()?;
    let work = prepare_copy()?;
    let side_by_side = args.jobs.map(|j| j.to_string());
    let build = |jobs: Option<&str>, round: &str| -> Result<Round> {
        replace_line(
            &work.join(GO_MESSAGE_FILE),
            GO_MESSAGE_PREFIX,
            &format!("{GO_MESSAGE_PREFIX}\"bench build {round} {}\"", std::process::id()),
        )?;
        let mut command = Command::new(&codex);
        command
            .current_dir(&work)
            .args(["build", "--env", "prod", "-o", "json", "--builder", "buildctl", "--buildctl"])
            .arg(&buildctl)
            .env("BUILDKIT_HOST", &buildkit_host)
            .env(crate::repo::DB_PASSWORD_ENV, &db_password);
        if let Some(jobs) = jobs {
            command.args(["--jobs", jobs]);
        }
        let started = Instant::now();
        let out = exec::output(&mut command).with_context(|| format!("build ({round})"))?;
        let seconds = started.elapsed().as_secs_f64();
        let report: Value = serde_json::from_slice(&out.stdout).context("build -o json printed no JSON")?;
        let built =
            report["images"].as_array().map_or(0, |images| images.iter().filter(|i| i["status"] == "built").count());
        Ok(Round { seconds, built })
    };
    eprintln!("[bench build] warm-up build (not measured)");
    build(side_by_side.as_deref(), "warm-up")?;
    let load_before = load_average()?;
    let (mut serial, mut parallel) = (Vec::new(), Vec::new());
    for run in 0..args.runs {
        // Alternate which goes first, so neither always meets a cache the other just warmed.
        let order: [(bool, &str); 2] = if run % 2 == 0 {
            [(false, "one at a time"), (true, "side by side")]
        } else {
            [(true, "side by side"), (false, "one at a time")]
        };
        for (is_parallel, label) in order {
            let round =
                build(if is_parallel { side_by_side.as_deref() } else { Some("1") }, &format!("{run}-{label}"))?;
            eprintln!("[bench build] run {}: {label}: {:.2} s, {} images built", run + 1, round.seconds, round.built);
            if is_parallel {
                parallel.push(round)
            } else {
                serial.push(round)
            }
        }
    }
    let load_after = load_average()?;
    let seconds = |rounds: &[Round]| rounds.iter().map(|r| r.seconds).collect::<Vec<_>>();
    let (serial_median, parallel_median) = (median(&seconds(&serial)), median(&seconds(&parallel)));
    let jobs = args.jobs.map_or_else(|| "default".to_string(), |j| j.to_string());
    println!(
        "bench build: {} runs, {} images rebuilt per build, load {load_before:.1} -> {load_after:.1}",
        args.runs, serial[0].built
    );
    println!("  {:<36} median {serial_median:.2} s", "one at a time (--jobs 1, baseline)");
    println!(
        "  {:<36} median {parallel_median:.2} s  ({:.2}x the baseline's time)",
        format!("side by side (--jobs {jobs})"),
        parallel_median / serial_median
    );
    if args.json {
        println!(
            "{}",
            json!({"runs": args.runs, "jobs": jobs, "imagesBuilt": serial[0].built, "serialMedianSeconds": serial_median,
                   "parallelMedianSeconds": parallel_median, "ratio": parallel_median / serial_median,
                   "loadBefore": load_before, "loadAfter": load_after})
        );
    }
    Ok(())
}

/// services.yaml and example/ copied under target/, repositories renamed.
fn prepare_copy() -> Result<PathBuf> {
    let root = repo_root();
    let work = target_dir().join("bench-build");
    if work.exists() {
        fs::remove_dir_all(&work).with_context(|| format!("removing {}", work.display()))?;
    }
    fs::create_dir_all(&work)?;
    exec::output(Command::new("cp").arg("-a").arg(root.join("example")).arg(&work))?;
    let yaml = fs::read_to_string(root.join("services.yaml"))?;
    ensure!(
        yaml.contains("repository: codex-example/"),
        "services.yaml no longer names repositories `codex-example/…`"
    );
    fs::write(
        work.join("services.yaml"),
        yaml.replace("repository: codex-example/", &format!("repository: {REPOSITORY_PREFIX}")),
    )?;
    ensure!(work.join(GO_MESSAGE_FILE).is_file(), "{GO_MESSAGE_FILE} is missing");
    Ok(work)
}
