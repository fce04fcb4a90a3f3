//! `kubectl codex version`: the version and the commit it was built from.

use super::output::{self, Layout};
use crate::cli::VersionArgs;
use crate::exit::Failure;
use crate::version::{COMMIT, LONG, VERSION};
use serde::Serialize;
use std::fmt;

pub fn run(args: &VersionArgs) -> Result<(), Failure> {
    output::print(&Version::BUILT, args.output.format, Layout::OneLine)?;
    Ok(())
}

#[derive(Debug, Serialize)]
struct Version {
    version: &'static str,
    commit: &'static str,
    /// What text prints: both in one (the `--version` wording).
    #[serde(skip)]
    long: &'static str,
}

impl Version {
    const BUILT: Version = Version { version: VERSION, commit: COMMIT, long: LONG };
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "kubectl-codex {}", self.long)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_the_version_then_the_commit_and_text_is_the_long_version() {
        let report = Version { version: "1.2.3", commit: "abc", long: "1.2.3 (commit abc)" };
        assert_eq!(output::to_json(&report, Layout::OneLine).unwrap(), r#"{"version":"1.2.3","commit":"abc"}"#);
        assert_eq!(report.to_string(), "kubectl-codex 1.2.3 (commit abc)\n");
    }
}
