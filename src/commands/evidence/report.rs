//! What `evidence` reports: the records, the proof of their phase order (`--verify`), or the
//! pictures written; each one typed value, serialized for `-o json` and displayed for text.

use crate::commands::report::{phase_columns, revision};
use crate::evidence::record::{EvidenceRecord, PhaseEvidence};
use crate::evidence::verify::Verdict;
use serde::Serialize;
use std::fmt;

/// The records as `evidence` lists them; their JSON is the records themselves, which
/// `--from-file` reads back.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Listing<'a> {
    pub records: &'a [EvidenceRecord],
    /// Where they came from (a namespace, or a file), for the text when there is none.
    #[serde(skip)]
    pub source: &'a str,
}

impl fmt::Display for Listing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.records.is_empty() {
            writeln!(f, "no evidence in namespace {}", self.source)?;
        }
        for r in self.records {
            writeln!(
                f,
                "run {} ({}) {} · started {} · input {}",
                r.run_id,
                r.trigger,
                r.result,
                r.started_at,
                r.input_digest.get(..12).unwrap_or(&r.input_digest)
            )?;
            if !r.namespace_decision.is_empty() {
                writeln!(f, "  namespace: {}", r.namespace_decision)?;
            }
            for p in &r.phases {
                write_phase(f, p)?;
            }
        }
        Ok(())
    }
}

/// A phase's line, then its waves and the readiness of each object of its units.
fn write_phase(f: &mut fmt::Formatter<'_>, p: &PhaseEvidence) -> fmt::Result {
    phase_columns(f, &p.name, p.result.as_str(), &p.release)?;
    writeln!(
        f,
        " rev {} · started {} · ready {}",
        revision(p.revision),
        p.started_at,
        p.ready_at.as_deref().unwrap_or("-")
    )?;
    for w in &p.waves {
        writeln!(
            f,
            "    wave {} rev {} ({}) · started {} · ready {}",
            w.wave,
            revision(w.revision),
            w.units.join(", "),
            w.started_at,
            w.ready_at.as_deref().unwrap_or("-")
        )?;
    }
    for u in &p.units {
        for o in &u.objects {
            writeln!(
                f,
                "    {} {}: {} · ready {}",
                u.name,
                o.object,
                o.observed.as_deref().unwrap_or("not ready"),
                o.ready_at.as_deref().unwrap_or("-")
            )?;
        }
    }
    Ok(())
}

/// `--verify`: every check that held and every contradiction, over `runs` records.
#[derive(Debug, Serialize)]
pub struct Verified<'a> {
    pub verified: bool,
    pub runs: usize,
    #[serde(flatten)]
    pub verdict: &'a Verdict,
}

impl<'a> Verified<'a> {
    pub fn new(runs: usize, verdict: &'a Verdict) -> Self {
        Verified { verified: verdict.violations.is_empty(), runs, verdict }
    }
}

impl fmt::Display for Verified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for proof in &self.verdict.proofs {
            writeln!(f, "ok   {} {}: {}", proof.run_id, proof.phase, proof.statement)?;
        }
        for v in &self.verdict.violations {
            writeln!(f, "FAIL {} {}: {}", v.run_id, v.phase, v.message)?;
        }
        writeln!(
            f,
            "{} run(s), {} check(s) held, {} violation(s)",
            self.runs,
            self.verdict.proofs.len(),
            self.verdict.violations.len()
        )
    }
}

/// `--svg`/`--html`: the timeline pictures written, and of how many runs.
#[derive(Debug, Serialize)]
pub struct Pictures {
    pub runs: usize,
    pub written: Vec<String>,
}

impl fmt::Display for Pictures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for path in &self.written {
            writeln!(f, "timeline of {} run(s) written to {path}", self.runs)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::output::{self, Layout};
    use crate::evidence::verify::{Proof, Violation};

