//! From a validated document to the stack of one environment: `from` inheritance, templates,
//! overlays, `when`, runtime (dev command) and image references.

use super::canonical;
use super::diagnostics::{excerpt, Diagnostics};
use super::duration;
use super::inputs::{self, GivenInputs};
use super::isolation::{self, Isolation, Peer, PeerKind};
use super::manifest_unit;
use super::model::{CodeUpdateStrategy, Document, Environment, PullPolicy, Runtime, Unit, Workload, WorkspaceMount};
use super::path::FieldPath;
use super::secrets;
use super::source::SourceDocument;
use super::stack::{AgentSpec, ResolvedImage, ResolvedUnit, ResolvedWorkload, Selection, Stack, WorkspaceSpec};
use super::template::{self, TemplateContext};
use super::validate::{self, is_dns_label};
use crate::labels;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// An environment with its `from` chain folded in.
struct EffectiveEnvironment {
    /// Root first, the selected environment last: the order overlays apply in.
    chain: Vec<String>,
    settings: Environment,
}

fn effective_environment(document: &Document, name: &str) -> Option<EffectiveEnvironment> {
    let mut chain = vec![name.to_string()];
    let mut current = document.environments.get(name)?.from.clone();
    while let Some(next) = current {
        if chain.contains(&next) || !document.environments.contains_key(&next) {
            break; // reported by validate
        }
        chain.push(next.clone());
        current = document.environments[&next].from.clone();
    }
    chain.reverse();
    let mut settings = Environment::default();
    for env in &chain {
        let own = &document.environments[env];
        macro_rules! inherit {
            ($($field:ident),*) => { $( if own.$field.is_some() { settings.$field = own.$field.clone(); } )* };
        }
        inherit!(
            namespace,
            runtime,
            idle_ttl,
            registry,
            image_pull_policy,
            disable_kinds,
            allow_cluster_scoped,
            pod_security,
            ingress,
            egress,
            quota
        );
    }
    Some(EffectiveEnvironment { chain, settings })
}

