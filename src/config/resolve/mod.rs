//! From a validated document to the stack of one environment, in stages:
//!
//! 1. inputs ([`super::inputs`]) and the environment's `from` chain, template context,
//!    namespace and isolation (`environment`);
//! 2. images: references and builds (`image_set`);
//! 3. the Secrets of `secrets` ([`super::secrets`]), registered for redaction;
//! 4. units: templates, overlays, `when`, workloads and manifests (`unit`, `workload`);
//! 5. the agent, then the input digest over the canonical stack (`digest`).

mod digest;
mod environment;
mod image_set;
mod unit;
mod workload;

pub use digest::hex;
pub(super) use image_set::image_reference;

use super::diagnostics::Diagnostics;
use super::duration;
use super::inputs::{self, GivenInputs, ResolvedInputs};
use super::model::{AccessMode, Agent, Document, PullPolicy, WorkspaceMount};
use super::secrets::{self, ResolvedSecret};
use super::source::SourceDocument;
use super::stack::{AgentSpec, ResolvedImage, ResolvedMount, Selection, Stack, WorkspaceSpec};
use super::template::{self, TemplateContext};
use crate::labels;
use environment::effective_environment;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// Size of the workspace claim when services.yaml sets none.
const DEFAULT_WORKSPACE_SIZE: &str = "1Gi";

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
    let Some(environment) = effective_environment(document, &selection.env) else {
        return Err(environment::unknown_environment(document, source, selection, inputs.err()));
    };
    let inputs = inputs?;
    let mut errors = Diagnostics::default();
    let settings = &environment.settings;
    let runtime = environment.runtime();
    let mut context = environment::template_context(document, source, selection, &environment, &inputs, &mut errors);
    let isolation = environment::resolve_isolation(document, source, selection, settings, &context, &mut errors);
    let idle_ttl = settings.idle_ttl.clone().unwrap_or_else(|| labels::DEFAULT_IDLE_TTL.to_string());
    if duration::parse(&idle_ttl).is_err() {
        return Err(errors); // reported by validate
    }
    let mut images =
        image_set::resolve_images(document, source, &selection.env, runtime, &context, &context.prepare(), &mut errors);
    context.images = images.iter().map(|(k, v)| (k.clone(), v.reference.clone())).collect();
    let prepared = context.prepare();
    image_set::resolve_builds(&mut images, source, &prepared, base_dir, &mut errors);

    // Secret inputs and manifest file contents feed the digest as they are met; everything
    // else is hashed from the result.
    let mut digest = Sha256::new();
    let secrets = resolve_secrets(document, source, base_dir, &context, &inputs, &mut errors);
    let secret_digests: BTreeMap<String, String> = secrets.iter().map(|s| (s.name.clone(), s.digest.clone())).collect();
    digest::add_secret_inputs(&mut digest, &inputs, &context.namespace);
    let workspace = workspace_spec(document);
    let resolver = unit::Resolver {
        document,
        source,
        base_dir,
        environment: &environment,
        runtime,
        templates: &prepared,
        images: &images,
        namespace: &context.namespace,
        workspace: &workspace,
        secret_digests: &secret_digests,
    };
    let units = resolver.units(&mut digest, &mut errors);
    let agent = document.agent.as_ref().map(|agent| agent_spec(agent, &prepared, &images, source, &mut errors));
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut stack = Stack {
        project: document.project.name.clone(),
        env: selection.env.clone(),
        slot: selection.slot.clone(),
        issue: selection.issue.clone(),
        runtime,
        namespace: context.namespace,
        idle_ttl,
        registry: context.registry,
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
    stack.input_digest = digest::input_digest(&mut stack, digest);
    Ok(stack)
}

/// The Secrets of `secrets`, rendered with secret inputs (only their templates see those).
/// Secret input values and the Secrets' values are registered for redaction first and last.
fn resolve_secrets(
    document: &Document,
    source: &SourceDocument,
    base_dir: &Path,
    context: &TemplateContext,
    inputs: &ResolvedInputs,
    errors: &mut Diagnostics,
) -> Vec<ResolvedSecret> {
    let with_secrets =
        TemplateContext { inputs: inputs.template_values(true), withheld: Vec::new(), ..context.clone() };
    let secret_texts = inputs.secret_texts();
    let secret_context = secrets::SecretContext {
        source,
        base_dir,
        namespace: &context.namespace,
        templates: &with_secrets.prepare(),
        secret_texts: &secret_texts,
    };
    for (value, placeholder) in &secret_texts {
        crate::redact::register(value, placeholder);
    }
    let secrets = secrets::resolve(document, &secret_context, errors);
    for value in secrets.iter().flat_map(|s| s.data.values()) {
        if let Ok(text) = std::str::from_utf8(value.expose()) {
            crate::redact::register(text, value.placeholder());
        }
    }
    secrets
}

/// The agent with its templates rendered and its image resolved.
fn agent_spec(
    agent: &Agent,
    prepared: &template::Prepared,
    images: &BTreeMap<String, ResolvedImage>,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) -> AgentSpec {
    let mut value = serde_json::to_value(agent).unwrap_or(Value::Null);
    template::render_value(&mut value, "agent", prepared, source, errors);
    let agent: Agent = serde_json::from_value(value).unwrap_or_else(|_| agent.clone());
    AgentSpec {
        image: image_reference(&agent.image, images),
        command: agent.command,
        args: agent.args,
        env: agent.env.into_iter().map(|(k, v)| (k, v.0)).collect(),
        workspace: ResolvedMount::new(agent.workspace.unwrap_or(WorkspaceMount {
            mount_path: None,
            sub_path: None,
            read_only: false,
        })),
        permissions: agent.permissions,
    }
}

/// The shared workspace claim, every unset field defaulted.
fn workspace_spec(document: &Document) -> WorkspaceSpec {
    let w = document.workspace.as_ref();
    WorkspaceSpec {
        claim_name: w.and_then(|w| w.claim_name.clone()).unwrap_or_else(|| labels::DEFAULT_WORKSPACE_CLAIM.into()),
        size: w.and_then(|w| w.size.clone()).unwrap_or_else(|| DEFAULT_WORKSPACE_SIZE.into()),
        access_mode: w.and_then(|w| w.access_mode).unwrap_or(AccessMode::ReadWriteMany),
        storage_class_name: w.and_then(|w| w.storage_class_name.clone()).unwrap_or_default(),
        uid: w.and_then(|w| w.uid).unwrap_or(labels::DEFAULT_WORKSPACE_ID),
        gid: w.and_then(|w| w.gid).unwrap_or(labels::DEFAULT_WORKSPACE_ID),
        fs_group: w.and_then(|w| w.fs_group).unwrap_or(labels::DEFAULT_WORKSPACE_ID),
    }
}
