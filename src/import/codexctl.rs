//! A codexctl services.yaml (codex-k8s/codexctl v1.0.x) → a kubectl-codex stack.
//!
//! codexctl executes the whole file as one Go template before it parses it; the file is valid
//! YAML before that (codexctl reads its header from the raw text), so it is read as YAML here
//! and every string with template syntax is translated on its own, with the variables the file
//! declares in its comments.

use super::context::{Importer, SourceFile, StringKind};
use super::environments::{self, REPAIR_ENV, SLOT_ENV};
use super::gotemplate::{self, InputKind};
use super::hooks;
use super::images;
use super::report::Action;
use super::units;
use super::Options;
use crate::config::path::FieldPath;
use crate::config::phase::Phase;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

pub fn convert(imp: &mut Importer, file: &SourceFile, raw: &str, options: &Options) -> Option<Map<String, Value>> {
    let root = file.document.value.as_object()?.clone();
    let Some(project) = root.get("project").and_then(Value::as_str).map(str::to_string) else {
        imp.error(file, "", "a codexctl file needs `project` (a string)");
        return None;
    };
    match gotemplate::file_variables(raw, &imp.scope) {
        Ok((variables, inputs)) => {
            if !variables.is_empty() {
                imp.note(
                    format!("{}:1", file.name),
                    "",
                    Action::Converted,
                    format!(
                        "file-level template variables ({}) inlined where they are used",
                        variables.keys().map(|k| format!("${k}")).collect::<Vec<_>>().join(", ")
                    ),
                );
            }
            imp.scope.variables = variables;
            imp.take_inputs(gotemplate::Translation { text: String::new(), inputs }, file.name, |p| {
                crate::config::diagnostics::Position { line: p.line, column: p.column }
            });
        }
        Err(error) => {
            let at = crate::config::diagnostics::Position { line: error.position.line, column: error.position.column };
            imp.errors.push(crate::config::diagnostics::Diagnostic::new(file.name, at, "", error.message.clone()));
            return None;
        }
    }

    let mut out = Map::new();
    out.insert("project".into(), json!({ "name": project }));
    imp.note_at(file, "project", "project.name", Action::Mapped, "the project name");
    if let Some(versions) = versions(imp, file, &root) {
        out.insert("versions".into(), versions);
    }
    env_files(imp, file, &root);
    defaults_from(imp, file, &root, "baseDomain", InputKind::BaseDomain);
    let workspace = storage(imp, file, &root);

    let images = images::convert(imp, file, "images", &options.out_dir);
    let mut cluster_scoped = BTreeSet::new();
    let context = UnitContext { options, images: &images };
    let infrastructure = unit_list(imp, file, &root, "infrastructure", Phase::Stateful, &context, &mut cluster_scoped);
    let services = unit_list(imp, file, &root, "services", Phase::Internal, &context, &mut cluster_scoped);
    let environments = environments(imp, file, &root, images.registry.as_deref(), &cluster_scoped);
    out.insert("environments".into(), Value::Object(environments));
    if !images.images.is_empty() {
        out.insert("images".into(), Value::Object(images.images.clone()));
    }
    if let Some(workspace) = workspace {
        out.insert("workspace".into(), workspace);
    }
    out.insert("infrastructure".into(), Value::Array(infrastructure));
    out.insert("services".into(), Value::Array(services));

    if let Some(set) = root.get("hooks") {
        hooks::report_set(imp, file, "hooks", set);
    }
    not_carried(imp, file, &root);
    Some(out)
}

fn versions(imp: &mut Importer, file: &SourceFile, root: &Map<String, Value>) -> Option<Value> {
    let versions = root.get("versions")?.as_object()?;
    let mut out = Map::new();
    for (name, value) in versions {
        let at = FieldPath::key("versions", name);
        let text = match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        if gotemplate::is_go_template(&text) {
            imp.note_at(
                file,
                &at,
                "",
                Action::NotCarried,
                "a templated version: kubectl-codex versions are plain values; set it with an input instead",
            );
            continue;
        }
        out.insert(name.clone(), json!(text));
    }
    imp.note_at(file, "versions", "versions", Action::Mapped, "named versions, read by templates as versions.<name>");
    Some(Value::Object(out))
}

