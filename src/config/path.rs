//! Field paths as users read them: `services[3].dependsOn[0]`, `environments.dev.from`.

use serde_json::Value;

pub struct FieldPath;

impl FieldPath {
    /// The path of `key` inside the mapping at `parent`.
    pub fn key(parent: &str, key: &str) -> String {
        let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        match (parent.is_empty(), plain) {
            (true, true) => key.to_string(),
            (false, true) => format!("{parent}.{key}"),
            (_, false) => format!("{parent}[{}]", serde_json::to_string(key).unwrap_or_default()),
        }
    }

    /// Whether `inner` names a field or item inside `outer` (not `outer` itself).
    pub fn is_within(inner: &str, outer: &str) -> bool {
        outer.is_empty() && !inner.is_empty()
            || inner.strip_prefix(outer).is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
    }

    /// The path of item `index` of the sequence at `parent`.
    pub fn index(parent: &str, index: usize) -> String {
        format!("{parent}[{index}]")
    }

    /// The enclosing path, or None for the document root.
    pub fn parent_of(path: &str) -> Option<String> {
        if path.is_empty() {
            return None;
        }
        if path.ends_with(']') {
            // `[` inside a quoted key is escaped by JSON quoting only when it is the last
            // segment's opening bracket; search for the bracket that opens the last segment.
            let open = last_segment_open(path)?;
            return Some(path[..open].to_string());
        }
        match path.rfind('.') {
            Some(dot) if !path[dot..].contains(']') => Some(path[..dot].to_string()),
            _ => Some(String::new()),
        }
    }

    /// Converts a JSON pointer (as reported by JSON Schema validation) into a field path,
    /// using the value to tell array indices from object keys that look like numbers.
    pub fn from_pointer(pointer: &str, root: &Value) -> String {
        let mut path = String::new();
        let mut current = Some(root);
        for raw in pointer.split('/').skip(1) {
            let segment = raw.replace("~1", "/").replace("~0", "~");
            match current {
                Some(Value::Array(items)) => {
                    let index: usize = segment.parse().unwrap_or(0);
                    path = Self::index(&path, index);
                    current = items.get(index);
                }
                Some(Value::Object(map)) => {
                    path = Self::key(&path, &segment);
                    current = map.get(&segment);
                }
                _ => {
                    path = Self::key(&path, &segment);
                    current = None;
                }
            }
        }
        path
    }
}

fn last_segment_open(path: &str) -> Option<usize> {
    let bytes = path.as_bytes();
    if path.ends_with("\"]") {
        // Quoted key: find the `["` that starts it, skipping escaped quotes.
        let mut i = bytes.len() - 2;
        while i > 0 {
            i -= 1;
            if bytes[i] == b'"' && (i == 0 || bytes[i - 1] != b'\\') {
                return if i > 0 && bytes[i - 1] == b'[' { Some(i - 1) } else { None };
            }
        }
        None
    } else {
        path.rfind('[')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_splits_paths() {
        let p = FieldPath::index(&FieldPath::key(&FieldPath::index("services", 3), "dependsOn"), 0);
        assert_eq!(p, "services[3].dependsOn[0]");
        assert_eq!(FieldPath::parent_of(&p).unwrap(), "services[3].dependsOn");
        assert_eq!(FieldPath::parent_of("services[3].dependsOn").unwrap(), "services[3]");
        assert_eq!(FieldPath::parent_of("services").unwrap(), "");
        let odd = FieldPath::key("env", "a.b");
        assert_eq!(odd, "env[\"a.b\"]");
        assert_eq!(FieldPath::parent_of(&odd).unwrap(), "env");
    }

    #[test]
    fn pointers_become_paths() {
        let v = serde_json::json!({"services": [{"env": {"0": 1}}]});
        assert_eq!(FieldPath::from_pointer("/services/0/env/0", &v), "services[0].env.0");
    }
}