/// Resolves `document` for `selection` with the `given` inputs; `base_dir` is where relative
/// paths (extra manifests, secret files) start.
pub fn resolve(
    document: &Document,
    source: &SourceDocument,
    base_dir: &Path,
    selection: &Selection,
    given: &GivenInputs,
) -> Result<Stack, Diagnostics> {
    let inputs = inputs::resolve(document, source, given);
    let mut errors = Diagnostics::default();
    let Some(environment) = effective_environment(document, &selection.env) else {
        let known: Vec<String> = document.environments.keys().cloned().collect();
        errors.push(source.error_at(
            "environments",
            format!("no environment named \"{}\"; declared: {}", excerpt(&selection.env), known.join(", ")),
        ));
        if let Err(found) = inputs {
            errors.extend(found);
        }
        return Err(errors);
    };
    let inputs = inputs?;
    let env_path = FieldPath::key("environments", &selection.env);
    let settings = &environment.settings;
    let runtime = settings.runtime.unwrap_or(Runtime::Prod);
    let mut context = TemplateContext {
        project: document.project.name.clone(),
        env: selection.env.clone(),
        slot: selection.slot.clone(),
        issue: selection.issue.clone(),
        runtime: runtime.as_str().to_string(),
        versions: document.versions.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect(),
        inputs: inputs.template_values(false),
        withheld: inputs.secret_names(),
        ..TemplateContext::default()
    };
    let at = |field: &str| FieldPath::key(&env_path, field);
    let stand_ins = inputs.stand_in_names();
    let registry_template = settings.registry.as_deref().unwrap_or("");
    refuse_stand_ins(registry_template, &stand_ins, &at("registry"), source, &mut errors);
    context.registry = render(registry_template, &at("registry"), &context.prepare(), source, &mut errors);
    let namespace_template = settings.namespace.as_deref().unwrap_or("{{ project }}-{{ env }}");
    refuse_stand_ins(namespace_template, &stand_ins, &at("namespace"), source, &mut errors);
    let namespace = render(namespace_template, &at("namespace"), &context.prepare(), source, &mut errors);
    if errors.is_empty() && !is_dns_label(&namespace, 63) {
        errors.push(source.error_at(
            &at("namespace"),
            format!(
                "the namespace renders to \"{}\", which is not a DNS-1123 label of at most 63 characters{}",
                excerpt(&namespace),
                if selection.slot.is_empty() && selection.issue.is_empty() {
                    "; does it need --slot or --issue?"
                } else {
                    ""
                }
            ),
        ));
    }
    context.namespace = namespace.clone();
    let isolation = resolve_isolation(document, source, settings, &env_path, &context, &mut errors);
    let idle_ttl = settings.idle_ttl.clone().unwrap_or_else(|| labels::DEFAULT_IDLE_TTL.to_string());
    if duration::parse(&idle_ttl).is_err() {
        return Err(errors); // reported by validate
    }

    let mut images =
        resolve_images(document, source, &selection.env, runtime, &context, &context.prepare(), &mut errors);
    context.images = images.iter().map(|(k, v)| (k.clone(), v.reference.clone())).collect();

    // Manifest file contents feed the digest here; everything else is hashed from the result.
    let mut digest = Sha256::new();

    let prepared = context.prepare();
    resolve_builds(&mut images, source, &prepared, base_dir, &mut errors);
    // Only the templates of secrets see secret inputs.
    let with_secrets =
        TemplateContext { inputs: inputs.template_values(true), withheld: Vec::new(), ..context.clone() };
    let secret_texts = inputs.secret_texts();
    let secret_context = secrets::SecretContext {
        source,
        base_dir,
        namespace: &namespace,
        templates: &with_secrets.prepare(),
        secret_texts: &secret_texts,
    };
    for (value, placeholder) in &secret_texts {
        crate::redact::register(value, placeholder);
    }
    let secrets = secrets::resolve(document, &secret_context, &mut errors);
    for value in secrets.iter().flat_map(|s| s.data.values()) {
        if let Ok(text) = std::str::from_utf8(value.expose()) {
            crate::redact::register(text, value.placeholder());
        }
    }
    let secret_digests: BTreeMap<String, String> = secrets.iter().map(|s| (s.name.clone(), s.digest.clone())).collect();
    for (name, input) in inputs.values.iter().filter(|(_, i)| i.secret) {
        // The input digest sees a secret input through a digest salted by the namespace.
        let value = inputs::text_of(&input.value);
        digest.update(format!("secret input {name} {}\n", secrets::salted_digest(&namespace, value.as_bytes())));
    }
    let workspace = workspace_spec(document);
    let mut units = Vec::new();
    for entry in validate::units(document) {
        if let Some(unit) = resolve_unit(
            document,
            source,
            &entry,
            &environment,
            runtime,
            &prepared,
            &images,
            base_dir,
            &namespace,
            &workspace,
            &secret_digests,
            &mut digest,
            &mut errors,
        ) {
            units.push(unit);
        }
    }
    check_references_present(&units, source, &mut errors);
    let agent = document.agent.as_ref().map(|agent| {
        let mut value = serde_json::to_value(agent).unwrap_or(Value::Null);
        template::render_value(&mut value, "agent", &prepared, source, &mut errors);
        let agent: super::model::Agent = serde_json::from_value(value).unwrap_or_else(|_| agent.clone());
        AgentSpec {
            image: image_reference(&agent.image, &images),
            command: agent.command,
            args: agent.args,
            env: agent.env.into_iter().map(|(k, v)| (k, v.0)).collect(),
            workspace: agent.workspace.unwrap_or(WorkspaceMount { mount_path: None, sub_path: None, read_only: false }),
            permissions: agent.permissions,
        }
    });
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut stack = Stack {
        project: document.project.name.clone(),
        env: selection.env.clone(),
        slot: selection.slot.clone(),
        issue: selection.issue.clone(),
        runtime,
        namespace,
        idle_ttl,
        registry: context.registry.clone(),
        image_pull_policy: settings.image_pull_policy.unwrap_or(PullPolicy::IfNotPresent),
        disable_kinds: settings.disable_kinds.clone().unwrap_or_default(),
        allow_cluster_scoped: settings.allow_cluster_scoped.clone().unwrap_or_default(),
        isolation,
        workspace,
        agent,
        images,
        units,
        inputs: inputs.public(),
        secrets,
        input_digest: String::new(),
    };
    stack.input_digest = input_digest(&mut stack, digest);
    Ok(stack)
}

