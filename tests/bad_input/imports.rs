//! Imports: merging, errors at the imported file's own line, cycles, missing and escaping
//! files.

use super::*;

/// `main` as services.yaml in a temporary directory with `files` next to it, loaded and
/// resolved like `validate` does.
fn import_problems(main: &str, files: &[(&str, &[u8])]) -> Diagnostics {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("services.yaml"), main).unwrap();
    for (name, content) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    match config::load_bytes("services.yaml", main.as_bytes().to_vec(), dir.path()) {
        Err(found) => found,
        Ok(loaded) => loaded.check_all_environments("1", ""),
    }
}

/// MINIMAL importing `imports` (a YAML flow list).
fn importing(imports: &str) -> String {
    edited("project:\n", &format!("imports: {imports}\nproject:\n"))
}

#[track_caller]
fn assert_located(found: &Diagnostics, file: &str, line: usize, column: usize, path: &str, fragment: &str) {
    let hit = found.0.iter().any(|d| {
        d.file == file && d.line == line && d.column == column && d.path == path && d.message.contains(fragment)
    });
    assert!(hit, "expected {file}:{line}:{column}: {path}: …{fragment}…\nfound:\n{found}");
}

#[test]
fn an_imported_file_merges_under_the_importing_one() {
    let found = import_problems(&importing("[extra.yaml]"), &[("extra.yaml", b"versions: { app: '1' }\n")]);
    assert!(found.is_empty(), "{found}");
}

#[test]
fn an_error_from_an_imported_file_names_its_own_line_and_column() {
    let found = import_problems(
        &importing("[parts/images.yaml]"),
        &[("parts/images.yaml", b"# images\nimages:\n  tool:\n    ref: x\n    tga: 1\n")],
    );
    assert_located(
        &found,
        "parts/images.yaml",
        5,
        5,
        "images.tool.tga",
        "unknown field \"tga\"; did you mean \"tag\"?",
    );
}

#[test]
fn an_imports_cycle_names_the_whole_chain() {
    let found = import_problems(
        &importing("[a.yaml]"),
        &[("a.yaml", b"imports: [sub/b.yaml]\n"), ("sub/b.yaml", b"imports:\n  - ../services.yaml\n")],
    );
    assert_located(
        &found,
        "sub/b.yaml",
        2,
        5,
        "imports[0]",
        "imports cycle: services.yaml → a.yaml → sub/b.yaml → services.yaml",
    );
}

#[test]
fn an_import_that_does_not_exist() {
    let found = import_problems(&importing("[other.yaml, 'parts/*.yaml']"), &[]);
    assert_located(&found, "services.yaml", 3, 11, "imports[0]", "cannot read other.yaml: No such file");
    assert_located(&found, "services.yaml", 3, 11, "imports[0]", "relative to the directory of the file that holds it");
    assert_located(&found, "services.yaml", 3, 23, "imports[1]", "\"parts/*.yaml\" matches no file");
}

#[test]
fn an_import_that_escapes_the_directory() {
    let found = import_problems(&importing("[../outside.yaml, /etc/hostname]"), &[]);
    assert_located(
        &found,
        "services.yaml",
        3,
        11,
        "imports[0]",
        "\"../outside.yaml\" leads outside the directory of the main services.yaml",
    );
    assert_located(&found, "services.yaml", 3, 28, "imports[1]", "must be a relative path");
}

#[test]
fn an_import_that_is_not_yaml_is_reported_at_its_own_line() {
    let found = import_problems(
        &importing("[broken.yaml, binary.yaml, list.yaml]"),
        &[
            ("broken.yaml", b"versions:\n  app: [1\n"),
            ("binary.yaml", b"versions: {}\n\x00\x01"),
            ("list.yaml", b"- a\n- b\n"),
        ],
    );
    assert_located(&found, "broken.yaml", 3, 1, "", "YAML syntax error");
    assert_located(&found, "binary.yaml", 2, 1, "", "NUL byte");
    assert_located(
        &found,
        "list.yaml",
        1,
        1,
        "",
        "an imported file holds a mapping of services.yaml fields, not a list",
    );
}

#[test]
fn imports_must_be_a_list_of_strings() {
    assert_error(&importing("parts.yaml"), 3, 10, "imports", "\"imports\" is a list of paths or globs, not a string");
    assert_error(&importing("[1]"), 3, 11, "imports[0]", "an import is a path or a glob (a string), not a number");
}
