//! Values YAML that Helm reads back as written, written in one pass.
//!
//! Helm reads values with a YAML 1.1 parser (go-yaml v2 through sigs.k8s.io/yaml). There,
//! `yes`, `on`, `y` and their kin are booleans, `0755` is octal and `2026-01-01` may be a
//! date, while a YAML 1.2 writer such as serde_yaml leaves them plain: an annotation
//! `patched: "yes"` would reach the API server as `true` and be refused. So a string is
//! written plain only when it is a word no YAML version reads as anything but a string, a
//! multi-line string as a literal block, and everything else double-quoted with the escapes
//! both YAML versions share.
//!
//! Writing the values of a large stack was most of `render`'s time with serde_yaml's emitter
//! and the quoting pass it then needed; this writer does both at once over the JSON tree.

use serde_json::{Map, Value};
use std::fmt::Write;

/// Indentation of one nesting level.
const INDENT: usize = 2;

/// `value` as YAML whose every string Helm reads as a string.
pub fn to_string(value: &Value) -> String {
    let mut out = String::with_capacity(4096);
    match value {
        Value::Object(map) if !map.is_empty() => write_map(map, 0, &mut out),
        Value::Array(items) if !items.is_empty() => write_seq(items, 0, &mut out),
        scalar => {
            write_inline(scalar, INDENT, &mut out);
            out.push('\n');
        }
    }
    out
}

/// A mapping's entries, each on its own line at `indent`. The first line's indentation is
/// the caller's when it continues a sequence entry (`- key: value`).
fn write_map(map: &Map<String, Value>, indent: usize, out: &mut String) {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            pad(indent, out);
        }
        write_string(key, indent, true, out);
        out.push(':');
        write_entry_value(value, indent, out);
    }
}

fn write_seq(items: &[Value], indent: usize, out: &mut String) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            pad(indent, out);
        }
        out.push_str("- ");
        write_value(item, indent + INDENT, out);
    }
}

/// What follows `key:`: a nested block on the next lines, or a scalar on the same line.
fn write_entry_value(value: &Value, indent: usize, out: &mut String) {
    if is_block(value) {
        out.push('\n');
        pad(indent + INDENT, out);
    } else {
        out.push(' ');
    }
    write_value(value, indent + INDENT, out);
}

/// A non-empty map or sequence: written as a block of lines, not inline.
fn is_block(value: &Value) -> bool {
    match value {
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => false,
    }
}

/// `value` where its first line is begun, its block lines at `indent`; ends the last line.
fn write_value(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => write_map(map, indent, out),
        Value::Array(items) if !items.is_empty() => write_seq(items, indent, out),
        scalar => {
            write_inline(scalar, indent, out);
            out.push('\n');
        }
    }
}

/// A scalar or an empty collection; `indent` is where a literal block's lines go.
fn write_inline(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _infallible = write!(out, "{n}");
        }
        Value::String(s) => write_string(s, indent, false, out),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

fn write_string(s: &str, indent: usize, is_key: bool, out: &mut String) {
    if is_plain_word(s) {
        out.push_str(s);
    } else if !is_key && fits_literal_block(s) {
        write_literal_block(s, indent, out);
    } else {
        write_double_quoted(s, out);
    }
}

/// Words that every YAML version reads as strings: they start with a letter, hold only
/// letters, digits and `_ . / -`, and are none of the booleans or nulls of YAML 1.1 or 1.2.
/// Kubernetes names, label keys and image references mostly are.
fn is_plain_word(s: &str) -> bool {
    let mut bytes = s.bytes();
    let Some(first) = bytes.next() else { return false };
    first.is_ascii_alphabetic()
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-'))
        && !is_reserved_word(s)
}

fn is_reserved_word(s: &str) -> bool {
    s.len() <= 5
        && ["y", "n", "yes", "no", "on", "off", "true", "false", "null"].iter().any(|w| w.eq_ignore_ascii_case(s))
}

/// A multi-line string that a literal block holds exactly: no character that would need an
/// escape, no carriage return, and a first line that fixes the block's indentation (neither
/// empty nor starting with a space).
fn fits_literal_block(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\n'])
        && s.chars().all(|c| c == '\n' || c == '\t' || !needs_escape(c))
        && !s.trim_end_matches('\n').is_empty()
}

fn write_literal_block(s: &str, indent: usize, out: &mut String) {
    let body = s.trim_end_matches('\n');
    let chomp = match s.len() - body.len() {
        0 => "|-",
        1 => "|",
        _ => "|+",
    };
    out.push_str(chomp);
    // Each line of the text, indented; empty lines stay empty so no trailing spaces appear.
    let text = s.strip_suffix('\n').unwrap_or(s);
    for line in text.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            pad(indent, out);
            out.push_str(line);
        }
    }
}

