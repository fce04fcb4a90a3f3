//! The outcome of a deploy run (`up`, `revise`): its summary and the exit code it asks for;
//! also the columns every listing of a run's phases starts with.

use super::build::ImageSummary;
use super::output::{self, Layout};
use crate::build::ImageOutcome;
use crate::cli::OutputFormat;
use crate::evidence::record::{EvidenceRecord, RunResult};
use crate::evidence::store;
use crate::exit::Failure;
use crate::lifecycle::revise;
use serde::Serialize;
use std::fmt;

/// Prints a run's outcome; a failed run is [`Failure::DeployFailed`]. A phase's error goes to
/// stderr either way.
pub fn deploy_run(record: &EvidenceRecord, output: OutputFormat, summary: DeployRun<'_>) -> Result<(), Failure> {
    output::print(&summary, output, Layout::Pretty)?;
    if let Some(error) = record.phases.iter().find_map(|p| p.error.as_ref()) {
        eprint!("{error}");
    }
    if record.result != RunResult::Deployed {
        return Err(Failure::DeployFailed);
    }
    Ok(())
}

/// What a deploy run reports: the evidence record's gist, and what `revise` decided and the
/// images the run built, when there are.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployRun<'a> {
    pub run_id: &'a str,
    pub trigger: &'a str,
    pub namespace: &'a str,
    pub namespace_uid: &'a str,
    pub namespace_decision: &'a str,
    pub result: RunResult,
    /// The ConfigMap holding the run's evidence record.
    pub evidence: String,
    pub phases: Vec<PhaseSummary<'a>>,
    #[serde(flatten)]
    pub revised: Option<Revised<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<ImageSummary>>,
}

/// One phase of the run.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhaseSummary<'a> {
    pub name: &'a str,
    pub release: &'a str,
    pub result: &'static str,
    pub revision: Option<u32>,
    pub started_at: &'a str,
    pub ready_at: Option<&'a str>,
}

/// How `revise` chose its environment.
#[derive(Debug, Serialize)]
pub struct Revised<'a> {
    pub path: &'a revise::Path,
    pub reason: &'a str,
}

impl<'a> DeployRun<'a> {
    /// The summary of `record`, with the images of the build step unless it was skipped.
    pub fn new(record: &'a EvidenceRecord, built: Option<&[ImageOutcome]>) -> Self {
        let phases = record
            .phases
            .iter()
            .map(|p| PhaseSummary {
                name: &p.name,
                release: &p.release,
                result: p.result.as_str(),
                revision: p.revision,
                started_at: &p.started_at,
                ready_at: p.ready_at.as_deref(),
            })
            .collect();
        DeployRun {
            run_id: &record.run_id,
            trigger: &record.trigger,
            namespace: &record.namespace,
            namespace_uid: &record.namespace_uid,
            namespace_decision: &record.namespace_decision,
            result: record.result,
            evidence: store::config_map_name(&record.run_id),
            phases,
            revised: None,
            images: built.map(ImageSummary::of),
        }
    }
}

impl fmt::Display for DeployRun<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} {} in namespace {} (run {})", self.trigger, self.result, self.namespace, self.run_id)?;
        for p in &self.phases {
            phase_columns(f, p.name, p.result, p.release)?;
            writeln!(f, " revision {}", revision(p.revision))?;
        }
        Ok(())
    }
}

/// The columns a phase's line starts with wherever a run's phases are listed (`up`, `revise`,
/// `evidence`), so that the listings line up alike.
pub fn phase_columns(f: &mut impl fmt::Write, name: &str, result: &str, release: &str) -> fmt::Result {
    write!(f, "  {name:<11} {result:<9} {release}")
}

/// A Helm revision, or `-` when the run left none.
pub fn revision(revision: Option<u32>) -> String {
    revision.map_or("-".into(), |r| r.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::BuildStatus;
    use crate::evidence::record::{PhaseEvidence, PhaseResult};

    fn record() -> EvidenceRecord {
        let phase = |name: &str, result, revision, ready_at: Option<&str>| PhaseEvidence {
            name: name.into(),
            release: format!("codex-{name}"),
            revision,
            values_digest: "d".into(),
            result,
            started_at: "2026-11-27T11:00:00Z".into(),
            ready_at: ready_at.map(str::to_string),
            units: vec![],
            waves: vec![],
            error: None,
            helm_pending: false,
        };
        EvidenceRecord {
            run_id: "r1".into(),
            trigger: "up".into(),
            tool_version: "0.1.0".into(),
            input_digest: "i".into(),
            project: "p".into(),
            env: "dev".into(),
            slot: "1".into(),
            issue: String::new(),
            namespace: "codex-dev-1".into(),
            namespace_uid: "u-1".into(),
            namespace_decision: "created: no namespace yet".into(),
            started_at: "2026-11-27T11:00:00Z".into(),
            finished_at: None,
            result: RunResult::Failed,
            inputs: Default::default(),
            secrets: vec![],
            phases: vec![
                phase("stateful", PhaseResult::Deployed, Some(2), Some("2026-11-27T11:00:05Z")),
                phase("migrations", PhaseResult::Failed, None, None),
            ],
        }
    }

    #[test]
    fn json_has_the_run_then_its_phases_then_what_revise_decided_then_the_images() {
        let record = record();
        let path = revise::Path::Reuse;
        let image = ImageOutcome {
            name: "api".into(),
            reference: "registry.local/api:c0".into(),
            content_tag: "c0".into(),
            input_digest: "i".into(),
            manifest_digest: Some("sha256:aa".into()),
            status: BuildStatus::Unchanged,
            seconds: 0.0,
            builder: None,
            command: None,
            error: None,
            mirror: None,
        };
        let mut summary = DeployRun::new(&record, Some(std::slice::from_ref(&image)));
        summary.revised = Some(Revised { path: &path, reason: "warm" });
        let expected = serde_json::json!({
            "runId": "r1",
            "trigger": "up",
            "namespace": "codex-dev-1",
            "namespaceUid": "u-1",
            "namespaceDecision": "created: no namespace yet",
            "result": "failed",
            "evidence": store::config_map_name("r1"),
            "phases": [
                {"name": "stateful", "release": "codex-stateful", "result": "deployed", "revision": 2,
                 "startedAt": "2026-11-27T11:00:00Z", "readyAt": "2026-11-27T11:00:05Z"},
                {"name": "migrations", "release": "codex-migrations", "result": "failed", "revision": null,
                 "startedAt": "2026-11-27T11:00:00Z", "readyAt": null},
            ],
            "path": "reuse",
            "reason": "warm",
            "images": [{"name": "api", "status": "unchanged", "reference": "registry.local/api:c0@sha256:aa",
                        "manifestDigest": "sha256:aa"}],
        });
        let pretty = output::to_json(&summary, Layout::Pretty).unwrap();
        assert_eq!(pretty, serde_json::to_string_pretty(&expected).unwrap());
        let plain = output::to_json(&DeployRun::new(&record, None), Layout::OneLine).unwrap();
        assert!(plain.ends_with(r#""readyAt":null}]}"#), "no revise decision, no images: {plain}");
    }

    #[test]
    fn text_is_the_run_then_a_line_per_phase() {
        let record = record();
        assert_eq!(
            DeployRun::new(&record, None).to_string(),
            "up failed in namespace codex-dev-1 (run r1)\n  \
             stateful    deployed  codex-stateful revision 2\n  \
             migrations  failed    codex-migrations revision -\n"
        );
    }
}
