//! A unit's `manifests:`: read, rendered with the stack's templates, split into documents, and
//! edited as the unit says — kinds dropped, patches applied, the workspace and existing claims
//! mounted into every pod template, namespaced objects put in the environment's namespace,
//! cluster-scoped ones refused unless the environment allows their kind, the image edit
//! checked against the containers it names.
//!
//! Errors name the manifest file and the line where the offending document starts (in the
//! rendered text, which keeps the file's lines unless a template adds some), together with the
//! services.yaml field that brought the file in.

use super::diagnostics::{excerpt, Diagnostic, Diagnostics, Position};
use super::kinds;
use super::manifest_edit::{self, VolumeMount};
use super::model::{ManifestPatch, PatchType, Unit};
use super::path::FieldPath;
use super::source::SourceDocument;
use super::stack::{ImageEdit, ResolvedImage, ResolvedMount, WorkspaceSpec};
use super::template;
use crate::labels;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// What the manifests of one unit need from the environment.
pub struct ManifestContext<'a> {
    pub source: &'a SourceDocument,
    pub base_dir: &'a Path,
    pub templates: &'a template::Prepared,
    pub env: &'a str,
    pub namespace: &'a str,
    pub workspace: &'a WorkspaceSpec,
    pub allow_cluster_scoped: &'a [String],
    pub images: &'a BTreeMap<String, ResolvedImage>,
}

/// One parsed document and where it came from.
struct Document {
    object: Value,
    file: String,
    line: usize,
    /// The services.yaml field that names the file, e.g. `services[2].manifests[0]`.
    field: String,
}

impl Document {
    fn error(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(&self.file, Position { line: self.line, column: 1 }, &self.field, message)
    }
}

/// The unit's edited manifests and its checked image edit.
pub fn resolve(
    unit: &Unit,
    path: &str,
    context: &ManifestContext<'_>,
    digest: &mut Sha256,
    errors: &mut Diagnostics,
) -> (Vec<Value>, Option<ImageEdit>) {
    let mut documents = Vec::new();
    for (i, file) in unit.manifests.iter().enumerate() {
        let field = FieldPath::index(&FieldPath::key(path, "manifests"), i);
        documents.extend(load(file, &field, context, digest, errors));
    }
    documents.retain(|d| !unit.drop_kinds.iter().any(|k| k == kind_of(&d.object)));
    for (i, patch) in unit.patches.iter().enumerate() {
        let field = FieldPath::index(&FieldPath::key(path, "patches"), i);
        apply_patch(patch, &field, &mut documents, context.source, errors);
    }
    for document in &mut documents {
        place(document, context, errors);
    }
    if let Some(mount) = unit.workspace.clone().map(ResolvedMount::new) {
        let volume = json!({
            "name": labels::WORKSPACE_VOLUME,
            "persistentVolumeClaim": {"claimName": context.workspace.claim_name},
        });
        let mount = VolumeMount {
            name: labels::WORKSPACE_VOLUME.into(),
            mount_path: mount.mount_path,
            sub_path: mount.sub_path,
            read_only: mount.read_only,
        };
        let identity = context.workspace;
        for document in &mut documents {
            if manifest_edit::mount_everywhere(&mut document.object, &volume, &mount) > 0 {
                manifest_edit::default_pod_identity(
                    &mut document.object,
                    identity.uid,
                    identity.gid,
                    identity.fs_group,
                );
            }
        }
    }
    for claim in &unit.claims {
        let name = claim_volume_name(&claim.claim_name);
        let volume = json!({"name": name, "persistentVolumeClaim": {"claimName": claim.claim_name}});
        let mount = VolumeMount {
            name,
            mount_path: claim.mount_path.clone(),
            sub_path: claim.sub_path.clone().unwrap_or_default(),
            read_only: claim.read_only,
        };
        for document in &mut documents {
            manifest_edit::mount_everywhere(&mut document.object, &volume, &mount);
        }
    }
    let image_edit = unit.image.as_ref().and_then(|image| {
        let field = FieldPath::key(path, "image");
        image_edit(unit, image, &field, &documents, context, errors)
    });
    (documents.into_iter().map(|d| d.object).collect(), image_edit)
}

