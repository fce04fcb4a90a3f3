//! Proves, from the evidence records and Helm's own release history, that no phase started
//! before the previous one was ready. Pure: the caller fetches records and histories.

use super::record::{EvidenceRecord, PhaseEvidence, PhaseResult};
use crate::config::phase::Phase;
use crate::helm::HistoryEntry;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

/// One thing the records or Helm's history contradict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    pub run_id: String,
    pub phase: String,
    pub message: String,
}

/// A check that held, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Proof {
    pub run_id: String,
    pub phase: String,
    pub statement: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Verdict {
    pub proofs: Vec<Proof>,
    pub violations: Vec<Violation>,
}

fn time(text: &str) -> Option<Timestamp> {
    text.parse().ok()
}

/// Checks every record. `histories` maps release name to `helm history`.
pub fn verify(records: &[EvidenceRecord], histories: &BTreeMap<String, Vec<HistoryEntry>>) -> Verdict {
    let mut verdict = Verdict::default();
    for record in records {
        verify_record(record, histories, &mut verdict);
    }
    verdict
}

fn verify_record(record: &EvidenceRecord, histories: &BTreeMap<String, Vec<HistoryEntry>>, verdict: &mut Verdict) {
    let run = &record.run_id;
    let mut violation = |phase: &str, message: String| {
        verdict.violations.push(Violation { run_id: run.clone(), phase: phase.to_string(), message });
    };
    let mut proofs = Vec::new();
    // (phase, ready time) of the latest phase that became ready in this run.
    let mut previous: Option<(String, Timestamp)> = None;
    let mut previous_order = 0usize;
    let mut stopped_at: Option<String> = None;
    for phase in &record.phases {
        let Some(order) = Phase::parse(&phase.name).map(Phase::number) else {
            violation(&phase.name, format!("unknown phase {:?}", phase.name));
            continue;
        };
        if order <= previous_order {
            violation(&phase.name, "phases are recorded out of the fixed order".into());
        }
        previous_order = order;
        if let Some(failed) = &stopped_at {
            violation(&phase.name, format!("started although phase {failed} had failed or never finished"));
        }
        let Some(started) = time(&phase.started_at) else {
            violation(&phase.name, format!("start time {:?} is not RFC 3339", phase.started_at));
            continue;
        };
        if let Some((prev_name, prev_ready)) = &previous {
            if started < *prev_ready {
                violation(
                    &phase.name,
                    format!("started at {started} before phase {prev_name} was ready at {prev_ready}"),
                );
            } else {
                proofs.push((
                    phase.name.clone(),
                    format!("started at {started}, after {prev_name} was ready at {prev_ready}"),
                ));
            }
        }
        match phase.result {
            PhaseResult::Deployed => {
                let Some(ready) = phase.ready_at.as_deref().and_then(time) else {
                    violation(&phase.name, "deployed but no valid ready time".into());
                    continue;
                };
                if ready < started {
                    violation(&phase.name, "ready before it started".into());
                }
                check_units_ready(phase, &mut violation);
                check_waves(phase, histories, &mut violation, &mut proofs);
                check_same_phase_order(phase, &mut violation, &mut proofs);
                if phase.helm_pending {
                    // The run ended before Helm finished recording: its history is no witness.
                    let statement = "Helm's record not checked: the run ended while Helm was still writing it";
                    proofs.push((phase.name.clone(), statement.to_string()));
                } else {
                    check_helm_history(
                        record,
                        phase,
                        &previous,
                        started,
                        ready,
                        histories,
                        &mut violation,
                        &mut proofs,
                    );
                }
                previous = Some((phase.name.clone(), ready));
            }
            PhaseResult::Skipped => {
                // Unchanged and found ready: it counts as ready from the moment it was checked.
                let ready = phase.ready_at.as_deref().and_then(time).unwrap_or(started);
                previous = Some((phase.name.clone(), ready));
            }
            PhaseResult::Failed | PhaseResult::Running => stopped_at = Some(phase.name.clone()),
        }
    }
    verdict.proofs.extend(proofs.into_iter().map(|(phase, statement)| Proof { run_id: run.clone(), phase, statement }));
}

