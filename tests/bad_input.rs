//! Bad services.yaml files: each must be refused with an error at the exact file, line,
//! column and field path — and never a panic, whatever the bytes.

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

#[test]
fn the_minimal_fixture_is_valid() {
    assert!(problems(MINIMAL.as_bytes().to_vec()).is_empty());
}

#[test]
fn unknown_dependency_names_the_item_and_suggests() {
    assert_error(
        &edited("dependsOn: [db]", "dependsOn: [dbx]"),
        24,
        17,
        "services[0].dependsOn[0]",
        "did you mean \"db\"",
    );
}

#[test]
fn unknown_phase_lists_the_phases() {
    assert_error(
        &edited("phase: internal", "phase: internl"),
        29,
        12,
        "services[1].phase",
        "stateful, migrations, internal, edge, frontend",
    );
}

#[test]
fn unknown_field_points_at_the_key() {
    assert_error(
        &edited("      kind: Job\n      image: app", "      kind: Job\n      imag: app"),
        27,
        7,
        "services[0].workload.imag",
        "did you mean \"image\"",
    );
}

#[test]
fn unknown_workload_kind() {
    assert_error(
        &edited("kind: Job", "kind: Jobb"),
        26,
        13,
        "services[0].workload.kind",
        "not one of: Deployment, StatefulSet, DaemonSet, Job, CronJob",
    );
}

#[test]
fn port_out_of_range() {
    assert_error(&edited("port: 8080", "port: 80800"), 35, 31, "services[1].workload.ports[0].port", "65535");
}

#[test]
fn unknown_pod_security_level_lists_the_levels() {
    assert_error(
        &edited("    runtime: prod\n", "    runtime: prod\n    podSecurity: strict\n"),
        8,
        18,
        "environments.prod.podSecurity",
        "restricted",
    );
}

#[test]
fn an_egress_entry_that_is_neither_a_cidr_nor_an_environment() {
    assert_error(
        &edited("    runtime: prod\n", "    runtime: prod\n    egress: [10.0.0.0/8, registry]\n"),
        8,
        26,
        "environments.prod.egress[1]",
        "is neither a CIDR (e.g. 10.20.0.0/16), nor namespace/<name> (a namespace name: lowercase letters, \
         digits, '-'), nor an environment of this file (declared: dev, prod)",
    );
    // A CIDR, a namespace and another environment are all fine.
    let fine = "    runtime: prod\n    egress: [10.0.0.0/8, dev, namespace/registry]\n";
    assert!(problems(edited("    runtime: prod\n", fine).into_bytes()).is_empty());
}

#[test]
fn an_ingress_entry_that_is_no_peer() {
    assert_error(
        &edited(
            "    runtime: prod\n",
            "    runtime: prod\n    ingress: [namespace/ingress-nginx, namespace/Bad_Name]\n",
        ),
        8,
        40,
        "environments.prod.ingress[1]",
        "ingress entry \"namespace/Bad_Name\" is neither a CIDR",
    );
    let fine = "    runtime: prod\n    ingress: [10.0.0.0/8, dev, namespace/ingress-nginx]\n";
    assert!(problems(edited("    runtime: prod\n", fine).into_bytes()).is_empty());
}

#[test]
fn a_quota_that_is_not_a_quantity() {
    assert_error(
        &edited("    runtime: prod\n", "    runtime: prod\n    quota: { cpu: \"2\", memory: lots }\n"),
        8,
        32,
        "environments.prod.quota.memory",
        "\"lots\" is not a Kubernetes quantity",
    );
}

#[test]
fn bad_idle_ttl() {
    assert_error(
        &edited("    runtime: prod\n", "    runtime: prod\n    idleTTL: 8 hours\n"),
        8,
        14,
        "environments.prod.idleTTL",
        "not a duration",
    );
}

#[test]
fn environment_inheriting_from_itself() {
    assert_error(&edited("from: prod", "from: dev"), 9, 11, "environments.dev.from", "cycle: dev -> dev");
}

#[test]
fn environment_inheritance_cycle_of_two() {
    let text = edited("    runtime: prod\n", "    runtime: prod\n    from: dev\n");
    assert_error(&text, 10, 11, "environments.dev.from", "cycle: dev -> prod -> dev");
}

#[test]
fn unknown_parent_environment() {
    assert_error(
        &edited("from: prod", "from: production"),
        9,
        11,
        "environments.dev.from",
        "unknown environment \"production\"",
    );
}

#[test]
fn duplicate_unit_name() {
    assert_error(&edited("name: api", "name: db"), 28, 11, "services[1].name", "duplicate unit name \"db\"");
}

