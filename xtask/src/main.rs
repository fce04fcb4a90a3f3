//! Project automation (`cargo xtask …`): tools, local cluster, demo, tests.
use clap::{Parser, Subcommand};

mod bench_build;
mod bench_core;
mod bench_gc;
mod bench_import;
mod bench_reload;
mod bench_up;
mod buildkit;
mod cluster;
mod demo;
mod dev_images;
mod dist;
mod e2e_support;
mod example_images;
mod faults;
mod gc_image;
mod host_packages;
mod image;
mod install_check;
mod progress;
mod quick_start;
mod repo;
mod test_suite;
mod tools;
mod versions;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "kubectl-codex project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build pinned Go tools into ~/.cache/kubectl-codex/tools (all, or the named ones).
    Tools { names: Vec<String> },
    /// Benchmarks, each measured against a baseline in the same invocation.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Run BuildKit for `kubectl codex build` (buildkitd with runc, base images in the local
    /// registry, the example's offline build inputs).
    #[command(subcommand)]
    Buildkit(buildkit::BuildkitCommand),
    /// Assemble the base images (Debian, Go, Node.js, PostgreSQL) from this machine and the
    /// Debian mirror and push them to the local registry under codex-base/ (also part of
    /// `buildkit up`).
    BaseImages,
    /// Run the local single-node Kubernetes cluster.
    #[command(subcommand)]
    Cluster(cluster::ClusterCommand),
    /// Bring the cluster up, push the e2e probe image and print the environment
    /// for `cargo test --features e2e --test e2e_cluster` (as `export` lines).
    E2eEnv,
    /// Assemble an OCI image from local files and push it to the local registry.
    Image(image::ImageArgs),
    /// Build the example stack's images (example/) and push them to the local registry.
    Images(example_images::ImagesArgs),
    /// Build the example stack's `dev` runtime images (Go toolchain + devwatch, node, agent,
    /// workspace seed) and push them to the local registry.
    DevImages(dev_images::DevImagesArgs),
    /// Run every test: unit, golden, CLI, chart with helm, example Go tests, then the local
    /// cluster and the end-to-end tests (the README's test command).
    Test(test_suite::TestArgs),
    /// The fault-injection suite on the local cluster: API server paused and restarted,
    /// etcd and kubelet restarted, `up` killed holding its Lease, `down` during `up`
    /// (tests/e2e_faults.rs; FILTER selects cases by name).
    Faults { filters: Vec<String> },
    /// `cargo xtask demo`, then the README's quick-start block run verbatim with the export
    /// lines the demo printed (and nothing else set): a step of `cargo xtask test`.
    QuickStart,
    /// Assemble the image of the codex-gc chart (the release binary) and push it.
    GcImage,
    /// The demo: local cluster up, example images pushed, `kubectl codex up`, URLs and evidence.
    Demo(demo::DemoArgs),
    /// Release archives into dist/ (static linux/amd64 binary, LICENSE, README, Helm plugin),
    /// each with its .sha256, and their krew manifest dist/codex.yaml.
    Dist(dist::DistArgs),
}

#[derive(Subcommand)]
enum BenchCommand {
    /// `plan` and `render --values-only` on a generated services.yaml of N units, with
    /// `helm template` of the same values as the baseline.
    Core(bench_core::CoreArgs),
    /// Cold `up` of services.yaml on the local cluster against its readiness floor and a
    /// `kubectl apply` + `rollout status` sequence, and an unchanged rerun.
    Up(bench_up::UpArgs),
    /// One `gc` sweep over N managed namespaces (half expired): time and API requests, with a
    /// plain `kubectl get namespaces -l …` list as the baseline.
    Gc(bench_gc::GcArgs),
    /// Edit-to-new-response on the local cluster for a Go handler and a Vite component: hot
    /// reload in the dev runtime against rebuild + redeploy of the prod image.
    Reload(bench_reload::ReloadArgs),
    /// `kubectl codex build` of the example after a Go edit (every image rebuilt): builds side
    /// by side (`--jobs`) against one at a time, on the local BuildKit.
    Build(bench_build::BuildArgs),
    /// `kubectl codex import` of a generated codexctl file of N units (five Go-templated
    /// manifests each), with `validate` of the written stack as the baseline.
    Import(bench_import::ImportArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Tools { names } => tools::run(&names)?,
        Command::Bench(BenchCommand::Core(args)) => bench_core::run(&args)?,
        Command::Bench(BenchCommand::Reload(args)) => bench_reload::run(&args)?,
        Command::Bench(BenchCommand::Up(args)) => bench_up::run(&args)?,
        Command::Bench(BenchCommand::Gc(args)) => bench_gc::gc(&args)?,
        Command::Bench(BenchCommand::Build(args)) => bench_build::run(&args)?,
        Command::Bench(BenchCommand::Import(args)) => bench_import::run(&args)?,
        Command::Image(args) => image::run_cli(args)?,
        Command::Images(args) => example_images::run_cli(args)?,
        Command::DevImages(args) => dev_images::run_cli(args)?,
        Command::Cluster(command) => cluster::run_cli(command)?,
        Command::Buildkit(command) => buildkit::run_cli(command)?,
        Command::BaseImages => buildkit::base_images::run_cli()?,
        Command::E2eEnv => {
            for (key, value) in e2e_support::prepare_cluster_e2e()? {
                println!("export {key}={value}");
            }
        }
        Command::Test(args) => test_suite::run_cli(args)?,
        Command::Faults { filters } => faults::run(&filters)?,
        Command::Demo(args) => demo::run_cli(args)?,
        Command::QuickStart => quick_start::run()?,
        Command::GcImage => println!("{}", gc_image::build_and_push()?),
        Command::Dist(args) => dist::run_cli(args)?,
    }
    Ok(())
}
