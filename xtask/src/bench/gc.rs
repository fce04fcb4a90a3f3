//! `cargo xtask bench gc`: one `kubectl codex gc` sweep over many managed namespaces on the
//! local cluster, its time and API requests, against one `kubectl get namespaces -l …` list.
//! Method and how to read the output: docs/benchmarks.md.

use super::stats::median;
use super::time;
use crate::cluster;
use crate::exec;
use crate::repo::release_binary;
use anyhow::{ensure, Context, Result};
use clap::Args;
use serde_json::Value;
use std::process::Command;
use std::time::Instant;

#[derive(Args)]
pub struct GcArgs {
    /// Managed namespaces to create; half of them expired.
    #[arg(long, default_value_t = 200)]
    namespaces: usize,
    /// Timed dry-run sweeps (the real sweep runs once, at the end).
    #[arg(long, default_value_t = 5)]
    runs: usize,
}

const LABEL: &str = "codex-k8s.dev/project=bench-gc";

/// Runs `command` to success; its wall time in seconds and its standard output.
fn timed(command: &mut Command) -> Result<(f64, Vec<u8>)> {
    let started = Instant::now();
    let output = exec::output(command)?;
    Ok((started.elapsed().as_secs_f64(), output.stdout))
}

/// The HTTP requests kubectl logged at `-v=6` (one `round_trippers` line per request, such as
/// `GET https://127.0.0.1:6443/api/v1/namespaces?… 200 OK in 2 milliseconds`).
fn kubectl_requests(stderr: &str) -> usize {
    const VERBS: [&str; 5] = ["GET https://", "POST https://", "PUT https://", "PATCH https://", "DELETE https://"];
    stderr.lines().filter(|line| line.contains("round_trippers") && VERBS.iter().any(|v| line.contains(v))).count()
}

pub fn run(args: &GcArgs) -> Result<()> {
    ensure!(args.namespaces >= 2 && args.runs >= 1, "--namespaces >= 2 and --runs >= 1");
    let info = cluster::up()?;
    let codex = release_binary("[bench gc] ")?;
    let kubectl = |args: &[&str]| {
        let mut c = Command::new("kubectl");
        c.args(args).env("KUBECONFIG", &info.kubeconfig);
        c
    };
    let codex_cmd = |args: &[&str]| {
        let mut c = Command::new(&codex);
        c.args(args).env("KUBECONFIG", &info.kubeconfig);
        c
    };

    // Start clean, then create the namespaces in one apply.
    timed(&mut kubectl(&["delete", "namespace", "-l", LABEL, "--wait=true", "--timeout=300s"]))?;
    let now = time::now_rfc3339();
    let mut manifest = String::new();
    for i in 0..args.namespaces {
        let last = if i % 2 == 0 { "2020-01-01T00:00:00Z".to_string() } else { now.clone() };
        manifest.push_str(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bench-gc-{i:04}\n  labels:\n    app.kubernetes.io/managed-by: kubectl-codex\n    codex-k8s.dev/project: bench-gc\n  annotations:\n    codex-k8s.dev/last-activity: \"{last}\"\n    codex-k8s.dev/idle-ttl: 8h\n---\n"
        ));
    }
    let file = std::env::temp_dir().join("bench-gc-namespaces.yaml");
    std::fs::write(&file, manifest)?;
    timed(&mut kubectl(&["apply", "-f", file.to_str().unwrap()]))?;

    let mut baseline = Vec::new();
    let mut baseline_requests = Vec::new();
    let mut dry = Vec::new();
    let mut dry_requests = Vec::new();
    for _ in 0..args.runs {
        let started = Instant::now();
        let listed = exec::output(&mut kubectl(&["get", "namespaces", "-l", LABEL, "-o", "json", "-v=6"]))?;
        baseline.push(started.elapsed().as_secs_f64());
        baseline_requests.push(kubectl_requests(&String::from_utf8_lossy(&listed.stderr)) as f64);
        let (seconds, out) = timed(&mut codex_cmd(&["gc", "--dry-run", "-o", "json"]))?;
        let report: Value = serde_json::from_slice(&out)?;
        dry_requests.push(report["apiRequests"].as_u64().context("gc -o json has apiRequests")? as f64);
        dry.push(seconds);
    }
    let (real_seconds, out) = timed(&mut codex_cmd(&["gc", "-o", "json"]))?;
    let report: Value = serde_json::from_slice(&out)?;
    let deleted =
        report["decisions"].as_array().map(|d| d.iter().filter(|d| d["action"] == "deleted").count()).unwrap_or(0);
    let real_requests = report["apiRequests"].as_u64().context("gc -o json has apiRequests")?;
    timed(&mut kubectl(&["delete", "namespace", "-l", LABEL, "--wait=false"]))?;

    let base = median(&baseline);
    println!(
        "gc sweep over {} managed namespaces ({} expired), {} runs; times in ms",
        args.namespaces,
        args.namespaces / 2,
        args.runs
    );
    // Requests are those seen on the wire: kubectl's own -v=6 log, kubectl-codex's count in its
    // client's HTTP stack (`apiRequests`). The real sweep deletes what it sweeps, so it runs once.
    println!(
        "| measurement | ms (median of {}; the real sweep: one run) | API requests (median) | ratio to baseline |",
        args.runs
    );
    println!("|---|---|---|---|");
    println!(
        "| baseline: kubectl get namespaces -l (one list) | {:.0} | {:.0} | 1.00 |",
        base * 1000.0,
        median(&baseline_requests)
    );
    println!(
        "| kubectl codex gc --dry-run | {:.0} | {:.0} | {:.2} |",
        median(&dry) * 1000.0,
        median(&dry_requests),
        median(&dry) / base
    );
    println!(
        "| kubectl codex gc (deleted {deleted}) | {:.0} | {real_requests} | {:.2} |",
        real_seconds * 1000.0,
        real_seconds / base
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_requests_are_its_round_tripper_lines() {
        let log = "I1206 22:51:46.668838   27611 loader.go:402] Config loaded from file:  kubeconfig\n\
I1206 22:51:46.677676   27611 round_trippers.go:560] GET https://127.0.0.1:6443/api/v1/namespaces?limit=500 200 OK in 2 milliseconds\n\
I1206 22:51:46.680000   27611 round_trippers.go:560] DELETE https://127.0.0.1:6443/api/v1/namespaces/x 200 OK in 1 milliseconds\n";
        assert_eq!(kubectl_requests(log), 2);
        assert_eq!(kubectl_requests(""), 0);
    }
}
