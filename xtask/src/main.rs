//! Project automation (`cargo xtask …`): tools, local cluster, demo, tests.
use clap::{Parser, Subcommand};

mod cluster;
mod example_images;
mod image;
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
    /// Run the local single-node Kubernetes cluster.
    #[command(subcommand)]
    Cluster(cluster::ClusterCommand),
    /// Assemble an OCI image from local files and push it to the local registry.
    Image(image::ImageArgs),
    /// Build the example stack's images (example/) and push them to the local registry.
    Images(example_images::ImagesArgs),
    /// Placeholder until the subcommands land.
    Version,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Tools { names } => tools::run(&names)?,
        Command::Image(args) => image::run_cli(args)?,
        Command::Images(args) => example_images::run_cli(args)?,
        Command::Cluster(command) => cluster::run_cli(command)?,
        Command::Version => println!("xtask"),
    }
    Ok(())
}