#[test]
fn dependency_on_itself() {
    assert_error(
        &edited("dependsOn: [migrate]", "dependsOn: [migrate, api]"),
        30,
        26,
        "services[1].dependsOn[1]",
        "cannot depend on itself",
    );
}

#[test]
fn dependency_on_a_later_phase() {
    assert_error(
        &edited("dependsOn: [db]", "dependsOn: [db, api]"),
        24,
        21,
        "services[0].dependsOn[1]",
        "phase internal, which deploys after",
    );
}

#[test]
fn dependency_cycle_prints_the_whole_cycle() {
    let text = format!(
        "{}  - name: worker\n    phase: internal\n    dependsOn: [api]\n    workload: {{ kind: Deployment, image: app }}\n",
        edited("dependsOn: [migrate]", "dependsOn: [migrate, worker]")
    );
    assert_error(&text, 30, 26, "services[1].dependsOn[1]", "dependency cycle: api -> worker -> api");
}

#[test]
fn duplicate_yaml_key() {
    assert_error(
        &edited("    runtime: prod\n", "    runtime: prod\n    runtime: dev\n"),
        8,
        5,
        "environments.prod.runtime",
        "duplicate key",
    );
}

#[test]
fn unsupported_api_version() {
    assert_error(&edited("codex-k8s.dev/v1alpha1", "codex-k8s.dev/v9"), 1, 13, "apiVersion", "unsupported apiVersion");
}

#[test]
fn wrong_kind() {
    assert_error(&edited("kind: ServiceStack", "kind: Stack"), 2, 7, "kind", "kind must be \"ServiceStack\"");
}

#[test]
fn project_name_must_be_a_dns_label() {
    assert_error(&edited("name: demo", "name: Demo_Project"), 4, 9, "project.name", "DNS-1123");
}

#[test]
fn unknown_image() {
    assert_error(
        &edited("      kind: Job\n      image: app", "      kind: Job\n      image: ap"),
        27,
        14,
        "services[0].workload.image",
        "unknown image \"ap\"",
    );
}

#[test]
fn image_with_both_ref_and_build() {
    assert_error(
        &edited("    ref: registry.test/app:1\n", "    ref: registry.test/app:1\n    build: { context: . }\n"),
        13,
        5,
        "images.app",
        "not both",
    );
}

#[test]
fn image_with_neither_ref_nor_build() {
    assert_error(&edited("    ref: registry.test/app:1\n", "    tag: \"1\"\n"), 13, 5, "images.app", "needs \"ref\"");
}

/// MINIMAL with image `app` replaced by `lines` (its fields, indented four spaces) and the
/// environments given a registry, so a mirror has somewhere to go.
fn with_app_image(lines: &str) -> String {
    edited("    ref: registry.test/app:1\n", lines).replacen(
        "    runtime: prod\n",
        "    runtime: prod\n    registry: 127.0.0.1:5000\n",
        1,
    )
}

#[test]
fn a_mirror_is_valid_and_resolves_into_the_environments_registry() {
    let text = with_app_image("    mirror: docker.io/library/redis:7-bookworm\n    repository: mirror/redis\n");
    assert!(problems(text.as_bytes().to_vec()).is_empty(), "{}", problems(text.as_bytes().to_vec()));
    let loaded = config::load_bytes("services.yaml", text.into_bytes(), Path::new("tests/fixtures")).unwrap();
    let selection = config::stack::Selection { env: "prod".into(), ..Default::default() };
    let image = &loaded.resolve(&selection).unwrap().images["app"];
    assert_eq!(image.reference, "127.0.0.1:5000/mirror/redis:7-bookworm", "the tag defaults to the source's");
    assert_eq!(image.mirror.as_deref(), Some("docker.io/library/redis:7-bookworm"));
}

#[test]
fn a_mirror_source_that_is_not_an_image_reference() {
    let text = with_app_image("    mirror: \"Redis:7 bookworm\"\n");
    assert_error(&text, 14, 13, "images.app.mirror", "is not an image reference");
    let text = with_app_image("    mirror: https://docker.io/library/redis:7\n");
    assert_error(&text, 14, 13, "images.app.mirror", "\"https:\" is not a registry host");
}

#[test]
fn a_templated_mirror_source_is_checked_once_rendered() {
    let text = with_app_image("    mirror: \"{{ project }}:not a tag\"\n");
    assert_error(&text, 14, 13, "images.app.mirror", "\"demo:not a tag\" is not an image reference");
}

