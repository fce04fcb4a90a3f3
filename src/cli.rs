//! The command line: every command, flag and help text. No behaviour lives here.

mod command_args;
mod help;
mod shared_args;

pub use command_args::{
    AgentCommand, AgentRunArgs, BuildArgs, CheckArgs, CompleteArgs, CompletionArgs, DownArgs, EvidenceArgs, GcArgs,
    GraphArgs, GraphFormat, ImportArgs, ImportFormat, PlanArgs, RenderArgs, ReviseArgs, StatusArgs, UpArgs,
    ValidateArgs, VersionArgs,
};
pub use shared_args::{BuilderArgs, DeployArgs, InputArgs, KubeArgs, OutputFormat, SelectionArgs, TargetArgs};

use clap::{Parser, Subcommand};
use help::help_text;

#[derive(Parser, Debug)]
#[command(
    name = "kubectl-codex",
    bin_name = "kubectl codex",
    version = crate::version::LONG,
    about = "Bring up a complete, isolated environment of a multi-service project from one services.yaml",
    long_about = help_text(help::ABOUT),
    after_help = format!("{}\n\n{}", help_text(help::EXAMPLES), crate::exit::help_table())
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check services.yaml and report every problem at once (no cluster needed).
    #[command(after_help = help_text(help::VALIDATE))]
    Validate(ValidateArgs),
    /// Print the ordered phases, their units, images and readiness gates (no cluster needed).
    #[command(after_help = help_text(help::PLAN))]
    Plan(PlanArgs),
    /// Write each phase's Helm values and rendered manifests to a directory (no cluster needed).
    #[command(after_help = help_text(help::RENDER))]
    Render(RenderArgs),
    /// Build the environment's images (prod or dev targets), skipping unchanged ones; copy its
    /// mirrored images into its registry, skipping present ones.
    #[command(after_help = help_text(help::BUILD))]
    Build(BuildArgs),
    /// Deploy the environment phase by phase through Helm, gated on readiness, with evidence.
    #[command(after_help = help_text(help::UP))]
    Up(UpArgs),
    /// Show an environment: namespace, lease and TTL, phase releases and unit readiness.
    #[command(after_help = help_text(help::STATUS))]
    Status(StatusArgs),
    /// Print the deploy evidence of an environment, or prove its phase order (--verify).
    #[command(after_help = help_text(help::EVIDENCE))]
    Evidence(EvidenceArgs),
    /// Uninstall the phase releases in reverse order, then delete the namespace (only a managed one).
    #[command(after_help = help_text(help::DOWN))]
    Down(DownArgs),
    /// Deploy a review round of an issue: reuse its warm environment, or start a fresh one.
    #[command(after_help = help_text(help::REVISE))]
    Revise(ReviseArgs),
    /// Delete managed namespaces whose idle lease has expired (never anything else).
    #[command(after_help = help_text(help::GC))]
    Gc(GcArgs),
    /// Work inside an environment as its agent (its ServiceAccount, the shared workspace).
    #[command(
        subcommand,
        after_help = help_text(help::AGENT)
    )]
    Agent(AgentCommand),
    /// Prove the agent may do what it must and nothing more, that every pod on the shared
    /// workspace runs as the declared identity with its declared mount mode, and that the
    /// environment's posture (Pod Security level, NetworkPolicy, quota) is as declared.
    #[command(after_help = help_text(help::CHECK))]
    Check(CheckArgs),
    /// Convert a codexctl services.yaml or a codex-k8s ServiceStack into a kubectl-codex stack.
    #[command(after_help = help_text(help::IMPORT))]
    Import(ImportArgs),
    /// Print the JSON Schema of services.yaml.
    #[command(after_help = help_text(help::SCHEMA))]
    Schema,
    /// Print the version and the git commit it was built from.
    #[command(after_help = help_text(help::VERSION))]
    Version(VersionArgs),
    /// Print a shell completion script.
    #[command(after_help = help_text(help::COMPLETION))]
    Completion(CompletionArgs),
    /// Draw the plan's units as a graph: a cluster per phase, dependsOn edges, the wave in
    /// each node (no cluster needed).
    #[command(after_help = help_text(help::GRAPH))]
    Graph(GraphArgs),
    /// Completion candidates for kubectl's plugin completion (`kubectl_complete-codex`).
    #[command(name = "__complete", hide = true, disable_help_flag = true)]
    Complete(CompleteArgs),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_text_joins_the_lines_of_a_paragraph_and_keeps_examples() {
        let text = help_text("Examples:\n  kubectl codex up\n  kubectl codex down\n\nOne\nparagraph.\n\nAnother.");
        assert_eq!(text, "Examples:\n  kubectl codex up\n  kubectl codex down\n\nOne paragraph.\n\nAnother.");
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