/// `envFiles`: their keys become input defaults (values of secret-looking keys stay out).
fn env_files(imp: &mut Importer, file: &SourceFile, root: &Map<String, Value>) {
    let Some(list) = root.get("envFiles").and_then(Value::as_array) else { return };
    for (index, entry) in list.iter().enumerate() {
        let at = FieldPath::index("envFiles", index);
        let Some(relative) = entry.as_str() else { continue };
        let text = match crate::config::manifest_file::read(&imp.source_root, relative) {
            Ok((_, text)) => text,
            Err(reason) => {
                imp.note_at(
                    file,
                    &at,
                    "",
                    Action::NotCarried,
                    format!("env file \"{relative}\": {reason}; its keys are inputs without defaults"),
                );
                continue;
            }
        };
        let pairs = super::dotenv::parse(&text);
        imp.env_defaults.extend(pairs.into_iter().map(|(k, v)| (k, (v, relative.to_string()))));
        imp.note_at(file, &at, "inputs", Action::Converted, format!("keys of {relative} are inputs; their values are defaults in inputs.example.yaml (never in services.yaml)"));
    }
}

/// `baseDomain` (env → domain): the defaults of inputs `baseDomain_<env>`.
fn defaults_from(imp: &mut Importer, file: &SourceFile, root: &Map<String, Value>, key: &str, kind: InputKind) {
    let Some(map) = root.get(key).and_then(Value::as_object) else { return };
    for (name, value) in map {
        if let Some(text) = value.as_str() {
            imp.known_defaults.insert(super::context::input_name(kind, &[name]), text.to_string());
        }
    }
    imp.note_at(
        file,
        key,
        "inputs",
        Action::Converted,
        format!("{key}.<env> is the input {}_<env>, its value the default", key),
    );
}

/// `storage.{workspace,data,registry}`: inputs for manifests, and the workspace claim.
fn storage(imp: &mut Importer, file: &SourceFile, root: &Map<String, Value>) -> Option<Value> {
    let storage = root.get("storage")?.as_object()?;
    for (volume, spec) in storage {
        for (field, value) in spec.as_object().into_iter().flatten() {
            let text = match value {
                Value::String(text) => text.clone(),
                Value::Array(items) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","),
                other => other.to_string(),
            };
            imp.known_defaults.insert(super::context::input_name(InputKind::Storage, &[volume, field]), text);
        }
    }
    imp.note_at(
        file,
        "storage",
        "inputs",
        Action::Converted,
        "storage.<volume>.<field> is the input storage_<volume>_<field> for manifests, its value the default",
    );
    let workspace = storage.get("workspace")?.as_object()?;
    let mut out = Map::new();
    if let Some(size) = workspace.get("size").and_then(Value::as_str) {
        out.insert("size".into(), json!(size));
    }
    if let Some(class) = workspace.get("storageClass").and_then(Value::as_str) {
        out.insert("storageClassName".into(), json!(class));
    }
    if let Some(mode) =
        workspace.get("accessModes").and_then(Value::as_array).and_then(|m| m.first()).and_then(Value::as_str)
    {
        out.insert("accessMode".into(), json!(mode));
    }
    imp.note_at(
        file,
        "storage.workspace",
        "workspace",
        Action::Mapped,
        "the shared workspace claim: size, storage class, access mode",
    );
    Some(Value::Object(out))
}

/// What converting a unit needs to know of the rest of the stack.
struct UnitContext<'a> {
    options: &'a Options,
    images: &'a images::Images,
}

fn unit_list(
    imp: &mut Importer,
    file: &SourceFile,
    root: &Map<String, Value>,
    section: &str,
    default_phase: Phase,
    context: &UnitContext,
    cluster_scoped: &mut BTreeSet<String>,
) -> Vec<Value> {
    let phases = &context.options.phases;
    let mut out = Vec::new();
    for (index, value) in root.get(section).and_then(Value::as_array).into_iter().flatten().enumerate() {
        let Some(unit) = units::named(imp, file, section, section, index, value) else { continue };
        let (phase, how) = match phases.get(&unit.name).or_else(|| phases.get(unit.source_name)) {
            Some(phase) => (*phase, "set by --phase"),
            None => (
                default_phase,
                "codexctl has no phases: the default for its section, change it with --phase NAME=PHASE",
            ),
        };
        let mut converted = units::convert(imp, file, &unit, phase, Some(how), cluster_scoped);
        if let Some(when) = units::when(imp, file, &unit) {
            converted.insert("when".into(), json!(when));
        }
        let image_reason = "the first container of the Deployment named like the service runs this image (init containers keep their own)";
        if let Some(image) = units::image(imp, file, &unit, context.images, StringKind::Twice, image_reason) {
            converted.insert("image".into(), image);
        }
        if let Some(overlays) = value.get("overlays").and_then(Value::as_object) {
            let overlays = overlays_of(imp, file, &unit.path, overlays, &unit.target);
            if !overlays.is_empty() {
                converted.insert("overlays".into(), Value::Object(overlays));
            }
        }
        if value.get("ingress").is_some() {
            imp.note_at(
                file,
                &FieldPath::key(&unit.path, "ingress"),
                "",
                Action::Dropped,
                "ingress.hosts is read by nothing in codexctl; the Ingress of the manifests is deployed as written",
            );
        }
        if let Some(set) = value.get("hooks") {
            hooks::report_resource(imp, file, &FieldPath::key(&unit.path, "hooks"), set);
        }
        out.push(Value::Object(converted));
    }
    out
}

