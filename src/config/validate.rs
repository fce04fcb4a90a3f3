//! Checks that need the whole document: names, references, phases, cycles, exclusive choices.
//! These hold for every environment, so they run once, before any environment is resolved.

use super::diagnostics::{excerpt, Diagnostics};
use super::duration;
use super::isolation;
use super::model::{
    AccessMode, Container, ContainerPort, Document, EnvFrom, EnvValue, Environment, HttpCheck, Port, PortRef, Probe,
    TaintEffect, TolerationOperator, Unit, Volume, Workload, WorkloadKind, API_VERSION, KIND,
};
use super::path::FieldPath;
use super::schema::closest;
use super::source::SourceDocument;
use crate::config::phase::Phase;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Longest unit name: Jobs get a `-<8 hex>` digest suffix and must stay within 63 characters.
pub const MAX_UNIT_NAME: usize = 54;

/// A unit together with where it sits in the document.
pub struct UnitRef<'a> {
    pub unit: &'a Unit,
    /// `infrastructure[2]` or `services[0]`.
    pub path: String,
    pub phase: Option<Phase>,
}

/// Infrastructure first, then services, each in file order; phase defaults applied.
pub fn units(document: &Document) -> Vec<UnitRef<'_>> {
    let infrastructure = document.infrastructure.iter().enumerate().map(|(i, unit)| UnitRef {
        unit,
        path: FieldPath::index("infrastructure", i),
        phase: Some(unit.phase.unwrap_or(Phase::Stateful)),
    });
    let services = document.services.iter().enumerate().map(|(i, unit)| UnitRef {
        unit,
        path: FieldPath::index("services", i),
        phase: unit.phase,
    });
    infrastructure.chain(services).collect()
}

