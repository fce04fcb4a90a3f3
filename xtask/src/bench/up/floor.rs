//! Where a cold `up`'s time goes, from its own records: the readiness floor and the per-phase
//! timings of its evidence record, and when the gate first saw each phase ready, from up's
//! timestamped stderr.

use super::PhaseTiming;
use crate::bench::time::rfc3339_ns;
use anyhow::{Context, Result};
use serde_json::Value;

/// The floor and the per-phase timings of one evidence record; `spawned_at` and `exited_at`
/// are the wall-clock times of the process (same host clock as the evidence stamps).
pub(super) fn timings(record: &Value, spawned_at: i128, exited_at: i128) -> Result<(f64, Vec<PhaseTiming>, f64)> {
    let secs = |ns: i128| ns as f64 / 1e9;
    let mut floor = 0.0;
    let mut phases = Vec::new();
    let mut previous_end = spawned_at;
    for phase in record["phases"].as_array().context("evidence without phases")? {
        let name = phase["name"].as_str().unwrap_or_default().to_string();
        let started =
            rfc3339_ns(phase["startedAt"].as_str().with_context(|| format!("phase {name} without startedAt"))?)?;
        let ready = rfc3339_ns(phase["readyAt"].as_str().with_context(|| format!("phase {name} without readyAt"))?)?;
        let mut slowest: Option<(i128, String)> = None;
        for unit in phase["units"].as_array().into_iter().flatten() {
            let unit_name = unit["name"].as_str().unwrap_or_default().to_string();
            let at = rfc3339_ns(
                unit["readyAt"]
                    .as_str()
                    .with_context(|| format!("unit {unit_name} of phase {name} without readyAt"))?,
            )?;
            if slowest.as_ref().is_none_or(|(s, _)| at - started > *s) {
                slowest = Some((at - started, unit_name));
            }
        }
        let (slowest, slowest_name) = slowest.with_context(|| format!("phase {name} has no units"))?;
        floor += secs(slowest);
        phases.push(PhaseTiming {
            name,
            slowest_unit: secs(slowest),
            slowest_unit_name: slowest_name,
            span: secs(ready - started),
            gap_before: secs(started - previous_end),
            seen_ready: None,
        });
        previous_end = ready;
    }
    Ok((floor, phases, secs(exited_at - previous_end)))
}

/// Per phase, from up's plain progress lines (`[  5.7s] 1. stateful: helm upgrade --install
/// …`, `[  8.1s]   ✓ postgres ready: …`): seconds from the phase's Helm start to the last
/// unit the gate saw ready.
pub(super) fn seen_ready(log: &str) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = Vec::new();
    let mut current: Option<(String, f64)> = None;
    for line in log.lines() {
        let Some((stamp, message)) = line.strip_prefix('[').and_then(|l| l.split_once("s] ")) else {
            continue;
        };
        let Ok(at) = stamp.trim().parse::<f64>() else {
            continue;
        };
        let message = message.trim();
        let phase_start = message.split_once(". ").and_then(|(n, rest)| {
            n.bytes().all(|c| c.is_ascii_digit()).then_some(())?;
            rest.split_once(": helm upgrade --install").map(|(name, _)| name.to_string())
        });
        if let Some(name) = phase_start {
            current = Some((name, at));
        } else if let (Some(rest), Some((name, started))) = (message.strip_prefix("✓ "), &current) {
            if rest.contains(" ready: ") {
                match out.iter_mut().find(|(n, _)| n == name) {
                    Some(entry) => entry.1 = entry.1.max(at - started),
                    None => out.push((name.clone(), at - started)),
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_floor_sums_each_phases_slowest_unit() {
        let record = json!({"phases": [
            {"name": "a", "startedAt": "2025-01-01T00:00:01Z", "readyAt": "2025-01-01T00:00:05Z",
             "units": [{"name": "x", "readyAt": "2025-01-01T00:00:03Z"}, {"name": "y", "readyAt": "2025-01-01T00:00:04.5Z"}]},
            {"name": "b", "startedAt": "2025-01-01T00:00:06Z", "readyAt": "2025-01-01T00:00:08Z",
             "units": [{"name": "z", "readyAt": "2025-01-01T00:00:07Z"}]},
        ]});
        let spawned = rfc3339_ns("2025-01-01T00:00:00Z").unwrap();
        let exited = rfc3339_ns("2025-01-01T00:00:09Z").unwrap();
        let (floor, phases, finish) = timings(&record, spawned, exited).unwrap();
        assert!(phases.iter().all(|p| p.seen_ready.is_none()));
        assert!((floor - 4.5).abs() < 1e-9);
        assert_eq!(phases[0].slowest_unit_name, "y");
        assert!((phases[0].gap_before - 1.0).abs() < 1e-9 && (phases[1].gap_before - 1.0).abs() < 1e-9);
        assert!((phases[0].span - 4.0).abs() < 1e-9);
        assert!((finish - 1.0).abs() < 1e-9);
    }

    #[test]
    fn progress_lines_give_when_the_gate_first_saw_each_phase_ready() {
        let log = "[   0.0s] namespace x (created: no namespace yet)\n\
                   [   0.1s] 1. stateful: helm upgrade --install codex-stateful\n\
                   [   5.7s]   ✓ postgres ready: statefulset ready (1/1)\n\
                   [   7.9s]   ✓ postgres hooks passed\n\
                   [   8.0s] 2. migrations: helm upgrade --install codex-migrations\n\
                   [   9.0s]   ✓ a ready: job complete\n\
                   [  12.5s]   ✓ b ready: job complete\n";
        let seen = seen_ready(log);
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].0, "stateful");
        assert!((seen[0].1 - 5.6).abs() < 1e-9);
        assert!((seen[1].1 - 4.5).abs() < 1e-9);
    }
}
