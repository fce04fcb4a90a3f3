//! Each command's own arguments (the groups they share are in `shared_args`).

use super::help::{self, help_text};
use super::shared_args::{
    duration, BuilderArgs, DeployArgs, FileArg, HelmArgs, InputArgs, KubeArgs, OutputArgs, SelectionArgs, TargetArgs,
};
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The codexctl services.yaml or ServiceStack to convert.
    #[arg(default_value = "services.yaml")]
    pub file: PathBuf,
    /// The source format, instead of telling it from the file.
    #[arg(long, value_enum)]
    pub from: Option<ImportFormat>,
    /// Directory to write services.yaml, the manifests and inputs.example.yaml into.
    #[arg(long)]
    pub out: PathBuf,
    /// The phase of a unit, `NAME=PHASE` (repeatable): codexctl has no phases (infrastructure
    /// becomes stateful, services internal).
    #[arg(long = "phase", value_name = "NAME=PHASE")]
    pub phases: Vec<String>,
    /// Exit 2 when any item was not carried over.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportFormat {
    Codexctl,
    Servicestack,
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
    #[command(flatten)]
    pub inputs: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub file: FileArg,
    #[command(flatten)]
    pub selection: SelectionArgs,
    #[command(flatten)]
    pub output: OutputArgs,
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

#[derive(Args, Debug)]
pub struct UpArgs {
    #[command(flatten)]
    pub file: FileArg,
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Deploy every phase even when its values did not change.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub deploy: DeployArgs,
}

#[derive(Args, Debug)]
pub struct BuildArgs {
    #[command(flatten)]
    pub file: FileArg,
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Print the planned builds, their input digests and builder command lines; run nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub builder: BuilderArgs,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Keep watching: a live table on a terminal, one line per change otherwise.
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// End --watch after this long (Go syntax: 30s, 10m); without it, Ctrl-C ends it.
    #[arg(long, value_name = "DURATION", value_parser = duration, requires = "watch")]
    pub watch_timeout: Option<Duration>,
}

#[derive(Args, Debug)]
pub struct EvidenceArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Only this run.
    #[arg(long)]
    pub run: Option<String>,
    /// Prove the phase order from the records and Helm's release history.
    #[arg(long)]
    pub verify: bool,
    #[command(flatten)]
    pub helm: HelmArgs,
    /// Read the records from FILE (the `-o json` output of `evidence`, or one record)
    /// instead of the cluster: no namespace and no cluster needed.
    #[arg(long, value_name = "FILE", conflicts_with = "verify")]
    pub from_file: Option<PathBuf>,
    /// Write the runs as a timeline picture to FILE (SVG): a row per phase and unit, bars
    /// from start to ready, waves and gates, failures in red with the reason on hover.
    #[arg(long, value_name = "FILE", conflicts_with = "verify")]
    pub svg: Option<PathBuf>,
    /// Write the timeline picture as a self-contained HTML page (legend and SVG) to FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "verify")]
    pub html: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DownArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// How long each uninstall may take.
    #[arg(long, default_value = "5m", value_parser = duration)]
    pub timeout: Duration,
    /// How long to wait while another run (an `up` in progress) holds the environment's
    /// lease; then exit 7.
    #[arg(long, default_value = "5m", value_parser = duration)]
    pub lock_timeout: Duration,
    /// Uninstall the releases but keep the namespace (and the workspace volume).
    #[arg(long)]
    pub keep_namespace: bool,
    #[command(flatten)]
    pub helm: HelmArgs,
}

#[derive(Args, Debug)]
pub struct ReviseArgs {
    /// The issue under review.
    pub issue: String,
    #[command(flatten)]
    pub file: FileArg,
    /// Environment name from services.yaml.
    #[arg(short = 'e', long, env = "CODEX_ENV", default_value = "ai")]
    pub env: String,
    #[command(flatten)]
    pub inputs: InputArgs,
    #[command(flatten)]
    pub deploy: DeployArgs,
}

#[derive(Args, Debug)]
pub struct GcArgs {
    /// Report what would be deleted; delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub kube: KubeArgs,
}

#[derive(Subcommand, Debug)]
pub enum AgentCommand {
    /// Run a command as the agent: a Job with the agent's ServiceAccount, image and workspace
    /// mount; its log is streamed until it ends.
    #[command(after_help = help_text(help::AGENT_RUN))]
    Run(AgentRunArgs),
}

#[derive(Args, Debug)]
pub struct AgentRunArgs {
    #[command(flatten)]
    pub file: FileArg,
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// How long the run may take, from creating the Job to its end (Go duration).
    #[arg(long, default_value = "10m", value_parser = duration)]
    pub timeout: Duration,
    /// Image to run instead of agent.image.
    #[arg(long)]
    pub image: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub kube: KubeArgs,
    /// The command and its arguments (default: agent.command and agent.args).
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub file: FileArg,
    #[command(flatten)]
    pub selection: SelectionArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub kube: KubeArgs,
}

#[derive(Args, Debug)]
pub struct VersionArgs {
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct CompletionArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct GraphArgs {
    #[command(flatten)]
    pub file: FileArg,
    #[command(flatten)]
    pub selection: SelectionArgs,
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: GraphFormat,
    /// Path of Graphviz's dot for -o svg (default: $CODEX_DOT, then dot on PATH).
    #[arg(long, value_name = "PATH", env = "CODEX_DOT")]
    pub dot: Option<PathBuf>,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GraphFormat {
    /// Graphviz DOT.
    #[default]
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
    /// SVG drawn by Graphviz's dot.
    Svg,
}

/// What kubectl passes to `kubectl_complete-codex`: the words after `codex`, the last one the
/// word being completed (possibly empty). The helper puts `--` first, so that clap takes every
/// word as one, `--help` and `--` included.
#[derive(Args, Debug)]
pub struct CompleteArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub words: Vec<String>,
}
