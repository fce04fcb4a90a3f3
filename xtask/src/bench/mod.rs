//! `cargo xtask bench …`: benchmarks, each measured against a baseline in the same invocation.
//! What each one measures, its baseline, rounds and statistic, and how to read its output:
//! docs/benchmarks.md.
//!
//! One module per benchmark; what more than one of them needs lives in [`harness`] (running
//! and measuring processes, machine load, file edits), [`stats`] (the median and its company)
//! and [`time`] (timestamps). Benchmarks never import from each other.

mod build;
mod core;
mod gc;
mod harness;
mod import;
mod reload;
mod stats;
mod time;
mod up;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// `plan` and `render --values-only` on a generated services.yaml of N units, with
    /// `helm template` of the same values as the baseline.
    Core(core::CoreArgs),
    /// Cold `up` of services.yaml on the local cluster against its readiness floor and a
    /// `kubectl apply` + `rollout status` sequence, and an unchanged rerun.
    Up(up::UpArgs),
    /// One `gc` sweep over N managed namespaces (half expired): time and API requests, with a
    /// plain `kubectl get namespaces -l …` list as the baseline.
    Gc(gc::GcArgs),
    /// Edit-to-new-response on the local cluster for a Go handler and a Vite component: hot
    /// reload in the dev runtime against rebuild + redeploy of the prod image.
    Reload(reload::ReloadArgs),
    /// `kubectl codex build` of the example after a Go edit (every image rebuilt): builds side
    /// by side (`--jobs`) against one at a time, on the local BuildKit.
    Build(build::BuildArgs),
    /// `kubectl codex import` of a generated codexctl file of N units (five Go-templated
    /// manifests each), with `validate` of the written stack as the baseline.
    Import(import::ImportArgs),
}

/// Runs the chosen benchmark.
pub fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Core(args) => core::run(&args),
        BenchCommand::Up(args) => up::run(&args),
        BenchCommand::Gc(args) => gc::run(&args),
        BenchCommand::Reload(args) => reload::run(&args),
        BenchCommand::Build(args) => build::run(&args),
        BenchCommand::Import(args) => import::run(&args),
    }
}