#[test]
fn a_mirror_by_digest_alone_needs_a_tag() {
    let digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let text = with_app_image(&format!("    mirror: redis@{digest}\n"));
    assert_error(&text, 14, 13, "images.app.mirror", "give the mirror a \"tag\"");
    assert!(problems(with_app_image(&format!("    mirror: redis@{digest}\n    tag: \"7\"\n")).into_bytes()).is_empty());
}

#[test]
fn a_mirror_needs_an_environment_registry_and_a_valid_target() {
    let text = edited("    ref: registry.test/app:1\n", "    mirror: redis:7\n");
    assert_error(&text, 13, 13, "images.app.mirror", "environment \"prod\" has none");
    let text = with_app_image("    mirror: redis:7\n    repository: Mirror/Redis\n");
    assert_error(&text, 15, 17, "images.app.repository", "not a repository path component");
}

#[test]
fn an_image_with_ref_and_mirror() {
    let text = with_app_image("    ref: registry.test/app:1\n    mirror: redis:7\n");
    assert_error(&text, 14, 5, "images.app", "not both \"ref\" and \"mirror\"");
}

#[test]
fn build_contexts_are_confined_and_named_as_buildkit_allows() {
    let text = with_app_image("    build:\n      context: .\n      contexts:\n        shared: ../outside\n");
    assert_error(&text, 17, 17, "images.app.build.contexts.shared", "no '..'");
    let text = with_app_image("    build:\n      context: .\n      contexts:\n        dockerfile: manifest-stack\n");
    assert_error(&text, 17, 9, "images.app.build.contexts.dockerfile", "choose another");
    let text = with_app_image("    build:\n      context: .\n      contexts:\n        shared: no-such-dir\n");
    assert_error(&text, 17, 17, "images.app.build.contexts.shared", "cannot read");
    let text = with_app_image("    build:\n      context: .\n      contexts:\n        shared: minimal.yaml\n");
    assert_error(&text, 17, 17, "images.app.build.contexts.shared", "is not a directory");
    let ok = with_app_image("    build:\n      context: .\n      contexts:\n        shared: manifest-stack\n");
    assert!(problems(ok.into_bytes()).is_empty());
}

#[test]
fn build_args_are_templates() {
    let text = with_app_image("    build:\n      context: .\n      args:\n        GO: \"{{ versions.golang }}\"\n");
    assert_error(&text, 17, 13, "images.app.build.args.GO", "versions.golang");
}

#[test]
fn cronjob_without_schedule() {
    assert_error(&edited("kind: Job", "kind: CronJob"), 26, 7, "services[0].workload", "needs \"schedule\"");
}

#[test]
fn schedule_on_a_deployment() {
    assert_error(
        &edited("      kind: Deployment\n", "      kind: Deployment\n      schedule: \"* * * * *\"\n"),
        33,
        17,
        "services[1].workload.schedule",
        "CronJob only",
    );
}

#[test]
fn duplicate_port_name() {
    assert_error(
        &edited(
            "        - { name: http, port: 8080 }\n",
            "        - { name: http, port: 8080 }\n        - { name: http, port: 9090 }\n",
        ),
        36,
        19,
        "services[1].workload.ports[1].name",
        "duplicate port name",
    );
}

#[test]
fn port_name_too_long() {
    assert_error(
        &edited("name: http,", "name: http-port-too-long,"),
        35,
        19,
        "services[1].workload.ports[0].name",
        "at most 15 characters",
    );
}

#[test]
fn hook_with_two_kinds() {
    let text = format!("{MINIMAL}    hooks:\n      readiness:\n        - {{ http: {{ path: /, port: http }}, tcp: {{ port: http }} }}\n");
    assert_error(&text, 38, 11, "services[1].hooks.readiness[0]", "exactly one of");
}

#[test]
fn hook_path_must_be_absolute() {
    let text = format!("{MINIMAL}    hooks:\n      readiness:\n        - http: {{ path: healthz, port: http }}\n");
    assert_error(&text, 38, 25, "services[1].hooks.readiness[0].http.path", "must start with '/'");
}

#[test]
fn probe_on_an_unknown_port_name() {
    let text = format!("{MINIMAL}      probes:\n        readiness: {{ http: {{ path: /, port: web }} }}\n");
    assert_error(&text, 37, 45, "services[1].workload.probes.readiness.http.port", "unknown port \"web\"");
}

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
fn workspace_sub_path_escaping_the_volume() {
    let text = format!("{MINIMAL}    workspace: {{ subPath: ../etc, readOnly: true }}\n");
    assert_error(&text, 36, 27, "services[1].workspace.subPath", "no '..'");
}

#[test]
fn workspace_mount_must_state_its_mode() {
    let text = format!("{MINIMAL}    workspace: {{ mountPath: /src }}\n");
    assert_error(&text, 36, 16, "services[1].workspace", "missing required field \"readOnly\"");
}

