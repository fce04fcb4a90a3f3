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
    let tools = Tools { codex: release_binary("[bench gc] ")?, kubeconfig: info.kubeconfig };
    // Start clean, then create the namespaces in one apply.
    timed(&mut tools.kubectl(&["delete", "namespace", "-l", LABEL, "--wait=true", "--timeout=300s"]))?;
    let file = std::env::temp_dir().join("bench-gc-namespaces.yaml");
    std::fs::write(&file, namespaces(args.namespaces))?;
    timed(&mut tools.kubectl(&["apply", "-f", file.to_str().unwrap()]))?;

    let samples = tools.sample(args.runs)?;
    let (real_seconds, out) = timed(&mut tools.codex(&["gc", "-o", "json"]))?;
    let report: Value = serde_json::from_slice(&out)?;
    let deleted =
        report["decisions"].as_array().map(|d| d.iter().filter(|d| d["action"] == "deleted").count()).unwrap_or(0);
    let real_requests = report["apiRequests"].as_u64().context("gc -o json has apiRequests")?;
    timed(&mut tools.kubectl(&["delete", "namespace", "-l", LABEL, "--wait=false"]))?;

    let base = median(&samples.baseline);
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
        median(&samples.baseline_requests)
    );
    println!(
        "| kubectl codex gc --dry-run | {:.0} | {:.0} | {:.2} |",
        median(&samples.dry) * 1000.0,
        median(&samples.dry_requests),
        median(&samples.dry) / base
    );
    println!(
        "| kubectl codex gc (deleted {deleted}) | {:.0} | {real_requests} | {:.2} |",
        real_seconds * 1000.0,
        real_seconds / base
    );
    Ok(())
}

/// `count` managed namespaces in one multi-document manifest, every other one idle since 2020
/// (expired), the rest active now.
fn namespaces(count: usize) -> String {
    let now = time::now_rfc3339();
    let mut manifest = String::new();
    for i in 0..count {
        let last = if i % 2 == 0 { "2020-01-01T00:00:00Z".to_string() } else { now.clone() };
        manifest.push_str(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bench-gc-{i:04}\n  labels:\n    app.kubernetes.io/managed-by: kubectl-codex\n    codex-k8s.dev/project: bench-gc\n  annotations:\n    codex-k8s.dev/last-activity: \"{last}\"\n    codex-k8s.dev/idle-ttl: 8h\n---\n"
        ));
    }
    manifest
}

/// kubectl and kubectl-codex against the local cluster.
struct Tools {
    codex: std::path::PathBuf,
    kubeconfig: std::path::PathBuf,
}

/// Seconds and API requests of every timed run: the kubectl list and the dry-run sweep.
struct Samples {
    baseline: Vec<f64>,
    baseline_requests: Vec<f64>,
    dry: Vec<f64>,
    dry_requests: Vec<f64>,
}

impl Tools {
    fn kubectl(&self, args: &[&str]) -> Command {
        let mut c = Command::new("kubectl");
        c.args(args).env("KUBECONFIG", &self.kubeconfig);
        c
    }

    fn codex(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.codex);
        c.args(args).env("KUBECONFIG", &self.kubeconfig);
        c
    }

    /// `runs` rounds of the baseline list, then the dry-run sweep, interleaved.
    fn sample(&self, runs: usize) -> Result<Samples> {
        let mut samples = Samples { baseline: vec![], baseline_requests: vec![], dry: vec![], dry_requests: vec![] };
        for _ in 0..runs {
            let started = Instant::now();
            let listed = exec::output(&mut self.kubectl(&["get", "namespaces", "-l", LABEL, "-o", "json", "-v=6"]))?;
            samples.baseline.push(started.elapsed().as_secs_f64());
            samples.baseline_requests.push(kubectl_requests(&String::from_utf8_lossy(&listed.stderr)) as f64);
            let (seconds, out) = timed(&mut self.codex(&["gc", "--dry-run", "-o", "json"]))?;
            let report: Value = serde_json::from_slice(&out)?;
            samples.dry_requests.push(report["apiRequests"].as_u64().context("gc -o json has apiRequests")? as f64);
            samples.dry.push(seconds);
        }
        Ok(samples)
    }
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
