//! Which errors are reported together: structural and semantic ones at once, no echoes of
//! a field set aside, and no semantic checks after a missing required field.

use super::*;

/// The whole list of `path: message` lines, for tests that check nothing more is reported.
fn paths_of(text: &str) -> Vec<String> {
    problems(text.as_bytes().to_vec()).0.iter().map(|d| d.path.clone()).collect()
}

#[test]
fn structural_and_semantic_errors_come_out_together() {
    // An unknown field and a wrong enum value (structure) beside a dangling dependsOn
    // (meaning): one run reports all three.
    let text =
        edited("dependsOn: [migrate]", "dependsOn: [migrat]\n    colour: blue\n    codeUpdateStrategy: hotreload");
    assert_error(&text, 30, 17, "services[1].dependsOn[0]", "did you mean \"migrate\"");
    assert_error(&text, 31, 5, "services[1].colour", "unknown field \"colour\"");
    assert_error(&text, 32, 25, "services[1].codeUpdateStrategy", "not one of");
    assert_eq!(paths_of(&text).len(), 3, "{:?}", paths_of(&text));
}

#[test]
fn a_field_set_aside_for_its_structure_raises_no_echo_errors() {
    // `images.app.ref` of the wrong type is left out to read the rest; "app has neither ref nor
    // build" would only echo that, so it is not reported. The dangling dependency is.
    let text =
        edited("ref: registry.test/app:1", "ref: [registry.test/app:1]").replace("dependsOn: [db]", "dependsOn: [dbx]");
    assert_error(&text, 13, 10, "images.app.ref", "not");
    assert_error(&text, 24, 17, "services[0].dependsOn[0]", "did you mean \"db\"");
    assert_eq!(paths_of(&text), vec!["images.app.ref".to_string(), "services[0].dependsOn[0]".to_string()]);
}

#[test]
fn a_missing_required_field_stops_before_the_semantic_checks() {
    // Without `kind` the unit cannot be read at all: only the structural error, no guesses.
    let text = edited("      kind: Job\n", "").replace("dependsOn: [db]", "dependsOn: [dbx]");
    assert_eq!(paths_of(&text), vec!["services[0].workload".to_string()]);
}

#[test]
fn a_misspelled_top_level_section_stops_before_the_semantic_checks() {
    // Without `images`, every image reference would look dangling: only the misspelling.
    let text = edited("images:", "imagez:");
    assert_error(&text, 11, 1, "imagez", "did you mean \"images\"");
    assert_eq!(paths_of(&text), vec!["imagez".to_string()]);
}
