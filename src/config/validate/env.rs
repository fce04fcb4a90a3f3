//! `env` and `envFrom` of a container: one source per value, and secrets that `secrets` declares.

use super::names::check_object_name;
use super::unknown;
use crate::config::diagnostics::{excerpt, Diagnostics};
use crate::config::model::{Document, EnvFrom, EnvSource, EnvValue};
use crate::config::path::FieldPath;
use crate::config::source::SourceDocument;
use std::collections::BTreeMap;

/// `env` values taken from elsewhere name exactly one source; `envFrom` entries one object.
/// The short forms (`secret`, `configMap`, `field`) take `key` where it applies, and `secret`
/// names a Secret of `secrets` and one of its keys; the Kubernetes forms may name any object.
pub(super) fn check_env(
    document: &Document,
    env: &BTreeMap<String, EnvValue>,
    env_from: &[EnvFrom],
    path: &str,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    for (name, value) in env {
        let EnvValue::From(from) = value else { continue };
        check_env_source(document, from, &FieldPath::key(&FieldPath::key(path, "env"), name), source, errors);
    }
    for (i, entry) in env_from.iter().enumerate() {
        check_env_from(document, entry, &FieldPath::index(&FieldPath::key(path, "envFrom"), i), source, errors);
    }
}

/// One value taken from elsewhere: exactly one source, `key` and `optional` where they apply.
fn check_env_source(
    document: &Document,
    from: &EnvSource,
    at: &str,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    let sources = from.sources();
    if sources.len() != 1 {
        errors.push(source.error_at(
            at,
            "a value taken from elsewhere has exactly one of \"secret\", \"configMap\", \"field\" \
             (or the Kubernetes forms \"secretKeyRef\", \"configMapKeyRef\", \"fieldRef\")",
        ));
        return;
    }
    let short_object = matches!(sources[0], "secret" | "configMap");
    if short_object && from.key.is_none() {
        errors.push(source.error_at(
            at,
            format!(
                "\"{}\" needs \"key\": the key of the object to read, e.g. {{ {}: NAME, key: KEY }}",
                sources[0], sources[0]
            ),
        ));
    }
    if !short_object && (from.key.is_some() || from.optional.is_some()) {
        let field = if from.key.is_some() { "key" } else { "optional" };
        errors.push(source.error_at(
            &FieldPath::key(at, field),
            format!(
                "\"{field}\" goes with \"secret\" or \"configMap\" (inside \"{}\" for the Kubernetes form)",
                sources[0]
            ),
        ));
    }
    if let Some(field) = &from.field {
        if field.is_empty() {
            errors.push(source.error_at(&FieldPath::key(at, "field"), "a field path such as metadata.name"));
        }
    }
    if let Some(secret) = &from.secret {
        check_secret_reference(document, secret, from.key.as_deref(), &FieldPath::key(at, "secret"), source, errors);
    } else if let Some(selector) = &from.secret_key_ref {
        // The Kubernetes form may name a Secret made elsewhere; one of ours must have the key.
        if document.secrets.contains_key(&selector.name) {
            let key_at = FieldPath::key(&FieldPath::key(at, "secretKeyRef"), "name");
            check_secret_reference(document, &selector.name, Some(&selector.key), &key_at, source, errors);
        }
    }
    if let Some(name) = &from.config_map {
        check_object_name(name, &FieldPath::key(at, "configMap"), source, errors);
    }
}

/// One `envFrom` entry: exactly one object, a declared Secret for the short form.
fn check_env_from(
    document: &Document,
    entry: &EnvFrom,
    entry_path: &str,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
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
            check_secret_reference(document, name, None, &FieldPath::key(entry_path, "secret"), source, errors)
        }
        [(field, name)] => check_object_name(name, &FieldPath::key(entry_path, field), source, errors),
        _ => errors.push(source.error_at(
            entry_path,
            "an envFrom entry has exactly one of \"secret\", \"configMap\", \"secretRef\", \"configMapRef\"",
        )),
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