/// Whether `name` is a DNS-1123 label of at most `max` characters.
pub fn is_dns_label(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

pub fn check(document: &Document, source: &SourceDocument) -> Diagnostics {
    let mut errors = Diagnostics::default();
    if document.api_version != API_VERSION {
        errors.push(source.error_at(
            "apiVersion",
            format!(
                "unsupported apiVersion \"{}\"; this release reads \"{API_VERSION}\"",
                excerpt(&document.api_version)
            ),
        ));
    }
    if document.kind != KIND {
        errors.push(source.error_at("kind", format!("kind must be \"{KIND}\", not \"{}\"", excerpt(&document.kind))));
    }
    if !is_dns_label(&document.project.name, 40) {
        errors.push(source.error_at(
            "project.name",
            format!(
                "\"{}\" is not a DNS-1123 label of at most 40 characters (lowercase letters, digits, '-')",
                excerpt(&document.project.name)
            ),
        ));
    }
    check_environments(document, source, &mut errors);
    super::inputs::check(document, source, &mut errors);
    super::secrets::check(document, source, &mut errors);
    check_images(document, source, &mut errors);
    let units = units(document);
    check_units(document, &units, source, &mut errors);
    if let Some(size) = document.workspace.as_ref().and_then(|w| w.size.as_ref()) {
        if !is_quantity(size) {
            errors.push(source.error_at(
                "workspace.size",
                format!("\"{}\" is not a Kubernetes quantity such as 1Gi or 500Mi", excerpt(size)),
            ));
        }
    }
    check_dependencies(document, &units, source, &mut errors);
    if let Some(agent) = &document.agent {
        check_image_reference(document, &agent.image, "agent.image", source, &mut errors);
    }
    errors
}

/// `ingress` and `egress` entries are CIDRs, `namespace/<name>`, or environments of this file
/// (not the environment itself: its own namespace is always allowed); quota fields are
/// Kubernetes quantities.
fn check_isolation(
    environment: &Environment,
    path: &str,
    names: &[String],
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    for (field, entries) in [("ingress", &environment.ingress), ("egress", &environment.egress)] {
        let field_path = FieldPath::key(path, field);
        for (index, entry) in entries.iter().flatten().enumerate() {
            let known = match isolation::peer_kind(entry) {
                isolation::PeerKind::Cidr | isolation::PeerKind::Namespace(_) => true,
                isolation::PeerKind::EnvironmentName => names.iter().any(|name| name == entry),
            };
            if !known {
                errors.push(source.error_at(
                    &FieldPath::index(&field_path, index),
                    format!(
                        "{field} entry \"{}\" is neither a CIDR (e.g. 10.20.0.0/16), nor {}<name> (a namespace \
                         name: lowercase letters, digits, '-'), nor an environment of this file (declared: {})",
                        excerpt(entry),
                        isolation::NAMESPACE_PEER_PREFIX,
                        names.join(", ")
                    ),
                ));
            }
        }
    }
    let Some(quota) = &environment.quota else {
        return;
    };
    let quota_path = FieldPath::key(path, "quota");
    let defaults_path = FieldPath::key(&quota_path, "containerDefaults");
    let defaults = quota.container_defaults.clone().unwrap_or_default();
    let fields = [
        (FieldPath::key(&quota_path, "cpu"), &quota.cpu),
        (FieldPath::key(&quota_path, "memory"), &quota.memory),
        (FieldPath::key(&quota_path, "storage"), &quota.storage),
        (FieldPath::key(&defaults_path, "cpu"), &defaults.cpu),
        (FieldPath::key(&defaults_path, "memory"), &defaults.memory),
        (FieldPath::key(&defaults_path, "memoryLimit"), &defaults.memory_limit),
    ];
    for (field, value) in &fields {
        if let Some(value) = value {
            if !is_quantity(value) {
                errors.push(source.error_at(
                    field,
                    format!("\"{}\" is not a Kubernetes quantity (e.g. 500m, 2, 4Gi)", excerpt(value)),
                ));
            }
        }
    }
}

fn check_environments(document: &Document, source: &SourceDocument, errors: &mut Diagnostics) {
    if document.environments.is_empty() {
        errors.push(source.error_at("environments", "at least one environment is required"));
    }
    let names: Vec<String> = document.environments.keys().cloned().collect();
    for (name, environment) in &document.environments {
        let path = FieldPath::key("environments", name);
        if !is_dns_label(name, 20) {
            errors.push(source.error_at_key(
                &path,
                format!("environment name \"{}\" must be a DNS-1123 label of at most 20 characters", excerpt(name)),
            ));
        }
        if let Some(from) = &environment.from {
            if !document.environments.contains_key(from) {
                errors.push(source.error_at(&FieldPath::key(&path, "from"), unknown("environment", from, &names)));
            }
        }
        if let Some(ttl) = &environment.idle_ttl {
            if let Err(message) = duration::parse(ttl) {
                errors.push(source.error_at(&FieldPath::key(&path, "idleTTL"), message));
            }
        }
        check_isolation(environment, &path, &names, source, errors);
        // Follow `from` and report a cycle once, at the environment that closes it.
        let mut seen = vec![name.clone()];
        let mut current = environment.from.clone();
        while let Some(next) = current {
            if seen.contains(&next) {
                if &next == name {
                    seen.push(next);
                    errors.push(source.error_at(
                        &FieldPath::key(&path, "from"),
                        format!("environment inheritance cycle: {}", seen.join(" -> ")),
                    ));
                }
                break;
            }
            seen.push(next.clone());
            current = document.environments.get(&next).and_then(|e| e.from.clone());
        }
    }
}

fn check_images(document: &Document, source: &SourceDocument, errors: &mut Diagnostics) {
    for (name, image) in &document.images {
        let path = FieldPath::key("images", name);
        let kinds: Vec<&str> = [
            image.reference.as_ref().map(|_| "ref"),
            image.build.as_ref().map(|_| "build"),
            image.mirror.as_ref().map(|_| "mirror"),
        ]
        .into_iter()
        .flatten()
        .collect();
        match kinds.as_slice() {
            [] => errors.push(source.error_at(
                &path,
                "an image needs \"ref\" (an existing image), \"build\" (one we build) or \"mirror\" (one we copy)",
            )),
            [_] => {}
            [first, second, ..] => errors.push(source.error_at(
                &path,
                format!("an image has either \"ref\", \"build\" or \"mirror\", not both \"{first}\" and \"{second}\""),
            )),
        }
        if kinds == ["ref"] && (image.repository.is_some() || image.tag.is_some()) {
            errors.push(source.error_at(
                &path,
                "\"repository\" and \"tag\" apply to built and mirrored images only; put them in \"ref\"",
            ));
        }
        if let Some(mirror) = &image.mirror {
            if !super::template::is_template(mirror) {
                if let Err(why) = super::reference::parse(mirror) {
                    errors.push(source.error_at(&FieldPath::key(&path, "mirror"), not_a_mirror_source(mirror, &why)));
                }
            }
        }
        if let Some(build) = &image.build {
            check_build_contexts(build, &FieldPath::key(&path, "build"), source, errors);
        }
    }
}

/// The message for a `mirror` that is no image reference.
pub fn not_a_mirror_source(mirror: &str, why: &str) -> String {
    format!(
        "\"{}\" is not an image reference: {why}; write [registry/]repository[:tag][@sha256:digest], e.g. \"docker.io/library/redis:7-bookworm\"",
        excerpt(mirror)
    )
}

/// Names BuildKit reserves for the main context and the Dockerfile's directory.
const RESERVED_CONTEXTS: [&str; 2] = ["context", "dockerfile"];

/// `build.contexts`: names BuildKit takes (`--local NAME=…`, `FROM NAME` / `COPY --from=NAME`),
/// paths relative to services.yaml that stay inside its directory (checked on disk when the
/// environment is resolved).
fn check_build_contexts(build: &super::model::Build, path: &str, source: &SourceDocument, errors: &mut Diagnostics) {
    let contexts = FieldPath::key(path, "contexts");
    for (name, dir) in &build.contexts {
        let at = FieldPath::key(&contexts, name);
        let name_ok = !name.is_empty()
            && name.len() <= 128
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            && name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
        if !name_ok {
            errors.push(source.error_at_key(
                &at,
                format!(
                    "\"{}\" is not a build context name (letters, digits, '-', '_' and '.', starting with a letter or digit)",
                    excerpt(name)
                ),
            ));
        } else if RESERVED_CONTEXTS.contains(&name.as_str()) {
            errors.push(source.error_at_key(
                &at,
                format!(
                    "\"{name}\" is the name BuildKit gives the main build context or the Dockerfile; choose another"
                ),
            ));
        }
        if let Err(message) = super::manifest_file::check_relative(dir) {
            errors.push(source.error_at(&at, message));
        }
    }
}

fn check_image_reference(
    document: &Document,
    image: &str,
    path: &str,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    let literal = image.contains('/') || image.contains(':') || super::template::is_template(image);
    if !document.images.contains_key(image) && !literal {
        let names: Vec<String> = document.images.keys().cloned().collect();
        errors.push(source.error_at(path, unknown("image", image, &names)));
    }
}

fn unknown(what: &str, name: &str, known: &[String]) -> String {
    let mut message = format!("unknown {what} \"{}\"", excerpt(name));
    match closest(name, known) {
        Some(near) => message.push_str(&format!("; did you mean \"{near}\"?")),
        None if known.is_empty() => message.push_str(&format!("; no {what}s are declared")),
        None => message.push_str(&format!("; known: {}", known.join(", "))),
    }
    message
}

fn check_units(document: &Document, units: &[UnitRef<'_>], source: &SourceDocument, errors: &mut Diagnostics) {
    let mut first_seen: HashMap<&str, &str> = HashMap::new();
    for entry in units {
        let name_path = FieldPath::key(&entry.path, "name");
        if let Some(previous) = first_seen.insert(&entry.unit.name, &entry.path) {
            errors.push(source.error_at(
                &name_path,
                format!("duplicate unit name \"{}\" (first declared at {previous})", entry.unit.name),
            ));
        }
        check_unit(document, entry, source, errors);
    }
}

/// Every rule about one unit on its own. Resolution runs it again on a unit with its
/// overlays applied, so an overlay cannot smuggle in what the base unit may not have.
pub fn check_unit(document: &Document, entry: &UnitRef<'_>, source: &SourceDocument, errors: &mut Diagnostics) {
    {
        let unit = entry.unit;
        let path = &entry.path;
        let name_path = FieldPath::key(path, "name");
        if !is_dns_label(&unit.name, MAX_UNIT_NAME) {
            errors.push(source.error_at(
                &name_path,
                format!("\"{}\" is not a DNS-1123 label of at most {MAX_UNIT_NAME} characters", excerpt(&unit.name)),
            ));
        }
        if entry.phase.is_none() {
            errors.push(source.error_at(
                path,
                "missing required field \"phase\" (one of: stateful, migrations, internal, edge, frontend)",
            ));
        }
        for env in unit.overlays.keys() {
            if !document.environments.contains_key(env) {
                let names: Vec<String> = document.environments.keys().cloned().collect();
                errors.push(source.error_at_key(
                    &FieldPath::key(&FieldPath::key(path, "overlays"), env),
                    unknown("environment", env, &names),
                ));
            }
        }
        let port_names = match &unit.workload {
            Some(workload) => {
                check_workload(document, &unit.name, workload, &FieldPath::key(path, "workload"), source, errors)
            }
            None => {
                if unit.manifests.is_empty() {
                    errors.push(
                        source.error_at(path, "a unit needs a \"workload\", or \"manifests\" to consist of, or both"),
                    );
                }
                BTreeSet::new()
            }
        };
        if unit.image.is_some() && unit.manifests.is_empty() {
            errors.push(source.error_at(
                &FieldPath::key(path, "image"),
                "\"image\" sets containers of the unit's manifests, and this unit has none (a typed workload takes workload.image)",
            ));
        }
        if let Some(image) = &unit.image {
            check_image_reference(
                document,
                &image.name,
                &FieldPath::key(&FieldPath::key(path, "image"), "name"),
                source,
                errors,
            );
        }
        let runs_to_completion = unit.workload.as_ref().is_none_or(|w| w.kind.runs_to_completion());
        if unit.hooks.as_ref().is_some_and(|h| !h.readiness.is_empty()) && unit.workload.is_none() {
            errors.push(source.error_at(
                &FieldPath::key(path, "hooks"),
                "readiness hooks belong to a typed workload; a manifest unit is gated on its objects' own readiness",
            ));
        }
        if let Some(hooks) = &unit.hooks {
            let hooks_path = FieldPath::key(&FieldPath::key(path, "hooks"), "readiness");
            for (i, hook) in hooks.readiness.iter().enumerate() {
                let hook_path = FieldPath::index(&hooks_path, i);
                let chosen =
                    [hook.http.is_some(), hook.tcp.is_some(), hook.job.is_some()].iter().filter(|b| **b).count();
                if chosen != 1 {
                    errors.push(
                        source.error_at(&hook_path, "a readiness hook has exactly one of \"http\", \"tcp\", \"job\""),
                    );
                }
                if let Some(http) = &hook.http {
                    check_http(http, &FieldPath::key(&hook_path, "http"), &port_names, source, errors);
                }
                if let Some(tcp) = &hook.tcp {
                    check_port_ref(
                        &tcp.port,
                        &FieldPath::key(&FieldPath::key(&hook_path, "tcp"), "port"),
                        &port_names,
                        source,
                        errors,
                    );
                }
                if let Some(job) = &hook.job {
                    check_image_reference(
                        document,
                        &job.image,
                        &FieldPath::key(&FieldPath::key(&hook_path, "job"), "image"),
                        source,
                        errors,
                    );
                }
                if let Some(timeout) = &hook.timeout {
                    if let Err(message) = duration::parse(timeout) {
                        errors.push(source.error_at(&FieldPath::key(&hook_path, "timeout"), message));
                    }
                }
                if (hook.http.is_some() || hook.tcp.is_some()) && runs_to_completion {
                    errors.push(source.error_at(
                        &hook_path,
                        "http and tcp hooks need the Service of a typed workload; Jobs, CronJobs and manifest-only units have none",
                    ));
                }
            }
        }
        if let Some(ingress) = &unit.ingress {
            if runs_to_completion {
                let what = unit
                    .workload
                    .as_ref()
                    .map_or("a unit without a workload".to_string(), |w| format!("a {}", w.kind.as_str()));
                errors.push(source.error_at(
                    &FieldPath::key(path, "ingress"),
                    format!("an ingress needs the Service of a typed workload; {what} has none (a manifest unit brings its own Ingress)"),
                ));
            } else if port_names.is_empty() {
                errors.push(source.error_at(
                    &FieldPath::key(path, "ingress"),
                    "an ingress needs at least one port in workload.ports",
                ));
            }
            if let Some(port) = &ingress.port {
                if !port_names.contains(port.as_str()) {
                    errors.push(source.error_at(
                        &FieldPath::key(&FieldPath::key(path, "ingress"), "port"),
                        format!("no port named \"{}\" in workload.ports", excerpt(port)),
                    ));
                }
            }
        }
    }
}

/// The rules of a typed workload; returns its port names for probes, hooks and ingress.
fn check_workload<'a>(
    document: &Document,
    unit_name: &str,
    workload: &'a Workload,
    workload_path: &str,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) -> BTreeSet<&'a str> {
    check_image_reference(document, &workload.image, &FieldPath::key(workload_path, "image"), source, errors);
    match (workload.kind, &workload.schedule) {
        (WorkloadKind::CronJob, None) => errors.push(source.error_at(workload_path, "a CronJob needs \"schedule\"")),
        (kind, Some(_)) if kind != WorkloadKind::CronJob => errors.push(source.error_at(
            &FieldPath::key(workload_path, "schedule"),
            format!("\"schedule\" applies to CronJob only, not {}", kind.as_str()),
        )),
        _ => {}
    }
    if workload.replicas.is_some() && !matches!(workload.kind, WorkloadKind::Deployment | WorkloadKind::StatefulSet) {
        errors.push(source.error_at(
            &FieldPath::key(workload_path, "replicas"),
            "\"replicas\" applies to Deployment and StatefulSet only",
        ));
    }
    let port_names = check_ports(workload, workload_path, source, errors);
    let volume_names = check_volumes(workload, workload_path, source, errors);
    check_env(document, &workload.env, &workload.env_from, workload_path, source, errors);
    let containers = Containers { unit_name, volumes: &volume_names, main_ports: &workload.ports };
    containers.check(document, workload, workload_path, source, errors);
    check_pod_metadata(workload, workload_path, source, errors);
    if let Some(probes) = &workload.probes {
        let probes_path = FieldPath::key(workload_path, "probes");
        for (name, probe) in
            [("readiness", &probes.readiness), ("liveness", &probes.liveness), ("startup", &probes.startup)]
        {
            if let Some(probe) = probe {
                check_probe(probe, &FieldPath::key(&probes_path, name), &port_names, source, errors);
            }
        }
    }
    port_names
}

