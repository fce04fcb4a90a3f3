//! The environment stage of resolving: the `from` chain folded into one set of settings, the
//! template context of the environment (its registry and namespace rendered), and its
//! isolation with peer environments' namespaces.

use super::super::diagnostics::{excerpt, Diagnostics};
use super::super::inputs::{self, ResolvedInputs};
use super::super::isolation::{self, Isolation, Peer, PeerKind};
use super::super::model::{Document, Environment, Runtime};
use super::super::path::FieldPath;
use super::super::source::SourceDocument;
use super::super::stack::Selection;
use super::super::template::{self, TemplateContext};
use super::super::validate::is_dns_label;

/// The namespace template of an environment that sets none.
const DEFAULT_NAMESPACE: &str = "{{ project }}-{{ env }}";

/// An environment with its `from` chain folded in.
pub(super) struct EffectiveEnvironment {
    /// Root first, the selected environment last: the order overlays apply in.
    pub chain: Vec<String>,
    pub settings: Environment,
}

impl EffectiveEnvironment {
    /// The runtime the environment runs in; `prod` unless it says otherwise.
    pub fn runtime(&self) -> Runtime {
        self.settings.runtime.unwrap_or(Runtime::Prod)
    }
}

pub(super) fn effective_environment(document: &Document, name: &str) -> Option<EffectiveEnvironment> {
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

/// The error for a selection that names no declared environment, with the inputs' own errors.
pub(super) fn unknown_environment(
    document: &Document,
    source: &SourceDocument,
    selection: &Selection,
    input_errors: Option<Diagnostics>,
) -> Diagnostics {
    let mut errors = Diagnostics::default();
    let known: Vec<String> = document.environments.keys().cloned().collect();
    errors.push(source.error_at(
        "environments",
        format!("no environment named \"{}\"; declared: {}", excerpt(&selection.env), known.join(", ")),
    ));
    if let Some(found) = input_errors {
        errors.extend(found);
    }
    errors
}

/// The template context of the selected environment, its registry and namespace rendered (in
/// that order: the namespace template may read the registry). Images are added later.
pub(super) fn template_context(
    document: &Document,
    source: &SourceDocument,
    selection: &Selection,
    environment: &EffectiveEnvironment,
    inputs: &ResolvedInputs,
    errors: &mut Diagnostics,
) -> TemplateContext {
    let settings = &environment.settings;
    let mut context = TemplateContext {
        project: document.project.name.clone(),
        env: selection.env.clone(),
        slot: selection.slot.clone(),
        issue: selection.issue.clone(),
        runtime: environment.runtime().as_str().to_string(),
        versions: document.versions.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect(),
        inputs: inputs.template_values(false),
        withheld: inputs.secret_names(),
        ..TemplateContext::default()
    };
    let env_path = FieldPath::key("environments", &selection.env);
    let at = |field: &str| FieldPath::key(&env_path, field);
    let stand_ins = inputs.stand_in_names();
    let registry_template = settings.registry.as_deref().unwrap_or("");
    refuse_stand_ins(registry_template, &stand_ins, &at("registry"), source, errors);
    context.registry = render(registry_template, &at("registry"), &context.prepare(), source, errors);
    let namespace_template = settings.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE);
    refuse_stand_ins(namespace_template, &stand_ins, &at("namespace"), source, errors);
    let namespace = render(namespace_template, &at("namespace"), &context.prepare(), source, errors);
    if errors.is_empty() && !is_dns_label(&namespace, 63) {
        let hint = if selection.slot.is_empty() && selection.issue.is_empty() {
            "; does it need --slot or --issue?"
        } else {
            ""
        };
        errors.push(source.error_at(
            &at("namespace"),
            format!(
                "the namespace renders to \"{}\", which is not a DNS-1123 label of at most 63 characters{hint}",
                excerpt(&namespace),
            ),
        ));
    }
    context.namespace = namespace;
    context
}

/// The environment's isolation: its level, its quota, and its ingress and egress peers with
/// other environments' names replaced by the namespaces they render to for the same slot and
/// issue. Entries that are none of CIDR, `namespace/<name>` or environment are reported by
/// validate.
pub(super) fn resolve_isolation(
    document: &Document,
    source: &SourceDocument,
    selection: &Selection,
    settings: &Environment,
    context: &TemplateContext,
    errors: &mut Diagnostics,
) -> Isolation {
    let environment_path = FieldPath::key("environments", &selection.env);
    let mut peers = |entries: &Option<Vec<String>>, field: &str| -> Vec<Peer> {
        let mut out = Vec::new();
        for (index, entry) in entries.iter().flatten().enumerate() {
            match isolation::peer_kind(entry) {
                PeerKind::Cidr => out.push(Peer::Cidr(entry.clone())),
                PeerKind::Namespace(name) => out.push(Peer::Namespace(name.to_string())),
                PeerKind::EnvironmentName => {
                    let Some(other) = effective_environment(document, entry) else { continue };
                    let template = other.settings.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE);
                    let other_context = TemplateContext { env: entry.clone(), ..context.clone() };
                    let path = FieldPath::index(&FieldPath::key(&environment_path, field), index);
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

/// `text` rendered, or the empty string and an error at `path`.
pub(super) fn render(
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