/// Digest of what will be deployed: the resolved stack in canonical form (keys sorted, units
/// by name, dependencies sorted), so reformatting or reordering services.yaml where order
/// carries no meaning leaves it unchanged.
fn input_digest(stack: &mut Stack, mut digest: Sha256) -> String {
    // The stack is put in canonical order in place and restored afterwards: cloning it (or
    // converting it to a JSON tree) to reorder a copy cost more than hashing it.
    let units = std::mem::take(&mut stack.units);
    let mut by_name: Vec<(usize, ResolvedUnit)> = units.into_iter().enumerate().collect();
    by_name.sort_by(|a, b| a.1.name.cmp(&b.1.name));
    let mut declared = Vec::with_capacity(by_name.len());
    for (index, mut unit) in by_name {
        let depends_on = unit.depends_on.clone();
        unit.depends_on.sort();
        declared.push((index, std::mem::take(&mut unit.source_path), depends_on));
        stack.units.push(unit);
    }
    digest.update(canonical::to_vec(&*stack).expect("the stack is plain data"));
    let mut in_file_order: Vec<Option<ResolvedUnit>> = std::iter::repeat_with(|| None).take(declared.len()).collect();
    for (mut unit, (index, source_path, depends_on)) in stack.units.drain(..).zip(declared) {
        unit.source_path = source_path;
        unit.depends_on = depends_on;
        in_file_order[index] = Some(unit);
    }
    stack.units = in_file_order.into_iter().flatten().collect();
    hex(&digest.finalize())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The environment's isolation: its level, its quota, and its ingress and egress peers with
/// other environments' names replaced by the namespaces they render to for the same slot and
/// issue. Entries that are none of CIDR, `namespace/<name>` or environment are reported by
/// validate.
fn resolve_isolation(
    document: &Document,
    source: &SourceDocument,
    settings: &Environment,
    environment_path: &str,
    context: &TemplateContext,
    errors: &mut Diagnostics,
) -> Isolation {
    let mut peers = |entries: &Option<Vec<String>>, field: &str| -> Vec<Peer> {
        let mut out = Vec::new();
        for (index, entry) in entries.iter().flatten().enumerate() {
            match isolation::peer_kind(entry) {
                PeerKind::Cidr => out.push(Peer::Cidr(entry.clone())),
                PeerKind::Namespace(name) => out.push(Peer::Namespace(name.to_string())),
                PeerKind::EnvironmentName => {
                    let Some(other) = effective_environment(document, entry) else { continue };
                    let template = other.settings.namespace.as_deref().unwrap_or("{{ project }}-{{ env }}");
                    let other_context = TemplateContext { env: entry.clone(), ..context.clone() };
                    let path = FieldPath::index(&FieldPath::key(environment_path, field), index);
                    let namespace = render(template, &path, &other_context.prepare(), source, errors);
                    out.push(Peer::Environment { name: entry.clone(), namespace });
                }
            }
        }
        out
    };
    let ingress = peers(&settings.ingress, "ingress");
    let egress = peers(&settings.egress, "egress");
    let (quota, container_defaults) = isolation::resolve_quota(settings.quota.as_ref());
    Isolation { pod_security: settings.pod_security.unwrap_or_default(), ingress, egress, quota, container_defaults }
}

fn render(
    text: &str,
    path: &str,
    context: &template::Prepared,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) -> String {
    template::render_prepared(text, context).unwrap_or_else(|message| {
        errors.push(source.error_at(path, message));
        String::new()
    })
}

fn workspace_spec(document: &Document) -> WorkspaceSpec {
    let declared = document.workspace.clone();
    let w = declared.as_ref();
    WorkspaceSpec {
        claim_name: w.and_then(|w| w.claim_name.clone()).unwrap_or_else(|| labels::DEFAULT_WORKSPACE_CLAIM.into()),
        size: w.and_then(|w| w.size.clone()).unwrap_or_else(|| "1Gi".into()),
        access_mode: w.and_then(|w| w.access_mode).unwrap_or(super::model::AccessMode::ReadWriteMany),
        storage_class_name: w.and_then(|w| w.storage_class_name.clone()).unwrap_or_default(),
        uid: w.and_then(|w| w.uid).unwrap_or(labels::DEFAULT_WORKSPACE_ID),
        gid: w.and_then(|w| w.gid).unwrap_or(labels::DEFAULT_WORKSPACE_ID),
        fs_group: w.and_then(|w| w.fs_group).unwrap_or(labels::DEFAULT_WORKSPACE_ID),
    }
}

fn resolve_images(
    document: &Document,
    source: &SourceDocument,
    env: &str,
    runtime: Runtime,
    context: &TemplateContext,
    prepared: &template::Prepared,
    errors: &mut Diagnostics,
) -> BTreeMap<String, ResolvedImage> {
    let mut images = BTreeMap::new();
    for (name, image) in &document.images {
        let path = FieldPath::key("images", name);
        let mut mirror = None;
        let reference = match (&image.reference, &image.build, &image.mirror) {
            (Some(reference), _, _) => render(reference, &FieldPath::key(&path, "ref"), prepared, source, errors),
            (None, None, None) => continue, // reported by validate
            (None, _, mirror_source) => {
                if let Some(text) = mirror_source {
                    let Some(parsed) = super::images::mirror_source(text, &path, prepared, source, errors) else {
                        continue;
                    };
                    mirror = Some(parsed);
                }
                let repository = match &image.repository {
                    Some(r) => render(r, &FieldPath::key(&path, "repository"), prepared, source, errors),
                    None => format!("{}/{}", context.project, name),
                };
                let tag = match (&image.tag, &mirror) {
                    (Some(t), _) => render(t, &FieldPath::key(&path, "tag"), prepared, source, errors),
                    (None, Some(m)) => super::images::default_mirror_tag(image, m, &path, source, errors),
                    (None, None) => runtime.as_str().to_string(),
                };
                if mirror.is_some() && image.build.is_none() {
                    super::images::check_mirror_target(
                        &context.registry,
                        env,
                        &repository,
                        &tag,
                        &path,
                        source,
                        errors,
                    );
                }
                if context.registry.is_empty() {
                    format!("{repository}:{tag}")
                } else {
                    format!("{}/{repository}:{tag}", context.registry.trim_end_matches('/'))
                }
            }
        };
        let target = image.build.as_ref().and_then(|b| b.targets.as_ref()).and_then(|t| match runtime {
            Runtime::Prod => t.prod.clone(),
            Runtime::Dev => t.dev.clone(),
        });
        images.insert(
            name.clone(),
            ResolvedImage {
                reference,
                build: image.build.clone(),
                target,
                mirror: mirror.filter(|_| image.build.is_none()).map(|m| m.to_string()),
            },
        );
    }
    images
}

/// Builds' args are templates over the whole context (`images.<name>` included, so an arg can
/// name a mirrored base image); their extra contexts must be directories next to services.yaml.
fn resolve_builds(
    images: &mut BTreeMap<String, ResolvedImage>,
    source: &SourceDocument,
    prepared: &template::Prepared,
    base_dir: &Path,
    errors: &mut Diagnostics,
) {
    for (name, image) in images.iter_mut() {
        if let Some(build) = &image.build {
            let path = FieldPath::key("images", name);
            image.build = Some(super::images::resolve_build(build, &path, prepared, base_dir, source, errors));
        }
    }
}

/// An `images` name as its full reference; anything else is a reference already.
pub(super) fn image_reference(image: &str, images: &BTreeMap<String, ResolvedImage>) -> String {
    images.get(image).map_or_else(|| image.to_string(), |i| i.reference.clone())
}

/// RFC 7386 JSON merge patch: objects merge, `null` deletes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else {
                    merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

#[allow(clippy::too_many_arguments)]
fn resolve_unit(
    document: &Document,
    source: &SourceDocument,
    entry: &validate::UnitRef<'_>,
    environment: &EffectiveEnvironment,
    runtime: Runtime,
    context: &template::Prepared,
    images: &BTreeMap<String, ResolvedImage>,
    base_dir: &Path,
    namespace: &str,
    workspace: &WorkspaceSpec,
    secret_digests: &BTreeMap<String, String>,
    digest: &mut Sha256,
    errors: &mut Diagnostics,
) -> Option<ResolvedUnit> {
    let path = &entry.path;
    let raw = source.value.pointer(&pointer_of(path))?;
    let mut merged = raw.clone();
    if let Value::Object(map) = &mut merged {
        map.remove("overlays");
    }
    template::render_value(&mut merged, path, context, source, errors);
    let mut overlaid = false;
    for env in &environment.chain {
        if let Some(overlay) = entry.unit.overlays.get(env) {
            overlaid = true;
            let overlay_path = FieldPath::key(&FieldPath::key(path, "overlays"), env);
            let mut overlay = overlay.clone();
            template::render_value(&mut overlay, &overlay_path, context, source, errors);
            merge_patch(&mut merged, &overlay);
        }
    }
    let unit: Unit = match serde_json::from_value(merged) {
        Ok(unit) => unit,
        Err(e) => {
            errors.push(source.error_at(path, format!("after applying overlays: {}", excerpt(&e.to_string()))));
            return None;
        }
    };
    if overlaid {
        let merged = validate::UnitRef { unit: &unit, path: path.clone(), phase: entry.phase };
        let mut found = Diagnostics::default();
        validate::check_unit(document, &merged, source, &mut found);
        for diagnostic in found.0 {
            errors.push(locate_in_overlay(diagnostic, path, &environment.chain, source));
        }
    }
    // The merged unit's condition: an overlay may set or change `when`.
    if let Some(condition) = &unit.when {
        match template::render_condition(condition, context) {
            Ok(true) => {}
            Ok(false) => return None,
            Err(message) => {
                errors.push(source.error_at(&FieldPath::key(path, "when"), message));
                return None;
            }
        }
    }
    let workload = unit.workload.clone().map(|workload| resolve_workload(workload, runtime, images, secret_digests));
    let workspace_path = FieldPath::key(path, "workspace");
    if let Some(mount) = &unit.workspace {
        check_mount(mount, &workspace_path, source, errors);
    }
    let manifest_context = manifest_unit::ManifestContext {
        source,
        base_dir,
        templates: context,
        env: environment.chain.last().map(String::as_str).unwrap_or_default(),
        namespace,
        workspace,
        allow_cluster_scoped: environment.settings.allow_cluster_scoped.as_deref().unwrap_or_default(),
        images,
    };
    let (manifests, image_edit) = manifest_unit::resolve(&unit, path, &manifest_context, digest, errors);
    let strategy = unit.code_update_strategy.unwrap_or(CodeUpdateStrategy::Restart);
    if strategy == CodeUpdateStrategy::HotReload && runtime == Runtime::Dev && unit.workspace.is_none() {
        errors.push(source.error_at(
            &FieldPath::key(path, "codeUpdateStrategy"),
            "hot-reload reads sources from the shared workspace; declare \"workspace\" on this unit",
        ));
    }
    Some(ResolvedUnit {
        name: unit.name,
        phase: entry.phase?,
        depends_on: unit.depends_on,
        workload,
        workspace: unit.workspace,
        code_update_strategy: strategy,
        ingress: unit.ingress,
        hooks: unit
            .hooks
            .map(|h| h.readiness)
            .unwrap_or_default()
            .into_iter()
            .map(|mut hook| {
                if let Some(job) = &mut hook.job {
                    job.image = image_reference(&job.image, images);
                }
                hook
            })
            .collect(),
        manifests,
        image_edit,
        source_path: path.clone(),
    })
}

/// A typed workload with its defaults and, in the dev runtime, its dev changes. Init
/// containers' and sidecars' images are resolved like the main one.
fn resolve_workload(
    workload: Workload,
    runtime: Runtime,
    images: &BTreeMap<String, ResolvedImage>,
    secret_digests: &BTreeMap<String, String>,
) -> ResolvedWorkload {
    use super::model::{Container, EnvFrom, EnvValue, ScalarString};
    use super::stack::ResolvedContainer;
    let mut command = workload.command;
    let mut args = workload.args;
    let mut working_dir = workload.working_dir;
    let mut env = workload.env;
    if runtime == Runtime::Dev {
        if let Some(dev) = workload.dev {
            command = dev.command.unwrap_or(command);
            args = dev.args.unwrap_or(args);
            working_dir = dev.working_dir.or(working_dir);
            env.extend(dev.env.into_iter().map(|(k, v)| (k, EnvValue::Value(v))));
        }
    }
    // One form for both ways of writing a source: values and digests see the Kubernetes one.
    let normalized_env = |env: BTreeMap<String, EnvValue>| -> BTreeMap<String, EnvValue> {
        env.into_iter()
            .map(|(k, v)| match v {
                EnvValue::From(source) => (k, EnvValue::From(Box::new(source.normalized()))),
                plain => (k, plain),
            })
            .collect()
    };
    let normalized_from = |list: Vec<EnvFrom>| -> Vec<EnvFrom> { list.into_iter().map(EnvFrom::normalized).collect() };
    let env = normalized_env(env);
    let container = |c: Container| ResolvedContainer {
        image: image_reference(&c.image, images),
        image_name: images.contains_key(&c.image).then(|| c.image.clone()),
        name: c.name,
        command: c.command,
        args: c.args,
        working_dir: c.working_dir,
        env: normalized_env(c.env),
        env_from: normalized_from(c.env_from),
        ports: c.ports,
        resources: c.resources,
        security_context: c.security_context,
        volume_mounts: c.volume_mounts,
    };
    let text = |map: BTreeMap<String, ScalarString>| map.into_iter().map(|(k, v)| (k, v.0)).collect();
    let mut resolved = ResolvedWorkload {
        kind: workload.kind,
        image: image_reference(&workload.image, images),
        image_name: images.contains_key(&workload.image).then(|| workload.image.clone()),
        command,
        args,
        working_dir,
        env,
        ports: workload.ports,
        probes: workload.probes,
        resources: workload.resources,
        volumes: workload.volumes,
        replicas: workload.replicas.unwrap_or(1),
        schedule: workload.schedule,
        backoff_limit: workload.backoff_limit.unwrap_or(2),
        env_from: normalized_from(workload.env_from),
        security_context: workload.security_context,
        init_containers: workload.init_containers.into_iter().map(container).collect(),
        containers: workload.containers.into_iter().map(container).collect(),
        service_account_name: workload.service_account_name,
        pod_security_context: workload.pod_security_context,
        node_selector: text(workload.node_selector),
        tolerations: workload.tolerations,
        affinity: workload.affinity,
        pod_labels: text(workload.pod_labels),
        pod_annotations: text(workload.pod_annotations),
    };
    // Pods roll when a Secret of `secrets` they read changes: the pod template carries a
    // digest of those secrets' digests (salted digests, never values).
    let used = secrets_used(&resolved);
    let digests: Vec<String> =
        used.iter().filter_map(|name| Some(format!("{name}={}", secret_digests.get(*name)?))).collect();
    if !digests.is_empty() {
        let combined = hex(&Sha256::digest(digests.join("\n").as_bytes()));
        resolved.pod_annotations.insert(labels::SECRETS_DIGEST.into(), combined[..32].to_string());
    }
    resolved
}

/// Names of the Secrets a typed workload's pods read: env, envFrom and volumes of every
/// container.
pub fn secrets_used(workload: &ResolvedWorkload) -> BTreeSet<&str> {
    use super::model::EnvValue;
    let mut out = BTreeSet::new();
    let containers = workload.init_containers.iter().chain(&workload.containers);
    let envs = std::iter::once(&workload.env).chain(containers.clone().map(|c| &c.env));
    for env in envs {
        for value in env.values() {
            if let EnvValue::From(source) = value {
                if let Some(selector) = &source.secret_key_ref {
                    out.insert(selector.name.as_str());
                }
            }
        }
    }
    for from in workload.env_from.iter().chain(containers.flat_map(|c| &c.env_from)) {
        if let Some(name) = &from.secret_ref {
            out.insert(name.as_str());
        }
    }
    for volume in &workload.volumes {
        if let Some(name) = &volume.secret {
            out.insert(name.as_str());
        }
    }
    out
}

/// A template that decides the namespace or the registry may not use a stand-in: the stand-in
/// would name another environment.
fn refuse_stand_ins(text: &str, stand_ins: &[String], path: &str, source: &SourceDocument, errors: &mut Diagnostics) {
    for name in stand_ins {
        if text.contains(&format!("inputs.{name}")) {
            errors.push(source.error_at(
                path,
                format!(
                    "this template reads input \"{name}\", which is required and not set: pass --set {name}=…, \
                     a --values-file entry, or the environment variable {}",
                    inputs::env_name(name)
                ),
            ));
        }
    }
}

/// A problem found in a merged unit is reported where the overlay wrote the field, when it
/// did (the last environment of the chain that sets it wins, as in the merge).
fn locate_in_overlay(
    diagnostic: super::diagnostics::Diagnostic,
    unit_path: &str,
    chain: &[String],
    source: &SourceDocument,
) -> super::diagnostics::Diagnostic {
    let Some(rest) = diagnostic.path.strip_prefix(unit_path) else { return diagnostic };
    for env in chain.iter().rev() {
        let candidate = format!("{}{rest}", FieldPath::key(&FieldPath::key(unit_path, "overlays"), env));
        if source.contains(&candidate) {
            return source.error_at(&candidate, diagnostic.message);
        }
    }
    diagnostic
}

fn check_mount(mount: &WorkspaceMount, path: &str, source: &SourceDocument, errors: &mut Diagnostics) {
    if let Some(mount_path) = &mount.mount_path {
        if !mount_path.starts_with('/') {
            errors.push(source.error_at(
                &FieldPath::key(path, "mountPath"),
                format!("\"{}\" must be an absolute path", excerpt(mount_path)),
            ));
        }
    }
    if let Some(sub_path) = &mount.sub_path {
        if sub_path.starts_with('/') || sub_path.split('/').any(|part| part == "..") {
            errors.push(source.error_at(
                &FieldPath::key(path, "subPath"),
                format!(
                    "\"{}\" must be a relative path inside the workspace (no leading '/', no '..')",
                    excerpt(sub_path)
                ),
            ));
        }
    }
}

/// `dependsOn` may not point at a unit that this environment's `when` left out.
fn check_references_present(units: &[ResolvedUnit], source: &SourceDocument, errors: &mut Diagnostics) {
    let present: BTreeSet<&str> = units.iter().map(|u| u.name.as_str()).collect();
    for unit in units {
        for (i, dependency) in unit.depends_on.iter().enumerate() {
            if !present.contains(dependency.as_str()) {
                errors.push(source.error_at(
                    &FieldPath::index(&FieldPath::key(&unit.source_path, "dependsOn"), i),
                    format!("\"{dependency}\" is excluded in this environment by its \"when\" condition"),
                ));
            }
        }
    }
}

/// `services[3]` → `/services/3`.
fn pointer_of(path: &str) -> String {
    let mut pointer = String::new();
    for part in path.split(['.', '[']) {
        let part = part.trim_end_matches(']');
        if !part.is_empty() {
            pointer.push('/');
            pointer.push_str(part);
        }
    }
    pointer
}