/// Reads, renders and splits one file. Every document must be a Kubernetes object.
fn load(
    file: &str,
    field: &str,
    context: &ManifestContext<'_>,
    digest: &mut Sha256,
    errors: &mut Diagnostics,
) -> Vec<Document> {
    let (full, text) = match super::manifest_file::read(context.base_dir, file) {
        Ok(read) => read,
        Err(message) => {
            errors.push(context.source.error_at(field, message));
            return Vec::new();
        }
    };
    digest.update(file.as_bytes());
    digest.update(text.as_bytes());
    let shown = full.display().to_string();
    let rendered = match template::render_manifest(&text, context.templates) {
        Ok(rendered) => rendered,
        Err(message) => {
            errors.push(template::file_error(&shown, message));
            return Vec::new();
        }
    };
    let mut documents = Vec::new();
    for (line, chunk) in split_documents(&rendered) {
        let at = |line: usize, column: usize, message: String| {
            Diagnostic::new(&shown, Position { line, column }, field, message)
        };
        match super::source::read_value(&shown, chunk) {
            Ok(None | Some(Value::Null)) => {}
            Ok(Some(object)) => {
                let document = Document { object, file: shown.clone(), line, field: field.to_string() };
                match missing_identity(&document.object) {
                    None => documents.push(document),
                    Some(what) => errors.push(document.error(format!("this document has no {what}: every document must be a Kubernetes object with apiVersion, kind and metadata.name"))),
                }
            }
            Err(e) => errors.push(at(line + e.line - 1, e.column, format!("not valid YAML: {}", excerpt(&e.message)))),
        }
    }
    documents
}

/// The documents of a multi-document YAML text, each with the 1-based line it starts on.
fn split_documents(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start_byte = 0;
    let mut start_line = 1;
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if line.starts_with("---") && line[3..].trim().is_empty() {
            out.push((start_line, &text[start_byte..offset]));
            start_byte = offset + line.len();
            start_line = i + 2;
        }
        offset += line.len();
    }
    out.push((start_line, &text[start_byte..]));
    out.retain(|(_, chunk)| chunk.lines().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')));
    out
}

fn missing_identity(object: &Value) -> Option<&'static str> {
    let text = |pointer: &str| object.pointer(pointer).and_then(Value::as_str).filter(|s| !s.is_empty());
    if !object.is_object() {
        Some("mapping at the top")
    } else if text("/apiVersion").is_none() {
        Some("apiVersion")
    } else if text("/kind").is_none() {
        Some("kind")
    } else if text("/metadata/name").is_none() {
        Some("metadata.name")
    } else {
        None
    }
}

pub fn kind_of(object: &Value) -> &str {
    object.get("kind").and_then(Value::as_str).unwrap_or_default()
}

pub fn name_of(object: &Value) -> &str {
    object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default()
}

/// `Kind/name` of an object, as targets are written.
pub fn object_ref(object: &Value) -> String {
    format!("{}/{}", kind_of(object), name_of(object))
}

fn find(documents: &[Document], target: &str) -> Option<usize> {
    documents.iter().position(|d| object_ref(&d.object) == target)
}

fn known_targets(documents: &[Document]) -> String {
    let all: Vec<String> = documents.iter().map(|d| object_ref(&d.object)).collect();
    if all.is_empty() {
        "it has none".into()
    } else {
        format!("it has: {}", all.join(", "))
    }
}

