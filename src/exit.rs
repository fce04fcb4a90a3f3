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
/// Evidence or permission verification found a violation.
pub const VERIFY_FAILED: i32 = 6;
/// Another run holds the environment's lease for longer than we were willing to wait.
pub const LOCKED: i32 = 7;
/// `agent run`: the agent's command failed, timed out, or its pod could not start.
pub const AGENT_FAILED: i32 = 8;
/// `build` (or the build step of `up`): the builder ran and failed.
pub const BUILD_FAILED: i32 = 9;
/// The command line itself is wrong (sysexits EX_USAGE).
pub const USAGE: i32 = 64;

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
