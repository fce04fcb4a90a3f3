//! Which Helm we were given: its version, asked once, and the flags each major takes.
//!
//! Helm 4 renamed and re-typed flags (`--wait` takes a strategy, `--atomic` became
//! `--rollback-on-failure`, server-side apply arrived), so every command line we build asks
//! [`HelmVersion`] which spelling to use instead of guessing from the path.

use crate::exit::{self, coded};
use anyhow::{Context, Result};
use std::path::Path;
use std::process::Command;

/// The oldest Helm we run: release labels (`helm upgrade --labels`), which the unchanged-phase
/// skip reads, arrived in Helm 3.13.
pub const MINIMUM: HelmVersion = HelmVersion { major: 3, minor: 13, patch: 0 };

/// A Helm release version, as `helm version --template '{{.Version}}'` prints it (`v4.3.2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HelmVersion {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl std::fmt::Display for HelmVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl HelmVersion {
    /// Parses `v3.22.0`, `v4.3.2+gabc`, `v4.0.0-rc.1`; `None` for anything else.
    pub fn parse(text: &str) -> Option<HelmVersion> {
        let core = text.trim().strip_prefix('v')?;
        let core = core.split(['+', '-']).next()?;
        let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
        let version = HelmVersion { major: parts.next()??, minor: parts.next()??, patch: parts.next()?? };
        parts.next().is_none().then_some(version)
    }

    /// The flags that make `helm upgrade --install` wait for the release's objects, so that
    /// Helm's record says `failed` when they never become ready. Helm 4's `watcher` strategy
    /// follows the objects through watches (kstatus) and returns the moment they are ready, as
    /// our own gate sees them; Helm 3's `--wait` polls every 2 s (the cost the README's Helm 3
    /// figures show).
    pub fn install_wait_flags(&self) -> &'static [&'static str] {
        if self.major >= 4 {
            &["--wait=watcher", "--wait-for-jobs"]
        } else {
            &["--wait", "--wait-for-jobs"]
        }
    }

    /// How object updates are sent. Helm 4: `auto`, its default made explicit: server-side
    /// apply for new releases, and the previous revision's method for releases that Helm 3
    /// installed (switching them would conflict with the field manager Helm 3 recorded).
    pub fn apply_flags(&self) -> &'static [&'static str] {
        if self.major >= 4 {
            &["--server-side=auto"]
        } else {
            &[]
        }
    }

    /// The wait flag of `helm uninstall` and `helm rollback`.
    pub fn plain_wait_flag(&self) -> &'static str {
        if self.major >= 4 {
            "--wait=watcher"
        } else {
            "--wait"
        }
    }
}

/// Asks `helm` for its version; exit 3 when it is not Helm, or older than [`MINIMUM`].
pub fn probe(helm: &Path) -> Result<HelmVersion> {
    let output = Command::new(helm)
        .args(["version", "--template", "{{.Version}}"])
        .stdin(std::process::Stdio::null())
        .output()
        .with_context(|| format!("running {} version", helm.display()))
        .map_err(|e| coded(exit::TOOL_MISSING, e))?;
    let printed = String::from_utf8_lossy(&output.stdout);
    let version = output.status.success().then(|| HelmVersion::parse(&printed)).flatten();
    let Some(version) = version else {
        let said = first_line(if printed.trim().is_empty() { &output.stderr } else { &output.stdout });
        return Err(coded(
            exit::TOOL_MISSING,
            anyhow::anyhow!(
                "{} is not a Helm we can use: `version --template {{{{.Version}}}}` {} ({said:?}); \
                 kubectl-codex needs Helm {MINIMUM} or later",
                helm.display(),
                if output.status.success() {
                    "printed no version".to_string()
                } else {
                    format!("failed ({})", output.status)
                },
            ),
        ));
    };
    check_supported(helm, version)?;
    Ok(version)
}

/// Exit 3 for a Helm older than [`MINIMUM`] (Helm 2 included), naming both versions.
pub fn check_supported(helm: &Path, version: HelmVersion) -> Result<()> {
    if version < MINIMUM {
        return Err(coded(
            exit::TOOL_MISSING,
            anyhow::anyhow!(
                "{} is Helm {version}; kubectl-codex needs Helm {MINIMUM} or later (release labels, \
                 which the skip of unchanged phases reads, arrived in 3.13)",
                helm.display()
            ),
        ));
    }
    Ok(())
}

fn first_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    line.chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_versions_parse_with_and_without_build_metadata() {
        assert_eq!(HelmVersion::parse("v4.3.2"), Some(HelmVersion { major: 4, minor: 3, patch: 2 }));
        assert_eq!(HelmVersion::parse("v3.22.0+g1234abc\n"), Some(HelmVersion { major: 3, minor: 22, patch: 0 }));
        assert_eq!(HelmVersion::parse("v4.0.0-rc.1"), Some(HelmVersion { major: 4, minor: 0, patch: 0 }));
    }

    #[test]
    fn anything_that_is_not_a_version_is_refused() {
        for text in ["", "4.3.2", "v4.3", "v4.3.2.1", "vX.Y.Z", "Client: &version.Version{SemVer:\"v2.17.0\"}"] {
            assert_eq!(HelmVersion::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn versions_order_numerically_not_as_text() {
        let v = |s| HelmVersion::parse(s).unwrap();
        assert!(v("v3.9.0") < MINIMUM);
        assert!(v("v3.12.3") < MINIMUM);
        assert!(v("v3.13.0") >= MINIMUM);
        assert!(v("v4.0.0") > v("v3.22.0"));
    }

    #[test]
    fn helm_4_waits_with_its_watcher_and_helm_3_with_its_poll() {
        let v4 = HelmVersion::parse("v4.3.2").unwrap();
        let v3 = HelmVersion::parse("v3.22.0").unwrap();
        assert_eq!(v4.install_wait_flags(), ["--wait=watcher", "--wait-for-jobs"]);
        assert_eq!(v3.install_wait_flags(), ["--wait", "--wait-for-jobs"]);
        assert_eq!(v4.apply_flags(), ["--server-side=auto"]);
        assert!(v3.apply_flags().is_empty());
        assert_eq!((v4.plain_wait_flag(), v3.plain_wait_flag()), ("--wait=watcher", "--wait"));
    }

    #[test]
    fn too_old_a_helm_is_exit_3_naming_both_versions() {
        let error = check_supported(Path::new("/usr/bin/helm"), HelmVersion::parse("v3.12.3").unwrap()).unwrap_err();
        assert_eq!(exit::code_of(&error), exit::TOOL_MISSING);
        let text = format!("{error:#}");
        assert!(text.contains("v3.12.3") && text.contains("v3.13.0"), "{text}");
    }
}
