//! The one way xtask runs a program to completion and checks it: [`output`] captures what it
//! prints, [`stdout`] returns its standard output as text, [`run`] leaves its stdio as the
//! caller set it up, [`logged`] sends its output to the running progress step's log. Each
//! fails with an [`ExecError`] naming the command line, its exit status and, where captured,
//! what it wrote on standard error, so no caller formats that itself.

use std::fmt;
use std::io;
use std::process::{Command, ExitStatus, Output};

/// A program that did not start, or ended unsuccessfully.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("could not start `{command}`: {source}")]
    Start {
        command: String,
        #[source]
        source: io::Error,
    },
    #[error("`{command}` failed ({status}){}", Detail(.detail))]
    Failed { command: String, status: ExitStatus, detail: String },
}

/// The captured standard error (or, when that is empty, standard output) after a colon.
struct Detail<'a>(&'a str);

impl fmt::Display for Detail<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            "" => Ok(()),
            detail if detail.contains('\n') => write!(f, ":\n{detail}"),
            detail => write!(f, ": {detail}"),
        }
    }
}

/// The command line, program and arguments, without the environment (which `{:?}` of a
/// `Command` would print in full, secrets included).
pub fn line(command: &Command) -> String {
    let mut parts = vec![command.get_program().to_string_lossy().into_owned()];
    parts.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// Runs `command` with its standard output and error captured; its output when it succeeded.
pub fn output(command: &mut Command) -> Result<Output, ExecError> {
    let output = command.output().map_err(|source| ExecError::Start { command: line(command), source })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let detail = if stderr.trim().is_empty() { String::from_utf8_lossy(&output.stdout) } else { stderr };
        return Err(ExecError::Failed { command: line(command), status: output.status, detail: detail.trim().into() });
    }
    Ok(output)
}

/// Runs `command` as [`output`] does; its standard output as text.
pub fn stdout(command: &mut Command) -> Result<String, ExecError> {
    output(command).map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
}

/// Runs `command` with the stdio the caller gave it (inherited by default); fails unless it
/// exited successfully.
pub fn run(command: &mut Command) -> Result<(), ExecError> {
    let status = command.status().map_err(|source| ExecError::Start { command: line(command), source })?;
    if !status.success() {
        return Err(ExecError::Failed { command: line(command), status, detail: String::new() });
    }
    Ok(())
}

/// Runs `command` as [`run`] does, its output into the running progress step's log (on the
/// terminal outside a step), so a long tool's chatter never hides the step lines.
pub fn logged(command: &mut Command) -> Result<(), ExecError> {
    run(command.stdout(crate::progress::progress_output()).stderr(crate::progress::stderr()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_leaves_the_environment_out() {
        let mut command = Command::new("env");
        command.args(["-u", "X"]).env("SECRET", "hunter2");
        assert_eq!(line(&command), "env -u X");
    }

    #[test]
    fn a_failure_names_the_command_its_status_and_its_stderr() {
        let error = stdout(Command::new("sh").args(["-c", "echo out; echo oops >&2; exit 3"])).unwrap_err();
        let text = error.to_string();
        assert!(text.starts_with("`sh -c echo out; echo oops >&2; exit 3` failed ("), "{text}");
        assert!(text.ends_with("): oops"), "{text}");
        let quiet = run(&mut Command::new("false")).unwrap_err().to_string();
        assert!(quiet.starts_with("`false` failed (") && quiet.ends_with(')'), "{quiet}");
    }

    #[test]
    fn success_returns_standard_output_and_a_missing_program_does_not_start() {
        assert_eq!(stdout(Command::new("echo").arg("hi")).unwrap(), "hi\n");
        let missing = run(&mut Command::new("/nonexistent/program")).unwrap_err();
        assert!(matches!(missing, ExecError::Start { .. }), "{missing}");
    }
}
