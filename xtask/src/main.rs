//! Project automation (`cargo xtask …`): tools, local cluster, demo, tests.
use clap::{Parser, Subcommand};

mod bench;
mod buildkit;
mod cluster;
// Only a test reads it: the tree's size limits.
#[cfg(test)]
mod code_size;
mod demo;
mod dist;
mod e2e_support;
mod exec;
mod faults;
mod host_packages;
mod images;
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
    Bench(bench::BenchCommand),
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
    /// for `cargo test --features e2e --test tests -- e2e_cluster::` (as `export` lines).
    E2eEnv,
    /// Assemble an OCI image from local files and push it to the local registry.
    Image(images::oci::ImageArgs),
    /// Build the example stack's images (example/) and push them to the local registry.
    Images(images::example::ImagesArgs),
    /// Build the example stack's `dev` runtime images (Go toolchain + devwatch, node, agent,
    /// workspace seed) and push them to the local registry.
    DevImages(images::dev::DevImagesArgs),
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

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Tools { names } => tools::run(&names)?,
        Command::Bench(command) => bench::run(command)?,
        Command::Image(args) => images::oci::run_cli(args)?,
        Command::Images(args) => images::example::run_cli(args)?,
        Command::DevImages(args) => images::dev::run_cli(args)?,
        Command::Cluster(command) => cluster::run_cli(command)?,
        Command::Buildkit(command) => buildkit::run_cli(command)?,
        Command::BaseImages => images::base::run_cli()?,
        Command::E2eEnv => {
            for (key, value) in e2e_support::prepare_cluster_e2e()? {
                println!("export {key}={value}");
            }
        }
        Command::Test(args) => test_suite::run_cli(args)?,
        Command::Faults { filters } => faults::run(&filters)?,
        Command::Demo(args) => demo::run_cli(args)?,
        Command::QuickStart => quick_start::run()?,
        Command::GcImage => println!("{}", images::gc::build_and_push()?),
        Command::Dist(args) => dist::run_cli(args)?,
    }
    Ok(())
}