fn apply_patch(
    patch: &ManifestPatch,
    field: &str,
    documents: &mut [Document],
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    let target_field = FieldPath::key(field, "target");
    if !patch.target.contains('/') {
        errors.push(source.error_at(&target_field, format!("\"{}\" must be Kind/name", excerpt(&patch.target))));
        return;
    }
    let Some(index) = find(documents, &patch.target) else {
        let message = format!(
            "no object {} among the unit's manifests to patch; {}",
            excerpt(&patch.target),
            known_targets(documents)
        );
        errors.push(source.error_at(&target_field, message));
        return;
    };
    let object = &mut documents[index].object;
    let applied = match patch.patch_type.unwrap_or(PatchType::Strategic) {
        PatchType::Json => manifest_edit::apply_json_patch(object, &patch.patch),
        PatchType::Strategic => manifest_edit::apply_strategic_merge(object, &patch.patch),
    };
    if let Err(e) = applied {
        errors.push(source.error_at(&FieldPath::key(field, "patch"), e.to_string()));
    }
}

/// Namespaced objects go to the environment's namespace; cluster-scoped ones need the
/// environment's permission.
fn place(document: &mut Document, context: &ManifestContext<'_>, errors: &mut Diagnostics) {
    let kind = kind_of(&document.object).to_string();
    if kinds::is_cluster_scoped(&kind) {
        if !kinds::allowed(context.allow_cluster_scoped, &kind) {
            let message = format!(
                "{} is cluster-scoped, shared by every environment of the cluster; environment \"{}\" does not allow {kind} (add it to environments.{}.allowClusterScoped)",
                object_ref(&document.object),
                context.env,
                context.env
            );
            errors.push(document.error(message));
        } else if let Some(map) = document.object.pointer_mut("/metadata").and_then(Value::as_object_mut) {
            map.remove("namespace");
        }
        return;
    }
    manifest_edit::set_namespace(&mut document.object, context.namespace);
}

fn image_edit(
    unit: &Unit,
    image: &super::model::ManifestImage,
    field: &str,
    documents: &[Document],
    context: &ManifestContext<'_>,
    errors: &mut Diagnostics,
) -> Option<ImageEdit> {
    let object = match &image.target {
        Some(target) => find(documents, target).or_else(|| {
            let message =
                format!("no object {} among the unit's manifests; {}", excerpt(target), known_targets(documents));
            errors.push(context.source.error_at(&FieldPath::key(field, "target"), message));
            None
        })?,
        None => documents
            .iter()
            .position(|d| manifest_edit::has_pod_template(kind_of(&d.object)) && name_of(&d.object) == unit.name)
            .or_else(|| {
                let message = format!(
                    "no workload named \"{}\" (the unit's name) among the unit's manifests to set the image of; name one with image.target ({})",
                    unit.name,
                    known_targets(documents)
                );
                errors.push(context.source.error_at(field, message));
                None
            })?,
    };
    if let Err(e) = manifest_edit::check_containers(&documents[object].object, &image.containers) {
        errors.push(context.source.error_at(&FieldPath::key(field, "containers"), e.to_string()));
        return None;
    }
    Some(ImageEdit {
        image: super::resolve::image_reference(&image.name, context.images),
        image_name: context.images.contains_key(&image.name).then(|| image.name.clone()),
        object,
        containers: image.containers.clone(),
    })
}

/// A volume name for a claim: a DNS label, unique per claim.
fn claim_volume_name(claim: &str) -> String {
    let name = format!("claim-{claim}");
    if name.len() <= 63 {
        return name;
    }
    let digest = super::resolve::hex(&Sha256::digest(claim.as_bytes()));
    format!("claim-{}-{}", &claim[..40], &digest[..8])
}

#[cfg(test)]
mod tests {
    use super::split_documents;

    #[test]
    fn documents_are_split_with_their_first_line() {
        let text = "a: 1\n---\n# only a comment\n---\nb: 2\nc: 3\n--- \nd: 4\n";
        let parts = split_documents(text);
        assert_eq!(parts.iter().map(|(line, _)| *line).collect::<Vec<_>>(), vec![1, 5, 8]);
        assert_eq!(parts[1].1, "b: 2\nc: 3\n");
    }
}
