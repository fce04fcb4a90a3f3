//! The stack's own rules: fields, kinds, phases, dependencies, environments and images.

use super::*;

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