/// A deployed phase has a ready time for each unit and each of its objects.
fn check_units_ready(phase: &PhaseEvidence, violation: &mut impl FnMut(&str, String)) {
    for unit in &phase.units {
        if unit.ready_at.is_none() {
            violation(&phase.name, format!("unit {} has no ready time in a deployed phase", unit.name));
        }
        for object in unit.objects.iter().filter(|o| o.ready_at.is_none()) {
            let message = format!("object {} of unit {} has no ready time", object.object, unit.name);
            violation(&phase.name, message);
        }
    }
}

/// Each wave's revision was written after the wave before it was ready, in the evidence and
/// in Helm's own history.
fn check_waves(
    phase: &PhaseEvidence,
    histories: &BTreeMap<String, Vec<HistoryEntry>>,
    violation: &mut impl FnMut(&str, String),
    proofs: &mut Vec<(String, String)>,
) {
    for pair in phase.waves.windows(2) {
        let (before, wave) = (&pair[0], &pair[1]);
        let Some(ready) = before.ready_at.as_deref().and_then(time) else {
            violation(&phase.name, format!("wave {} has no ready time, yet wave {} followed", before.wave, wave.wave));
            continue;
        };
        match time(&wave.started_at) {
            Some(started) if started >= ready => {}
            _ => {
                let message = format!(
                    "wave {} started at {} before wave {} was ready at {ready}",
                    wave.wave, wave.started_at, before.wave
                );
                violation(&phase.name, message);
                continue;
            }
        }
        let entry = histories
            .get(&phase.release)
            .and_then(|h| h.iter().find(|e| Some(e.revision) == wave.revision))
            .and_then(|e| Some((e.revision, time(&e.updated)?)));
        match entry {
            Some((revision, written)) if written < ready => violation(
                &phase.name,
                format!(
                    "Helm wrote revision {revision} (wave {}) at {written}, before wave {} was ready at {ready}",
                    wave.wave, before.wave
                ),
            ),
            Some((revision, written)) => proofs.push((
                phase.name.clone(),
                format!(
                    "Helm wrote revision {revision} (wave {}: {}) at {written}, after wave {} was ready at {ready}",
                    wave.wave,
                    wave.units.join(", "),
                    before.wave
                ),
            )),
            None => violation(
                &phase.name,
                format!("wave {} has no revision in Helm's history of {}", wave.wave, phase.release),
            ),
        }
    }
}

