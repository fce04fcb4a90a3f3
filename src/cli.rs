//! The command line: every command, flag and help text. No behaviour lives here.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "kubectl-codex",
    bin_name = "kubectl codex",
    version = crate::version::LONG,
    about = "Bring up a complete, isolated environment of a multi-service project from one services.yaml",
    long_about = help_text(r#"Bring up a complete, isolated environment of a multi-service project
on Kubernetes from one declarative services.yaml: stateful dependencies, then migrations, then internal
services, then edge services, then the frontend, each phase a Helm release gated on readiness."#),
    after_help = format!("{}\n\n{}", help_text(r#"Examples:
  kubectl codex validate
  kubectl codex plan --env ai --issue 19
  kubectl codex render --env prod --out build/
  kubectl codex schema > services.schema.json"#), crate::exit::help_table())
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check services.yaml and report every problem at once (no cluster needed).
    #[command(after_help = help_text(r#"Examples:
  kubectl codex validate
  kubectl codex validate -f path/to/services.yaml -o json

Every environment is resolved (with --slot/--issue, or slot 1 when neither is given), so template and
namespace errors show up too. Exit code 2 when anything is wrong."#))]
    Validate(ValidateArgs),
    /// Print the ordered phases, their units, images and readiness gates (no cluster needed).
    #[command(after_help = help_text(r#"Examples:
  kubectl codex plan --env prod
  kubectl codex plan --env ai --issue 19 -o json | jq '.phases[].name'

The plan is byte-identical for identical input."#))]
    Plan(PlanArgs),
    /// Write each phase's Helm values and rendered manifests to a directory (no cluster needed).
    #[command(after_help = help_text(r#"Examples:
  kubectl codex render --env prod --out build/
  kubectl codex render --env dev --slot 2 --out /tmp/r --values-only

Writes OUT/<nn>-<phase>/values.yaml and OUT/<nn>-<phase>/manifests.yaml (the latter from `helm template`)."#))]
    Render(RenderArgs),
    /// Build the environment's images (prod or dev targets), skipping unchanged ones; copy its
    /// mirrored images into its registry, skipping present ones.
    #[command(after_help = help_text(r#"Examples:
  kubectl codex build --env prod
  kubectl codex build --env dev --slot 1 --dry-run -o json
  kubectl codex build --env prod --builder buildx
  BUILDKIT_HOST=tcp://127.0.0.1:1234 kubectl codex build --env staging

Builds every image with `build` in services.yaml that the environment's units, readiness jobs or agent run,
from its `targets.prod` or `targets.dev` by the environment's runtime. Each build pushes
registry/repository:tag and the content tag registry/repository:build-<16 hex of the input digest> (context
files after .dockerignore, Dockerfile, target, build args, platform). When the registry already has the
content tag nothing is built; the tag is pointed at it. Builder: buildctl on PATH, else docker buildx
(--builder to choose). Images with `mirror` are copied first into registry/repository:tag (manifest,
multi-arch index, blobs), unless the mirror tag registry/repository:mirror-<16 hex of the source> shows the
copy is there already. Exit code 3 when no builder is found, 9 when a build or a mirror fails."#))]
    Build(BuildArgs),
    /// Deploy the environment phase by phase through Helm, gated on readiness, with evidence.
    #[command(after_help = help_text(r#"Examples:
  kubectl codex up --env prod
  kubectl codex up --env ai --issue 19 --timeout 10m -o json
  kubectl codex up --env dev --slot 1 --skip-build

Images declared with `mirror` are copied into the environment's registry and those with `build` are built
first (as `kubectl codex build`; --skip-build to deploy what the registry has), and units run them pinned by
manifest digest. Phases run in the fixed order stateful -> migrations -> internal -> edge -> frontend; a
phase whose values did not change and whose units are ready is skipped. Exit code 5 when a phase fails; its
units' pods, events and last log lines are printed."#))]
    Up(UpArgs),
    /// Show an environment: namespace, lease and TTL, phase releases and unit readiness.
    #[command(after_help = help_text(r#"Examples:
  kubectl codex status --env prod
  kubectl codex status -n codex-ai-issue-19 -o json
  kubectl codex status --env prod --watch
  kubectl codex status -n codex-ai-issue-19 --watch --watch-timeout 10m -o json

--watch follows the units through watches on their workloads, pods and events. On a terminal it redraws a
table (phase, unit, kind, readiness, restarts, age, last event); piped, it prints the table once and then
one line per unit whose readiness, restarts or last event changed (-o json: one JSON object per line).
Ctrl-C or --watch-timeout ends it with exit code 0."#))]
    Status(StatusArgs),
    /// Print the deploy evidence of an environment, or prove its phase order (--verify).
    #[command(after_help = help_text(r#"Examples:
  kubectl codex evidence --env prod
  kubectl codex evidence -n codex-prod --verify
  kubectl codex evidence -n codex-prod --run 20261127t101500z-1a2b -o json
  kubectl codex evidence -n codex-prod --html timeline.html
  kubectl codex evidence --from-file records.json --svg timeline.svg

--verify checks every record against Helm's release history and exits 6 on any violation."#))]
    Evidence(EvidenceArgs),
    /// Uninstall the phase releases in reverse order, then delete the namespace (only a managed one).
    #[command(after_help = help_text(r#"Examples:
  kubectl codex down --env dev --slot 2
  kubectl codex down -n codex-ai-issue-19"#))]
    Down(DownArgs),
    /// Deploy a review round of an issue: reuse its warm environment, or start a fresh one.
    #[command(after_help = help_text(r#"Examples:
  kubectl codex revise 19
  kubectl codex revise 19 --env ai --ttl 4h -o json

The environment is found by its labels (project, env, issue). Active and within its idle TTL: reused, only
changed phases deploy, the lease is extended. Missing, terminating or expired: a fresh environment. The path
taken and why is printed and recorded in the evidence. Like `up`, the images are built first (unchanged ones
are not rebuilt) unless --skip-build."#))]
    Revise(ReviseArgs),
    /// Delete managed namespaces whose idle lease has expired (never anything else).
    #[command(after_help = help_text(r#"Examples:
  kubectl codex gc --dry-run
  kubectl codex gc -o json

Only namespaces labelled app.kubernetes.io/managed-by=kubectl-codex whose last-activity is older than their
idle TTL are deleted; unreadable annotations or a run in progress keep a namespace."#))]
    Gc(GcArgs),
    /// Work inside an environment as its agent (its ServiceAccount, the shared workspace).
    #[command(
        subcommand,
        after_help = help_text(r#"Examples:
  kubectl codex agent run --env dev --slot 1 -- sh -c 'ls /workspace'
  kubectl codex agent run --env ai --issue 19 -o json -- make test"#)
    )]
    Agent(AgentCommand),
    /// Prove the agent may do what it must and nothing more, that every pod on the shared
    /// workspace runs as the declared identity with its declared mount mode, and that the
    /// environment's posture (Pod Security level, NetworkPolicy, quota) is as declared.
    #[command(after_help = help_text(r#"Examples:
  kubectl codex check --env dev --slot 1
  kubectl codex check --env ai --issue 19 -o json

Asks the API server (SubjectAccessReview, as the caller) what system:serviceaccount:<ns>:codex-agent may do:
reading pods and logs and exec in its namespace plus agent.permissions must be allowed there; the same
anywhere else, Secrets (each Secret of services.yaml `secrets` asked about by name), workloads, RBAC, the
namespace, nodes and impersonation must be denied unless granted. No RoleBinding but its own may name the
agent. Every Deployment, StatefulSet, Job, CronJob and bare Pod that mounts the workspace must run as the
workspace uid, gid and fsGroup with the mount mode services.yaml declares. Posture: the namespace's
pod-security.kubernetes.io/enforce label must be the declared podSecurity level, the NetworkPolicy
codex-isolation must exist, a declared quota must stand as ResourceQuota codex-quota (with LimitRange
codex-defaults), and a pod of every workload, created as a server-side dry run, must pass Pod Security
admission at the declared level. Exit code 6 on any violation."#))]
    Check(CheckArgs),
    /// Convert a codexctl services.yaml or a codex-k8s ServiceStack into a kubectl-codex stack.
    #[command(after_help = help_text(r#"Examples:
  kubectl codex import services.yaml --out codex/
  kubectl codex import legacy/services.yaml --from codexctl --out codex/ --phase migrate=migrations -o json
  kubectl codex plan -f codex/services.yaml --env staging --values-file codex/inputs.example.yaml

The format is told from the file: a codexctl file has no apiVersion and a string `project`; a ServiceStack
has `metadata` and `spec` (apiVersion codex-k8s.dev/v1alpha1 or kodex.works/v1alpha1). Writes
OUT/services.yaml, every manifest it references (its Go templates translated to tera) at the same relative
path under OUT, and OUT/inputs.example.yaml: every value the stack reads from outside the file (envOr,
.Vars, env files, baseDomain, storage) as an input, ready for --values-file. The report lists every item as
mapped, converted, dropped (kubectl-codex does it itself) or not carried, with its source line and the
reason. Exit code 0 when the result validates; 2 when the file, a template or a referenced manifest is wrong
(file:line:column), when the result does not validate, or with --strict when anything was not carried."#))]
    Import(ImportArgs),
    /// Print the JSON Schema of services.yaml.
    #[command(after_help = help_text(r#"Example:
  kubectl codex schema > schema/services.schema.json"#))]
    Schema,
    /// Print the version and the git commit it was built from.
    #[command(after_help = help_text(r#"Example:
  kubectl codex version -o json"#))]
    Version(VersionArgs),
    /// Print a shell completion script.
    #[command(after_help = help_text(r#"Examples:
  source <(kubectl codex completion bash)
  kubectl codex completion zsh > "${fpath[1]}/_kubectl-codex"
  kubectl codex completion fish > ~/.config/fish/completions/kubectl-codex.fish"#))]
    Completion(CompletionArgs),
    /// Draw the plan's units as a graph: a cluster per phase, dependsOn edges, the wave in
    /// each node (no cluster needed).
    #[command(after_help = help_text(r#"Examples:
  kubectl codex graph --env prod | dot -Tsvg > stack.svg
  kubectl codex graph --env ai --issue 19 -o mermaid
  kubectl codex graph --env prod -o svg > stack.svg

The stack is resolved as `plan` resolves it. Arrows point from a dependency to the unit that waits for it.
-o svg runs Graphviz's dot (--dot PATH, $CODEX_DOT, or dot on PATH); exit code 3 when it is missing or
fails."#))]
    Graph(GraphArgs),
    /// Completion candidates for kubectl's plugin completion (`kubectl_complete-codex`).
    #[command(name = "__complete", hide = true, disable_help_flag = true)]
    Complete(CompleteArgs),
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

/// Help written as a raw string wrapped to the source's width, shown as clap shows it: the
/// lines of a paragraph joined with spaces (clap wraps them to the terminal), indented lines
/// (examples) and blank lines kept.
fn help_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut previous_is_prose = false;
    for (i, line) in text.split('\n').enumerate() {
        let prose = !line.is_empty() && !line.starts_with(' ');
        if i > 0 {
            out.push(if previous_is_prose && prose { ' ' } else { '\n' });
        }
        out.push_str(line);
        previous_is_prose = prose;
    }
    out
}

/// A duration in Go syntax (`30s`, `5m`, `1h30m`), read when clap reads the flag: a bad one is
/// a usage error (exit code 64) before anything else happens.
fn duration(text: &str) -> Result<Duration, String> {
    crate::config::duration::parse(text)
}

/// An idle TTL: checked as a duration, kept as written, since the namespace records it so.
fn ttl(text: &str) -> Result<String, String> {
    crate::config::duration::parse(text).map(|_| text.to_string())
}

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
    #[command(after_help = help_text(r#"Examples:
  kubectl codex agent run --env dev --slot 1 -- sh -c 'sed -i s/v1/v2/ services/cmd/greeter/message.go'
  kubectl codex agent run --env ai --issue 19 --timeout 30m -o json -- make test

The command runs in the workspace (agent.workspace, default /workspace read-write) as the workspace
uid/gid/fsGroup, never retried. Exit code 0 when it succeeded, 8 when it failed or timed out (its exit code
is in the output)."#))]
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
