//! `components` and `use`: shared defaults of units.
//!
//! ```yaml
//! components:
//!   go-service: { codeUpdateStrategy: rebuild, workload: { kind: Deployment, resources: {…} } }
//! services:
//!   - { name: api, use: [go-service], phase: internal, workload: { image: api } }
//! ```
//!
//! A unit starts from the components of its `use` list, in that order (a later one wins over an
//! earlier one), and its own fields win over them all, with the deep merge of
//! [`merge::deep_merge`] (maps merge, lists and scalars replace, `null` removes). A component
//! may `use` other components in turn, merged the same way under its own fields; a cycle is an
//! error that names it whole. This runs on the raw document, after `imports` and before the
//! schema check, so the schema checks each unit as merged — and every component on its own, as
//! a partial unit — and environment overlays apply over the merged unit later.
//!
//! Each component is expanded once, and each unit costs one copy of what it uses: linear in the
//! size of the result, whatever the number of units.

use super::diagnostics::{excerpt, Diagnostics};
use super::merge::deep_merge;
use super::origin::{names, UNIT_SECTIONS};
use super::path::FieldPath;
use super::schema::closest;
use super::source::{SourceDocument, MAX_NODES};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Longest chain of components using each other.
pub const MAX_DEPTH: usize = 32;
/// Most nodes the merge may add to the document, all components and units together: without a
/// bound, a big component used by many units would be an alias bomb.
pub const MAX_ADDED_NODES: usize = MAX_NODES;

/// Merges the components every unit uses into it. The problems found (a `use` naming no
/// component, a cycle) are returned; the document is merged as far as it can be regardless.
pub fn apply(source: &mut SourceDocument) -> Diagnostics {
    let mut problems: Vec<(String, String)> = Vec::new();
    let mut budget = Budget { left: MAX_ADDED_NODES, exhausted: false };
    let expanded = match source.value.get("components") {
        Some(Value::Object(components)) => expand_all(components, &mut budget, &mut problems),
        _ => HashMap::new(),
    };
    let declared = || {
        let mut names: Vec<String> = expanded.keys().cloned().collect();
        names.sort();
        names
    };
    for section in UNIT_SECTIONS {
        let Some(Value::Array(units)) = source.value.get_mut(section) else { continue };
        for (i, unit) in units.iter_mut().enumerate() {
            let mut base: Option<Value> = None;
            for (j, name) in names(unit.get("use")).enumerate() {
                let path = || FieldPath::index(&FieldPath::key(&FieldPath::index(section, i), "use"), j);
                match expanded.get(name) {
                    Some((_, size)) if !budget.take(*size, path, &mut problems) => {}
                    Some((component, _)) => match &mut base {
                        None => base = Some(component.clone()),
                        Some(base) => deep_merge(base, component.clone()),
                    },
                    None => problems.push((path(), unknown(name, &declared()))),
                }
            }
            if let Some(mut base) = base {
                deep_merge(&mut base, std::mem::take(unit));
                *unit = base;
            }
        }
    }
    let mut errors = Diagnostics::default();
    for (path, message) in problems {
        errors.push(source.error_at(&path, message));
    }
    errors
}

/// What the merge may still add, in nodes.
struct Budget {
    left: usize,
    exhausted: bool,
}

impl Budget {
    /// Whether `size` more nodes fit; the first time they do not, that is a problem at `path`
    /// (once: everything after it is left unmerged).
    fn take(&mut self, size: usize, path: impl FnOnce() -> String, problems: &mut Vec<(String, String)>) -> bool {
        if self.exhausted {
            return false;
        }
        if size > self.left {
            self.exhausted = true;
            let message =
                format!("the components units use add up to more than {MAX_ADDED_NODES} nodes (a component bomb?)");
            problems.push((path(), message));
            return false;
        }
        self.left -= size;
        true
    }
}

/// Nodes of `value`, as the reader counts them.
fn nodes(value: &Value) -> usize {
    match value {
        Value::Object(map) => 1 + map.values().map(nodes).sum::<usize>(),
        Value::Array(items) => 1 + items.iter().map(nodes).sum::<usize>(),
        _ => 1,
    }
}

fn unknown(name: &str, declared: &[String]) -> String {
    let mut message = format!("no component named \"{}\"", excerpt(name));
    if let Some(near) = closest(name, declared) {
        message.push_str(&format!("; did you mean \"{near}\"?"));
    }
    if declared.is_empty() {
        message.push_str("; no components are declared (top-level \"components:\")");
    } else {
        message.push_str(&format!("; declared: {}", declared.join(", ")));
    }
    message
}

/// Every component with the components it uses merged under it, and without its `use`, with
/// its size in nodes. Each expansion is charged to `budget`.
fn expand_all(
    components: &Map<String, Value>,
    budget: &mut Budget,
    problems: &mut Vec<(String, String)>,
) -> HashMap<String, (Value, usize)> {
    let mut expander = Expander { components, done: HashMap::new(), budget, problems };
    for name in components.keys() {
        expander.expand(name, &mut Vec::new());
    }
    expander.done.into_iter().map(|(name, e)| (name, (e.value, e.size))).collect()
}

