//! Templates and overlays: syntax, variables, what a template may read and render to, and
//! what an overlay may change.

use super::*;

#[test]
fn broken_template_syntax() {
    let text = format!("{MINIMAL}      env:\n        NAME: \"{{{{ project\"\n");
    assert_error(&text, 37, 15, "services[1].workload.env.NAME", "template error");
}

#[test]
fn unknown_template_variable() {
    let text = format!("{MINIMAL}      env:\n        NAME: \"{{{{ projct }}}}\"\n");
    assert_error(&text, 37, 15, "services[1].workload.env.NAME", "projct");
}

#[test]
fn template_nested_too_deep_is_refused_before_the_template_engine_sees_it() {
    // Thousands of nested parentheses overflowed tera's recursive parser: an abort, not an error.
    let deep = format!("{{{{ {}1{} }}}}", "(".repeat(10_000), ")".repeat(10_000));
    let text = format!("{MINIMAL}      env:\n        NAME: \"{deep}\"\n");
    assert_error(&text, 37, 15, "services[1].workload.env.NAME", "the nesting limit is 64");
}

#[test]
fn templates_cannot_read_the_operators_environment_or_clock() {
    for call in ["get_env(name='HOME')", "get_env(name='NOT_SET', default='x')", "now()", "get_random(end=10)"] {
        let text = format!("{MINIMAL}      env:\n        VALUE: \"{{{{ {call} }}}}\"\n");
        let function = &call[..call.find('(').unwrap()];
        assert_error(&text, 37, 16, "services[1].workload.env.VALUE", &format!("`{function}` is not available"));
    }
}

#[test]
fn a_byte_order_mark_is_accepted_and_line_one_keeps_its_columns() {
    assert!(problems(format!("\u{feff}{MINIMAL}").into_bytes()).is_empty());
    let text = format!("\u{feff}{}", edited("codex-k8s.dev/v1alpha1", "codex-k8s.dev/v9"));
    assert_error(&text, 1, 13, "apiVersion", "unsupported apiVersion");
}

#[test]
fn namespace_that_renders_to_an_invalid_name() {
    assert_error(
        &edited("    runtime: prod\n", "    runtime: prod\n    namespace: \"{{ project }}_PROD\"\n"),
        8,
        16,
        "environments.prod.namespace",
        "not a DNS-1123 label",
    );
}

#[test]
fn when_that_is_not_a_boolean() {
    assert_error(
        &edited("    phase: internal\n", "    phase: internal\n    when: \"{{ env }}\"\n"),
        30,
        11,
        "services[1].when",
        "must render to true or false",
    );
}

#[test]
fn overlay_for_an_unknown_environment() {
    let text = format!("{MINIMAL}    overlays:\n      staging: {{ workload: {{ replicas: 2 }} }}\n");
    assert_error(&text, 37, 7, "services[1].overlays.staging", "unknown environment \"staging\"");
}

#[test]
fn overlay_with_an_unknown_field() {
    let text = format!("{MINIMAL}    overlays:\n      dev: {{ workload: {{ replica: 2 }} }}\n");
    assert_error(&text, 37, 26, "services[1].overlays.dev.workload.replica", "did you mean \"replicas\"");
}

#[test]
fn templates_that_crash_the_template_engine_are_errors() {
    // Inputs found by fuzzing (tests/fixtures/fuzz-regressions): each must give diagnostics.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz-regressions");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let found = match config::load_bytes("services.yaml", bytes, &dir) {
            Err(found) => found,
            Ok(loaded) => loaded.check_all_environments("1", ""),
        };
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        assert!(!found.0.is_empty(), "{name}: a crash input must be an error, not a value");
        for d in &found.0 {
            assert_eq!(d.file, "services.yaml", "{name}: {d:?}");
            assert!(
                d.line > 0 && !d.message.trim().is_empty(),
                "{name}: every diagnostic names a line and says why: {d:?}"
            );
        }
    }
}

#[test]
fn overlay_dependencies_get_the_same_checks_as_base_ones() {
    // Found by fuzzing: a dependsOn set by an overlay skipped the self, phase and cycle checks.
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz-regressions/overlay-dependency-cycle.yaml"),
    )
    .unwrap();
    let line = text.lines().position(|l| l.contains("dependsOn: [b, a]")).unwrap() + 1;
    let column = text.lines().nth(line - 1).unwrap().find("[b, a]").unwrap() + 2;
    assert_error(
        &text,
        line,
        column,
        "services[0].overlays.e.dependsOn[0]",
        "deploys after this unit's phase internal",
    );
    assert_error(&text, line, column, "services[0].overlays.e.dependsOn[0]", "dependency cycle: a -> b -> a");
    assert_error(&text, line, column + 3, "services[0].overlays.e.dependsOn[1]", "cannot depend on itself");
}

#[test]
fn an_overlay_may_clear_or_fix_dependencies() {
    // The base list is fine; the dev overlay replaces it with an empty list, which is fine too.
    let text = format!("{MINIMAL}    overlays:\n      dev: {{ dependsOn: null }}\n");
    assert!(problems(text.into_bytes()).is_empty());
}
