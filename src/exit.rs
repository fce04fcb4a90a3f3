//! Exit codes: one per kind of outcome, so scripts can tell what happened.

/// Everything worked.
pub const OK: i32 = 0;
/// An unexpected failure (a bug, or an error we did not classify).
pub const FAILURE: i32 = 1;
/// services.yaml (or another input file) is invalid.
pub const INVALID_INPUT: i32 = 2;
/// A required external tool (helm, a builder) is missing or failed to run.
pub const TOOL_MISSING: i32 = 3;
/// The cluster could not be reached or refused a request.
pub const CLUSTER: i32 = 4;
/// A phase failed to deploy or to become ready.
pub const DEPLOY_FAILED: i32 = 5;
/// `evidence --verify` or `check` found a violation (evidence, agent access, isolation posture).
pub const VERIFY_FAILED: i32 = 6;
/// Another run holds the environment's lease for longer than we were willing to wait.
pub const LOCKED: i32 = 7;
/// `agent run`: the agent's command failed, timed out, or its pod could not start.
pub const AGENT_FAILED: i32 = 8;
/// `build` (or the build step of `up`): the builder ran and failed.
pub const BUILD_FAILED: i32 = 9;
/// The command line itself is wrong (sysexits EX_USAGE).
pub const USAGE: i32 = 64;

/// Every exit code with what it means: the one table `--help` prints and the README's
/// "Exit codes" section must match (a test compares them).
pub const TABLE: &[(i32, &str)] = &[
    (OK, "success"),
    (FAILURE, "unexpected failure"),
    (INVALID_INPUT, "invalid input (services.yaml, a referenced file)"),
    (TOOL_MISSING, "a required tool (helm, an image builder, `dot` for `graph -o svg`) is missing or failed"),
    (CLUSTER, "the cluster could not be reached or refused a request"),
    (DEPLOY_FAILED, "a phase failed to deploy or to become ready"),
    (VERIFY_FAILED, "`evidence --verify` or `check` found a violation (evidence, access, posture)"),
    (LOCKED, "the environment is locked by another run past `--lock-timeout`"),
    (AGENT_FAILED, "`agent run`: the agent's command failed or timed out, or its pod could not start"),
    (BUILD_FAILED, "`build` (or the build step of `up`): an image build failed"),
    (USAGE, "usage error on the command line"),
];

/// The exit-code table as `--help` ends with it.
pub fn help_table() -> String {
    let mut out = String::from("Exit codes:");
    for (code, meaning) in TABLE {
        out.push_str(&format!("\n  {code:>2}  {}", meaning.replace('`', "")));
    }
    out
}

/// Why a command did not succeed, decided where it happened and turned into the process exit
/// code in one place (`main`). The first five were reported by the command itself, in the
/// format it was asked for (diagnostics as JSON on stdout with `-o json`, a failed run's
/// summary), so nothing is left to print; the last two still have to be said.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// services.yaml, an input or another file given is invalid; every problem was reported.
    #[error("invalid input")]
    InvalidInput,
    /// A phase failed to deploy or to become ready; the run's summary says which.
    #[error("a phase failed to deploy or to become ready")]
    DeployFailed,
    /// `evidence --verify` or `check` found a violation and listed it.
    #[error("verification found a violation")]
    VerifyFailed,
    /// The agent's command failed or timed out, or its pod could not start.
    #[error("the agent's run failed")]
    AgentFailed,
    /// An image build or mirror failed; its error was printed with the build report.
    #[error("an image build failed")]
    BuildFailed,
    /// A command line clap accepts and the command cannot: an unknown `--set` name, neither
    /// `-n` nor `--env`, a malformed `--phase`.
    #[error("{0}")]
    Usage(String),
    /// Any other error; its exit code is the one it was [`coded`] with, else [`FAILURE`].
    #[error(transparent)]
    Error(#[from] anyhow::Error),
}

