//! Values YAML that Helm reads back as written.
//!
//! serde_yaml writes YAML 1.2, where `yes`, `on`, `y` and their kin are plain strings, so it
//! leaves them unquoted. Helm reads values with a YAML 1.1 parser, which turns those words into
//! booleans: an annotation `patched: "yes"` would reach the API server as `true` and be refused.
//! Such scalars are quoted here, keys and values alike; block scalars are left alone.

use serde_json::Value;

/// The YAML 1.1 booleans that YAML 1.2 reads as strings. (Strings that YAML 1.2 reads as
/// booleans, `true` or `False`, serde_yaml quotes itself; a plain `true` is a real boolean.)
const YAML_1_1_BOOLEANS: [&str; 16] =
    ["y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"];

/// `value` as YAML whose every string Helm reads as a string.
pub fn to_string(value: &Value) -> String {
    let yaml = serde_yaml::to_string(value).expect("values are plain data");
    quote_yaml_1_1_booleans(&yaml)
}

fn is_boolean_word(word: &str) -> bool {
    YAML_1_1_BOOLEANS.contains(&word)
}

fn quote_yaml_1_1_booleans(yaml: &str) -> String {
    let mut out = String::with_capacity(yaml.len() + 64);
    // Indentation of the line that opened a block scalar: deeper lines are its text.
    let mut block: Option<usize> = None;
    for line in yaml.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let indent = body.len() - body.trim_start().len();
        if let Some(opened_at) = block {
            if body.trim().is_empty() || indent > opened_at {
                out.push_str(line);
                continue;
            }
            block = None;
        }
        if opens_block_scalar(body) {
            block = Some(indent);
        }
        out.push_str(&quote_line(body, indent));
        if line.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// `key: |-`, `- >`, `key: |2+` and the like.
fn opens_block_scalar(body: &str) -> bool {
    let last = body.rsplit(' ').next().unwrap_or_default();
    let trimmed = body.trim_start();
    (body.contains(": ") || trimmed.starts_with("- ") || trimmed == last)
        && (last.starts_with('|') || last.starts_with('>'))
        && last.chars().skip(1).all(|c| matches!(c, '+' | '-' | '1'..='9'))
}

fn quote_line(body: &str, indent: usize) -> String {
    let mut prefix_len = indent;
    while body[prefix_len..].starts_with("- ") {
        prefix_len += 2;
    }
    let (prefix, rest) = body.split_at(prefix_len);
    if is_boolean_word(rest) {
        return format!("{prefix}'{rest}'");
    }
    let mut rest = rest.to_string();
    if let Some((key, _)) = rest.split_once(':') {
        let after = &rest[key.len()..];
        if is_boolean_word(key) && (after == ":" || after.starts_with(": ")) {
            rest = format!("'{key}'{after}");
        }
    }
    if let Some(word) = rest.rsplit_once(": ").map(|(_, w)| w) {
        if is_boolean_word(word) {
            let keep = rest.len() - word.len();
            rest = format!("{}'{word}'", &rest[..keep]);
        }
    }
    format!("{prefix}{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_1_1_booleans_come_back_as_strings() {
        let value = json!({
            "annotations": {"patched": "yes", "y": "on", "plain": "say yes", "quoted": "x: yes"},
            "list": ["off", "N", "No way", {"no": "Y"}],
            "flag": true,
            "script": "line one\n- yes\nno: yes\n",
        });
        let yaml = to_string(&value);
        assert!(yaml.contains("patched: 'yes'\n"), "{yaml}");
        assert!(yaml.contains("'y': 'on'\n"), "{yaml}");
        assert!(yaml.contains("plain: say yes\n"), "{yaml}");
        assert!(yaml.contains("- 'off'\n") && yaml.contains("- 'N'\n") && yaml.contains("- 'no': 'Y'\n"), "{yaml}");
        assert!(yaml.contains("flag: true\n"), "a real boolean stays one:\n{yaml}");
        assert!(yaml.contains("  - yes\n  no: yes\n"), "block scalar text is untouched:\n{yaml}");
        // What a YAML 1.2 reader sees is unchanged.
        let back: Value = serde_yaml::from_str(&yaml).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn block_scalars_are_recognised() {
        assert!(opens_block_scalar("  script: |-"));
        assert!(opens_block_scalar("- |"));
        assert!(opens_block_scalar("  key: >2+"));
        assert!(!opens_block_scalar("  key: a|b"));
        assert!(!opens_block_scalar("  key: '|'"));
    }
}
