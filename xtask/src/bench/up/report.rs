//! The report of bench up: the text table and the JSON document (docs/benchmarks.md says how
//! to read them).

use super::{PhaseTiming, Round, BASELINE_GOAL, ENV, OVERHEAD_GOAL, RERUN_GOAL};
use crate::bench::stats::{round3, Summary};
use serde_json::{json, Value};
use std::fmt::Write as _;

/// The rows of the result table: (key, label, unit, per-round values).
fn rows(rounds: &[Round]) -> Vec<(&'static str, &'static str, &'static str, Vec<f64>)> {
    vec![
        ("coldUpS", "cold up", "s", rounds.iter().map(|r| r.codex.cold).collect()),
        ("floorS", "readiness floor (evidence)", "s", rounds.iter().map(|r| r.codex.floor).collect()),
        ("overheadPct", "overhead: cold up / floor - 1", "%", rounds.iter().map(|r| r.overhead() * 100.0).collect()),
        ("rerunS", "unchanged rerun", "s", rounds.iter().map(|r| r.codex.warm).collect()),
        ("rerunPctOfCold", "rerun / cold up", "%", rounds.iter().map(|r| r.warm_share() * 100.0).collect()),
        (
            "seenReadyS",
            "units first seen ready (stderr)",
            "s",
            rounds.iter().map(|r| r.codex.phases.iter().map(|p| p.seen_ready.unwrap_or(f64::NAN)).sum()).collect(),
        ),
        ("kubectlS", "kubectl apply + rollout status", "s", rounds.iter().map(|r| r.kubectl.total).collect()),
        ("upOverKubectl", "cold up / kubectl sequence", "x", rounds.iter().map(Round::up_over_kubectl).collect()),
    ]
}

/// One phase over the rounds.
struct PhaseRow {
    name: String,
    /// The unit that was slowest in most rounds.
    slowest: String,
    gap_before: Summary,
    floor_share: Summary,
    span: Summary,
    seen_ready: Summary,
    /// The kubectl sequence's apply + wait time for the same units.
    kubectl: Summary,
}

fn phase_rows(rounds: &[Round]) -> Vec<PhaseRow> {
    let first = &rounds[0].codex.phases;
    first
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let of = |f: &dyn Fn(&PhaseTiming) -> f64| {
                Summary::of(rounds.iter().filter_map(|r| r.codex.phases.get(i)).map(f))
            };
            let kubectl = Summary::of(
                rounds
                    .iter()
                    .map(|r| r.kubectl.units.iter().filter(|u| u.phase == p.name).map(|u| u.seconds).sum::<f64>()),
            );
            let names: Vec<&str> =
                rounds.iter().filter_map(|r| r.codex.phases.get(i)).map(|t| t.slowest_unit_name.as_str()).collect();
            let slowest = names
                .iter()
                .max_by_key(|n| names.iter().filter(|m| m == n).count())
                .copied()
                .unwrap_or(&p.slowest_unit_name);
            PhaseRow {
                name: p.name.clone(),
                slowest: slowest.to_string(),
                gap_before: of(&|t| t.gap_before),
                floor_share: of(&|t| t.slowest_unit),
                span: of(&|t| t.span),
                seen_ready: of(&|t| t.seen_ready.unwrap_or(f64::NAN)),
                kubectl,
            }
        })
        .collect()
}

pub(super) fn report_text(rounds: &[Round]) -> String {
    let mut out = String::new();
    summary_table(&mut out, rounds);
    let _ = writeln!(out);
    goals(&mut out, rounds);
    let _ = writeln!(out);
    breakdown(&mut out, rounds);
    let _ = writeln!(out);
    legend(&mut out, rounds);
    out
}

/// Every measured figure: median, min and the value of each run.
fn summary_table(out: &mut String, rounds: &[Round]) {
    let n = rounds.len();
    let _ = writeln!(
        out,
        "kubectl-codex up of services.yaml (--env {ENV}) on the local cluster, {n} run(s), fresh namespaces each"
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "{:<34} {:>10} {:>10}   per run", "", "median", "min");
    for (_, label, unit, values) in rows(rounds) {
        let s = Summary::of(values.iter().copied());
        let show = |v: f64| match unit {
            "%" => format!("{v:.1}%"),
            "x" => format!("{v:.3}x"),
            _ => format!("{v:.2}s"),
        };
        let per_run: Vec<String> = values.iter().map(|v| show(*v)).collect();
        let _ = writeln!(out, "{:<34} {:>10} {:>10}   {}", label, show(s.median), show(s.min), per_run.join(" "));
    }
}

/// The three goals, met or missed on the medians, and what the rerun skipped.
fn goals(out: &mut String, rounds: &[Round]) {
    let overhead = Summary::of(rounds.iter().map(Round::overhead));
    let rerun = Summary::of(rounds.iter().map(Round::warm_share));
    let against_kubectl = Summary::of(rounds.iter().map(Round::up_over_kubectl));
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    let _ = writeln!(
        out,
        "goals (medians): overhead <= {:.0}%: {}; rerun <= {:.0}% of cold: {}; cold up <= {:.1}x the kubectl sequence: {}",
        OVERHEAD_GOAL * 100.0,
        verdict(overhead.median <= OVERHEAD_GOAL),
        RERUN_GOAL * 100.0,
        verdict(rerun.median <= RERUN_GOAL),
        BASELINE_GOAL,
        verdict(against_kubectl.median <= BASELINE_GOAL)
    );
    let skipped: Vec<String> =
        rounds.iter().map(|r| format!("{}/{}", r.codex.warm_skipped, r.codex.phases.len())).collect();
    let _ = writeln!(out, "phases skipped by the rerun, per run: {}", skipped.join(" "));
}

