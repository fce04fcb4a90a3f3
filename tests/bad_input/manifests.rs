//! Manifest-only units: their files, documents, patches and image edits.

use super::*;

#[test]
fn extra_manifests_stay_inside_the_directory_of_services_yaml() {
    for (file, fragment) in [("/dev/zero", "must be a relative path"), ("../../etc/passwd", "must be a relative path")]
    {
        let text = format!("{MINIMAL}    manifests: [\"{file}\"]\n");
        let line = text.lines().count();
        assert_error(&text, line, 17, "services[1].manifests[0]", fragment);
    }
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