struct Expanded {
    value: Value,
    /// Nodes in `value`.
    size: usize,
    /// 1, plus the depth of the deepest component it uses.
    depth: usize,
}

struct Expander<'a, 'p> {
    components: &'a Map<String, Value>,
    done: HashMap<String, Expanded>,
    budget: &'p mut Budget,
    problems: &'p mut Vec<(String, String)>,
}

impl<'a> Expander<'a, '_> {
    /// Expands `name`; `stack` holds the components being expanded around it, outermost first.
    fn expand(&mut self, name: &'a str, stack: &mut Vec<&'a str>) {
        if self.done.contains_key(name) {
            return;
        }
        let components = self.components;
        let own = &components[name];
        stack.push(name);
        let mut merged = Value::Object(Map::new());
        let mut depth = 1;
        for (j, used) in names(own.get("use")).enumerate() {
            let path = || FieldPath::index(&FieldPath::key(&FieldPath::key("components", name), "use"), j);
            let Some((key, _)) = components.get_key_value(used) else {
                let mut declared: Vec<String> = components.keys().cloned().collect();
                declared.sort();
                self.problems.push((path(), unknown(used, &declared)));
                continue;
            };
            if stack.len() >= MAX_DEPTH {
                self.problems.push((path(), format!("components nest deeper than {MAX_DEPTH}")));
                continue;
            }
            if let Some(start) = stack.iter().position(|n| *n == used) {
                let chain: Vec<&str> = stack[start..].iter().copied().chain([used]).collect();
                self.problems.push((
                    path(),
                    format!(
                        "components cycle: {}; a component cannot use itself, even through others",
                        chain.join(" → ")
                    ),
                ));
                continue;
            }
            self.expand(key, stack);
            let Expanded { value: component, size, depth: below } = &self.done[used];
            if below + 1 > MAX_DEPTH {
                self.problems.push((path(), format!("components nest deeper than {MAX_DEPTH}")));
                continue;
            }
            depth = depth.max(below + 1);
            if self.budget.take(*size, path, self.problems) {
                deep_merge(&mut merged, component.clone());
            }
        }
        stack.pop();
        let mut own = own.clone();
        if let Value::Object(map) = &mut own {
            map.shift_remove("use");
        }
        deep_merge(&mut merged, own);
        let size = nodes(&merged);
        self.done.insert(name.to_string(), Expanded { value: merged, size, depth });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::source;
    use serde_json::json;

    fn applied(text: &str) -> (Value, Diagnostics) {
        let mut document = source::read("s.yaml", text.as_bytes()).unwrap();
        let errors = apply(&mut document);
        (document.value, errors)
    }

    #[test]
    fn a_unit_starts_from_its_components_in_order_and_its_own_fields_win() {
        let (value, errors) = applied(
            "components:
  base: { codeUpdateStrategy: restart, workload: { kind: Deployment, env: { A: base, B: base }, args: [x] } }
  go: { codeUpdateStrategy: rebuild, workload: { env: { B: go, C: go } } }
services:
  - name: api
    use: [base, go]
    workload: { image: api, env: { C: own }, args: [y, z] }
  - { name: plain, workload: { kind: Job, image: x } }
",
        );
        assert!(errors.is_empty(), "{errors}");
        assert_eq!(
            value["services"][0],
            json!({
                "codeUpdateStrategy": "rebuild",
                "workload": { "kind": "Deployment", "env": { "A": "base", "B": "go", "C": "own" }, "args": ["y", "z"], "image": "api" },
                "name": "api",
                "use": ["base", "go"],
            })
        );
        assert_eq!(value["services"][1], json!({ "name": "plain", "workload": { "kind": "Job", "image": "x" } }));
    }

    #[test]
    fn null_in_a_unit_removes_what_a_component_set() {
        let (value, errors) = applied(
            "components:
  web: { ingress: { host: a }, workload: { probes: { readiness: { http: { path: /, port: 80 } } } } }
infrastructure:
  - { name: db, use: [web], ingress: null, workload: { probes: { readiness: { http: null, tcp: { port: 5 } } } } }
",
        );
        assert!(errors.is_empty(), "{errors}");
        assert_eq!(value["infrastructure"][0]["ingress"], Value::Null);
        assert!(value["infrastructure"][0].get("ingress").is_none());
        assert_eq!(value["infrastructure"][0]["workload"]["probes"]["readiness"], json!({ "tcp": { "port": 5 } }));
    }

    #[test]
    fn components_may_use_components_under_their_own_fields() {
        let (value, errors) = applied(
            "components:
  a: { description: a, dependsOn: [x], workload: { env: { A: a } } }
  b: { use: [a], description: b, workload: { env: { B: b } } }
  c: { use: [b], workload: { env: { A: c } } }
services:
  - { name: s, use: [c] }
",
        );
        assert!(errors.is_empty(), "{errors}");
        assert_eq!(
            value["services"][0],
            json!({ "description": "b", "dependsOn": ["x"], "workload": { "env": { "A": "c", "B": "b" } }, "name": "s", "use": ["c"] })
        );
    }

    #[test]
    fn an_unknown_component_lists_the_declared_ones_at_the_use_entry() {
        let (_, errors) = applied(
            "components:
  web: {}
  worker: {}
services:
  - name: s
    use: [web, wbe]
",
        );
        assert_eq!(errors.len(), 1, "{errors}");
        let error = &errors.0[0];
        assert_eq!((error.line, error.column, error.path.as_str()), (6, 16, "services[0].use[1]"));
        assert!(
            error.message.contains("no component named \"wbe\"; did you mean \"web\"?; declared: web, worker"),
            "{error}"
        );
        let (_, errors) = applied("services:\n  - { name: s, use: [web] }\n");
        assert!(errors.0[0].message.contains("no components are declared"), "{errors}");
    }

    #[test]
    fn a_cycle_is_reported_once_with_its_whole_chain() {
        let (_, errors) = applied(
            "components:
  a: { use: [b] }
  b: { use: [c] }
  c: { use: [a], description: c }
  d: { use: [d] }
services:
  - { name: s, use: [a] }
",
        );
        let messages: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 2, "{errors}");
        assert!(
            messages[0].starts_with("s.yaml:4:14: components.c.use[0]: components cycle: a → b → c → a"),
            "{errors}"
        );
        assert!(messages[1].starts_with("s.yaml:5:14: components.d.use[0]: components cycle: d → d"), "{errors}");
    }

    #[test]
    fn a_component_bomb_and_a_deep_chain_are_refused() {
        // One component of 10 001 nodes used 60 times by each of 1000 units would add 600M.
        let env: String = (0..10_000).map(|i| format!("K{i}: v\n      ")).collect();
        let units: String = (0..1000).map(|i| format!("  - {{ name: u{i}, use: [big, big, big] }}\n")).collect();
        let text = format!("components:\n  big:\n    workload:\n      env:\n      {env}\nservices:\n{units}");
        let text = text.replace("env:\n      K", "env:\n        K").replace("\n      K", "\n        K");
        let (_, errors) = applied(&text);
        assert_eq!(errors.len(), 1, "{errors}");
        assert!(errors.0[0].message.contains("component bomb"), "{errors}");
        let chain: String = (1..40).map(|i| format!("  c{i}: {{ use: [c{}] }}\n", i - 1)).collect();
        let (_, errors) =
            applied(&format!("components:\n  c0: {{}}\n{chain}services:\n  - {{ name: s, use: [c39] }}\n"));
        assert_eq!(errors.len(), 1, "{errors}");
        assert!(errors.0[0].to_string().contains("components.c32.use[0]: components nest deeper than 32"), "{errors}");
        // Written the other way round, the recursion stops at the same depth.
        let chain: String = (1..40).rev().map(|i| format!("  c{i}: {{ use: [c{}] }}\n", i - 1)).collect();
        let (_, errors) =
            applied(&format!("components:\n{chain}  c0: {{}}\nservices:\n  - {{ name: s, use: [c39] }}\n"));
        assert_eq!(errors.len(), 1, "{errors}");
        assert!(errors.0[0].message.contains("components nest deeper than 32"), "{errors}");
    }

    #[test]
    fn errors_in_merged_units_point_where_the_field_was_written() {
        let document = {
            let mut document = source::read(
                "s.yaml",
                b"components:
  base:
    workload:
      env: { A: from-base }
  go:
    use: [base]
    workload: { kind: Deployment }
services:
  - name: s
    use: [go]
    workload: { image: x }
",
            )
            .unwrap();
            assert!(apply(&mut document).is_empty());
            document
        };
        let at = |path: &str| {
            let d = document.error_at(path, "x");
            (d.line, d.column)
        };
        assert_eq!(at("services[0].workload.env.A"), (4, 17), "from base, through go");
        assert_eq!(at("services[0].workload.kind"), (7, 23), "from go");
        assert_eq!(at("services[0].workload.image"), (11, 24), "the unit's own");
        assert_eq!(at("services[0].workload"), (11, 15), "the unit's own mapping wins");
        assert_eq!(at("services[0].workload.env.B"), (4, 12), "missing: the closest written ancestor");
        assert_eq!(at("services[0].use[0]"), (10, 11));
        assert!(document.contains("services[0].workload.env.A"));
        assert!(!document.contains("services[0].workload.env.B"));
        let key = document.error_at_key("services[0].workload.kind", "x");
        assert_eq!((key.line, key.column), (7, 17));
    }
}
