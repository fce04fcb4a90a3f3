//! Images: exactly one of `ref`, `build`, `mirror`; mirror sources; build context names.

use crate::config::diagnostics::{excerpt, Diagnostics};
use crate::config::model::Document;
use crate::config::path::FieldPath;
use crate::config::source::SourceDocument;

pub(super) fn check_images(document: &Document, source: &SourceDocument, errors: &mut Diagnostics) {
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
            if !crate::config::template::is_template(mirror) {
                if let Err(why) = crate::config::reference::parse(mirror) {
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
fn check_build_contexts(
    build: &crate::config::model::Build,
    path: &str,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
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
        if let Err(message) = crate::config::manifest_file::check_relative(dir) {
            errors.push(source.error_at(&at, message));
        }
    }
}
