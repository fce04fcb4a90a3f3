//! Files that are no valid stack at all, or built to hurt a parser: syntax errors, non-UTF-8
//! and binary bytes, alias bombs, deep nesting, huge keys. Each is an error, never a panic.

use super::*;

#[test]
fn yaml_syntax_error() {
    assert_error(&edited("  name: demo", "  name: [demo"), 5, 13, "", "YAML syntax error");
}

#[test]
fn a_second_yaml_document() {
    assert_error(&format!("{MINIMAL}---\nkind: Other\n"), 36, 1, "", "one YAML document");
}

#[test]
fn collection_as_a_mapping_key() {
    assert_error("? [a, b]\n: c\n", 1, 3, "", "mapping keys must be plain strings");
}

#[test]
fn empty_file() {
    assert_error("", 1, 1, "", "the file is empty");
    assert_error("# only a comment\n", 1, 1, "", "the file is empty");
}

#[test]
fn non_utf8_bytes() {
    let mut bytes = b"apiVersion: x\nkind: \xff\xfe\n".to_vec();
    bytes.extend_from_slice(&[0x80; 10]);
    let found = problems(bytes);
    assert_eq!((found.0[0].line, found.0[0].column), (2, 7), "{found}");
    assert!(found.0[0].message.contains("not valid UTF-8"));
}

#[test]
fn binary_input() {
    let bytes: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    assert!(!problems(bytes).is_empty());
    let found = problems(b"apiVersion: a\n\0\0\0".to_vec());
    assert!(found.0[0].message.contains("NUL"), "{found}");
}

#[test]
fn alias_bomb() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let found = problems(text.into_bytes());
    assert!(found.0[0].message.contains("alias bomb"), "{found}");
}

#[test]
fn twenty_thousand_levels_of_nesting() {
    for (open, close) in [("[", "]"), ("{a: ", "}")] {
        let text = open.repeat(20_000) + &close.repeat(20_000);
        let found = problems(text.into_bytes());
        // Our own depth limit, or the YAML parser's recursion limit for flow collections.
        let message = &found.0[0].message;
        assert!(message.contains("nesting deeper") || message.contains("recursion limit"), "{found}");
    }
    let block: String = (0..20_000).map(|i| format!("{}- \n", "  ".repeat(i))).collect();
    assert!(!problems(block.into_bytes()).is_empty());
}

#[test]
fn multi_megabyte_key_is_reported_briefly() {
    let key = "k".repeat(3 * 1024 * 1024);
    // An explicit key (`? …`) may be that long; an implicit one is a syntax error past 1024
    // characters. Either way the report stays short.
    for text in [format!("{MINIMAL}? {key}\n: 1\n"), format!("{MINIMAL}{key}: 1\n")] {
        let found = problems(text.into_bytes());
        let report = found.to_string();
        assert!(!found.is_empty());
        assert!(report.len() < 2_000, "the report must not repeat the key: {} bytes", report.len());
    }
    let found = problems(format!("{MINIMAL}? {key}\n: 1\n").into_bytes());
    assert!(found.0.iter().any(|d| d.message.contains("unknown field") && d.line == 36), "{found}");
}

#[test]
fn every_error_is_reported_at_once() {
    let text = edited("dependsOn: [db]", "dependsOn: [dbx]")
        .replace("kind: Job", "kind: Jobb")
        .replace("port: 8080", "port: 0");
    let found = problems(text.into_bytes());
    // Structural problems come first (the schema pass); both must be there together.
    assert!(found.len() >= 2, "{found}");
}
