//! The command line: every command, flag and help text. No behaviour lives here.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "kubectl-codex",
    bin_name = "kubectl codex",
    version = crate::version::LONG,
    about = "Bring up a complete, isolated environment of a multi-service project from one services.yaml",
    long_about = "Bring up a complete, isolated environment of a multi-service project on Kubernetes from one \
declarative services.yaml: stateful dependencies, then migrations, then internal services, then edge \
services, then the frontend, each phase a Helm release gated on readiness.",
    after_help = "Examples:\n  kubectl codex validate\n  kubectl codex plan --env ai --issue 19\n  kubectl codex render --env prod --out build/\n  kubectl codex schema > services.schema.json\n\nExit codes: 0 ok, 1 unexpected failure, 2 invalid input, 3 tool missing or failed, 4 cluster error,\n5 deploy failed, 6 verification failed, 7 environment locked, 64 usage error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check services.yaml and report every problem at once (no cluster needed).
    #[command(after_help = "Examples:\n  kubectl codex validate\n  kubectl codex validate -f path/to/services.yaml -o json\n\n\
Every environment is resolved (with --slot/--issue, or slot 1 when neither is given), so template \
and namespace errors show up too. Exit code 2 when anything is wrong.")]
    Validate(ValidateArgs),
    /// Print the ordered phases, their units, images and readiness gates (no cluster needed).
    #[command(after_help = "Examples:\n  kubectl codex plan --env prod\n  kubectl codex plan --env ai --issue 19 -o json | jq '.phases[].name'\n\n\
The plan is byte-identical for identical input.")]
    Plan(PlanArgs),
    /// Write each phase's Helm values and rendered manifests to a directory (no cluster needed).
    #[command(after_help = "Examples:\n  kubectl codex render --env prod --out build/\n  kubectl codex render --env dev --slot 2 --out /tmp/r --values-only\n\n\
Writes OUT/<nn>-<phase>/values.yaml and OUT/<nn>-<phase>/manifests.yaml (the latter from `helm template`).")]
    Render(RenderArgs),
    /// Print the JSON Schema of services.yaml.
    #[command(after_help = "Example:\n  kubectl codex schema > schema/services.schema.json")]
    Schema,
    /// Print the version and the git commit it was built from.
    #[command(after_help = "Example:\n  kubectl codex version -o json")]
    Version(VersionArgs),
    /// Print a shell completion script.
    #[command(after_help = "Examples:\n  source <(kubectl codex completion bash)\n  kubectl codex completion zsh > \"${fpath[1]}/_kubectl-codex\"\n  kubectl codex completion fish > ~/.config/fish/completions/kubectl-codex.fish")]
    Completion(CompletionArgs),
}

#[derive(Args, Debug, Clone)]
pub struct FileArg {
    /// The services.yaml to read.
    #[arg(short = 'f', long = "file", env = "CODEX_FILE", default_value = "services.yaml")]
    pub file: PathBuf,
}

#[derive(Args, Debug, Clone)]
pub struct SelectionArgs {
    /// Environment name from services.yaml.
    #[arg(short = 'e', long, env = "CODEX_ENV")]
    pub env: String,
    /// Slot number (or name) of the environment, available to templates as `slot`.
    #[arg(long, default_value = "")]
    pub slot: String,
    /// Issue number, available to templates as `issue`.
    #[arg(long, default_value = "")]
    pub issue: String,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// Resolve environments with this slot.
    #[arg(long)]
    pub slot: Option<String>,
    /// Resolve environments with this issue.
    #[arg(long)]
    pub issue: Option<String>,
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub file: FileArg,
    #[command(flatten)]
    pub selection: SelectionArgs,
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

#[derive(Args, Debug)]
pub struct RenderArgs {
    #[command(flatten)]
    pub file: FileArg,
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Directory to write into (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Write values.yaml only; skip `helm template`.
    #[arg(long)]
    pub values_only: bool,
    #[command(flatten)]
    pub helm: HelmArgs,
}

#[derive(Args, Debug, Clone)]
pub struct HelmArgs {
    /// Path of the helm binary (default: $CODEX_HELM, then helm on PATH).
    #[arg(long, value_name = "PATH")]
    pub helm: Option<PathBuf>,
    /// Use this chart directory instead of the embedded charts/codex-env.
    #[arg(long, value_name = "DIR")]
    pub chart: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct VersionArgs {
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

#[derive(Args, Debug)]
pub struct CompletionArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
