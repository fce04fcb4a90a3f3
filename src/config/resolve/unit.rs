//! The unit stage of resolving: each unit with its templates rendered, the overlays of the
//! environment chain merged in (and the merged unit checked again), its `when` condition
//! decided, and its workload and manifests resolved.

use super::super::diagnostics::{excerpt, Diagnostic, Diagnostics};
use super::super::manifest_unit;
use super::super::model::{CodeUpdateStrategy, Document, Hook, Runtime, Unit, WorkspaceMount};
use super::super::path::FieldPath;
use super::super::source::SourceDocument;
use super::super::stack::{ResolvedHook, ResolvedImage, ResolvedIngress, ResolvedMount, ResolvedUnit, WorkspaceSpec};
use super::super::template;
use super::super::validate::{self, UnitRef};
use super::environment::EffectiveEnvironment;
use super::image_set::image_reference;
use super::workload::resolve_workload;
use serde_json::Value;
use sha2::Sha256;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What resolving every unit of one environment shares: the document and where it was read
/// from, the environment, and what the environment stage made of it.
pub(super) struct Resolver<'a> {
    pub document: &'a Document,
    pub source: &'a SourceDocument,
    /// Where relative paths (extra manifests) start.
    pub base_dir: &'a Path,
    pub environment: &'a EffectiveEnvironment,
    pub runtime: Runtime,
    /// The environment's template context, images included, secret inputs withheld.
    pub templates: &'a template::Prepared,
    pub images: &'a BTreeMap<String, ResolvedImage>,
    pub namespace: &'a str,
    pub workspace: &'a WorkspaceSpec,
    /// Salted digest of each Secret of `secrets`, by name.
    pub secret_digests: &'a BTreeMap<String, String>,
}

impl Resolver<'_> {
    /// Every unit of the document that this environment includes, in file order. Extra
    /// manifest files are written into `digest` in the same order.
    pub fn units(&self, digest: &mut Sha256, errors: &mut Diagnostics) -> Vec<ResolvedUnit> {
        let units: Vec<ResolvedUnit> =
            validate::units(self.document).iter().filter_map(|entry| self.unit(entry, digest, errors)).collect();
        check_references_present(&units, self.source, errors);
        units
    }

    /// One unit, or `None` when its `when` leaves it out or it cannot be resolved (`errors`
    /// says why).
    fn unit(&self, entry: &UnitRef<'_>, digest: &mut Sha256, errors: &mut Diagnostics) -> Option<ResolvedUnit> {
        let path = &entry.path;
        let unit = self.overlaid(entry, errors)?;
        if !self.included(&unit, path, errors) {
            return None;
        }
        let workload = unit
            .workload
            .clone()
            .map(|workload| resolve_workload(workload, self.runtime, self.images, self.secret_digests));
        if let Some(mount) = &unit.workspace {
            check_mount(mount, &FieldPath::key(path, "workspace"), self.source, errors);
        }
        let manifest_context = manifest_unit::ManifestContext {
            source: self.source,
            base_dir: self.base_dir,
            templates: self.templates,
            env: self.environment.chain.last().map(String::as_str).unwrap_or_default(),
            namespace: self.namespace,
            workspace: self.workspace,
            allow_cluster_scoped: self.environment.settings.allow_cluster_scoped.as_deref().unwrap_or_default(),
            images: self.images,
        };
        let (manifests, image_edit) = manifest_unit::resolve(&unit, path, &manifest_context, digest, errors);
        let strategy = unit.code_update_strategy.unwrap_or(CodeUpdateStrategy::Restart);
        if strategy == CodeUpdateStrategy::HotReload && self.runtime == Runtime::Dev && unit.workspace.is_none() {
            errors.push(self.source.error_at(
                &FieldPath::key(path, "codeUpdateStrategy"),
                "hot-reload reads sources from the shared workspace; declare \"workspace\" on this unit",
            ));
        }
        Some(ResolvedUnit {
            name: unit.name,
            phase: entry.phase?,
            depends_on: unit.depends_on,
            workload,
            workspace: unit.workspace.map(ResolvedMount::new),
            code_update_strategy: strategy,
            ingress: unit.ingress.map(ResolvedIngress::new),
            hooks: self.hooks(unit.hooks.map(|h| h.readiness).unwrap_or_default()),
            manifests,
            image_edit,
            source_path: path.clone(),
        })
    }

    /// The unit as declared, its templates rendered and the overlays of the environment chain
    /// merged over it, root first. A unit an overlay changed is checked again.
    fn overlaid(&self, entry: &UnitRef<'_>, errors: &mut Diagnostics) -> Option<Unit> {
        let path = &entry.path;
        let raw = self.source.value.pointer(&pointer_of(path))?;
        let mut merged = raw.clone();
        if let Value::Object(map) = &mut merged {
            map.remove("overlays");
        }
        template::render_value(&mut merged, path, self.templates, self.source, errors);
        let mut overlaid = false;
        for env in &self.environment.chain {
            if let Some(overlay) = entry.unit.overlays.get(env) {
                overlaid = true;
                let overlay_path = FieldPath::key(&FieldPath::key(path, "overlays"), env);
                let mut overlay = overlay.clone();
                template::render_value(&mut overlay, &overlay_path, self.templates, self.source, errors);
                merge_patch(&mut merged, &overlay);
            }
        }
        let unit: Unit = match serde_json::from_value(merged) {
            Ok(unit) => unit,
            Err(e) => {
                let message = format!("after applying overlays: {}", excerpt(&e.to_string()));
                errors.push(self.source.error_at(path, message));
                return None;
            }
        };
        if overlaid {
            let merged = UnitRef { unit: &unit, path: path.clone(), phase: entry.phase };
            let mut found = Diagnostics::default();
            validate::check_unit(self.document, &merged, self.source, &mut found);
            for diagnostic in found.0 {
                errors.push(locate_in_overlay(diagnostic, path, &self.environment.chain, self.source));
            }
        }
        Some(unit)
    }

    /// Whether the merged unit's condition holds: an overlay may set or change `when`.
    fn included(&self, unit: &Unit, path: &str, errors: &mut Diagnostics) -> bool {
        let Some(condition) = &unit.when else { return true };
        match template::render_condition(condition, self.templates) {
            Ok(included) => included,
            Err(message) => {
                errors.push(self.source.error_at(&FieldPath::key(path, "when"), message));
                false
            }
        }
    }

    /// Readiness hooks with their defaults and their jobs' images resolved.
    fn hooks(&self, hooks: Vec<Hook>) -> Vec<ResolvedHook> {
        hooks
            .into_iter()
            .map(|mut hook| {
                if let Some(job) = &mut hook.job {
                    job.image = image_reference(&job.image, self.images);
                }
                ResolvedHook::new(hook)
            })
            .collect()
    }
}

/// RFC 7386 JSON merge patch: objects merge, `null` deletes, anything else replaces.
fn merge_patch(target: &mut Value, patch: &Value) {
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

/// A problem found in a merged unit is reported where the overlay wrote the field, when it
/// did (the last environment of the chain that sets it wins, as in the merge).
fn locate_in_overlay(diagnostic: Diagnostic, unit_path: &str, chain: &[String], source: &SourceDocument) -> Diagnostic {
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
