//! The generated services.yaml as a tree, and its block-style YAML text.

use std::fmt::Write as _;

/// A YAML node whose mappings keep insertion order, so the file reads like a hand-written one.
pub(super) enum Node {
    Map(Vec<(String, Node)>),
    Seq(Vec<Node>),
    Str(String),
    Int(i64),
    Bool(bool),
}

impl From<&str> for Node {
    fn from(s: &str) -> Node {
        Node::Str(s.to_string())
    }
}
impl From<String> for Node {
    fn from(s: String) -> Node {
        Node::Str(s)
    }
}
impl From<i64> for Node {
    fn from(n: i64) -> Node {
        Node::Int(n)
    }
}
impl From<bool> for Node {
    fn from(b: bool) -> Node {
        Node::Bool(b)
    }
}

pub(super) fn map<const N: usize>(entries: [(&str, Node); N]) -> Node {
    Node::Map(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

pub(super) fn seq<T: Into<Node>>(items: impl IntoIterator<Item = T>) -> Node {
    Node::Seq(items.into_iter().map(Into::into).collect())
}

impl Node {
    pub(super) fn push(&mut self, key: &str, value: impl Into<Node>) {
        if let Node::Map(entries) = self {
            entries.push((key.to_string(), value.into()));
        }
    }
}

/// Calls `visit` with every unit that has a typed `workload` (manifest-only units have none),
/// across `infrastructure` and `services` in file order: the unit's other fields and its
/// workload's fields.
pub(super) fn each_typed_unit(
    entries: &mut [(String, Node)],
    mut visit: impl FnMut(&mut Vec<(String, Node)>, &mut Vec<(String, Node)>),
) {
    for (key, value) in entries.iter_mut() {
        let (true, Node::Seq(units)) = (key == "infrastructure" || key == "services", value) else { continue };
        for unit in units.iter_mut() {
            let Node::Map(fields) = unit else { continue };
            let Some(at) = fields.iter().position(|(k, v)| k == "workload" && matches!(v, Node::Map(_))) else {
                continue;
            };
            // Taken out for the visit, so that `visit` may also change the unit's other fields.
            let Node::Map(mut workload) = std::mem::replace(&mut fields[at].1, Node::Map(Vec::new())) else {
                unreachable!("matched as a map above")
            };
            visit(fields, &mut workload);
            let slot = fields.iter_mut().find(|(k, _)| k == "workload").expect("the visit keeps the workload key");
            slot.1 = Node::Map(workload);
        }
    }
}

/// Block-style YAML. Strings are plain when that cannot change their meaning, otherwise
/// double-quoted (a JSON string is a valid YAML double-quoted scalar).
pub(super) fn emit(node: &Node, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match node {
        Node::Map(entries) => {
            for (key, value) in entries {
                match value {
                    Node::Map(inner) if !inner.is_empty() => {
                        let _ = writeln!(out, "{pad}{key}:");
                        emit(value, indent + 2, out);
                    }
                    Node::Seq(items) if !items.is_empty() => {
                        let _ = writeln!(out, "{pad}{key}:");
                        emit(value, indent + 2, out);
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}{key}: {}", scalar(value));
                    }
                }
            }
        }
        Node::Seq(items) => {
            for item in items {
                match item {
                    Node::Map(inner) if !inner.is_empty() => {
                        // The first entry shares the line of the dash: "- name: x".
                        let mut block = String::new();
                        emit(item, indent + 2, &mut block);
                        let _ = write!(out, "{pad}- {}", &block[indent + 2..]);
                    }
                    Node::Seq(inner) if !inner.is_empty() => {
                        let _ = writeln!(out, "{pad}-");
                        emit(item, indent + 2, out);
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}- {}", scalar(item));
                    }
                }
            }
        }
        scalar_node => {
            let _ = writeln!(out, "{pad}{}", scalar(scalar_node));
        }
    }
}

fn scalar(node: &Node) -> String {
    match node {
        Node::Map(_) => "{}".into(),
        Node::Seq(_) => "[]".into(),
        Node::Int(n) => n.to_string(),
        Node::Bool(b) => b.to_string(),
        Node::Str(s) => {
            let safe = !s.is_empty()
                && s.chars().all(|c| c.is_ascii_alphanumeric() || "/_.-".contains(c))
                && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '/')
                && !matches!(
                    s.as_str(),
                    "true" | "false" | "null" | "True" | "False" | "Null" | "TRUE" | "FALSE" | "NULL"
                );
            if safe {
                s.clone()
            } else {
                serde_json::to_string(s).expect("a string serialises")
            }
        }
    }
}
