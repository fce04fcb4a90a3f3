//! `images` of both formats: `external` → a mirror, `build` → a build, `skip` → a reference.
//!
//! Both tools write complete references (`localhost:32000/shop/api`), where kubectl-codex keeps
//! the registry per environment and the repository per image. The registry is split off the
//! front of each reference, and the stack takes the one they share.

use super::context::{Importer, SourceFile, StringKind};
use super::report::Action;
use crate::config::path::FieldPath;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// What the images section turned into.
#[derive(Default)]
pub struct Images {
    pub images: Map<String, Value>,
    /// The registry the references share (a tera template), when they name one.
    pub registry: Option<String>,
    /// Source repository text → image name, to find the image a unit's `image:` means.
    pub by_repository: BTreeMap<String, String>,
}

/// Converts `images` (a map of name → spec) found at `path` of `file`.
pub fn convert(imp: &mut Importer, file: &SourceFile, path: &str, out_dir: &Path) -> Images {
    let mut result = Images::default();
    let Some(specs) = file.document.value.pointer(&pointer(path)).and_then(Value::as_object).cloned() else {
        return result;
    };
    let mut registries: BTreeMap<String, usize> = BTreeMap::new();
    for (name, spec) in &specs {
        let at = FieldPath::key(path, name);
        let field = |key: &str| spec.get(key).and_then(Value::as_str).map(str::to_string);
        let kind = field("type").unwrap_or_default();
        let converted = match kind.as_str() {
            "external" => mirror(imp, file, &at, spec, &mut registries),
            "build" => build(imp, file, &at, spec, &mut registries, out_dir),
            "skip" => {
                let reference = reference_of(imp, file, &at, spec);
                imp.note_at(
                    file,
                    &at,
                    format!("images.{name}.ref"),
                    Action::Converted,
                    "type skip: neither built nor mirrored; used as the reference it names",
                );
                reference.map(|r| json!({ "ref": r }))
            }
            other => {
                let reason = if super::gotemplate::is_go_template(other) {
                    "a templated image type cannot be decided once for every environment; write the image as `ref`, `build` or `mirror`"
                } else {
                    "an image type the source tool ignores too"
                };
                imp.note_at(
                    file,
                    &FieldPath::key(&at, "type"),
                    "",
                    Action::NotCarried,
                    format!("type \"{other}\": {reason}"),
                );
                None
            }
        };
        if let Some(image) = converted {
            if let Some(repository) = field("repository").or_else(|| field("local")) {
                result.by_repository.insert(repository_part(&repository), name.clone());
            }
            result.images.insert(name.clone(), image);
        }
    }
    result.registry = registries.into_iter().max_by_key(|(_, count)| *count).map(|(registry, _)| registry);
    if let Some(shared) = &result.registry {
        // Images on another registry than the shared one keep the whole reference as repository
        // only where kubectl-codex allows it; say so.
        for (name, image) in &result.images {
            if let Some(other) = image.get("registry").and_then(Value::as_str) {
                if other != shared {
                    imp.note_at(file, &FieldPath::key(path, name),
                        format!("images.{name}"),
                        Action::NotCarried,
                        format!("its registry \"{other}\" differs from the one the other images share (\"{shared}\"); kubectl-codex has one registry per environment"),
                    );
                }
            }
        }
    }
    for image in result.images.values_mut() {
        if let Some(map) = image.as_object_mut() {
            map.shift_remove("registry");
        }
    }
    result
}

fn mirror(
    imp: &mut Importer,
    file: &SourceFile,
    at: &str,
    spec: &Value,
    registries: &mut BTreeMap<String, usize>,
) -> Option<Value> {
    let from = spec.get("from").and_then(Value::as_str)?;
    let from = imp.string(file, &FieldPath::key(at, "from"), from, StringKind::Once)?;
    let mut image = Map::new();
    image.insert("mirror".into(), json!(from));
    if let Some(local) = spec.get("local").and_then(Value::as_str) {
        let local = imp.string(file, &FieldPath::key(at, "local"), local, StringKind::Once)?;
        let (registry, repository, tag) = split_reference(&local);
        if let Some(registry) = registry {
            *registries.entry(registry.clone()).or_default() += 1;
            image.insert("registry".into(), json!(registry));
        }
        image.insert("repository".into(), json!(repository));
        if let Some(tag) = tag {
            image.insert("tag".into(), json!(tag));
        }
    }
    imp.note_at(
        file,
        at,
        format!("images.{}", last(at)),
        Action::Mapped,
        "type external: mirrored from `from` into the environment's registry under the repository and tag of `local`",
    );
    Some(Value::Object(image))
}

