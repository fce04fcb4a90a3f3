//! Argument groups several commands flatten: the file, the environment selection and its
//! inputs, the output format, the tools and the cluster, and how `up` and `revise` deploy.

use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

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
    #[command(flatten)]
    pub inputs: InputArgs,
}

/// Values of the `inputs` services.yaml declares. First match wins: --set, then --values-file,
/// then the environment variable CODEX_INPUT_<NAME> (upper case, other characters `_`), then
/// the input's default.
#[derive(Args, Debug, Clone, Default)]
pub struct InputArgs {
    /// Sets input NAME to VALUE (repeatable; a later --set of the same name wins). Secret
    /// inputs are better set through CODEX_INPUT_<NAME>, which stays out of the process list.
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, String)>,
    /// A YAML mapping of input names to values (repeatable; a later file wins).
    #[arg(long = "values-file", value_name = "FILE")]
    pub values_files: Vec<PathBuf>,
}

fn parse_set(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
        _ => Err(format!("expected NAME=VALUE, got \"{text}\"")),
    }
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

// `-o/--output`: text for people, JSON for scripts.
#[derive(Args, Debug, Clone, Copy)]
pub struct OutputArgs {
    #[arg(short = 'o', long = "output", id = "output", value_name = "OUTPUT", value_enum, default_value_t)]
    pub format: OutputFormat,
}

/// A duration in Go syntax (`30s`, `5m`, `1h30m`), read when clap reads the flag: a bad one is
/// a usage error (exit code 64) before anything else happens.
pub(super) fn duration(text: &str) -> Result<Duration, String> {
    crate::config::duration::parse(text)
}

/// An idle TTL: checked as a duration, kept as written, since the namespace records it so.
pub(super) fn ttl(text: &str) -> Result<String, String> {
    crate::config::duration::parse(text).map(|_| text.to_string())
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

#[derive(Args, Debug, Clone)]
pub struct KubeArgs {
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).
    #[arg(long, value_name = "FILE", global = true)]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use.
    #[arg(long, value_name = "NAME", global = true)]
    pub context: Option<String>,
}

// What `up` and `revise` share: how long a phase and the wait for the lease may take, the TTL
// to record, whether to build first, the tools and the cluster.
#[derive(Args, Debug)]
pub struct DeployArgs {
    /// Per phase: how long Helm and the readiness gate may take (Go duration).
    #[arg(long, default_value = "5m", value_parser = duration)]
    pub timeout: Duration,
    /// How long to wait while another run holds the environment's lease.
    #[arg(long, default_value = "5m", value_parser = duration)]
    pub lock_timeout: Duration,
    /// Idle TTL stored on the namespace (default: the environment's, else 8h).
    #[arg(long, value_parser = ttl)]
    pub ttl: Option<String>,
    /// Do not build images first; deploy the references the registry already has.
    #[arg(long)]
    pub skip_build: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub helm: HelmArgs,
    #[command(flatten)]
    pub builder: BuilderArgs,
    #[command(flatten)]
    pub kube: KubeArgs,
}

#[derive(Args, Debug, Clone)]
pub struct BuilderArgs {
    /// Which image builder to use: buildctl (BuildKit), buildx (docker buildx), or auto
    /// (buildctl on PATH, else docker with buildx).
    #[arg(long, value_enum, env = crate::build::builder::BUILDER_ENV, default_value_t)]
    pub builder: crate::build::builder::BuilderChoice,
    /// Path of the buildctl binary (default: buildctl on PATH).
    #[arg(long, value_name = "PATH")]
    pub buildctl: Option<PathBuf>,
    /// Path of the docker binary for buildx (default: docker on PATH).
    #[arg(long, value_name = "PATH")]
    pub docker: Option<PathBuf>,
    /// BuildKit daemon address, passed to buildctl as --addr.
    #[arg(long, value_name = "ADDR", env = "BUILDKIT_HOST")]
    pub buildkit_addr: Option<String>,
    /// A registry host (host or host:port) reached over plain HTTP; 127.0.0.1 and localhost
    /// always are. Repeatable.
    #[arg(long, value_name = "HOST", env = crate::build::registry::INSECURE_ENV, value_delimiter = ',')]
    pub insecure_registry: Vec<String>,
    /// How many images to build at once (default: the machine's cores, at most 4). After a
    /// failure no further build starts.
    #[arg(long, value_name = "N", env = "CODEX_BUILD_JOBS", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: Option<u16>,
}

impl BuilderArgs {
    /// `--jobs`, or the default for this machine.
    pub fn jobs(&self) -> usize {
        self.jobs.map_or_else(crate::build::default_jobs, usize::from)
    }
}

/// Which environment: a namespace directly, or services.yaml plus environment selection.
#[derive(Args, Debug)]
pub struct TargetArgs {
    /// The environment's namespace (instead of --env/--slot/--issue).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub file: FileArg,
    /// Environment name from services.yaml.
    #[arg(short = 'e', long, env = "CODEX_ENV")]
    pub env: Option<String>,
    #[arg(long, default_value = "")]
    pub slot: String,
    #[arg(long, default_value = "")]
    pub issue: String,
    /// Inputs the namespace template reads, if any (others need no value here).
    #[command(flatten)]
    pub inputs: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub kube: KubeArgs,
}