    fn verdict() -> Verdict {
        Verdict {
            proofs: vec![Proof { run_id: "r1".into(), phase: "stateful".into(), statement: "ready first".into() }],
            violations: vec![Violation { run_id: "r2".into(), phase: "services".into(), message: "too early".into() }],
        }
    }

    #[test]
    fn verify_json_is_the_verdict_after_its_summary_and_text_a_line_per_check() {
        let verdict = verdict();
        let report = Verified::new(2, &verdict);
        assert_eq!(
            output::to_json(&report, Layout::OneLine).unwrap(),
            r#"{"verified":false,"runs":2,"proofs":[{"runId":"r1","phase":"stateful","statement":"ready first"}],"violations":[{"runId":"r2","phase":"services","message":"too early"}]}"#
        );
        assert_eq!(
            report.to_string(),
            "ok   r1 stateful: ready first\nFAIL r2 services: too early\n2 run(s), 1 check(s) held, 1 violation(s)\n"
        );
        assert_eq!(
            output::to_json(&Verified::new(0, &Verdict::default()), Layout::OneLine).unwrap(),
            r#"{"verified":true,"runs":0,"proofs":[],"violations":[]}"#
        );
    }

    #[test]
    fn pictures_json_counts_the_runs_and_names_the_files() {
        let report = Pictures { runs: 3, written: vec!["t.svg".into(), "t.html".into()] };
        assert_eq!(output::to_json(&report, Layout::OneLine).unwrap(), r#"{"runs":3,"written":["t.svg","t.html"]}"#);
        assert_eq!(
            report.to_string(),
            "timeline of 3 run(s) written to t.svg\ntimeline of 3 run(s) written to t.html\n"
        );
    }

    #[test]
    fn a_listing_is_the_records_themselves_in_json_and_says_when_there_is_none() {
        let listing = Listing { records: &[], source: "codex-dev-1" };
        assert_eq!(output::to_json(&listing, Layout::Pretty).unwrap(), "[]");
        assert_eq!(listing.to_string(), "no evidence in namespace codex-dev-1\n");
    }

    #[test]
    fn a_listing_has_a_line_per_run_phase_wave_and_object() {
        let mut record: EvidenceRecord = serde_json::from_value(serde_json::json!({
            "runId": "r1", "trigger": "up", "toolVersion": "0.1.0", "inputDigest": "0123456789abcdef",
            "project": "p", "env": "dev", "slot": "1", "issue": "", "namespace": "codex-dev-1",
            "namespaceUid": "u", "namespaceDecision": "created: no namespace yet",
            "startedAt": "t0", "finishedAt": null, "result": "deployed",
            "phases": [{"name": "internal", "release": "codex-internal", "revision": 2, "valuesDigest": "v",
                        "result": "deployed", "startedAt": "t1", "readyAt": null, "error": null,
                        "waves": [{"wave": 1, "units": ["orders"], "revision": null, "startedAt": "t2", "readyAt": "t3"}],
                        "units": [{"name": "orders", "kind": "manifests", "readyAt": null, "observed": [],
                                   "objects": [{"object": "Deployment/orders", "apiVersion": "apps/v1",
                                                "createdAt": null, "readyAt": null, "observed": null}]}]}]
        }))
        .unwrap();
        let text = Listing { records: std::slice::from_ref(&record), source: "codex-dev-1" }.to_string();
        assert_eq!(
            text,
            "run r1 (up) deployed · started t0 · input 0123456789ab\n  \
             namespace: created: no namespace yet\n  \
             internal    deployed  codex-internal rev 2 · started t1 · ready -\n    \
             wave 1 rev - (orders) · started t2 · ready t3\n    \
             orders Deployment/orders: not ready · ready -\n"
        );
        record.namespace_decision.clear();
        let text = Listing { records: std::slice::from_ref(&record), source: "codex-dev-1" }.to_string();
        assert!(!text.contains("namespace:"), "{text}");
    }
}