impl Failure {
    /// The exit code of this failure, from [`TABLE`].
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::InvalidInput => INVALID_INPUT,
            Failure::DeployFailed => DEPLOY_FAILED,
            Failure::VerifyFailed => VERIFY_FAILED,
            Failure::AgentFailed => AGENT_FAILED,
            Failure::BuildFailed => BUILD_FAILED,
            Failure::Usage(_) => USAGE,
            Failure::Error(error) => code_of(error),
        }
    }

    /// What is left to say on stderr, scrubbed of secret values: `None` when the command
    /// reported the failure itself.
    pub fn unreported(&self) -> Option<String> {
        match self {
            Failure::Usage(message) => Some(crate::redact::scrub(message).into_owned()),
            Failure::Error(error) => Some(scrubbed(error)),
            _ => None,
        }
    }
}

// `?` on the errors commands meet besides anyhow's: they are unexpected, so exit code 1.
impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Self {
        Failure::Error(error.into())
    }
}

impl From<serde_json::Error> for Failure {
    fn from(error: serde_json::Error) -> Self {
        Failure::Error(error.into())
    }
}

/// The process exit code for one of the codes above.
pub fn exit_code(code: i32) -> std::process::ExitCode {
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// An error that knows its exit code.
#[derive(Debug)]
pub struct CodedError {
    pub code: i32,
    pub error: anyhow::Error,
}

impl std::fmt::Display for CodedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl std::error::Error for CodedError {}

/// Wraps an error with an exit code: `return Err(coded(exit::CLUSTER, e))`.
pub fn coded(code: i32, error: impl Into<anyhow::Error>) -> anyhow::Error {
    anyhow::Error::new(CodedError { code, error: error.into() })
}

/// The exit code an error asks for (FAILURE when it does not say).
pub fn code_of(error: &anyhow::Error) -> i32 {
    error.chain().find_map(|e| e.downcast_ref::<CodedError>()).map_or(FAILURE, |c| c.code)
}

/// An error's whole chain as one line, scrubbed of secret values (see [`crate::redact`]).
pub fn scrubbed(error: &anyhow::Error) -> String {
    crate::redact::scrub(&format!("{error:#}")).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_in_the_table_once() {
        let codes: Vec<i32> = TABLE.iter().map(|(c, _)| *c).collect();
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), codes.len(), "{codes:?}");
        assert_eq!(
            codes,
            [
                OK,
                FAILURE,
                INVALID_INPUT,
                TOOL_MISSING,
                CLUSTER,
                DEPLOY_FAILED,
                VERIFY_FAILED,
                LOCKED,
                AGENT_FAILED,
                BUILD_FAILED,
                USAGE
            ]
        );
    }

    #[test]
    fn the_readme_table_is_this_table() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        let section = readme.split("### Exit codes").nth(1).expect("README has an Exit codes section");
        let rows: Vec<(i32, String)> = section
            .lines()
            .skip_while(|l| !l.starts_with("| code"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
                (cells[0].parse().unwrap(), cells[1].to_string())
            })
            .collect();
        let expected: Vec<(i32, String)> = TABLE.iter().map(|(c, m)| (*c, m.to_string())).collect();
        assert_eq!(rows, expected, "README.md's exit-code table differs from exit::TABLE");
    }

    #[test]
    fn a_failure_keeps_the_code_it_was_given() {
        assert_eq!(Failure::from(coded(CLUSTER, anyhow::anyhow!("refused"))).exit_code(), CLUSTER);
        assert_eq!(Failure::from(anyhow::anyhow!("unclassified")).exit_code(), FAILURE);
        assert_eq!(Failure::Usage("no -n and no --env".into()).exit_code(), USAGE);
        assert_eq!(Failure::InvalidInput.exit_code(), INVALID_INPUT);
        assert_eq!(Failure::InvalidInput.unreported(), None, "reported by the command already");
        let error = Failure::from(coded(CLUSTER, anyhow::anyhow!("refused").context("reading namespace x")));
        assert_eq!(error.unreported().as_deref(), Some("reading namespace x: refused"));
    }

    #[test]
    fn help_lists_every_code() {
        let help = help_table();
        assert!(help.starts_with("Exit codes:"));
        assert_eq!(help.lines().count(), TABLE.len() + 1);
        assert!(help.contains("\n  64  usage error on the command line"), "{help}");
    }
}