/// Names, mount paths and sources of `workload.volumes`; returns the volume names.
fn check_volumes<'a>(
    workload: &'a Workload,
    workload_path: &str,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) -> BTreeSet<&'a str> {
    let mut volume_names = BTreeSet::new();
    for (i, volume) in workload.volumes.iter().enumerate() {
        let volume_path = FieldPath::index(&FieldPath::key(workload_path, "volumes"), i);
        if !is_dns_label(&volume.name, 63) {
            errors.push(source.error_at(
                &FieldPath::key(&volume_path, "name"),
                format!("\"{}\" is not a DNS-1123 label", excerpt(&volume.name)),
            ));
        } else if volume.name == "codex-workspace" {
            errors.push(source.error_at(
                &FieldPath::key(&volume_path, "name"),
                "\"codex-workspace\" is the volume of the workspace mount; choose another name",
            ));
        }
        if !volume_names.insert(volume.name.as_str()) {
            errors.push(
                source.error_at(
                    &FieldPath::key(&volume_path, "name"),
                    format!("duplicate volume name \"{}\"", volume.name),
                ),
            );
        }
        check_absolute(&volume.mount_path, &FieldPath::key(&volume_path, "mountPath"), source, errors);
        if let Some(size) = &volume.size {
            check_quantity(size, &FieldPath::key(&volume_path, "size"), source, errors);
        }
        check_volume_source(workload.kind, volume, &volume_path, source, errors);
    }
    volume_names
}

