//! The Kubernetes versions we support, and the one warning line for a server outside them.
//!
//! Outside the range is a warning, not a failure: a newer API server usually serves what we
//! use, and an older one fails later with a precise API error if it does not.

/// The oldest Kubernetes minor we test (`CODEX_K8S_VERSION` selects it for the local cluster).
pub const OLDEST_SUPPORTED: (u32, u32) = (1, 34);
/// The newest Kubernetes minor we test.
pub const NEWEST_SUPPORTED: (u32, u32) = (1, 37);

/// The warning for a server reporting `major`.`minor` (as `/version` spells them: the minor
/// may carry a `+` of a vendor build), or `None` inside the supported range. A version that
/// does not parse gets no warning: we cannot say anything true about it.
pub fn warning(major: &str, minor: &str) -> Option<String> {
    let major: u32 = major.trim().parse().ok()?;
    let minor: u32 = minor.trim().trim_end_matches('+').parse().ok()?;
    let found = (major, minor);
    if (OLDEST_SUPPORTED..=NEWEST_SUPPORTED).contains(&found) {
        return None;
    }
    let (oldest, newest) = (OLDEST_SUPPORTED, NEWEST_SUPPORTED);
    Some(format!(
        "warning: the Kubernetes API server is v{major}.{minor}; kubectl-codex is tested with v{}.{} to v{}.{}",
        oldest.0, oldest.1, newest.0, newest.1
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_supported_range_is_quiet_at_both_ends() {
        assert_eq!(warning("1", "34"), None);
        assert_eq!(warning("1", "37"), None);
        assert_eq!(warning("1", "35+"), None);
    }

    #[test]
    fn older_and_newer_servers_get_one_line_naming_both_versions() {
        let old = warning("1", "33").unwrap();
        assert!(old.contains("v1.33") && old.contains("v1.34 to v1.37"), "{old}");
        assert!(warning("1", "38+").unwrap().contains("v1.38"));
        assert!(warning("2", "0").is_some());
        assert_eq!(old.lines().count(), 1);
    }

    #[test]
    fn unparsable_versions_get_no_warning() {
        assert_eq!(warning("", "x"), None);
    }
}
