//! Bad services.yaml files: each must be refused with an error at the exact file, line,
//! column and field path — and never a panic, whatever the bytes. One module per subject;
//! the helpers here load a stack and check what it reports.

mod components;
mod hostile_yaml;
mod images;
mod imports;
mod inputs;
mod manifests;
mod reporting;
mod stack;
mod templates;
mod workloads;

use kubectl_codex::config::{self, diagnostics::Diagnostics};
use std::path::Path;

const MINIMAL: &str = include_str!("fixtures/minimal.yaml");

/// Loads `text` and resolves every environment (slot 1), as `kubectl codex validate` does.
fn problems(bytes: Vec<u8>) -> Diagnostics {
    match config::load_bytes("services.yaml", bytes, Path::new("tests/fixtures")) {
        Err(found) => found,
        Ok(loaded) => loaded.check_all_environments("1", ""),
    }
}

/// MINIMAL with `from` replaced by `to` (which must occur exactly once).
fn edited(from: &str, to: &str) -> String {
    assert_eq!(MINIMAL.matches(from).count(), 1, "fixture edit {from:?} must match once");
    MINIMAL.replacen(from, to, 1)
}

/// Asserts an error at `line:column` with `path` whose message contains `fragment`.
#[track_caller]
fn assert_error(text: &str, line: usize, column: usize, path: &str, fragment: &str) {
    let found = problems(text.as_bytes().to_vec());
    let hit = found.0.iter().any(|d| {
        d.file == "services.yaml"
            && d.line == line
            && d.column == column
            && d.path == path
            && d.message.contains(fragment)
    });
    assert!(hit, "expected services.yaml:{line}:{column}: {path}: …{fragment}…\nfound:\n{found}");
}