#[test]
fn service_without_phase() {
    assert_error(&edited("    phase: internal\n", ""), 28, 5, "services[1]", "missing required field \"phase\"");
}

#[test]
fn volume_size_that_is_not_a_quantity() {
    let text = format!("{MINIMAL}      volumes:\n        - {{ name: data, mountPath: /data, size: lots }}\n");
    assert_error(&text, 37, 49, "services[1].workload.volumes[0].size", "not a Kubernetes quantity");
}

#[test]
fn replicas_on_a_job() {
    assert_error(
        &edited("kind: Job", "kind: Job\n      replicas: 3"),
        27,
        17,
        "services[0].workload.replicas",
        "Deployment and StatefulSet only",
    );
}

#[test]
fn hot_reload_without_a_workspace_in_dev() {
    let text = edited("    phase: internal\n", "    phase: internal\n    codeUpdateStrategy: hot-reload\n");
    assert_error(&text, 30, 25, "services[1].codeUpdateStrategy", "declare \"workspace\"");
}

#[test]
fn unit_name_too_long() {
    let long = "a".repeat(60);
    assert_error(&edited("name: api", &format!("name: {long}")), 28, 11, "services[1].name", "at most 54 characters");
}

#[test]
fn wrong_type_for_a_list() {
    assert_error(&edited("dependsOn: [db]", "dependsOn: db"), 24, 16, "services[0].dependsOn", "is not a list");
}

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

#[test]
fn an_overlay_cannot_add_what_the_unit_may_not_have() {
    let text = format!("{MINIMAL}    overlays:\n      dev: {{ workload: {{ schedule: \"* * * * *\" }} }}\n");
    assert_error(&text, 37, 36, "services[1].overlays.dev.workload.schedule", "CronJob only");
}

#[test]
fn ingress_on_a_job() {
    let text = edited("      kind: Job\n", "      kind: Job\n      ports: [{ name: http, port: 80 }]\n")
        .replace("    phase: migrations\n", "    phase: migrations\n    ingress: { host: a.test }\n");
    assert_error(&text, 24, 14, "services[0].ingress", "a Job has none");
}

#[test]
fn volume_mount_path_must_be_absolute() {
    let text = format!("{MINIMAL}      volumes:\n        - {{ name: data, mountPath: data }}\n");
    assert_error(&text, 37, 36, "services[1].workload.volumes[0].mountPath", "absolute path");
}

#[test]
fn workspace_size_must_be_a_quantity() {
    let text = format!("{MINIMAL}workspace: {{ size: big }}\n");
    assert_error(&text, 36, 20, "workspace.size", "not a Kubernetes quantity");
}