/// At most one source; the owned claim's fields only without one; names that Kubernetes takes.
fn check_volume_source(
    kind: WorkloadKind,
    volume: &Volume,
    volume_path: &str,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    let sources = volume.sources();
    if let [first, second, ..] = sources.as_slice() {
        errors.push(source.error_at(
            &FieldPath::key(volume_path, second),
            format!(
                "\"{second}\" and \"{first}\" are both set: a volume has one source at most (configMap, secret, emptyDir or claimName; none: a claim the unit owns)"
            ),
        ));
    }
    if let Some(from) = sources.first() {
        let owned = [
            ("size", volume.size.is_some()),
            ("accessMode", volume.access_mode.is_some()),
            ("storageClassName", volume.storage_class_name.is_some()),
        ];
        for (field, _) in owned.iter().filter(|(_, set)| *set) {
            errors.push(source.error_at(
                &FieldPath::key(volume_path, field),
                format!("\"{field}\" applies to a claim the unit owns, not to a volume with \"{from}\""),
            ));
        }
    } else if kind == WorkloadKind::DaemonSet
        && matches!(
            volume.access_mode.unwrap_or(AccessMode::ReadWriteOnce),
            AccessMode::ReadWriteOnce | AccessMode::ReadWriteOncePod
        )
    {
        errors.push(source.error_at(
            volume_path,
            "a DaemonSet runs a pod on every node, which cannot all attach one ReadWriteOnce claim; use accessMode ReadWriteMany or ReadOnlyMany, or a source (emptyDir, claimName, …)",
        ));
    }
    for (field, name) in
        [("configMap", &volume.config_map), ("secret", &volume.secret), ("claimName", &volume.claim_name)]
    {
        if let Some(name) = name {
            check_object_name(name, &FieldPath::key(volume_path, field), source, errors);
        }
    }
    if let Some(empty_dir) = &volume.empty_dir {
        let path = FieldPath::key(volume_path, "emptyDir");
        if let Some(limit) = &empty_dir.size_limit {
            check_quantity(limit, &FieldPath::key(&path, "sizeLimit"), source, errors);
        }
        if let Some(medium) = &empty_dir.medium {
            if !(medium.is_empty() || medium == "Memory" || medium == "HugePages" || medium.starts_with("HugePages-")) {
                errors.push(source.error_at(
                    &FieldPath::key(&path, "medium"),
                    format!(
                        "\"{}\" is not a medium; use \"Memory\" (tmpfs), \"HugePages\" or leave it out (disk)",
                        excerpt(medium)
                    ),
                ));
            }
        }
    }
}

