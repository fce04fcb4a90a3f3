//! The evidence record of one run.

use serde::{Deserialize, Serialize};

/// Outcome of one phase in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhaseResult {
    /// Installed or upgraded, and every unit became ready.
    Deployed,
    /// Values unchanged since the deployed revision and every unit still ready: left alone.
    Skipped,
    /// Did not become ready; the run stopped here.
    Failed,
    /// Being deployed (a run that was killed leaves this behind).
    Running,
}

impl PhaseResult {
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseResult::Deployed => "deployed",
            PhaseResult::Skipped => "skipped",
            PhaseResult::Failed => "failed",
            PhaseResult::Running => "running",
        }
    }
}

/// How a whole run ended, or that it has not (yet: a run that was killed leaves this behind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunResult {
    Running,
    /// Every phase deployed (or skipped, unchanged and ready).
    Deployed,
    /// A phase failed; the run stopped there.
    Failed,
}

impl RunResult {
    pub fn as_str(self) -> &'static str {
        match self {
            RunResult::Running => "running",
            RunResult::Deployed => "deployed",
            RunResult::Failed => "failed",
        }
    }
}

impl std::fmt::Display for RunResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitEvidence {
    pub name: String,
    /// The typed workload's kind, or `manifests` for a unit made of manifests alone.
    pub kind: String,
    /// The install wave inside the phase (0: no same-phase dependency).
    #[serde(default)]
    pub wave: usize,
    /// Same-phase units this one waited for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// When the unit's first object was created (the API server's creationTimestamp, seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// When the unit was first seen ready (RFC 3339, nanoseconds).
    pub ready_at: Option<String>,
    /// How readiness was observed: the workload status, then each hook.
    pub observed: Vec<String>,
    /// Every object of the unit's manifests and how its readiness was observed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<ObjectEvidence>,
}

/// One object of a unit's manifests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectEvidence {
    /// `Kind/name`.
    pub object: String,
    pub api_version: String,
    pub created_at: Option<String>,
    pub ready_at: Option<String>,
    /// What the readiness rule saw, e.g. "statefulset ready (1/1)".
    pub observed: Option<String>,
}

/// One install wave: a revision of the phase release holding the units of this wave and of
/// every earlier one, gated before the next wave starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveEvidence {
    pub wave: usize,
    /// Units this wave added to the release.
    pub units: Vec<String>,
    pub revision: Option<u32>,
    pub started_at: String,
    pub ready_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhaseEvidence {
    pub name: String,
    pub release: String,
    /// Helm revision this run left (or found, when skipped).
    pub revision: Option<u32>,
    pub values_digest: String,
    pub result: PhaseResult,
    pub started_at: String,
    /// When the whole phase was ready (all units and hooks).
    pub ready_at: Option<String>,
    pub units: Vec<UnitEvidence>,
    /// The install waves, when the phase was installed in more than one revision.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waves: Vec<WaveEvidence>,
    pub error: Option<String>,
    /// Helm was still recording `revision` when the record was saved: the gate had seen the
    /// phase ready first, and `up` collects Helm before it reports, clearing this. A run killed
    /// in between leaves it set, and Helm's history is then no witness for this phase (the
    /// next run may have had to remove the unfinished release and install it again).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub helm_pending: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvidenceRecord {
    pub run_id: String,
    /// `up`, or `revise <issue>`.
    pub trigger: String,
    pub tool_version: String,
    pub input_digest: String,
    pub project: String,
    pub env: String,
    pub slot: String,
    pub issue: String,
    pub namespace: String,
    pub namespace_uid: String,
    /// Why this namespace was used (created, reused, recreated after expiry).
    pub namespace_decision: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub result: RunResult,
    /// The declared inputs and their values; a secret one as `<secret:NAME>`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub inputs: std::collections::BTreeMap<String, serde_json::Value>,
    /// The Secrets of `secrets` (never their values), created with the first phase.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretEvidence>,
    pub phases: Vec<PhaseEvidence>,
}

/// A Secret of `secrets` in one run: its keys and salted digest, never a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretEvidence {
    pub name: String,
    pub keys: Vec<String>,
    /// HMAC-SHA256 of the content keyed by the namespace.
    pub digest: String,
    /// Generated keys made in this run (`generate` keys the namespace did not have yet).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub generated: Vec<String>,
}

/// A run id that sorts by time and is a valid object-name suffix.
pub fn new_run_id() -> String {
    let now = k8s_openapi::jiff::Timestamp::now();
    let stamp = now.strftime("%Y%m%dt%H%M%S").to_string();
    format!("{stamp}z-{:04x}{:04x}", std::process::id() & 0xffff, now.subsec_nanosecond() as u32 & 0xffff)
}