#[test]
fn overlays_may_delete_with_null_and_set_when() {
    let text = format!("{MINIMAL}    overlays:\n      dev: {{ when: \"false\", workload: {{ ports: null }} }}\n");
    let loaded = config::load_bytes("services.yaml", text.into_bytes(), Path::new("tests/fixtures")).unwrap();
    let select = |env: &str| config::stack::Selection { env: env.into(), slot: "1".into(), issue: String::new() };
    let prod = loaded.resolve(&select("prod")).unwrap();
    assert!(prod.units.iter().any(|u| u.name == "api" && u.workload.as_ref().is_some_and(|w| w.ports.len() == 1)));
    let dev = loaded.resolve(&select("dev")).unwrap();
    assert!(!dev.units.iter().any(|u| u.name == "api"), "the dev overlay's when excludes api");
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

#[test]
fn extra_manifests_stay_inside_the_directory_of_services_yaml() {
    for (file, fragment) in [("/dev/zero", "must be a relative path"), ("../../etc/passwd", "must be a relative path")]
    {
        let text = format!("{MINIMAL}    manifests: [\"{file}\"]\n");
        let line = text.lines().count();
        assert_error(&text, line, 17, "services[1].manifests[0]", fragment);
    }
}

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

/// A stack of one manifest-only unit (`unit` is appended under `infrastructure:`), with its
/// manifest files written next to it. Returns the diagnostics and the directory (kept alive).
fn manifest_problems(unit: &str, files: &[(&str, &str)]) -> (Diagnostics, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    let text = format!(
        "apiVersion: codex-k8s.dev/v1alpha1\nkind: ServiceStack\nproject:\n  name: demo\nenvironments:\n  prod: {{}}\nimages:\n  app:\n    ref: registry.test/app:1\ninfrastructure:\n  - name: db\n    manifests: [db.yaml]\n{unit}"
    );
    let found = match config::load_bytes("services.yaml", text.into_bytes(), dir.path()) {
        Err(found) => found,
        Ok(loaded) => loaded.check_all_environments("1", ""),
    };
    (found, dir)
}

const DB_STATEFULSET: &str = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  template:\n    spec:\n      initContainers:\n        - { name: prepare, image: x }\n      containers:\n        - { name: db, image: x }\n";

#[track_caller]
fn assert_manifest_error(found: &Diagnostics, file_suffix: &str, line: usize, path: &str, fragment: &str) {
    let hit = found
        .0
        .iter()
        .any(|d| d.file.ends_with(file_suffix) && d.line == line && d.path == path && d.message.contains(fragment));
    assert!(hit, "expected …{file_suffix}:{line}: {path}: …{fragment}…\nfound:\n{found}");
}

#[test]
fn a_manifest_unit_with_its_edits_is_valid() {
    let unit = "    image: { name: app, containers: [db, prepare] }\n    claims: [{ claimName: cache, mountPath: /cache }]\n    dropKinds: [ConfigMap]\n    patches:\n      - { target: StatefulSet/db, patch: { spec: { replicas: 2 } } }\n      - { target: StatefulSet/db, type: json, patch: [{ op: add, path: /metadata/annotations, value: { a: b } }] }\n";
    let (found, _dir) = manifest_problems(unit, &[("db.yaml", DB_STATEFULSET)]);
    assert!(found.is_empty(), "{found}");
}

#[test]
fn a_manifest_that_is_not_yaml_names_its_file_and_line() {
    let (found, _dir) =
        manifest_problems("", &[("db.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: [x\n")]);
    // The parser gives up where the flow sequence should have closed: the end of the file.
    assert_manifest_error(&found, "db.yaml", 4, "infrastructure[0].manifests[0]", "not valid YAML");
}

#[test]
fn a_manifest_document_without_kind_names_the_document_line() {
    let text = format!("{DB_STATEFULSET}---\napiVersion: v1\nmetadata:\n  name: lost\n");
    let (found, _dir) = manifest_problems("", &[("db.yaml", &text)]);
    assert_manifest_error(&found, "db.yaml", 13, "infrastructure[0].manifests[0]", "has no kind");
    let (found, _dir) = manifest_problems("", &[("db.yaml", "kind: ConfigMap\nmetadata: { name: x }\n")]);
    assert_manifest_error(&found, "db.yaml", 1, "infrastructure[0].manifests[0]", "has no apiVersion");
}

#[test]
fn a_cluster_scoped_object_needs_the_environments_permission() {
    let role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\nrules: []\n";
    let text = format!("{DB_STATEFULSET}---\n{role}");
    let (found, _dir) = manifest_problems("", &[("db.yaml", &text)]);
    assert_manifest_error(
        &found,
        "db.yaml",
        13,
        "infrastructure[0].manifests[0]",
        "ClusterRole/reader is cluster-scoped",
    );
    assert!(found.to_string().contains("allowClusterScoped"), "{found}");
}

#[test]
fn a_patch_whose_target_is_missing_is_an_error() {
    let unit = "    patches:\n      - { target: Deployment/api, patch: { spec: { replicas: 2 } } }\n";
    let (found, _dir) = manifest_problems(unit, &[("db.yaml", DB_STATEFULSET)]);
    let hit = found.0.iter().any(|d| {
        d.file == "services.yaml"
            && d.line == 14
            && d.path == "infrastructure[0].patches[0].target"
            && d.message.contains("no object Deployment/api")
            && d.message.contains("StatefulSet/db")
    });
    assert!(hit, "{found}");
}

#[test]
fn an_image_edit_naming_a_container_the_manifest_lacks_is_an_error() {
    let unit = "    image: { name: app, containers: [db, migrate] }\n";
    let (found, _dir) = manifest_problems(unit, &[("db.yaml", DB_STATEFULSET)]);
    let hit = found.0.iter().any(|d| {
        d.file == "services.yaml"
            && d.line == 13
            && d.path == "infrastructure[0].image.containers"
            && d.message.contains("no container named \"migrate\"")
    });
    assert!(hit, "{found}");
}

#[test]
fn a_unit_needs_a_workload_or_manifests() {
    let text = edited(
        "    workload:\n      kind: StatefulSet\n      image: app\n      ports:\n        - { name: pg, port: 5432 }\n",
        "",
    );
    assert_error(&text, 15, 5, "infrastructure[0]", "needs a \"workload\", or \"manifests\"");
}

#[test]
fn volume_with_two_sources() {
    let text = format!(
        "{MINIMAL}      volumes:\n        - {{ name: cfg, mountPath: /etc/cfg, configMap: cfg, secret: cfg }}\n"
    );
    assert_error(&text, 37, 69, "services[1].workload.volumes[0].secret", "\"secret\" and \"configMap\" are both set");
}

#[test]
fn owned_claim_fields_on_a_volume_with_a_source() {
    let text =
        format!("{MINIMAL}      volumes:\n        - {{ name: tmp, mountPath: /tmp, emptyDir: {{}}, size: 1Gi }}\n");
    assert_error(&text, 37, 61, "services[1].workload.volumes[0].size", "not to a volume with \"emptyDir\"");
}

#[test]
fn duplicate_sidecar_name() {
    let text = format!(
        "{MINIMAL}      containers:\n        - {{ name: proxy, image: app }}\n        - {{ name: proxy, image: app }}\n"
    );
    assert_error(&text, 38, 19, "services[1].workload.containers[1].name", "duplicate container name \"proxy\"");
}

#[test]
fn sidecar_named_like_the_unit() {
    let text = format!("{MINIMAL}      initContainers:\n        - {{ name: api, image: app }}\n");
    assert_error(&text, 37, 19, "services[1].workload.initContainers[0].name", "the main container's name");
}

#[test]
fn sidecar_mounting_an_undeclared_volume() {
    let text = format!(
        "{MINIMAL}      containers:\n        - {{ name: proxy, image: app, volumeMounts: [{{ name: tls, mountPath: /tls }}] }}\n"
    );
    assert_error(&text, 37, 61, "services[1].workload.containers[0].volumeMounts[0].name", "unknown volume \"tls\"");
}

#[test]
fn pod_labels_cannot_set_a_selector_label() {
    let text = format!("{MINIMAL}      podLabels: {{ app.kubernetes.io/name: other, team: a }}\n");
    assert_error(
        &text,
        36,
        20,
        "services[1].workload.podLabels[\"app.kubernetes.io/name\"]",
        "a selector label the chart sets",
    );
}

#[test]
fn exec_probe_together_with_http() {
    let text = format!(
        "{MINIMAL}      probes:\n        readiness: {{ http: {{ path: /, port: http }}, exec: {{ command: [\"true\"] }} }}\n"
    );
    assert_error(&text, 37, 20, "services[1].workload.probes.readiness", "exactly one of \"http\", \"tcp\", \"exec\"");
}

#[test]
fn env_value_from_two_sources() {
    let text = format!(
        "{MINIMAL}      env:\n        A: {{ secretKeyRef: {{ name: s, key: k }}, fieldRef: {{ fieldPath: metadata.name }} }}\n"
    );
    assert_error(
        &text,
        37,
        12,
        "services[1].workload.env.A",
        "exactly one of \"secret\", \"configMap\", \"field\" (or the Kubernetes forms \"secretKeyRef\"",
    );
}

#[test]
fn env_value_from_a_misspelt_source_is_a_precise_structural_error() {
    let text = format!("{MINIMAL}      env:\n        A: {{ secretKeyRf: {{ name: s, key: k }} }}\n");
    assert_error(&text, 37, 14, "services[1].workload.env.A.secretKeyRf", "did you mean \"secretKeyRef\"");
}

#[test]
fn env_from_without_an_object() {
    let text = format!("{MINIMAL}      envFrom:\n        - {{ prefix: X_ }}\n");
    assert_error(
        &text,
        37,
        11,
        "services[1].workload.envFrom[0]",
        "exactly one of \"secret\", \"configMap\", \"secretRef\", \"configMapRef\"",
    );
}

#[test]
fn replicas_on_a_daemonset() {
    let text = edited("      kind: Deployment\n", "      kind: DaemonSet\n      replicas: 2\n");
    assert_error(&text, 33, 17, "services[1].workload.replicas", "Deployment and StatefulSet only");
}

#[test]
fn toleration_seconds_without_no_execute() {
    let text = format!("{MINIMAL}      tolerations:\n        - {{ key: a, operator: Exists, tolerationSeconds: 5 }}\n");
    assert_error(&text, 37, 58, "services[1].workload.tolerations[0].tolerationSeconds", "NoExecute only");
}

/// 1-based line and column of the first `needle` in `text`.
fn position_of(text: &str, needle: &str) -> (usize, usize) {
    let offset = text.find(needle).unwrap_or_else(|| panic!("{needle:?} is not in the text"));
    let before = &text[..offset];
    (before.matches('\n').count() + 1, before.rsplit('\n').next().unwrap().chars().count() + 1)
}

/// MINIMAL with top-level `inputs` and `secrets` sections and `env` on the api unit.
fn with_inputs_and_secrets(inputs: &str, secrets: &str, env: &str) -> String {
    edited("images:\n", &format!("inputs:\n{inputs}secrets:\n{secrets}images:\n")) + env
}

const GOOD_INPUTS: &str = "  dbPassword: { secret: true, required: true }\n  replicas: { type: number, default: 2 }\n";
const GOOD_SECRETS: &str = "  db:\n    data: { password: \"{{ inputs.dbPassword }}\" }\n    generate: [token]\n";

#[test]
fn inputs_and_secrets_that_are_right_load() {
    let text = with_inputs_and_secrets(
        GOOD_INPUTS,
        GOOD_SECRETS,
        "      env:\n        A: { secret: db, key: password }\n        B: { field: metadata.name }\n        C: { configMap: cfg, key: k }\n      envFrom: [{ secret: db }]\n",
    );
    assert!(problems(text.into_bytes()).is_empty());
}

#[test]
fn an_input_default_of_the_wrong_type() {
    let text = with_inputs_and_secrets(
        "  replicas: { type: number, default: many }\n",
        GOOD_SECRETS.replace("{{ inputs.dbPassword }}", "x").as_str(),
        "",
    );
    let (line, column) = position_of(&text, "many");
    assert_error(
        &text,
        line,
        column,
        "inputs.replicas.default",
        "wrong type for input \"replicas\": \"many\" is not a number",
    );
}

#[test]
fn a_secret_input_with_a_default_would_sit_in_the_file() {
    let text = with_inputs_and_secrets("  dbPassword: { secret: true, default: hunter2 }\n", GOOD_SECRETS, "");
    let (line, column) = position_of(&text, "hunter2");
    assert_error(&text, line, column, "inputs.dbPassword.default", "a secret input has no default");
}

#[test]
fn a_required_input_missing_is_an_error_at_its_declaration_with_a_hint() {
    let text = with_inputs_and_secrets(GOOD_INPUTS, GOOD_SECRETS, "");
    let loaded = config::load_bytes("services.yaml", text.clone().into_bytes(), Path::new("tests/fixtures")).unwrap();
    let selection = config::stack::Selection { env: "prod".into(), ..Default::default() };
    let found = loaded.resolve(&selection).unwrap_err();
    let (line, column) = position_of(&text, "dbPassword");
    let hit = found.0.iter().any(|d| {
        (d.line, d.column) == (line, column)
            && d.message.contains("--set dbPassword=")
            && d.message.contains("CODEX_INPUT_DBPASSWORD")
    });
    assert!(hit, "{found}");
    // validate checks the rest with a stand-in.
    assert!(problems(text.into_bytes()).is_empty());
}

#[test]
fn a_short_secret_form_naming_no_declared_secret() {
    let text =
        with_inputs_and_secrets(GOOD_INPUTS, GOOD_SECRETS, "      env:\n        A: { secret: dbx, key: password }\n");
    let (line, column) = position_of(&text, "dbx");
    assert_error(
        &text,
        line,
        column,
        "services[1].workload.env.A.secret",
        "unknown secret \"dbx\"; did you mean \"db\"?",
    );
    let text = with_inputs_and_secrets(GOOD_INPUTS, GOOD_SECRETS, "      envFrom: [{ secret: sessions }]\n");
    let (line, column) = position_of(&text, "sessions");
    assert_error(&text, line, column, "services[1].workload.envFrom[0].secret", "unknown secret \"sessions\"");
}

#[test]
fn a_short_secret_form_naming_no_key_of_it() {
    let text =
        with_inputs_and_secrets(GOOD_INPUTS, GOOD_SECRETS, "      env:\n        A: { secret: db, key: pasword }\n");
    let (line, column) = position_of(&text, "{ secret: db, key: pasword }");
    assert_error(
        &text,
        line,
        column + 10,
        "services[1].workload.env.A.secret",
        "secret \"db\" has no key \"pasword\"; its keys: password, token",
    );
    let text = with_inputs_and_secrets(GOOD_INPUTS, GOOD_SECRETS, "      env:\n        A: { secret: db }\n");
    let (line, column) = position_of(&text, "{ secret: db }");
    assert_error(&text, line, column, "services[1].workload.env.A", "\"secret\" needs \"key\"");
}

#[test]
fn a_generate_key_that_is_also_in_data() {
    let secrets = "  session:\n    data: { token: fixed }\n    generate: [token]\n";
    let text = with_inputs_and_secrets(GOOD_INPUTS, secrets, "");
    let (line, column) = position_of(&text, "token]");
    assert_error(
        &text,
        line,
        column,
        "secrets.session.generate[0]",
        "key \"token\" is also in data: a key is either generated or given; remove it from \"generate\" or from \"data\"",
    );
}

#[test]
fn a_plain_template_naming_a_secret_input_says_why_it_cannot() {
    let text =
        with_inputs_and_secrets(GOOD_INPUTS, GOOD_SECRETS, "      env:\n        A: \"{{ inputs.dbPassword }}\"\n");
    let loaded = config::load_bytes("services.yaml", text.clone().into_bytes(), Path::new("tests/fixtures")).unwrap();
    let inputs = config::inputs::GivenInputs {
        set: vec![("dbPassword".into(), "do-not-print-me".into())],
        ..Default::default()
    };
    let selection = config::stack::Selection { env: "prod".into(), ..Default::default() };
    let found = loaded.resolve_with(&selection, &inputs).unwrap_err();
    let (line, column) = position_of(&text, "\"{{ inputs.dbPassword }}\"\n");
    let hit = found.0.iter().any(|d| {
        (d.line, d.column) == (line, column)
            && d.path == "services[1].workload.env.A"
            && d.message.contains("is secret")
    });
    assert!(hit, "{found}");
    assert!(!found.to_string().contains("do-not-print-me"));
}

#[test]
fn a_secret_file_leaving_the_directory() {
    let secrets = "  tls:\n    files: { ca.crt: ../outside.pem }\n";
    let text = with_inputs_and_secrets(GOOD_INPUTS, secrets, "");
    let (line, column) = position_of(&text, "../outside.pem");
    assert_error(&text, line, column, "secrets.tls.files[\"ca.crt\"]", "inside the directory of services.yaml");
}

#[test]
fn bad_input_and_secret_names() {
    let text = with_inputs_and_secrets("  db-password: { default: x }\n", "  Bad_Name:\n    generate: [k]\n", "");
    let (line, column) = position_of(&text, "db-password");
    assert_error(&text, line, column, "inputs.db-password", "letters, digits and '_'");
    let (line, column) = position_of(&text, "Bad_Name");
    assert_error(&text, line, column, "secrets.Bad_Name", "is not a Secret name");
}

// ---- components and use -------------------------------------------------------------------

/// MINIMAL with `components` (written before `infrastructure:`) and `api` using `uses`.
fn with_components(components: &str, uses: &str) -> String {
    edited("infrastructure:\n", &format!("components:\n{components}infrastructure:\n")).replacen(
        "  - name: api\n",
        &format!("  - name: api\n    use: {uses}\n"),
        1,
    )
}

#[test]
fn a_component_merges_into_the_unit_that_uses_it() {
    let text = with_components("  web:\n    workload: { replicas: 2 }\n", "[web]");
    assert!(problems(text.into_bytes()).is_empty());
}

#[test]
fn a_use_naming_no_component_lists_the_declared_ones() {
    let text = with_components("  web: {}\n  worker: {}\n", "[web, wrker]");
    assert_error(
        &text,
        32,
        16,
        "services[1].use[1]",
        "no component named \"wrker\"; did you mean \"worker\"?; declared: web, worker",
    );
    let text = edited("  - name: api\n", "  - name: api\n    use: [web]\n");
    assert_error(&text, 29, 11, "services[1].use[0]", "no components are declared");
}

#[test]
fn a_components_cycle_names_the_whole_chain() {
    let text = with_components("  a: { use: [b] }\n  b: { use: [a] }\n", "[a]");
    assert_error(&text, 16, 14, "components.b.use[0]", "components cycle: a → b → a");
}

#[test]
fn a_component_has_no_name() {
    let text = with_components("  web: { name: web }\n", "[web]");
    assert_error(&text, 15, 10, "components.web.name", "a component has no name: each unit that uses it has its own");
}

#[test]
fn a_component_field_of_the_wrong_type_is_reported_once_at_the_component() {
    let text = with_components("  web:\n    workload: { replicas: many }\n", "[web]");
    assert_error(&text, 16, 27, "components.web.workload.replicas", "\"many\" is not an integer");
    assert_eq!(problems(text.into_bytes()).len(), 1, "the unit that uses it adds no second report");
}

#[test]
fn a_rule_broken_by_a_merged_unit_points_into_the_component() {
    // Replicas suit a Deployment (the component's) but not the Job the unit makes of it.
    let text = with_components("  scaled:\n    workload: { replicas: 3 }\n", "[scaled]").replacen(
        "      kind: Deployment\n",
        "      kind: Job\n",
        1,
    );
    assert_error(&text, 16, 27, "services[1].workload.replicas", "Deployment and StatefulSet only");
}

// ---- imports ------------------------------------------------------------------------------

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