/// `env` values taken from elsewhere name exactly one source; `envFrom` entries one object.
/// The short forms (`secret`, `configMap`, `field`) take `key` where it applies, and `secret`
/// names a Secret of `secrets` and one of its keys; the Kubernetes forms may name any object.
fn check_env(
    document: &Document,
    env: &BTreeMap<String, EnvValue>,
    env_from: &[EnvFrom],
    path: &str,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    for (name, value) in env {
        let EnvValue::From(from) = value else { continue };
        let at = FieldPath::key(&FieldPath::key(path, "env"), name);
        let sources = from.sources();
        if sources.len() != 1 {
            errors.push(source.error_at(
                &at,
                "a value taken from elsewhere has exactly one of \"secret\", \"configMap\", \"field\" \
                 (or the Kubernetes forms \"secretKeyRef\", \"configMapKeyRef\", \"fieldRef\")",
            ));
            continue;
        }
        let short_object = matches!(sources[0], "secret" | "configMap");
        if short_object && from.key.is_none() {
            errors.push(source.error_at(
                &at,
                format!(
                    "\"{}\" needs \"key\": the key of the object to read, e.g. {{ {}: NAME, key: KEY }}",
                    sources[0], sources[0]
                ),
            ));
        }
        if !short_object && (from.key.is_some() || from.optional.is_some()) {
            let field = if from.key.is_some() { "key" } else { "optional" };
            errors.push(source.error_at(
                &FieldPath::key(&at, field),
                format!(
                    "\"{field}\" goes with \"secret\" or \"configMap\" (inside \"{}\" for the Kubernetes form)",
                    sources[0]
                ),
            ));
        }
        if let Some(field) = &from.field {
            if field.is_empty() {
                errors.push(source.error_at(&FieldPath::key(&at, "field"), "a field path such as metadata.name"));
            }
        }
        if let Some(secret) = &from.secret {
            check_secret_reference(
                document,
                secret,
                from.key.as_deref(),
                &FieldPath::key(&at, "secret"),
                source,
                errors,
            );
        } else if let Some(selector) = &from.secret_key_ref {
            // The Kubernetes form may name a Secret made elsewhere; one of ours must have the key.
            if document.secrets.contains_key(&selector.name) {
                let key_at = FieldPath::key(&FieldPath::key(&at, "secretKeyRef"), "name");
                check_secret_reference(document, &selector.name, Some(&selector.key), &key_at, source, errors);
            }
        }
        if let Some(name) = &from.config_map {
            check_object_name(name, &FieldPath::key(&at, "configMap"), source, errors);
        }
    }
    for (i, entry) in env_from.iter().enumerate() {
        let entry_path = FieldPath::index(&FieldPath::key(path, "envFrom"), i);
        let chosen: Vec<(&str, &String)> = [
            ("secret", &entry.secret),
            ("configMap", &entry.config_map),
            ("secretRef", &entry.secret_ref),
            ("configMapRef", &entry.config_map_ref),
        ]
        .into_iter()
        .filter_map(|(field, value)| Some((field, value.as_ref()?)))
        .collect();
        match chosen.as_slice() {
            [("secret", name)] => {
                check_secret_reference(document, name, None, &FieldPath::key(&entry_path, "secret"), source, errors)
            }
            [(field, name)] => check_object_name(name, &FieldPath::key(&entry_path, field), source, errors),
            _ => errors.push(source.error_at(
                &entry_path,
                "an envFrom entry has exactly one of \"secret\", \"configMap\", \"secretRef\", \"configMapRef\"",
            )),
        }
    }
}

/// `secret` must be declared in `secrets`, and `key` (when given) one of its keys.
fn check_secret_reference(
    document: &Document,
    secret: &str,
    key: Option<&str>,
    path: &str,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    let Some(declared) = document.secrets.get(secret) else {
        let known: Vec<String> = document.secrets.keys().cloned().collect();
        let mut message = unknown("secret", secret, &known);
        if known.is_empty() {
            message.push_str("; declare it under `secrets:`");
        }
        message.push_str(" (a Secret made elsewhere is read with the Kubernetes form secretKeyRef / secretRef)");
        errors.push(source.error_at(path, message));
        return;
    };
    if let Some(key) = key {
        let keys = declared.keys();
        if !keys.contains(key) {
            let known: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            errors.push(source.error_at(
                path,
                format!("secret \"{secret}\" has no key \"{}\"; its keys: {}", excerpt(key), known.join(", ")),
            ));
        }
    }
}

/// What init containers and sidecars are checked against.
struct Containers<'a> {
    unit_name: &'a str,
    volumes: &'a BTreeSet<&'a str>,
    main_ports: &'a [Port],
}

impl Containers<'_> {
    /// Names unique in the pod and not the main container's, images, env, mounts; sidecar
    /// ports unique in the pod (its containers share one network namespace).
    fn check(
        &self,
        document: &Document,
        workload: &Workload,
        path: &str,
        source: &SourceDocument,
        errors: &mut Diagnostics,
    ) {
        let mut names: HashMap<&str, String> = HashMap::new();
        let mut pod_ports: BTreeSet<&str> = self.main_ports.iter().map(|p| p.name.as_str()).collect();
        let mut pod_numbers: BTreeSet<u16> = self.main_ports.iter().map(|p| p.port).collect();
        for (list, field) in [(&workload.init_containers, "initContainers"), (&workload.containers, "containers")] {
            for (i, container) in list.iter().enumerate() {
                let container_path = FieldPath::index(&FieldPath::key(path, field), i);
                let name_path = FieldPath::key(&container_path, "name");
                if !is_dns_label(&container.name, 63) {
                    errors.push(
                        source
                            .error_at(&name_path, format!("\"{}\" is not a DNS-1123 label", excerpt(&container.name))),
                    );
                } else if container.name == self.unit_name {
                    errors.push(source.error_at(
                        &name_path,
                        format!("\"{}\" is the main container's name (the unit's); choose another", container.name),
                    ));
                } else if let Some(previous) = names.insert(&container.name, container_path.clone()) {
                    errors.push(source.error_at(
                        &name_path,
                        format!("duplicate container name \"{}\" (first declared at {previous})", container.name),
                    ));
                }
                check_image_reference(
                    document,
                    &container.image,
                    &FieldPath::key(&container_path, "image"),
                    source,
                    errors,
                );
                check_env(document, &container.env, &container.env_from, &container_path, source, errors);
                self.check_mounts(container, &container_path, source, errors);
                let sidecar = field == "containers";
                let (mut own_names, mut own_numbers) = (BTreeSet::new(), BTreeSet::new());
                let (port_names, port_numbers) =
                    if sidecar { (&mut pod_ports, &mut pod_numbers) } else { (&mut own_names, &mut own_numbers) };
                for (j, port) in container.ports.iter().enumerate() {
                    let port_path = FieldPath::index(&FieldPath::key(&container_path, "ports"), j);
                    check_container_port(port, &port_path, port_names, port_numbers, source, errors);
                }
            }
        }
    }

    fn check_mounts(&self, container: &Container, path: &str, source: &SourceDocument, errors: &mut Diagnostics) {
        let mut paths = BTreeSet::new();
        for (i, mount) in container.volume_mounts.iter().enumerate() {
            let mount_path = FieldPath::index(&FieldPath::key(path, "volumeMounts"), i);
            if !self.volumes.contains(mount.name.as_str()) {
                let known: Vec<String> = self.volumes.iter().map(|s| s.to_string()).collect();
                errors.push(
                    source.error_at(&FieldPath::key(&mount_path, "name"), unknown("volume", &mount.name, &known)),
                );
            }
            check_absolute(&mount.mount_path, &FieldPath::key(&mount_path, "mountPath"), source, errors);
            if !paths.insert(mount.mount_path.as_str()) {
                errors.push(source.error_at(
                    &FieldPath::key(&mount_path, "mountPath"),
                    format!("\"{}\" is mounted twice in this container", excerpt(&mount.mount_path)),
                ));
            }
        }
    }
}