/// `overlays.<env>`: `dropKinds` and `pvcMounts` per environment; `hostMounts` not carried.
fn overlays_of(
    imp: &mut Importer,
    file: &SourceFile,
    path: &str,
    overlays: &Map<String, Value>,
    target: &str,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (env, overlay) in overlays {
        let at = FieldPath::key(&FieldPath::key(path, "overlays"), env);
        let mut converted = Map::new();
        if let Some(kinds) = overlay.get("dropKinds").and_then(Value::as_array) {
            converted.insert("dropKinds".into(), Value::Array(kinds.clone()));
            imp.note_at(
                file,
                &FieldPath::key(&at, "dropKinds"),
                format!("{target}.overlays.{env}.dropKinds"),
                Action::Mapped,
                "documents of these kinds are left out in this environment",
            );
        }
        let mut claims = Vec::new();
        for (index, mount) in overlay.get("pvcMounts").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let mount_at = FieldPath::index(&FieldPath::key(&at, "pvcMounts"), index);
            let field = |key: &str| mount.get(key).and_then(Value::as_str).map(str::to_string);
            let (Some(claim), Some(mount_path)) = (field("claimName"), field("mountPath")) else {
                imp.error(file, &mount_at, "a pvcMount needs claimName and mountPath");
                continue;
            };
            let read_only = mount.get("readOnly").and_then(Value::as_bool).unwrap_or(false);
            if claim.to_ascii_lowercase().contains("workspace") {
                converted.insert("workspace".into(), json!({ "mountPath": mount_path, "readOnly": read_only }));
                imp.note_at(
                    file,
                    &mount_at,
                    format!("{target}.overlays.{env}.workspace"),
                    Action::Converted,
                    "a mount of the workspace claim is the shared workspace mount (every container of the unit's pods)",
                );
                continue;
            }
            let Some(claim) = imp.string(file, &FieldPath::key(&mount_at, "claimName"), &claim, StringKind::Once)
            else {
                continue;
            };
            let mut entry = Map::new();
            entry.insert("claimName".into(), json!(claim));
            entry.insert("mountPath".into(), json!(mount_path));
            if let Some(sub_path) = field("subPath") {
                entry.insert("subPath".into(), json!(sub_path));
            }
            if read_only {
                entry.insert("readOnly".into(), json!(true));
            }
            claims.push(Value::Object(entry));
            imp.note_at(
                file,
                &mount_at,
                format!("{target}.overlays.{env}.claims"),
                Action::Converted,
                "mounted into every container of the unit's pods (codexctl: the Deployment named like the service)",
            );
        }
        if !claims.is_empty() {
            converted.insert("claims".into(), Value::Array(claims));
        }
        if overlay.get("hostMounts").is_some() {
            imp.note_at(file, &FieldPath::key(&at, "hostMounts"), "", Action::NotCarried, "overlays.hostMounts: hostPath mounts reach the node's disk, which an isolated per-issue environment must not; use pvcMounts");
        }
        if !converted.is_empty() {
            out.insert(env.clone(), Value::Object(converted));
        }
    }
    out
}

