//! Where a field of a merged document was written: which file, at which path of that file.
//!
//! `imports` and `components` build one document out of several parts, yet an error must
//! name the line and column the user wrote. Nothing is recorded while merging: the success
//! path pays nothing. When an error needs a position, the owner of a path is found from the
//! parts themselves, which are all still at hand — every file's text (its [`SourceMap`]) and,
//! in the merged value, each unit's `use` list and the `components` section.
//!
//! Why the first part that holds a path owns it: parts are merged lowest first, a higher one
//! replacing a lower one everywhere except where both hold a mapping. A path that exists in
//! the merged document therefore holds the value of the highest part that has this exact path
//! (field paths tell list items, `a[0]`, from mapping keys, `a.0`, so a list that replaced a
//! mapping cannot be mistaken for it). A path that does not exist (an error about a missing
//! field is reported at its parent) falls back to its closest ancestor, as in one file.

use super::path::FieldPath;
use super::source::{SourceDocument, SourceMap};
use serde_json::Value;
use std::collections::HashSet;

/// The sections whose entries are units that may `use` components.
pub const UNIT_SECTIONS: [&str; 2] = ["infrastructure", "services"];

/// The files a document was merged from, highest priority first: the main services.yaml, then
/// what it imports, the last import first (it won over the ones before it), each followed by
/// what it imports in turn.
#[derive(Debug, Default)]
pub struct Origins {
    pub files: Vec<OriginFile>,
}

#[derive(Debug)]
pub struct OriginFile {
    /// The file as messages name it.
    pub name: String,
    pub map: SourceMap,
}

/// A path of a merged document, located in the part that wrote it.
pub struct Located<'a> {
    pub file: &'a str,
    pub map: &'a SourceMap,
    /// The path in that file, e.g. `components.web.workload.env.A` for `services[3].workload.env.A`.
    pub path: String,
}

/// Where `path` of `document` was written; `exact`: only a part that has this very path.
/// A path the merged document does not have (a missing field, or one a higher part replaced
/// or removed) is located at its closest ancestor that it has, unless `exact`.
pub fn locate<'a>(document: &'a SourceDocument, path: &str, exact: bool) -> Option<Located<'a>> {
    let present = present_part(&document.value, path);
    if exact && present.len() != path.len() {
        return None;
    }
    let path = present;
    let files: Vec<(&str, &SourceMap)> = match &document.origins {
        Some(origins) => origins.files.iter().map(|f| (f.name.as_str(), &f.map)).collect(),
        None => vec![(document.file.as_str(), &document.map)],
    };
    let holding = |candidate: &str| {
        files.iter().find(|(_, map)| map.contains(candidate)).map(|(file, map)| Located {
            file,
            map,
            path: candidate.to_string(),
        })
    };
    let (unit, bases) = match unit_of(path) {
        Some(unit) => {
            let bases = unit_parts(&document.value, unit);
            (unit, bases)
        }
        None => ("", Vec::new()),
    };
    let mut current = Some(path.to_string());
    while let Some(candidate) = current {
        let found = if !unit.is_empty() && candidate.len() >= unit.len() {
            let rest = &candidate[unit.len()..];
            bases.iter().find_map(|base| holding(&format!("{base}{rest}")))
        } else {
            holding(&candidate)
        };
        if found.is_some() || exact {
            return found;
        }
        current = FieldPath::parent_of(&candidate);
    }
    None
}

/// The longest leading part of `path` that `value` has.
fn present_part<'p>(value: &Value, path: &'p str) -> &'p str {
    let mut current = value;
    let mut end = 0;
    let bytes = path.as_bytes();
    while end < path.len() {
        let (next, after) = match bytes[end] {
            b'[' if bytes.get(end + 1) == Some(&b'"') => {
                // A quoted key: a JSON string, then `]`.
                let mut stream = serde_json::Deserializer::from_str(&path[end + 1..]).into_iter::<String>();
                let Some(Ok(key)) = stream.next() else { break };
                let close = end + 1 + stream.byte_offset();
                if bytes.get(close) != Some(&b']') {
                    break;
                }
                (current.get(key.as_str()), close + 1)
            }
            b'[' => {
                let Some(close) = path[end..].find(']').map(|i| end + i) else { break };
                let Ok(index) = path[end + 1..close].parse::<usize>() else { break };
                (current.as_array().and_then(|items| items.get(index)), close + 1)
            }
            _ => {
                let start = if bytes[end] == b'.' { end + 1 } else { end };
                let stop = path[start..].find(['.', '[']).map_or(path.len(), |i| start + i);
                (current.as_object().and_then(|map| map.get(&path[start..stop])), stop)
            }
        };
        match next {
            Some(value) => {
                current = value;
                end = after;
            }
            None => break,
        }
    }
    &path[..end]
}

/// `services[3]` of `services[3].workload.env.A`, when the path is inside a unit.
fn unit_of(path: &str) -> Option<&str> {
    UNIT_SECTIONS.iter().find_map(|section| {
        let rest = path.strip_prefix(section)?.strip_prefix('[')?;
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        (digits > 0 && rest[digits..].starts_with(']')).then(|| &path[..section.len() + digits + 2])
    })
}

/// Where the fields of the unit at `unit` may come from, highest priority first: the unit, then
/// its components, the last one of `use` first, each followed by the components it uses.
fn unit_parts(value: &Value, unit: &str) -> Vec<String> {
    let mut parts = vec![unit.to_string()];
    let pointer = unit.replace('[', "/").replace(']', "");
    let uses = value.pointer(&format!("/{pointer}/use"));
    let components = value.get("components");
    let mut seen = HashSet::new();
    for name in names(uses).rev() {
        component_parts(components, name, &mut seen, &mut parts);
    }
    parts
}

fn component_parts<'v>(
    components: Option<&'v Value>,
    name: &'v str,
    seen: &mut HashSet<&'v str>,
    out: &mut Vec<String>,
) {
    let Some(component) = components.and_then(|c| c.get(name)) else { return };
    if !seen.insert(name) {
        return; // a cycle (reported when merging) or a component used twice: its first place wins
    }
    out.push(FieldPath::key("components", name));
    for used in names(component.get("use")).rev() {
        component_parts(components, used, seen, out);
    }
}

/// The strings of a `use` list (anything else is the schema's to report).
pub fn names(uses: Option<&Value>) -> impl DoubleEndedIterator<Item = &str> {
    uses.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::{present_part, unit_of};

    #[test]
    fn the_present_part_of_a_path_follows_keys_indices_and_quoted_keys() {
        let value = serde_json::json!({"a": {"b.c": [1, {"d": 2}], "e": {"x": 1}}});
        assert_eq!(present_part(&value, "a[\"b.c\"][1].d"), "a[\"b.c\"][1].d");
        assert_eq!(present_part(&value, "a[\"b.c\"][2].d"), "a[\"b.c\"]");
        assert_eq!(present_part(&value, "a.e.y"), "a.e");
        assert_eq!(present_part(&value, "a.e[0]"), "a.e");
        assert_eq!(present_part(&value, "q"), "");
        assert_eq!(present_part(&value, ""), "");
    }

    #[test]
    fn unit_paths_are_recognised() {
        assert_eq!(unit_of("services[3].workload.env.A"), Some("services[3]"));
        assert_eq!(unit_of("infrastructure[12]"), Some("infrastructure[12]"));
        assert_eq!(unit_of("services"), None);
        assert_eq!(unit_of("services[x]"), None);
        assert_eq!(unit_of("servicesX[1]"), None);
        assert_eq!(unit_of("components.web"), None);
    }
}