fn check_container_port<'a>(
    port: &'a ContainerPort,
    path: &str,
    names: &mut BTreeSet<&'a str>,
    numbers: &mut BTreeSet<u16>,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    if !is_dns_label(&port.name, 15) {
        errors.push(source.error_at(
            &FieldPath::key(path, "name"),
            format!("port name \"{}\" must be a DNS-1123 label of at most 15 characters", excerpt(&port.name)),
        ));
    }
    if !names.insert(port.name.as_str()) {
        errors.push(
            source.error_at(
                &FieldPath::key(path, "name"),
                format!("port name \"{}\" is used twice in the pod", port.name),
            ),
        );
    }
    if port.port == 0 {
        errors.push(source.error_at(&FieldPath::key(path, "port"), "port 0 is not a valid port"));
    } else if !numbers.insert(port.port) {
        errors.push(
            source.error_at(&FieldPath::key(path, "port"), format!("port {} is used twice in the pod", port.port)),
        );
    }
}

/// The chart's selector labels, which `podLabels` may not set.
const SELECTOR_LABELS: [&str; 2] = [crate::labels::NAME, crate::labels::INSTANCE];

/// `podLabels`, `podAnnotations`, `nodeSelector`, `tolerations` and `serviceAccountName`.
fn check_pod_metadata(workload: &Workload, workload_path: &str, source: &SourceDocument, errors: &mut Diagnostics) {
    let labels_path = FieldPath::key(workload_path, "podLabels");
    for (key, value) in &workload.pod_labels {
        let key_path = FieldPath::key(&labels_path, key);
        if SELECTOR_LABELS.contains(&key.as_str()) {
            errors.push(source.error_at_key(
                &key_path,
                format!("\"{key}\" is a selector label the chart sets; podLabels cannot change it"),
            ));
        }
        check_label(key, value.as_str(), &key_path, source, errors);
    }
    let selector_path = FieldPath::key(workload_path, "nodeSelector");
    for (key, value) in &workload.node_selector {
        check_label(key, value.as_str(), &FieldPath::key(&selector_path, key), source, errors);
    }
    let annotations_path = FieldPath::key(workload_path, "podAnnotations");
    for key in workload.pod_annotations.keys() {
        if !is_qualified_name(key) {
            errors.push(source.error_at_key(&FieldPath::key(&annotations_path, key), not_a_key(key)));
        }
    }
    for (i, toleration) in workload.tolerations.iter().enumerate() {
        let path = FieldPath::index(&FieldPath::key(workload_path, "tolerations"), i);
        if toleration.operator == Some(TolerationOperator::Exists) && toleration.value.is_some() {
            errors.push(
                source.error_at(&FieldPath::key(&path, "value"), "\"value\" must be left out with operator Exists"),
            );
        }
        if toleration.toleration_seconds.is_some() && toleration.effect != Some(TaintEffect::NoExecute) {
            errors.push(source.error_at(
                &FieldPath::key(&path, "tolerationSeconds"),
                "\"tolerationSeconds\" applies to effect NoExecute only",
            ));
        }
    }
    if let Some(account) = &workload.service_account_name {
        check_object_name(account, &FieldPath::key(workload_path, "serviceAccountName"), source, errors);
    }
}

/// A label: a qualified-name key, and a value of at most 63 characters (unless a template).
fn check_label(key: &str, value: &str, path: &str, source: &SourceDocument, errors: &mut Diagnostics) {
    if !is_qualified_name(key) {
        errors.push(source.error_at_key(path, not_a_key(key)));
    }
    if !super::template::is_template(value) && !is_label_value(value) {
        errors.push(source.error_at(
            path,
            format!("\"{}\" is not a label value (at most 63 letters, digits, '-', '_', '.', starting and ending with a letter or digit)", excerpt(value)),
        ));
    }
}

fn not_a_key(key: &str) -> String {
    format!("\"{}\" is not a label or annotation key (an optional DNS subdomain and '/', then a name of at most 63 letters, digits, '-', '_', '.')", excerpt(key))
}

/// A Kubernetes qualified name: `[prefix/]name`, the prefix a DNS subdomain.
fn is_qualified_name(key: &str) -> bool {
    let (prefix, name) = key.rsplit_once('/').map_or((None, key), |(p, n)| (Some(p), n));
    prefix.is_none_or(is_dns_subdomain) && !name.is_empty() && is_label_value(name)
}

