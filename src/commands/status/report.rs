//! What `status` (without `--watch`) reports of an environment: one typed value, serialized
//! for `-o json` and displayed for text, so the two cannot tell different stories.

use crate::cluster::namespace::{NamespaceInfo, NamespacePhase};
use crate::cluster::posture::QuotaUse;
use crate::cluster::releases::ReleaseRecord;
use crate::cluster::unit_rows::{self, UnitRow};
use crate::config::duration;
use crate::config::phase::Phase;
use crate::labels;
use crate::ui::status_table;
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// The environment's namespace, or that there is none.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Report {
    Missing { namespace: String, exists: bool },
    Found(Box<Environment>),
}

impl Report {
    pub fn missing(namespace: &str) -> Self {
        Report::Missing { namespace: namespace.to_string(), exists: false }
    }

    /// `-o json`: one line for a missing namespace, pretty-printed otherwise.
    pub fn to_json(&self) -> serde_json::Result<String> {
        match self {
            Report::Missing { .. } => serde_json::to_string(self),
            Report::Found(environment) => serde_json::to_string_pretty(environment),
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Report::Missing { namespace, .. } => writeln!(f, "namespace {namespace} does not exist"),
            Report::Found(environment) => environment.fmt(f),
        }
    }
}

/// An existing namespace: its lease, TTL and quota, and every phase release with its units.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    pub namespace: String,
    /// Always true here; kept so that scripts read `exists` from either shape.
    pub exists: bool,
    pub uid: String,
    pub phase: NamespacePhase,
    pub managed: bool,
    pub labels: BTreeMap<String, String>,
    pub last_activity: Option<String>,
    #[serde(rename = "idleTTL")]
    pub idle_ttl: Option<String>,
    /// How long the namespace has been idle, or why that cannot be told.
    #[serde(rename = "idleSeconds", serialize_with = "seconds_if_known")]
    pub idle: Result<Duration, String>,
    #[serde(rename = "expiresInSeconds", serialize_with = "seconds")]
    pub expires_in: Option<Duration>,
    pub lease: Option<LeaseHolder>,
    pub phases: Vec<PhaseStatus>,
    pub quota: Option<QuotaUse>,
}

/// The run holding the environment's lease.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaseHolder {
    pub holder: String,
    pub valid_until: String,
}

/// One phase release and the rows of its units.
#[derive(Debug, Serialize)]
pub struct PhaseStatus {
    pub name: &'static str,
    pub release: String,
    pub revision: u32,
    /// Helm's status of the release's latest revision.
    pub status: String,
    pub units: Vec<UnitRow>,
}

impl Environment {
    /// Puts together what was read; `idle` and `ttl` as [`crate::cluster::namespace`] reads them.
    pub fn new(
        ns: NamespaceInfo,
        idle: Result<Duration, String>,
        ttl: Result<Duration, String>,
        holder: Option<(String, String)>,
        releases: &[ReleaseRecord],
        rows: &[UnitRow],
        quota: Option<QuotaUse>,
    ) -> Self {
        let expires_in = match (&idle, &ttl) {
            (Ok(idle), Ok(ttl)) => Some(ttl.saturating_sub(*idle)),
            _ => None,
        };
        let mut phases = Vec::new();
        for phase in Phase::ORDER {
            let release = labels::release_name(phase);
            let Some(record) = releases.iter().find(|r| r.name == release) else { continue };
            let units = unit_rows::of_phase(rows, phase).into_iter().cloned().collect();
            phases.push(PhaseStatus {
                name: phase.as_str(),
                release,
                revision: record.revision,
                status: record.status.clone(),
                units,
            });
        }
        Environment {
            namespace: ns.name,
            exists: true,
            uid: ns.uid,
            phase: ns.phase,
            managed: ns.managed,
            labels: ns.labels,
            last_activity: ns.last_activity,
            idle_ttl: ns.idle_ttl,
            idle,
            expires_in,
            lease: holder.map(|(holder, valid_until)| LeaseHolder { holder, valid_until }),
            phases,
            quota,
        }
    }