/// Characters a double-quoted scalar must escape: `"` and `\`, control characters, and those
/// a YAML 1.1 reader takes for line breaks or rejects (NEL, the Unicode line and paragraph
/// separators, the byte order mark).
fn needs_escape(c: char) -> bool {
    matches!(c, '"' | '\\' | '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}')
}

fn write_double_quoted(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        if !needs_escape(c) {
            out.push(c);
            continue;
        }
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            other => {
                let _infallible = write!(out, "\\u{:04x}", other as u32);
            }
        }
    }
    out.push('"');
}

fn pad(indent: usize, out: &mut String) {
    out.extend(std::iter::repeat_n(' ', indent));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(value: &Value) -> String {
        let yaml = to_string(value);
        let back: Value = serde_yaml::from_str(&yaml).unwrap_or_else(|e| panic!("{e}:\n{yaml}"));
        assert_eq!(&back, value, "\n{yaml}");
        yaml
    }

    #[test]
    fn yaml_1_1_booleans_and_numbers_are_quoted() {
        let value = json!({
            "annotations": {"patched": "yes", "y": "on", "plain": "say yes", "quoted": "x: yes"},
            "list": ["off", "N", "No way", {"no": "Y"}],
            "flag": true,
            "mode": "0755",
            "date": "2026-01-01",
            "port": "8080",
            "empty": "",
        });
        let yaml = round_trip(&value);
        assert!(yaml.contains("patched: \"yes\"\n"), "{yaml}");
        assert!(yaml.contains("\"y\": \"on\"\n"), "{yaml}");
        assert!(
            yaml.contains("- \"off\"\n") && yaml.contains("- \"N\"\n") && yaml.contains("- \"no\": \"Y\"\n"),
            "{yaml}"
        );
        assert!(yaml.contains("flag: true\n"), "a real boolean stays one:\n{yaml}");
        for quoted in ["\"0755\"", "\"2026-01-01\"", "\"8080\"", "empty: \"\""] {
            assert!(yaml.contains(quoted), "{quoted} in\n{yaml}");
        }
    }

    #[test]
    fn names_stay_plain_and_nesting_is_block_style() {
        let value = json!({
            "global": {"labels": {"app.kubernetes.io/name": "greeter"}, "empty": {}, "none": []},
            "workloads": [{"name": "db", "ports": [{"port": 5432}]}, [1, [2, 3]], {}],
            "image": "registry.local/acme/web:prod",
        });
        let yaml = round_trip(&value);
        assert!(yaml.contains("  labels:\n    app.kubernetes.io/name: greeter\n"), "{yaml}");
        assert!(yaml.contains("  empty: {}\n  none: []\n"), "{yaml}");
        assert!(yaml.contains("workloads:\n  - name: db\n    ports:\n      - port: 5432\n  - - 1\n"), "{yaml}");
        assert!(yaml.contains("image: \"registry.local/acme/web:prod\"\n"), "a colon is quoted:\n{yaml}");
    }

    #[test]
    fn multi_line_text_is_a_literal_block_that_reads_back_exactly() {
        for text in ["one\n- yes\nno: yes\n", "no newline at end\nsecond", "kept\n\n\n", "a\n\nb\n", "tab\tinside\n"] {
            let value = json!({"data": {"script": text}, "list": [text]});
            let yaml = round_trip(&value);
            assert!(yaml.contains("script: |"), "{text:?}:\n{yaml}");
        }
        for text in [" leading space\nx", "\nleading newline", "cr\r\nlf", "\n\n"] {
            let yaml = round_trip(&json!({ "script": text }));
            assert!(yaml.contains("script: \""), "{text:?}:\n{yaml}");
        }
    }

    #[test]
    fn awkward_characters_are_escaped() {
        let value = json!({
            "quote": "say \"hi\" \\ bye",
            "controls": "bell\u{7}del\u{7f}nel\u{85}ls\u{2028}bom\u{feff}",
            "unicode": "grüße ✓",
            "key with: colon": "# not a comment",
            "top": null,
            "n": 1.5,
        });
        let yaml = round_trip(&value);
        assert!(yaml.contains("\\u0007") && yaml.contains("\\u0085") && yaml.contains("\\u2028"), "{yaml}");
        assert!(yaml.contains("unicode: \"grüße ✓\""), "{yaml}");
        assert!(yaml.contains("\"key with: colon\": \"# not a comment\""), "{yaml}");
        assert!(yaml.contains("top: null\n\"n\": 1.5\n"), "the YAML 1.1 boolean n is quoted as a key too:\n{yaml}");
    }

    #[test]
    fn scalars_and_empty_documents() {
        assert_eq!(to_string(&json!({})), "{}\n");
        assert_eq!(to_string(&json!([])), "[]\n");
        assert_eq!(to_string(&json!("x")), "x\n");
        round_trip(&json!([{"a": [{"b": {"c": ["d", {"e": "f\ng"}]}}]}]));
    }
}