/// A label value: empty, or at most 63 of `[A-Za-z0-9-_.]` starting and ending alphanumeric.
fn is_label_value(value: &str) -> bool {
    value.is_empty()
        || (value.len() <= 63
            && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && value.starts_with(|c: char| c.is_ascii_alphanumeric())
            && value.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

fn is_dns_subdomain(name: &str) -> bool {
    name.len() <= 253 && name.split('.').all(|part| is_dns_label(part, 63))
}

/// The name of a ConfigMap, Secret, claim or ServiceAccount: a DNS-1123 subdomain (templates
/// are checked by Kubernetes once rendered).
fn check_object_name(name: &str, path: &str, source: &SourceDocument, errors: &mut Diagnostics) {
    if !super::template::is_template(name) && !is_dns_subdomain(name) {
        errors.push(source.error_at(
            path,
            format!(
                "\"{}\" is not a Kubernetes object name (a DNS-1123 subdomain: lowercase letters, digits, '-', '.')",
                excerpt(name)
            ),
        ));
    }
}

fn check_absolute(path_text: &str, path: &str, source: &SourceDocument, errors: &mut Diagnostics) {
    if !path_text.starts_with('/') && !super::template::is_template(path_text) {
        errors.push(source.error_at(path, format!("\"{}\" must be an absolute path", excerpt(path_text))));
    }
}

fn check_quantity(text: &str, path: &str, source: &SourceDocument, errors: &mut Diagnostics) {
    if !is_quantity(text) {
        errors.push(
            source.error_at(path, format!("\"{}\" is not a Kubernetes quantity such as 1Gi or 500Mi", excerpt(text))),
        );
    }
}

fn check_ports<'a>(
    workload: &'a Workload,
    workload_path: &str,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) -> BTreeSet<&'a str> {
    let mut names = BTreeSet::new();
    let mut numbers = BTreeSet::new();
    for (i, port) in workload.ports.iter().enumerate() {
        let port_path = FieldPath::index(&FieldPath::key(workload_path, "ports"), i);
        if !is_dns_label(&port.name, 15) {
            errors.push(source.error_at(
                &FieldPath::key(&port_path, "name"),
                format!("port name \"{}\" must be a DNS-1123 label of at most 15 characters", excerpt(&port.name)),
            ));
        }
        if !names.insert(port.name.as_str()) {
            errors.push(
                source.error_at(&FieldPath::key(&port_path, "name"), format!("duplicate port name \"{}\"", port.name)),
            );
        }
        if !numbers.insert(port.port) {
            errors.push(source.error_at(&FieldPath::key(&port_path, "port"), format!("duplicate port {}", port.port)));
        }
        if port.port == 0 {
            errors.push(source.error_at(&FieldPath::key(&port_path, "port"), "port 0 is not a valid port"));
        }
    }
    names
}

fn check_probe(probe: &Probe, path: &str, ports: &BTreeSet<&str>, source: &SourceDocument, errors: &mut Diagnostics) {
    match (&probe.http, &probe.tcp, &probe.exec) {
        (Some(http), None, None) => check_http(http, &FieldPath::key(path, "http"), ports, source, errors),
        (None, Some(tcp), None) => {
            check_port_ref(&tcp.port, &FieldPath::key(&FieldPath::key(path, "tcp"), "port"), ports, source, errors)
        }
        (None, None, Some(exec)) => {
            if exec.command.is_empty() {
                errors.push(source.error_at(
                    &FieldPath::key(&FieldPath::key(path, "exec"), "command"),
                    "an exec probe needs a command",
                ));
            }
        }
        _ => errors.push(source.error_at(path, "a probe has exactly one of \"http\", \"tcp\", \"exec\"")),
    }
}

fn check_http(http: &HttpCheck, path: &str, ports: &BTreeSet<&str>, source: &SourceDocument, errors: &mut Diagnostics) {
    if !http.path.starts_with('/') {
        errors.push(
            source.error_at(&FieldPath::key(path, "path"), format!("\"{}\" must start with '/'", excerpt(&http.path))),
        );
    }
    if let Some(status) = http.expect_status {
        if !(100..=599).contains(&status) {
            errors.push(
                source.error_at(&FieldPath::key(path, "expectStatus"), format!("{status} is not an HTTP status code")),
            );
        }
    }
    check_port_ref(&http.port, &FieldPath::key(path, "port"), ports, source, errors);
}

fn check_port_ref(
    port: &PortRef,
    path: &str,
    ports: &BTreeSet<&str>,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    match port {
        PortRef::Name(name) if !ports.contains(name.as_str()) => {
            let known: Vec<String> = ports.iter().map(|s| s.to_string()).collect();
            errors.push(source.error_at(path, unknown("port", name, &known)));
        }
        PortRef::Number(0) => errors.push(source.error_at(path, "port 0 is not a valid port")),
        _ => {}
    }
}

/// Whether `text` is a Kubernetes quantity (`500m`, `2`, `1.5Gi`, `1e3`): sizes, CPU, memory.
pub fn is_quantity(text: &str) -> bool {
    let number_end = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, suffix) = text.split_at(number_end);
    let digits_ok = !number.is_empty()
        && number.matches('.').count() <= 1
        && number.chars().any(|c| c.is_ascii_digit())
        && !number.ends_with('.');
    let suffix_ok = matches!(
        suffix,
        "" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" | "n" | "u" | "m" | "k" | "M" | "G" | "T" | "P" | "E"
    ) || is_exponent(suffix);
    digits_ok && suffix_ok
}

fn is_exponent(suffix: &str) -> bool {
    let Some(rest) = suffix.strip_prefix(['e', 'E']) else {
        return false;
    };
    let rest = rest.strip_prefix(['+', '-']).unwrap_or(rest);
    !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit())
}

/// One unit's `dependsOn` as one environment sees it: the base list, or the list an
/// overlay in the environment's `from` chain replaced it with (merge patch replaces arrays).
struct DependencyList<'a> {
    name: &'a str,
    phase: Option<Phase>,
    depends_on: Vec<&'a str>,
    /// Field path of the list: `services[0].dependsOn` or `services[0].overlays.dev.dependsOn`.
    path: String,
}

