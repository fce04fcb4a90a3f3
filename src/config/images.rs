//! The parts of resolving `images` that mirrors and builds add: a mirror's source and its place
//! in the environment's registry, and a build's templated args and extra contexts.

use super::diagnostics::{excerpt, Diagnostics};
use super::model::{Build, Image, ScalarString};
use super::path::FieldPath;
use super::reference::{self, ImageReference};
use super::source::SourceDocument;
use super::template;
use std::path::Path;

/// A mirror's source, rendered and parsed (`None` after an error was reported).
pub(super) fn mirror_source(
    mirror: &str,
    path: &str,
    prepared: &template::Prepared,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) -> Option<ImageReference> {
    let at = FieldPath::key(path, "mirror");
    let rendered = match template::render_prepared(mirror, prepared) {
        Ok(text) => text,
        Err(message) => {
            errors.push(source.error_at(&at, message));
            return None;
        }
    };
    match reference::parse(&rendered) {
        Ok(parsed) => Some(parsed),
        // A literal one was reported by validate already.
        Err(_) if !template::is_template(mirror) => None,
        Err(why) => {
            errors.push(source.error_at(&at, super::validate::not_a_mirror_source(&rendered, &why)));
            None
        }
    }
}

/// The tag a mirror is stored under when `tag` is not given: the source's own. A source
/// named by digest alone has none, so it needs `tag`.
pub(super) fn default_mirror_tag(
    image: &Image,
    mirror: &ImageReference,
    path: &str,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) -> String {
    match (&mirror.tag, &mirror.digest) {
        (Some(tag), _) => tag.clone(),
        (None, None) => "latest".into(),
        (None, Some(_)) => {
            errors.push(source.error_at(
                &FieldPath::key(path, "mirror"),
                format!(
                    "\"{}\" names its image by digest alone; give the mirror a \"tag\" to be stored under",
                    excerpt(image.mirror.as_deref().unwrap_or_default())
                ),
            ));
            String::new()
        }
    }
}

/// Checks where a mirror goes: an environment registry, a valid repository and tag.
pub(super) fn check_mirror_target(
    registry: &str,
    env: &str,
    repository: &str,
    tag: &str,
    path: &str,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    if registry.is_empty() {
        errors.push(source.error_at(
            &FieldPath::key(path, "mirror"),
            format!(
                "a mirrored image is copied into the environment's registry, and environment \"{env}\" has none; set environments.{env}.registry"
            ),
        ));
    }
    let field = |name: &str| {
        if source.map.contains(&FieldPath::key(path, name)) {
            FieldPath::key(path, name)
        } else {
            path.to_string()
        }
    };
    if let Err(why) = reference::check_repository(repository) {
        errors.push(
            source
                .error_at(&field("repository"), format!("the mirror's repository \"{}\": {why}", excerpt(repository))),
        );
    }
    if !tag.is_empty() {
        if let Err(why) = reference::check_tag(tag) {
            errors.push(source.error_at(&field("tag"), format!("the mirror's tag: {why}")));
        }
    }
}

/// A build with its `args` rendered (they are templates, with the context units see) and its
/// extra contexts checked on disk: directories inside the directory of services.yaml.
pub(super) fn resolve_build(
    build: &Build,
    path: &str,
    prepared: &template::Prepared,
    base_dir: &Path,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) -> Build {
    let build_path = FieldPath::key(path, "build");
    let mut resolved = build.clone();
    for (name, value) in &mut resolved.args {
        if template::is_template(&value.0) {
            let at = FieldPath::key(&FieldPath::key(&build_path, "args"), name);
            match template::render_prepared(&value.0, prepared) {
                Ok(text) => *value = ScalarString(text),
                Err(message) => errors.push(source.error_at(&at, message)),
            }
        }
    }
    for (name, dir) in &build.contexts {
        // A path refused on its text alone was reported by validate.
        if super::manifest_file::check_relative(dir).is_err() {
            continue;
        }
        if let Err(message) = super::manifest_file::directory(base_dir, dir) {
            let at = FieldPath::key(&FieldPath::key(&build_path, "contexts"), name);
            errors.push(source.error_at(&at, format!("build context \"{name}\": {message}")));
        }
    }
    resolved
}