/// A unit that depends on another of the same phase was created only after that one was
/// ready. creationTimestamp has whole seconds, so the ready time is compared by its second.
fn check_same_phase_order(
    phase: &PhaseEvidence,
    violation: &mut impl FnMut(&str, String),
    proofs: &mut Vec<(String, String)>,
) {
    for unit in &phase.units {
        for dependency in &unit.depends_on {
            let Some(before) = phase.units.iter().find(|u| &u.name == dependency) else {
                violation(
                    &phase.name,
                    format!("unit {} depends on {dependency}, which the phase does not record", unit.name),
                );
                continue;
            };
            let ready = before.ready_at.as_deref().and_then(time);
            let created = unit.created_at.as_deref().and_then(time);
            match (ready, created) {
                (Some(ready), Some(created)) if created.as_second() >= ready.as_second() => proofs.push((
                    phase.name.clone(),
                    format!("unit {} was created at {created}, after {dependency} was ready at {ready}", unit.name),
                )),
                (Some(ready), Some(created)) => violation(
                    &phase.name,
                    format!("unit {} was created at {created}, before {dependency} was ready at {ready}", unit.name),
                ),
                _ => violation(
                    &phase.name,
                    format!("unit {} or its dependency {dependency} lacks a creation or ready time", unit.name),
                ),
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn check_helm_history(
    record: &EvidenceRecord,
    phase: &PhaseEvidence,
    previous: &Option<(String, Timestamp)>,
    started: Timestamp,
    ready: Timestamp,
    histories: &BTreeMap<String, Vec<HistoryEntry>>,
    violation: &mut impl FnMut(&str, String),
    proofs: &mut Vec<(String, String)>,
) {
    let Some(revision) = phase.revision else {
        violation(&phase.name, "deployed without a recorded Helm revision".into());
        return;
    };
    let Some(history) = histories.get(&phase.release) else {
        violation(&phase.name, format!("release {} has no Helm history in {}", phase.release, record.namespace));
        return;
    };
    let Some(entry) = history.iter().find(|h| h.revision == revision) else {
        // Helm keeps a bounded history; an old run's revision may be gone. Only the
        // absence in a history that still reaches back that far is a contradiction.
        let oldest = history.iter().map(|h| h.revision).min().unwrap_or(u32::MAX);
        if revision >= oldest {
            violation(&phase.name, format!("Helm has no revision {revision} of {}", phase.release));
        }
        return;
    };
    let Some(deployed) = time(&entry.updated) else {
        violation(&phase.name, format!("Helm's time {:?} for revision {revision} is unreadable", entry.updated));
        return;
    };
    if deployed < started || deployed > ready {
        violation(
            &phase.name,
            format!("Helm recorded revision {revision} at {deployed}, outside this phase's run ({started} .. {ready})"),
        );
        return;
    }
    match previous {
        Some((prev_name, prev_ready)) if deployed < *prev_ready => violation(
            &phase.name,
            format!("Helm wrote revision {revision} at {deployed}, before phase {prev_name} was ready at {prev_ready}"),
        ),
        Some((prev_name, prev_ready)) => proofs.push((
            phase.name.clone(),
            format!(
                "Helm wrote {} revision {revision} at {deployed}, after {prev_name} was ready at {prev_ready}",
                phase.release
            ),
        )),
        None => {
            proofs.push((phase.name.clone(), format!("Helm wrote {} revision {revision} at {deployed}", phase.release)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::record::{ObjectEvidence, UnitEvidence, WaveEvidence};

    fn phase(name: &str, revision: u32, started: &str, ready: &str, result: PhaseResult) -> PhaseEvidence {
        PhaseEvidence {
            name: name.into(),
            release: format!("codex-{name}"),
            revision: Some(revision),
            values_digest: String::new(),
            result,
            started_at: started.into(),
            ready_at: Some(ready.into()),
            units: vec![UnitEvidence {
                name: "u".into(),
                kind: "Deployment".into(),
                wave: 0,
                depends_on: vec![],
                created_at: None,
                ready_at: Some(ready.into()),
                observed: vec![],
                objects: vec![],
            }],
            waves: vec![],
            error: None,
            helm_pending: false,
        }
    }

    fn record(phases: Vec<PhaseEvidence>) -> EvidenceRecord {
        EvidenceRecord {
            run_id: "r1".into(),
            trigger: "up".into(),
            tool_version: "0".into(),
            input_digest: String::new(),
            project: "p".into(),
            env: "e".into(),
            slot: String::new(),
            issue: String::new(),
            namespace: "ns".into(),
            namespace_uid: String::new(),
            namespace_decision: String::new(),
            started_at: "2026-01-01T00:00:00Z".into(),
            finished_at: None,
            result: crate::evidence::record::RunResult::Deployed,
            inputs: BTreeMap::new(),
            secrets: Vec::new(),
            phases,
        }
    }

    fn history(entries: &[(&str, u32, &str)]) -> BTreeMap<String, Vec<HistoryEntry>> {
        let mut out: BTreeMap<String, Vec<HistoryEntry>> = BTreeMap::new();
        for (release, revision, updated) in entries {
            out.entry(release.to_string()).or_default().push(HistoryEntry {
                revision: *revision,
                updated: updated.to_string(),
                status: "deployed".into(),
                chart: String::new(),
                description: String::new(),
            });
        }
        out
    }

    /// Asserts that one of the verdict's violations says `words`.
    #[track_caller]
    fn assert_violation(verdict: &Verdict, words: &str) {
        assert!(verdict.violations.iter().any(|v| v.message.contains(words)), "{words:?}: {:?}", verdict.violations);
    }

    #[test]
    fn an_ordered_run_backed_by_helm_history_verifies() {
        let r = record(vec![
            phase("stateful", 1, "2026-01-01T00:00:01Z", "2026-01-01T00:00:10Z", PhaseResult::Deployed),
            phase("migrations", 1, "2026-01-01T00:00:11Z", "2026-01-01T00:00:20Z", PhaseResult::Deployed),
        ]);
        let h =
            history(&[("codex-stateful", 1, "2026-01-01T00:00:02Z"), ("codex-migrations", 1, "2026-01-01T00:00:12Z")]);
        let verdict = verify(&[r], &h);
        assert!(verdict.violations.is_empty(), "{:?}", verdict.violations);
        assert_eq!(verdict.proofs.len(), 3);
    }

    #[test]
    fn a_phase_started_before_the_previous_was_ready_is_a_violation() {
        let r = record(vec![
            phase("stateful", 1, "2026-01-01T00:00:01Z", "2026-01-01T00:00:10Z", PhaseResult::Deployed),
            phase("migrations", 1, "2026-01-01T00:00:05Z", "2026-01-01T00:00:20Z", PhaseResult::Deployed),
        ]);
        let h =
            history(&[("codex-stateful", 1, "2026-01-01T00:00:02Z"), ("codex-migrations", 1, "2026-01-01T00:00:06Z")]);
        let verdict = verify(&[r], &h);
        assert_violation(&verdict, "before phase stateful was ready");
    }

    #[test]
    fn helm_history_contradicting_the_record_is_a_violation() {
        let r = record(vec![
            phase("stateful", 1, "2026-01-01T00:00:01Z", "2026-01-01T00:00:10Z", PhaseResult::Deployed),
            phase("migrations", 2, "2026-01-01T00:00:11Z", "2026-01-01T00:00:20Z", PhaseResult::Deployed),
        ]);
        // Helm says migrations revision 2 was written while stateful was still coming up.
        let h =
            history(&[("codex-stateful", 1, "2026-01-01T00:00:02Z"), ("codex-migrations", 2, "2026-01-01T00:00:03Z")]);
        let verdict = verify(&[r], &h);
        assert_violation(&verdict, "outside this phase's run");
    }

    #[test]
    fn a_phase_whose_helm_had_not_finished_is_proved_by_the_record_alone() {
        // A run killed while Helm still recorded migrations; the next run reinstalled it, so
        // Helm's revision 2 is another run's. The order in the record still holds.
        let mut pending = phase("migrations", 2, "2026-01-01T00:00:11Z", "2026-01-01T00:00:20Z", PhaseResult::Deployed);
        pending.helm_pending = true;
        let stateful = phase("stateful", 1, "2026-01-01T00:00:01Z", "2026-01-01T00:00:10Z", PhaseResult::Deployed);
        let h =
            history(&[("codex-stateful", 1, "2026-01-01T00:00:02Z"), ("codex-migrations", 2, "2026-01-01T00:09:00Z")]);
        let verdict = verify(&[record(vec![stateful.clone(), pending.clone()])], &h);
        assert!(verdict.violations.is_empty(), "{:?}", verdict.violations);
        assert!(
            verdict.proofs.iter().any(|p| p.statement.starts_with("Helm's record not checked")),
            "{:?}",
            verdict.proofs
        );
        // Without the mark, the same history is a contradiction.
        pending.helm_pending = false;
        assert_violation(&verify(&[record(vec![stateful, pending])], &h), "outside this phase's run");
    }

    #[test]
    fn nothing_may_follow_a_failed_phase() {
        let r = record(vec![
            phase("stateful", 1, "2026-01-01T00:00:01Z", "2026-01-01T00:00:10Z", PhaseResult::Failed),
            phase("migrations", 1, "2026-01-01T00:00:11Z", "2026-01-01T00:00:20Z", PhaseResult::Deployed),
        ]);
        let h = history(&[("codex-migrations", 1, "2026-01-01T00:00:12Z")]);
        let verdict = verify(&[r], &h);
        assert_violation(&verdict, "had failed");
    }

    #[test]
    fn out_of_order_phases_are_a_violation() {
        let r = record(vec![
            phase("internal", 1, "2026-01-01T00:00:01Z", "2026-01-01T00:00:10Z", PhaseResult::Skipped),
            phase("stateful", 1, "2026-01-01T00:00:11Z", "2026-01-01T00:00:20Z", PhaseResult::Skipped),
        ]);
        let verdict = verify(&[r], &BTreeMap::new());
        assert_violation(&verdict, "out of the fixed order");
    }

    /// A phase installed in two waves: `db` (revision 1), then `api` (revision 2).
    fn waved(api_created: &str, wave_two_written: &str) -> (EvidenceRecord, BTreeMap<String, Vec<HistoryEntry>>) {
        let mut p = phase("stateful", 2, "2026-01-01T00:00:01Z", "2026-01-01T00:00:20Z", PhaseResult::Deployed);
        let unit = |name: &str, wave: usize, created: &str, ready: &str, deps: &[&str]| UnitEvidence {
            name: name.into(),
            kind: "manifests".into(),
            wave,
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            created_at: Some(created.into()),
            ready_at: Some(ready.into()),
            observed: vec![],
            objects: vec![ObjectEvidence {
                object: format!("StatefulSet/{name}"),
                api_version: "apps/v1".into(),
                created_at: Some(created.into()),
                ready_at: Some(ready.into()),
                observed: Some("statefulset ready (1/1)".into()),
            }],
        };
        p.units = vec![
            unit("db", 0, "2026-01-01T00:00:02Z", "2026-01-01T00:00:08.500Z", &[]),
            unit("api", 1, api_created, "2026-01-01T00:00:15Z", &["db"]),
        ];
        p.waves = vec![
            WaveEvidence {
                wave: 0,
                units: vec!["db".into()],
                revision: Some(1),
                started_at: "2026-01-01T00:00:01Z".into(),
                ready_at: Some("2026-01-01T00:00:08.500Z".into()),
            },
            WaveEvidence {
                wave: 1,
                units: vec!["api".into()],
                revision: Some(2),
                started_at: "2026-01-01T00:00:08.600Z".into(),
                ready_at: Some("2026-01-01T00:00:15Z".into()),
            },
        ];
        let h = history(&[("codex-stateful", 1, "2026-01-01T00:00:01.2Z"), ("codex-stateful", 2, wave_two_written)]);
        (record(vec![p]), h)
    }

    #[test]
    fn waves_and_same_phase_order_are_proved() {
        let (r, h) = waved("2026-01-01T00:00:08Z", "2026-01-01T00:00:08.700Z");
        let verdict = verify(&[r], &h);
        assert!(verdict.violations.is_empty(), "{:?}", verdict.violations);
        let statements: Vec<&str> = verdict.proofs.iter().map(|p| p.statement.as_str()).collect();
        assert!(statements.iter().any(|s| s.contains("revision 2 (wave 1: api)")), "{statements:?}");
        assert!(
            statements.iter().any(|s| s.contains("unit api was created at") && s.contains("after db")),
            "{statements:?}"
        );
    }

    #[test]
    fn a_dependent_created_before_its_dependency_was_ready_is_a_violation() {
        let (r, h) = waved("2026-01-01T00:00:05Z", "2026-01-01T00:00:08.700Z");
        let verdict = verify(&[r], &h);
        assert_violation(&verdict, "before db was ready");
    }

    #[test]
    fn a_wave_helm_wrote_before_the_previous_wave_was_ready_is_a_violation() {
        let (r, h) = waved("2026-01-01T00:00:08Z", "2026-01-01T00:00:04Z");
        let verdict = verify(&[r], &h);
        assert_violation(&verdict, "(wave 1) at");
    }
}