fn base_dependency_lists<'a>(units: &'a [UnitRef<'a>]) -> Vec<DependencyList<'a>> {
    units
        .iter()
        .map(|entry| DependencyList {
            name: &entry.unit.name,
            phase: entry.phase,
            depends_on: entry.unit.depends_on.iter().map(String::as_str).collect(),
            path: FieldPath::key(&entry.path, "dependsOn"),
        })
        .collect()
}

/// References, phase order and cycles of `dependsOn`: first of the base lists, then, for
/// every environment whose overlays replace a list, of the lists that environment deploys
/// with. An overlay cannot smuggle in a cycle or a dependency on a later phase.
fn check_dependencies(document: &Document, units: &[UnitRef<'_>], source: &SourceDocument, errors: &mut Diagnostics) {
    let base = base_dependency_lists(units);
    let mut reported: BTreeSet<(String, String)> = BTreeSet::new();
    let mut report = |found: Diagnostics, errors: &mut Diagnostics| {
        for diagnostic in found.0 {
            if reported.insert((diagnostic.path.clone(), diagnostic.message.clone())) {
                errors.push(diagnostic);
            }
        }
    };
    report(dependency_problems(&base, source), errors);
    for env in document.environments.keys() {
        let chain = environment_chain(document, env);
        let mut lists = base_dependency_lists(units);
        let mut replaced = false;
        for (list, entry) in lists.iter_mut().zip(units) {
            for link in &chain {
                let Some(value) = entry.unit.overlays.get(link).and_then(|o| o.get("dependsOn")) else { continue };
                // Anything but a list of strings is a structural error reported by the schema check.
                let names: Option<Vec<&str>> = match value {
                    serde_json::Value::Null => Some(Vec::new()),
                    serde_json::Value::Array(items) => items.iter().map(serde_json::Value::as_str).collect(),
                    _ => None,
                };
                if let Some(names) = names {
                    list.depends_on = names;
                    list.path =
                        FieldPath::key(&FieldPath::key(&FieldPath::key(&entry.path, "overlays"), link), "dependsOn");
                    replaced = true;
                }
            }
        }
        if replaced {
            report(dependency_problems(&lists, source), errors);
        }
    }
}

/// The environments whose overlays apply to `env`, root first (cycles and unknown names are
/// reported by [`check_environments`]; the walk just stops there).
fn environment_chain(document: &Document, env: &str) -> Vec<String> {
    let mut chain = vec![env.to_string()];
    let mut current = document.environments.get(env).and_then(|e| e.from.clone());
    while let Some(next) = current {
        if chain.contains(&next) || !document.environments.contains_key(&next) {
            break;
        }
        current = document.environments[&next].from.clone();
        chain.push(next);
    }
    chain.reverse();
    chain
}

fn dependency_problems(lists: &[DependencyList<'_>], source: &SourceDocument) -> Diagnostics {
    let mut errors = Diagnostics::default();
    let by_name: HashMap<&str, &DependencyList<'_>> = lists.iter().map(|l| (l.name, l)).collect();
    let names: Vec<String> = lists.iter().map(|l| l.name.to_string()).collect();
    for list in lists {
        let mut seen = BTreeSet::new();
        for (i, dependency) in list.depends_on.iter().enumerate() {
            let path = FieldPath::index(&list.path, i);
            if !seen.insert(dependency) {
                errors.push(source.error_at(&path, format!("\"{}\" is listed twice", excerpt(dependency))));
                continue;
            }
            if *dependency == list.name {
                errors.push(source.error_at(&path, "a unit cannot depend on itself"));
                continue;
            }
            let Some(target) = by_name.get(dependency) else {
                errors.push(source.error_at(&path, unknown("unit", dependency, &names)));
                continue;
            };
            if let (Some(own), Some(theirs)) = (list.phase, target.phase) {
                if theirs > own {
                    errors.push(source.error_at(
                        &path,
                        format!(
                            "\"{}\" is in phase {theirs}, which deploys after this unit's phase {own}; a unit may depend only on the same or an earlier phase",
                            dependency
                        ),
                    ));
                }
            }
        }
    }
    for cycle in find_cycles(lists) {
        let first = &lists[cycle[0]];
        let closing = lists[cycle[1 % cycle.len()]].name;
        let index = first.depends_on.iter().position(|d| *d == closing).unwrap_or(0);
        let path = FieldPath::index(&first.path, index);
        let mut names: Vec<&str> = cycle.iter().map(|i| lists[*i].name).collect();
        names.push(names[0]);
        errors.push(source.error_at(&path, format!("dependency cycle: {}", names.join(" -> "))));
    }
    errors
}

/// Cycles found by depth-first search, each reported once starting at its smallest unit
/// index. Every strongly connected group yields at least one cycle (enough to fix it);
/// not every elementary cycle of a group is listed.
/// Uses an iterative depth-first search (no recursion: depth is user-controlled).
fn find_cycles(units: &[DependencyList<'_>]) -> Vec<Vec<usize>> {
    let index: HashMap<&str, usize> = units.iter().enumerate().map(|(i, u)| (u.name, i)).collect();
    let edges: Vec<Vec<usize>> = units
        .iter()
        .enumerate()
        // Self-dependencies are reported on their own; they are not cycles worth a second line.
        .map(|(i, u)| u.depends_on.iter().filter_map(|d| index.get(d).copied()).filter(|t| *t != i).collect())
        .collect();
    // 0 = unvisited, 1 = on the stack, 2 = done
    let mut state = vec![0u8; units.len()];
    let mut cycles: BTreeMap<Vec<usize>, ()> = BTreeMap::new();
    for start in 0..units.len() {
        if state[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        state[start] = 1;
        while let Some((node, next_edge)) = stack.last_mut() {
            let node = *node;
            if let Some(&target) = edges[node].get(*next_edge) {
                *next_edge += 1;
                match state[target] {
                    0 => {
                        state[target] = 1;
                        stack.push((target, 0));
                    }
                    1 => {
                        let from = stack.iter().position(|(n, _)| *n == target).unwrap_or(0);
                        let mut cycle: Vec<usize> = stack[from..].iter().map(|(n, _)| *n).collect();
                        let smallest = cycle.iter().enumerate().min_by_key(|(_, n)| **n).map_or(0, |(i, _)| i);
                        cycle.rotate_left(smallest);
                        cycles.insert(cycle, ());
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
    cycles.into_keys().collect()
}

#[cfg(test)]
mod tests {
    use super::is_quantity;

    #[test]
    fn quantities_are_told_from_other_text() {
        for good in ["1", "500m", "2.5", "1Gi", "64Mi", "1e3", "0.5Ki", "10"] {
            assert!(is_quantity(good), "{good}");
        }
        for bad in ["", "lots", "1GB", "Gi", "1.", ".", "1..2", "-1", "1 Gi", "1e", "2x"] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }
}
