//! The idle lease of a namespace: `last-activity` plus `idle-ttl`, judged at a given time.
//! Pure, with the clock passed in, so every edge is tested without waiting.

use crate::config::duration;
use crate::labels;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;
use std::time::Duration;

/// What the annotations say about a namespace at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum LeaseStatus {
    /// Used within its TTL: keep it, reuse it.
    Active {
        idle_seconds: u64,
        ttl_seconds: u64,
        remaining_seconds: u64,
        /// Anything odd that was tolerated (default TTL applied, time in the future).
        note: Option<String>,
    },
    /// Idle for longer than its TTL: `gc` may delete it, `revise` starts afresh.
    Expired { idle_seconds: u64, ttl_seconds: u64 },
    /// The annotations cannot be read; never deleted on this basis.
    Unknown { reason: String },
}

impl LeaseStatus {
    pub fn is_expired(&self) -> bool {
        matches!(self, LeaseStatus::Expired { .. })
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        let human = |s: u64| duration::format(Duration::from_secs(s));
        match self {
            LeaseStatus::Active { idle_seconds, remaining_seconds, note, .. } => format!(
                "active: idle {}, expires in {}{}",
                human(*idle_seconds),
                human(*remaining_seconds),
                note.as_ref().map(|n| format!(" ({n})")).unwrap_or_default()
            ),
            LeaseStatus::Expired { idle_seconds, ttl_seconds } => {
                format!("expired: idle {} > TTL {}", human(*idle_seconds), human(*ttl_seconds))
            }
            LeaseStatus::Unknown { reason } => format!("unknown: {reason}"),
        }
    }
}

/// Judges the lease at `now`. Expired means idle strictly longer than the TTL.
///
/// Safe defaults: a missing TTL means the default (8h); a missing, malformed or future
/// `last-activity`, or a malformed TTL, never makes a namespace expired.
pub fn lease_status(last_activity: Option<&str>, idle_ttl: Option<&str>, now: Timestamp) -> LeaseStatus {
    let mut notes = Vec::new();
    let ttl = match idle_ttl {
        None => {
            notes.push(format!("no {} annotation; the default {} applies", labels::IDLE_TTL, labels::DEFAULT_IDLE_TTL));
            duration::parse(labels::DEFAULT_IDLE_TTL).expect("the default TTL parses")
        }
        Some(text) => match duration::parse(text) {
            Ok(ttl) => ttl,
            Err(e) => return LeaseStatus::Unknown { reason: format!("{}: {e}", labels::IDLE_TTL) },
        },
    };
    let Some(text) = last_activity else {
        return LeaseStatus::Unknown { reason: format!("no {} annotation", labels::LAST_ACTIVITY) };
    };
    let Ok(then) = text.parse::<Timestamp>() else {
        return LeaseStatus::Unknown { reason: format!("{} {text:?} is not an RFC 3339 time", labels::LAST_ACTIVITY) };
    };
    let elapsed = now.duration_since(then);
    let idle = if elapsed.is_negative() {
        notes.push(format!("{} {text} is in the future; treated as now", labels::LAST_ACTIVITY));
        Duration::ZERO
    } else {
        Duration::from_secs(elapsed.as_secs() as u64)
    };
    if idle > ttl {
        LeaseStatus::Expired { idle_seconds: idle.as_secs(), ttl_seconds: ttl.as_secs() }
    } else {
        LeaseStatus::Active {
            idle_seconds: idle.as_secs(),
            ttl_seconds: ttl.as_secs(),
            remaining_seconds: (ttl - idle).as_secs(),
            note: if notes.is_empty() { None } else { Some(notes.join("; ")) },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    const T0: &str = "2026-11-27T10:00:00Z";

    #[test]
    fn one_second_before_expiry_is_active() {
        let status = lease_status(Some(T0), Some("8h"), at("2026-11-27T17:59:59Z"));
        assert_eq!(
            status,
            LeaseStatus::Active { idle_seconds: 28_799, ttl_seconds: 28_800, remaining_seconds: 1, note: None }
        );
    }

    #[test]
    fn exactly_at_the_ttl_is_still_active() {
        assert!(!lease_status(Some(T0), Some("8h"), at("2026-11-27T18:00:00Z")).is_expired());
    }

    #[test]
    fn one_second_after_expiry_is_expired() {
        let status = lease_status(Some(T0), Some("8h"), at("2026-11-27T18:00:01Z"));
        assert_eq!(status, LeaseStatus::Expired { idle_seconds: 28_801, ttl_seconds: 28_800 });
    }

    #[test]
    fn a_missing_last_activity_is_unknown_never_expired() {
        let status = lease_status(None, Some("1s"), at("2030-01-01T00:00:00Z"));
        assert!(
            matches!(status, LeaseStatus::Unknown { ref reason } if reason.contains("no codex-k8s.dev/last-activity"))
        );
    }

    #[test]
    fn a_malformed_last_activity_is_unknown() {
        for bad in ["yesterday", "", "2026-13-01T00:00:00Z", "1700000000"] {
            let status = lease_status(Some(bad), Some("1s"), at("2030-01-01T00:00:00Z"));
            assert!(matches!(status, LeaseStatus::Unknown { .. }), "{bad}: {status:?}");
        }
    }

    #[test]
    fn a_future_last_activity_counts_as_now_and_is_reported() {
        let status = lease_status(Some("2026-11-27T12:00:00Z"), Some("8h"), at(T0));
        match status {
            LeaseStatus::Active { idle_seconds: 0, remaining_seconds: 28_800, note: Some(note), .. } => {
                assert!(note.contains("in the future"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_missing_ttl_uses_the_default_and_says_so() {
        let status = lease_status(Some(T0), None, at("2026-11-27T17:00:00Z"));
        match status {
            LeaseStatus::Active { ttl_seconds: 28_800, note: Some(note), .. } => assert!(note.contains("default 8h")),
            other => panic!("{other:?}"),
        }
        assert!(lease_status(Some(T0), None, at("2026-11-27T18:00:01Z")).is_expired());
    }

    #[test]
    fn a_malformed_ttl_is_unknown_never_expired() {
        let status = lease_status(Some(T0), Some("forever"), at("2030-01-01T00:00:00Z"));
        assert!(matches!(status, LeaseStatus::Unknown { ref reason } if reason.contains("idle-ttl")));
    }
}
