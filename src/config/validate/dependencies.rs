//! `dependsOn`: references, phase order and cycles, for the base lists and for every
//! environment whose overlays replace one.

use super::{unknown, UnitRef};
use crate::config::diagnostics::{excerpt, Diagnostics};
use crate::config::model::Document;
use crate::config::path::FieldPath;
use crate::config::phase::Phase;
use crate::config::source::SourceDocument;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One unit's `dependsOn` as one environment sees it: the base list, or the list an
/// overlay in the environment's `from` chain replaced it with (merge patch replaces arrays).
struct DependencyList<'a> {
    name: &'a str,
    phase: Option<Phase>,
    depends_on: Vec<&'a str>,
    /// Field path of the list: `services[0].dependsOn` or `services[0].overlays.dev.dependsOn`.
    path: String,
}

fn base_dependency_lists<'a>(units: &'a [UnitRef<'a>]) -> Vec<DependencyList<'a>> {
    units
        .iter()
        .map(|entry| DependencyList {
            name: &entry.unit.name,
            phase: entry.phase,
            depends_on: entry.unit.depends_on.iter().map(String::as_str).collect(),
            path: FieldPath::key(&entry.path, "dependsOn"),
        })
        .collect()
}

/// References, phase order and cycles of `dependsOn`: first of the base lists, then, for
/// every environment whose overlays replace a list, of the lists that environment deploys
/// with. An overlay cannot smuggle in a cycle or a dependency on a later phase.
pub(super) fn check_dependencies(
    document: &Document,
    units: &[UnitRef<'_>],
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    let base = base_dependency_lists(units);
    let mut reported: BTreeSet<(String, String)> = BTreeSet::new();
    let mut report = |found: Diagnostics, errors: &mut Diagnostics| {
        for diagnostic in found.0 {
            if reported.insert((diagnostic.path.clone(), diagnostic.message.clone())) {
                errors.push(diagnostic);
            }
        }
    };
    report(dependency_problems(&base, source), errors);
    for env in document.environments.keys() {
        let chain = environment_chain(document, env);
        let mut lists = base_dependency_lists(units);
        let mut replaced = false;
        for (list, entry) in lists.iter_mut().zip(units) {
            for link in &chain {
                let Some(value) = entry.unit.overlays.get(link).and_then(|o| o.get("dependsOn")) else { continue };
                // Anything but a list of strings is a structural error reported by the schema check.
                let names: Option<Vec<&str>> = match value {
                    serde_json::Value::Null => Some(Vec::new()),
                    serde_json::Value::Array(items) => items.iter().map(serde_json::Value::as_str).collect(),
                    _ => None,
                };
                if let Some(names) = names {
                    list.depends_on = names;
                    list.path =
                        FieldPath::key(&FieldPath::key(&FieldPath::key(&entry.path, "overlays"), link), "dependsOn");
                    replaced = true;
                }
            }
        }
        if replaced {
            report(dependency_problems(&lists, source), errors);
        }
    }
}

/// The environments whose overlays apply to `env`, root first (cycles and unknown names are
/// reported by [`check_environments`]; the walk just stops there).
fn environment_chain(document: &Document, env: &str) -> Vec<String> {
    let mut chain = vec![env.to_string()];
    let mut current = document.environments.get(env).and_then(|e| e.from.clone());
    while let Some(next) = current {
        if chain.contains(&next) || !document.environments.contains_key(&next) {
            break;
        }
        current = document.environments[&next].from.clone();
        chain.push(next);
    }
    chain.reverse();
    chain
}

fn dependency_problems(lists: &[DependencyList<'_>], source: &SourceDocument) -> Diagnostics {
    let mut errors = Diagnostics::default();
    let by_name: HashMap<&str, &DependencyList<'_>> = lists.iter().map(|l| (l.name, l)).collect();
    let names: Vec<String> = lists.iter().map(|l| l.name.to_string()).collect();
    for list in lists {
        let mut seen = BTreeSet::new();
        for (i, dependency) in list.depends_on.iter().enumerate() {
            let path = FieldPath::index(&list.path, i);
            if !seen.insert(dependency) {
                errors.push(source.error_at(&path, format!("\"{}\" is listed twice", excerpt(dependency))));
                continue;
            }
            if *dependency == list.name {
                errors.push(source.error_at(&path, "a unit cannot depend on itself"));
                continue;
            }
            let Some(target) = by_name.get(dependency) else {
                errors.push(source.error_at(&path, unknown("unit", dependency, &names)));
                continue;
            };
            if let (Some(own), Some(theirs)) = (list.phase, target.phase) {
                if theirs > own {
                    errors.push(source.error_at(
                        &path,
                        format!(
                            "\"{}\" is in phase {theirs}, which deploys after this unit's phase {own}; a unit may depend only on the same or an earlier phase",
                            dependency
                        ),
                    ));
                }
            }
        }
    }
    for cycle in find_cycles(lists) {
        let first = &lists[cycle[0]];
        let closing = lists[cycle[1 % cycle.len()]].name;
        let index = first.depends_on.iter().position(|d| *d == closing).unwrap_or(0);
        let path = FieldPath::index(&first.path, index);
        let mut names: Vec<&str> = cycle.iter().map(|i| lists[*i].name).collect();
        names.push(names[0]);
        errors.push(source.error_at(&path, format!("dependency cycle: {}", names.join(" -> "))));
    }
    errors
}

/// Cycles found by depth-first search, each reported once starting at its smallest unit
/// index. Every strongly connected group yields at least one cycle (enough to fix it);
/// not every elementary cycle of a group is listed.
/// Uses an iterative depth-first search (no recursion: depth is user-controlled).
fn find_cycles(units: &[DependencyList<'_>]) -> Vec<Vec<usize>> {
    let index: HashMap<&str, usize> = units.iter().enumerate().map(|(i, u)| (u.name, i)).collect();
    let edges: Vec<Vec<usize>> = units
        .iter()
        .enumerate()
        // Self-dependencies are reported on their own; they are not cycles worth a second line.
        .map(|(i, u)| u.depends_on.iter().filter_map(|d| index.get(d).copied()).filter(|t| *t != i).collect())
        .collect();
    // 0 = unvisited, 1 = on the stack, 2 = done
    let mut state = vec![0u8; units.len()];
    let mut cycles: BTreeMap<Vec<usize>, ()> = BTreeMap::new();
    for start in 0..units.len() {
        if state[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        state[start] = 1;
        while let Some((node, next_edge)) = stack.last_mut() {
            let node = *node;
            if let Some(&target) = edges[node].get(*next_edge) {
                *next_edge += 1;
                match state[target] {
                    0 => {
                        state[target] = 1;
                        stack.push((target, 0));
                    }
                    1 => {
                        let from = stack.iter().position(|(n, _)| *n == target).unwrap_or(0);
                        let mut cycle: Vec<usize> = stack[from..].iter().map(|(n, _)| *n).collect();
                        let smallest = cycle.iter().enumerate().min_by_key(|(_, n)| **n).map_or(0, |(i, _)| i);
                        cycle.rotate_left(smallest);
                        cycles.insert(cycle, ());
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
    cycles.into_keys().collect()
}