    fn expiry(&self) -> String {
        match (&self.idle, self.expires_in) {
            (Ok(_), Some(left)) if left.is_zero() => "expired".to_string(),
            (Ok(_), Some(left)) => format!("expires in {}", duration::format(Duration::from_secs(left.as_secs()))),
            (Err(why), _) => format!("lease unknown: {why}"),
            _ => "no TTL".into(),
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let managed = if self.managed { "managed by kubectl-codex" } else { "NOT managed by kubectl-codex" };
        writeln!(f, "namespace {} ({}, {managed})", self.namespace, self.phase)?;
        writeln!(
            f,
            "  last activity {} · idle TTL {} · {}",
            self.last_activity.as_deref().unwrap_or("unknown"),
            self.idle_ttl.as_deref().unwrap_or("unset"),
            self.expiry()
        )?;
        match &self.lease {
            Some(lease) => writeln!(f, "  run in progress: {} (until {})", lease.holder, lease.valid_until)?,
            None => writeln!(f, "  no run in progress")?,
        }
        if let Some(quota) = &self.quota {
            writeln!(f, "  {}", status_table::quota_line(quota))?;
        }
        for phase in &self.phases {
            writeln!(f, "  {} {} revision {} ({})", phase.name, phase.release, phase.revision, phase.status)?;
            for unit in &phase.units {
                writeln!(f, "    {:<14} {:<12} {}", unit.name, unit.kind, unit.state)?;
            }
        }
        Ok(())
    }
}

fn seconds_if_known<S: Serializer>(idle: &Result<Duration, String>, serializer: S) -> Result<S::Ok, S::Error> {
    idle.as_ref().ok().map(Duration::as_secs).serialize(serializer)
}

fn seconds<S: Serializer>(duration: &Option<Duration>, serializer: S) -> Result<S::Ok, S::Error> {
    duration.map(|d| d.as_secs()).serialize(serializer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(phase: &'static str, name: &str, kind: &'static str, state: &str) -> UnitRow {
        UnitRow {
            phase,
            name: name.into(),
            kind,
            state: state.into(),
            ready: state.starts_with("ready"),
            restarts: 0,
            created_at: None,
            last_event: None,
        }
    }

    fn environment(idle: Result<Duration, String>, holder: Option<(String, String)>) -> Environment {
        let ns = NamespaceInfo {
            name: "codex-prod".into(),
            uid: "u-1".into(),
            phase: NamespacePhase::Active,
            managed: true,
            labels: BTreeMap::from([("app.kubernetes.io/managed-by".to_string(), "kubectl-codex".to_string())]),
            last_activity: Some("2026-11-27T11:00:00Z".into()),
            idle_ttl: Some("8h".into()),
        };
        let releases = [
            ReleaseRecord {
                name: labels::release_name(Phase::ORDER[0]),
                revision: 3,
                status: "deployed".into(),
                labels: BTreeMap::new(),
            },
            ReleaseRecord {
                name: "somebody-else".into(),
                revision: 1,
                status: "failed".into(),
                labels: BTreeMap::new(),
            },
        ];
        let first = Phase::ORDER[0].as_str();
        let rows = [row(first, "postgres", "StatefulSet", "ready: 1/1"), row("frontend", "web", "Deployment", "x")];
        let quota = QuotaUse {
            name: "codex-quota".into(),
            hard: BTreeMap::from([("pods".to_string(), "20".to_string())]),
            used: BTreeMap::from([("pods".to_string(), "3".to_string())]),
        };
        Environment::new(ns, idle, Ok(Duration::from_secs(8 * 3600)), holder, &releases, &rows, Some(quota))
    }

    #[test]
    fn text_shows_the_namespace_its_lease_and_every_phase_release_with_its_units() {
        let release = labels::release_name(Phase::ORDER[0]);
        let first = Phase::ORDER[0].as_str();
        let text = environment(Ok(Duration::from_secs(3600)), None).to_string();
        assert_eq!(
            text,
            format!(
                "namespace codex-prod (Active, managed by kubectl-codex)\n  \
                 last activity 2026-11-27T11:00:00Z · idle TTL 8h · expires in 7h\n  \
                 no run in progress\n  \
                 quota codex-quota: pods 3/20\n  \
                 {first} {release} revision 3 (deployed)\n    \
                 postgres       StatefulSet  ready: 1/1\n"
            )
        );
        let held = Some(("up/42".to_string(), "2026-11-27T11:05:00Z".to_string()));
        let text = environment(Err("no last-activity annotation".into()), held).to_string();
        assert!(text.contains(" · lease unknown: no last-activity annotation\n"), "{text}");
        assert!(text.contains("\n  run in progress: up/42 (until 2026-11-27T11:05:00Z)\n"), "{text}");
        assert_eq!(Report::missing("codex-x").to_string(), "namespace codex-x does not exist\n");
    }

    #[test]
    fn json_keeps_the_keys_and_their_order() {
        let json = Report::Found(Box::new(environment(Ok(Duration::from_secs(3600)), None))).to_json().unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "namespace",
                "exists",
                "uid",
                "phase",
                "managed",
                "labels",
                "lastActivity",
                "idleTTL",
                "idleSeconds",
                "expiresInSeconds",
                "lease",
                "phases",
                "quota"
            ]
        );
        assert_eq!(value["idleSeconds"], 3600);
        assert_eq!(value["expiresInSeconds"], 7 * 3600);
        assert_eq!(value["phase"], "Active");
        assert_eq!(value["lease"], serde_json::Value::Null);
        assert_eq!(value["phases"][0]["revision"], 3);
        assert_eq!(value["phases"][0]["units"][0]["name"], "postgres");
        assert_eq!(
            value["quota"],
            serde_json::json!({"name": "codex-quota", "hard": {"pods": "20"}, "used": {"pods": "3"}})
        );
        assert_eq!(Report::missing("codex-x").to_json().unwrap(), r#"{"namespace":"codex-x","exists":false}"#);
    }
}