fn environments(
    imp: &mut Importer,
    file: &SourceFile,
    root: &Map<String, Value>,
    registry: Option<&str>,
    cluster_scoped: &BTreeSet<String>,
) -> Map<String, Value> {
    let declared = root.get("environments").and_then(Value::as_object).cloned().unwrap_or_default();
    let patterns =
        root.get("namespace").and_then(|n| n.get("patterns")).and_then(Value::as_object).cloned().unwrap_or_default();
    let mut out = Map::new();
    for name in environment_names(imp, file, root, &declared, &patterns) {
        let path = FieldPath::key("environments", &name);
        let spec = declared.get(&name).cloned().unwrap_or(Value::Null);
        let mut env = Map::new();
        let shared = environments::Shared {
            source: &spec,
            idle_ttl: None,
            namespace: namespace(imp, file, &name, patterns.get(&name).and_then(Value::as_str)),
            slot_runtime_reason: "the ai environment is the agent's slot environment: runtime dev",
            registry,
            cluster_scoped,
        };
        environments::fill(imp, file, &path, &name, &mut env, shared);
        for (field, reason) in [
            ("slotBootstrapInfra", "slots are per-issue namespaces in kubectl-codex; their infrastructure is the stateful phase of every up"),
            ("localRegistry", "parsed but used by nothing in codexctl; the registry is the environment's `registry`"),
            ("kubeconfig", "kubectl-codex uses the current kubeconfig and context (KUBECONFIG)"),
            ("context", "kubectl-codex uses the current kubeconfig and context (KUBECONFIG)"),
        ] {
            if spec.get(field).is_some() {
                imp.note_at(file, &FieldPath::key(&path, field), "", Action::NotCarried, format!("environments.{name}.{field}: {reason}"));
            }
        }
        out.insert(name, Value::Object(env));
    }
    if !cluster_scoped.is_empty() {
        imp.note(
            format!("{}:1", file.name),
            "environments.*.allowClusterScoped",
            Action::Converted,
            format!("manifests install cluster-scoped kinds ({}), which codexctl applies as it finds them; every environment allows them, and they are shared by all environments of the cluster", cluster_scoped.iter().cloned().collect::<Vec<_>>().join(", ")),
        );
    }
    out
}

/// Every environment the file names: declared, given a namespace pattern or a base domain;
/// `production` when none is.
fn environment_names(
    imp: &mut Importer,
    file: &SourceFile,
    root: &Map<String, Value>,
    declared: &Map<String, Value>,
    patterns: &Map<String, Value>,
) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = declared.keys().cloned().collect();
    names.extend(patterns.keys().cloned());
    if let Some(domains) = root.get("baseDomain").and_then(Value::as_object) {
        names.extend(domains.keys().cloned());
    }
    if names.is_empty() {
        names.insert("production".into());
        imp.note(
            format!("{}:1", file.name),
            "environments.production",
            Action::Converted,
            "no environment is declared: one named production",
        );
    }
    names
}

/// The namespace of environment `name`: its `namespace.patterns` entry, translated; the slot
/// environment's is fixed, as in codexctl.
fn namespace(imp: &mut Importer, file: &SourceFile, name: &str, pattern: Option<&str>) -> Option<String> {
    let pattern_path = FieldPath::key("namespace.patterns", name);
    match (name, pattern) {
        (SLOT_ENV, pattern) => {
            if pattern.is_some() {
                imp.note_at(file, &pattern_path, format!("environments.{name}.namespace"), Action::Converted, "codexctl forces <project>-dev-<slot> for the ai environment whatever its pattern says; so does the import");
            }
            Some("{{ project }}-dev-{{ slot }}".to_string())
        }
        (_, Some(pattern)) => {
            let translated = imp.string(file, &pattern_path, pattern, StringKind::Once);
            if translated.is_some() {
                imp.note_at(
                    file,
                    &pattern_path,
                    format!("environments.{name}.namespace"),
                    Action::Mapped,
                    "namespace pattern",
                );
            }
            translated
        }
        (REPAIR_ENV, None) => Some("{{ project }}-ai-staging".to_string()),
        (_, None) => None,
    }
}

/// Top-level keys kubectl-codex has no place for.
fn not_carried(imp: &mut Importer, file: &SourceFile, root: &Map<String, Value>) {
    let known = [
        "project",
        "envFiles",
        "versions",
        "baseDomain",
        "storage",
        "images",
        "environments",
        "namespace",
        "infrastructure",
        "services",
        "hooks",
    ];
    let reasons: BTreeMap<&str, &str> = BTreeMap::from([
        ("codex", "the agent's prompt, model and MCP configuration belong to the agent, not to the environment; describe the agent's image, command and RBAC under `agent`"),
        ("state", "slot records in ConfigMaps: kubectl-codex keeps each environment's state on its namespace (lease, TTL annotations)"),
        ("maxSlots", "read by nothing in codexctl; per-issue namespaces need no slot cap"),
        ("registry", "read by nothing in codexctl; the registry is each environment's `registry`"),
    ]);
    for key in root.keys() {
        if known.contains(&key.as_str()) {
            continue;
        }
        let reason = reasons.get(key.as_str()).copied().unwrap_or("a field codexctl does not read either");
        let action = if reasons.contains_key(key.as_str()) && key != "maxSlots" && key != "registry" {
            Action::NotCarried
        } else {
            Action::Dropped
        };
        imp.note(imp.at_key(file, key), "", action, format!("{key}: {reason}"));
    }
}