fn build(
    imp: &mut Importer,
    file: &SourceFile,
    at: &str,
    spec: &Value,
    registries: &mut BTreeMap<String, usize>,
    out_dir: &Path,
) -> Option<Value> {
    let field = |key: &str| spec.get(key).and_then(Value::as_str).map(str::to_string);
    let context = field("context").unwrap_or_else(|| ".".into());
    let context_dir = relative_to(&imp.source_root.join(&context), out_dir);
    let mut build = Map::new();
    build.insert("context".into(), json!(context_dir));
    if let Some(dockerfile) = field("dockerfile") {
        // The source reads the Dockerfile from the project root; kubectl-codex from the context.
        let inside = relative_to(&imp.source_root.join(&dockerfile), &imp.source_root.join(&context));
        build.insert("dockerfile".into(), json!(inside));
    }
    for (key, target_key) in [("buildArgs", "args"), ("buildContexts", "contexts")] {
        let Some(entries) = spec.get(key).and_then(Value::as_object) else { continue };
        let mut converted = Map::new();
        for (name, value) in entries {
            let text = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            let path = FieldPath::key(&FieldPath::key(at, key), name);
            let Some(text) = imp.string(file, &path, &text, StringKind::Twice) else { continue };
            let text = if target_key == "contexts" { relative_to(&imp.source_root.join(&text), out_dir) } else { text };
            converted.insert(name.clone(), json!(text));
        }
        if !converted.is_empty() {
            build.insert(target_key.into(), Value::Object(converted));
        }
    }
    if spec.get("target").is_some() {
        if let Some(target) = field("target") {
            build.insert("targets".into(), json!({ "prod": target, "dev": target }));
        }
    }
    let mut image = Map::new();
    image.insert("build".into(), Value::Object(build));
    if let Some(repository) = field("repository") {
        let repository = imp.string(file, &FieldPath::key(at, "repository"), &repository, StringKind::Once)?;
        let (registry, repository, _) = split_reference(&repository);
        if let Some(registry) = registry {
            *registries.entry(registry.clone()).or_default() += 1;
            image.insert("registry".into(), json!(registry));
        }
        image.insert("repository".into(), json!(repository));
    }
    if let Some(tag) = field("tagTemplate") {
        let tag = imp.string(file, &FieldPath::key(at, "tagTemplate"), &tag, StringKind::Twice)?;
        image.insert("tag".into(), json!(tag));
    } else if let Some(tag) = field("tag") {
        image.insert("tag".into(), json!(tag));
    }
    imp.note_at(file, at,
        format!("images.{}", last(at)),
        Action::Mapped,
        "type build: built with BuildKit, skipped when its inputs did not change; the context is relative to services.yaml (the source took it from the working directory) and the Dockerfile relative to the context",
    );
    Some(Value::Object(image))
}

fn reference_of(imp: &mut Importer, file: &SourceFile, at: &str, spec: &Value) -> Option<String> {
    let repository = spec.get("repository").or_else(|| spec.get("from")).and_then(Value::as_str)?;
    let repository = imp.string(file, &FieldPath::key(at, "repository"), repository, StringKind::Once)?;
    let tag = match spec.get("tagTemplate").or_else(|| spec.get("tag")).and_then(Value::as_str) {
        Some(tag) => imp.string(file, &FieldPath::key(at, "tagTemplate"), tag, StringKind::Twice)?,
        None => return Some(repository),
    };
    Some(format!("{repository}:{tag}"))
}

/// The image a unit's `image {repository, tagTemplate}` (at `at`) names: the entry of `images`
/// with that repository, else the reference itself. `tag` says how the source renders the tag.
pub fn unit_image(
    imp: &mut Importer,
    file: &SourceFile,
    at: &str,
    image: &Map<String, Value>,
    images: &Images,
    tag: StringKind,
) -> Option<String> {
    let repository = image.get("repository").and_then(Value::as_str)?;
    let translated = imp.string(file, &FieldPath::key(at, "repository"), repository, StringKind::Once)?;
    if let Some(name) = images.by_repository.get(&repository_part(&translated)) {
        return Some(name.clone());
    }
    let tag_text = image.get("tagTemplate").and_then(Value::as_str).unwrap_or("latest");
    let tag_text = imp.string(file, &FieldPath::key(at, "tagTemplate"), tag_text, tag)?;
    Some(format!("{translated}:{tag_text}"))
}