/// Where the cold up's time goes, phase by phase, against the floor.
fn breakdown(out: &mut String, rounds: &[Round]) {
    let _ = writeln!(
        out,
        "where the cold up's time goes (medians, s; floor share = slowest unit's readyAt - phase startedAt):"
    );
    let _ = writeln!(
        out,
        "{:<11} {:<10} {:>10} {:>10} {:>12} {:>11} {:>13}",
        "phase", "slowest", "gap before", "seen ready", "floor share", "phase span", "kubectl units"
    );
    for row in phase_rows(rounds) {
        let _ = writeln!(
            out,
            "{:<11} {:<10} {:>10.2} {:>10.1} {:>12.2} {:>11.2} {:>13.2}",
            row.name,
            row.slowest,
            row.gap_before.median,
            row.seen_ready.median,
            row.floor_share.median,
            row.span.median,
            row.kubectl.median
        );
    }
    let finish = Summary::of(rounds.iter().map(|r| r.codex.finish));
    let setup = Summary::of(rounds.iter().map(|r| r.kubectl.setup));
    let _ =
        writeln!(out, "{:<22} {:>10.2}   (last phase readyAt -> process exit)", "after the last phase", finish.median);
    let _ =
        writeln!(out, "{:<22} {:>10.2}   (kubectl: create namespace + workspace PVC)", "kubectl setup", setup.median);
    let _ = writeln!(out, "gap before = previous phase readyAt (first phase: process start) -> phase startedAt");
    let _ = writeln!(out, "seen ready = up's stderr: phase's helm start -> last '✓ <unit> ready' (the gate looks when a watch reports a change; before helm's wait returns and hooks run)");
    let gaps = Summary::of(rounds.iter().map(|r| r.codex.phases.iter().map(|p| p.gap_before).sum::<f64>()));
    let beyond =
        Summary::of(rounds.iter().map(|r| r.codex.phases.iter().map(|p| p.span - p.slowest_unit).sum::<f64>()));
    let excess = Summary::of(rounds.iter().map(|r| r.codex.cold - r.codex.floor));
    let _ = writeln!(
        out,
        "cold up - floor = {:.2}s: gaps before phases {:.2}s + phase spans beyond their slowest unit {:.2}s + after the last phase {:.2}s (medians of each)",
        excess.median, gaps.median, beyond.median, finish.median
    );
}

/// What each measured command is, and which ran first in each round.
fn legend(out: &mut String, rounds: &[Round]) {
    let _ = writeln!(
        out,
        "cold up  = kubectl-codex up -f <copy, namespace bench-codex-<i>> --env {ENV} -o json (new namespace)"
    );
    let _ = writeln!(out, "rerun    = the same command again, nothing changed");
    let _ = writeln!(out, "kubectl  = kubectl create namespace + apply workspace PVC, then per unit in plan order:");
    let _ = writeln!(
        out,
        "           kubectl apply -f <its objects>; kubectl rollout status deployment|statefulset/<name>"
    );
    let _ =
        writeln!(out, "           or kubectl wait --for=condition=complete job/<name>  (namespace bench-kubectl-<i>)");
    let order: Vec<String> = rounds
        .iter()
        .map(|r| format!("{}:{}", r.run, if r.codex_first { "up first" } else { "kubectl first" }))
        .collect();
    let _ = writeln!(out, "order per run: {}", order.join(", "));
}

pub(super) fn report_json(rounds: &[Round]) -> Value {
    let summary: serde_json::Map<String, Value> = rows(rounds)
        .into_iter()
        .map(|(key, _, _, values)| {
            let s = Summary::of(values.iter().copied());
            (key.to_string(), json!({"median": round3(s.median), "min": round3(s.min)}))
        })
        .collect();
    let per_run: Vec<Value> = rounds
        .iter()
        .map(|r| {
            json!({
                "run": r.run,
                "order": if r.codex_first { "up first" } else { "kubectl first" },
                "coldUpS": round3(r.codex.cold),
                "floorS": round3(r.codex.floor),
                "overheadPct": round3(r.overhead() * 100.0),
                "rerunS": round3(r.codex.warm),
                "rerunPctOfCold": round3(r.warm_share() * 100.0),
                "rerunPhasesSkipped": r.codex.warm_skipped,
                "kubectlS": round3(r.kubectl.total),
                "upOverKubectl": round3(r.up_over_kubectl()),
                "phases": r.codex.phases.iter().map(|p| json!({
                    "name": p.name,
                    "gapBeforeS": round3(p.gap_before),
                    "slowestUnit": p.slowest_unit_name,
                    "floorShareS": round3(p.slowest_unit),
                    "spanS": round3(p.span),
                    "seenReadyS": p.seen_ready.map(round3),
                })).collect::<Vec<_>>(),
                "afterLastPhaseS": round3(r.codex.finish),
                "kubectlSetupS": round3(r.kubectl.setup),
                "kubectlUnits": r.kubectl.units.iter().map(|u| json!({"phase": u.phase, "unit": u.unit, "seconds": round3(u.seconds)})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let overhead = Summary::of(rounds.iter().map(Round::overhead));
    let rerun = Summary::of(rounds.iter().map(Round::warm_share));
    json!({
        "env": ENV,
        "runs": rounds.len(),
        "floorDefinition": "sum over phases of max over units of (unit.readyAt - phase.startedAt) from the cold run's evidence; unit.readyAt is when the gate first saw the workload ready, or when its readiness hooks passed",
        "goals": {
            "overheadMaxPct": OVERHEAD_GOAL * 100.0,
            "overheadMet": overhead.median <= OVERHEAD_GOAL,
            "rerunMaxPctOfCold": RERUN_GOAL * 100.0,
            "rerunMet": rerun.median <= RERUN_GOAL,
        },
        "summary": summary,
        "perRun": per_run,
    })
}
