//! The images stage of resolving: every `images` entry as the full reference this environment
//! deploys (registry, repository, tag, mirror source), and builds with their arguments rendered.

use super::super::diagnostics::Diagnostics;
use super::super::model::{Document, Runtime};
use super::super::path::FieldPath;
use super::super::source::SourceDocument;
use super::super::stack::ResolvedImage;
use super::super::template::{self, TemplateContext};
use super::environment::render;
use std::collections::BTreeMap;
use std::path::Path;

/// The images of `document` for `env` in `runtime`; `context` holds the rendered registry.
pub(super) fn resolve_images(
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
                    let Some(parsed) = crate::config::images::mirror_source(text, &path, prepared, source, errors)
                    else {
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
                    (None, Some(m)) => crate::config::images::default_mirror_tag(image, m, &path, source, errors),
                    (None, None) => runtime.as_str().to_string(),
                };
                if mirror.is_some() && image.build.is_none() {
                    crate::config::images::check_mirror_target(
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
pub(super) fn resolve_builds(
    images: &mut BTreeMap<String, ResolvedImage>,
    source: &SourceDocument,
    prepared: &template::Prepared,
    base_dir: &Path,
    errors: &mut Diagnostics,
) {
    for (name, image) in images.iter_mut() {
        if let Some(build) = &image.build {
            let path = FieldPath::key("images", name);
            image.build = Some(crate::config::images::resolve_build(build, &path, prepared, base_dir, source, errors));
        }
    }
}

/// An `images` name as its full reference; anything else is a reference already.
pub(in crate::config) fn image_reference(image: &str, images: &BTreeMap<String, ResolvedImage>) -> String {
    images.get(image).map_or_else(|| image.to_string(), |i| i.reference.clone())
}