/// `registry/repository:tag` → its parts. The first segment is a registry when it has a `.`,
/// a `:` or is `localhost` (Docker's rule), or when it is a template (a registry host input).
pub fn split_reference(reference: &str) -> (Option<String>, String, Option<String>) {
    let (registry, rest) = match first_segment(reference) {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" || first.contains("{{") =>
        {
            (Some(first.to_string()), rest)
        }
        _ => (None, reference),
    };
    // A tag follows the last `:` after the last `/`, outside template syntax.
    let after_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let colon = rest[after_slash..]
        .char_indices()
        .filter(|(_, c)| *c == ':')
        .map(|(i, _)| after_slash + i)
        .rfind(|&at| balanced(&rest[..at]));
    let (repository, tag) = match colon {
        Some(at) => (rest[..at].to_string(), Some(rest[at + 1..].to_string())),
        None => (rest.to_string(), None),
    };
    (registry, repository, tag)
}

/// Whether every `{{` before the end is closed, so a `:` there is outside template syntax.
fn balanced(text: &str) -> bool {
    text.matches("{{").count() == text.matches("}}").count()
}

/// The first `/`-separated segment, split where the `/` is outside template syntax.
fn first_segment(reference: &str) -> Option<(&str, &str)> {
    let mut depth = 0usize;
    let bytes = reference.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"{{") {
            depth += 1;
            i += 2;
        } else if bytes[i..].starts_with(b"}}") {
            depth = depth.saturating_sub(1);
            i += 2;
        } else if bytes[i] == b'/' && depth == 0 {
            return Some((&reference[..i], &reference[i + 1..]));
        } else {
            i += 1;
        }
    }
    None
}

/// The repository of a reference without registry or tag, for matching units to images.
pub fn repository_part(reference: &str) -> String {
    split_reference(reference).1
}

fn last(path: &str) -> &str {
    path.rsplit(['.', '[']).next().unwrap_or(path).trim_end_matches(']').trim_matches('"')
}

/// A JSON pointer for a field path of plain keys (`spec.images` → `/spec/images`).
pub fn pointer(path: &str) -> String {
    if path.is_empty() {
        return String::new();
    }
    format!("/{}", path.replace('.', "/"))
}

/// `path` relative to `base`, both under the same root; `.` for the same directory.
pub fn relative_to(path: &Path, base: &Path) -> String {
    let absolute = |p: &Path| -> std::path::PathBuf {
        let joined =
            if p.is_absolute() { p.to_path_buf() } else { std::env::current_dir().unwrap_or_default().join(p) };
        normalise(&joined)
    };
    let (path, base) = (absolute(path), absolute(base));
    let path_parts: Vec<_> = path.components().collect();
    let base_parts: Vec<_> = base.components().collect();
    let common = path_parts.iter().zip(&base_parts).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = std::iter::repeat_n("..".to_string(), base_parts.len() - common).collect();
    parts.extend(path_parts[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned()));
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// Removes `.` and resolves `..` lexically (the paths may not exist yet).
fn normalise(path: &Path) -> std::path::PathBuf {
    let mut out = std::path::PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_registry_repository_and_tag() {
        assert_eq!(
            split_reference("localhost:32000/shop/api:1.2"),
            (Some("localhost:32000".into()), "shop/api".into(), Some("1.2".into()))
        );
        assert_eq!(split_reference("redis:7"), (None, "redis".into(), Some("7".into())));
        assert_eq!(split_reference("library/redis"), (None, "library/redis".into(), None));
        assert_eq!(
            split_reference("{{ inputs.REGISTRY }}/shop/api"),
            (Some("{{ inputs.REGISTRY }}".into()), "shop/api".into(), None)
        );
        assert_eq!(
            split_reference("registry.test/shop/api:{{ versions.api }}"),
            (Some("registry.test".into()), "shop/api".into(), Some("{{ versions.api }}".into()))
        );
    }

    #[test]
    fn relative_paths_climb_out_of_the_output_directory() {
        assert_eq!(relative_to(Path::new("/src/services/api"), Path::new("/src/out")), "../services/api");
        assert_eq!(relative_to(Path::new("/src/a/Dockerfile"), Path::new("/src/a")), "Dockerfile");
        assert_eq!(relative_to(Path::new("/src/./a"), Path::new("/src/a")), ".");
    }
}
