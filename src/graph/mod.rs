//! `kubectl codex graph`: the plan's units as a graph, clustered by phase, with their
//! dependsOn edges. Pure text renderers (Graphviz DOT and Mermaid) of a [`Plan`]; the
//! command turns DOT into SVG with the real `dot` when asked.
//!
//! An edge points from a dependency to the unit that waits for it, so arrows follow the
//! deploy order. A dependency the plan does not hold (a unit of another stack) is not drawn.

use crate::config::model::WorkloadKind;
use crate::plan::{Plan, PlannedUnit};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Every `(dependency, dependent)` pair of the plan whose two ends are units of it, in plan
/// order (dependents by phase and wave order, their dependencies sorted).
pub fn edges(plan: &Plan) -> Vec<(&str, &str)> {
    let known: std::collections::BTreeSet<&str> =
        plan.phases.iter().flat_map(|p| &p.units).map(|u| u.name.as_str()).collect();
    plan.phases
        .iter()
        .flat_map(|p| &p.units)
        .flat_map(|u| {
            u.depends_on.iter().filter(|d| known.contains(d.as_str())).map(move |d| (d.as_str(), u.name.as_str()))
        })
        .collect()
}

fn kind(unit: &PlannedUnit) -> &'static str {
    unit.kind.map_or("manifests", WorkloadKind::as_str)
}

/// A DOT double-quoted string: `"` and `\` escaped, newlines as DOT's `\n`.
fn dot_quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Graphviz DOT: one `subgraph cluster_<phase>` per phase, a node per unit labelled with its
/// kind and wave.
pub fn dot(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", dot_quoted(&format!("{} {}", plan.project, plan.env)));
    out.push_str("  rankdir=LR;\n");
    out.push_str("  fontname=\"DejaVu Sans\";\n");
    out.push_str("  node [shape=box, style=\"rounded,filled\", fillcolor=\"#e3f2fd\", fontname=\"DejaVu Sans\"];\n");
    out.push_str("  edge [color=\"#546e7a\"];\n");
    for phase in &plan.phases {
        let _ = writeln!(out, "  subgraph cluster_{} {{", phase.name.as_str());
        let _ = writeln!(
            out,
            "    label={};",
            dot_quoted(&format!("{}. {} ({})", phase.number, phase.name, phase.release))
        );
        out.push_str("    style=\"rounded\";\n    color=\"#90a4ae\";\n");
        for unit in &phase.units {
            let label = format!("{}\n{} · wave {}", unit.name, kind(unit), unit.wave);
            let _ = writeln!(out, "    {} [label={}];", dot_quoted(&unit.name), dot_quoted(&label));
        }
        out.push_str("  }\n");
    }
    for (from, to) in edges(plan) {
        let _ = writeln!(out, "  {} -> {};", dot_quoted(from), dot_quoted(to));
    }
    out.push_str("}\n");
    out
}

/// Mermaid label text: quotes and the characters Mermaid reads as markup as entities.
fn mermaid_text(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A Mermaid flowchart: a `subgraph` per phase, node ids by position (`u0`, `u1`, …) because
/// unit names may hold characters Mermaid ids cannot.
pub fn mermaid(plan: &Plan) -> String {
    let mut ids: BTreeMap<&str, String> = BTreeMap::new();
    let mut out = String::from("flowchart LR\n");
    for phase in &plan.phases {
        let _ = writeln!(
            out,
            "  subgraph phase_{}[\"{}\"]",
            phase.name.as_str(),
            mermaid_text(&format!("{}. {} ({})", phase.number, phase.name, phase.release))
        );
        for unit in &phase.units {
            let id = format!("u{}", ids.len());
            let label = format!("{}<br/>{} · wave {}", mermaid_text(&unit.name), kind(unit), unit.wave);
            let _ = writeln!(out, "    {id}[\"{label}\"]");
            ids.insert(unit.name.as_str(), id);
        }
        out.push_str("  end\n");
    }
    for (from, to) in edges(plan) {
        if let (Some(from), Some(to)) = (ids.get(from), ids.get(to)) {
            let _ = writeln!(out, "  {from} --> {to}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{CodeUpdateStrategy, Runtime};
    use crate::config::phase::Phase;
    use crate::plan::PlannedPhase;

    fn unit(name: &str, kind: Option<WorkloadKind>, wave: usize, depends_on: &[&str]) -> PlannedUnit {
        PlannedUnit {
            name: name.into(),
            kind,
            image: None,
            depends_on: depends_on.iter().map(|d| d.to_string()).collect(),
            wave,
            objects: Vec::new(),
            readiness: Vec::new(),
            workspace: None,
            code_update_strategy: CodeUpdateStrategy::Rebuild,
        }
    }

    fn plan() -> Plan {
        Plan {
            project: "shop".into(),
            env: "prod".into(),
            slot: String::new(),
            issue: String::new(),
            runtime: Runtime::Prod,
            namespace: "codex-shop-prod".into(),
            idle_ttl: "8h".into(),
            input_digest: String::new(),
            mirrors: Vec::new(),
            inputs: Default::default(),
            secrets: Vec::new(),
            isolation: Default::default(),
            phases: vec![
                PlannedPhase {
                    name: Phase::Stateful,
                    number: 1,
                    release: "codex-stateful".into(),
                    units: vec![
                        unit("postgres", Some(WorkloadKind::StatefulSet), 0, &[]),
                        unit("cache \"hot\"", None, 1, &["postgres"]),
                    ],
                },
                PlannedPhase {
                    name: Phase::Internal,
                    number: 3,
                    release: "codex-internal".into(),
                    units: vec![unit("api", Some(WorkloadKind::Deployment), 0, &["postgres", "elsewhere"])],
                },
            ],
        }
    }

    #[test]
    fn mermaid_has_a_subgraph_per_phase_and_every_edge() {
        let text = mermaid(&plan());
        assert!(text.starts_with("flowchart LR\n"));
        assert!(text.contains("  subgraph phase_stateful[\"1. stateful (codex-stateful)\"]\n"), "{text}");
        assert!(text.contains("  subgraph phase_internal[\"3. internal (codex-internal)\"]\n"), "{text}");
        assert!(text.contains("    u0[\"postgres<br/>StatefulSet · wave 0\"]\n"), "{text}");
        assert!(text.contains("    u1[\"cache #quot;hot#quot;<br/>manifests · wave 1\"]\n"), "{text}");
        assert!(text.contains("  u0 --> u1\n") && text.contains("  u0 --> u2\n"), "{text}");
        // The dependency outside the plan has no node, so no edge either.
        assert_eq!(text.matches("-->").count(), 2, "{text}");
        assert_eq!(text.matches("  end\n").count(), 2);
    }

    #[test]
    fn dot_clusters_by_phase_and_escapes_names() {
        let text = dot(&plan());
        assert!(text.contains("  subgraph cluster_stateful {\n"), "{text}");
        assert!(text.contains("  subgraph cluster_internal {\n"), "{text}");
        assert!(text.contains(r#"    "cache \"hot\"" [label="cache \"hot\"\nmanifests · wave 1"];"#), "{text}");
        assert!(text.contains("  \"postgres\" -> \"api\";\n"), "{text}");
        assert!(!text.contains("elsewhere"), "{text}");
        assert_eq!(text, dot(&plan()), "deterministic");
    }
}
