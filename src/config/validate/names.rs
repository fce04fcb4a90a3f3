//! What Kubernetes accepts as a name, label, annotation key, path or quantity, and the checks
//! that report anything else.

use crate::config::diagnostics::{excerpt, Diagnostics};
use crate::config::source::SourceDocument;

/// Whether `name` is a DNS-1123 label of at most `max` characters.
pub fn is_dns_label(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// A label: a qualified-name key, and a value of at most 63 characters (unless a template).
pub(super) fn check_label(key: &str, value: &str, path: &str, source: &SourceDocument, errors: &mut Diagnostics) {
    if !is_qualified_name(key) {
        errors.push(source.error_at_key(path, not_a_key(key)));
    }
    if !crate::config::template::is_template(value) && !is_label_value(value) {
        errors.push(source.error_at(
            path,
            format!("\"{}\" is not a label value (at most 63 letters, digits, '-', '_', '.', starting and ending with a letter or digit)", excerpt(value)),
        ));
    }
}

pub(super) fn not_a_key(key: &str) -> String {
    format!("\"{}\" is not a label or annotation key (an optional DNS subdomain and '/', then a name of at most 63 letters, digits, '-', '_', '.')", excerpt(key))
}

/// A Kubernetes qualified name: `[prefix/]name`, the prefix a DNS subdomain.
pub(super) fn is_qualified_name(key: &str) -> bool {
    let (prefix, name) = key.rsplit_once('/').map_or((None, key), |(p, n)| (Some(p), n));
    prefix.is_none_or(is_dns_subdomain) && !name.is_empty() && is_label_value(name)
}

/// A label value: empty, or at most 63 of `[A-Za-z0-9-_.]` starting and ending alphanumeric.
fn is_label_value(value: &str) -> bool {
    value.is_empty()
        || (value.len() <= 63
            && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && value.starts_with(|c: char| c.is_ascii_alphanumeric())
            && value.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

/// Whether `name` is a DNS-1123 subdomain: dot-separated labels, at most 253 characters.
pub fn is_dns_subdomain(name: &str) -> bool {
    name.len() <= 253 && name.split('.').all(|part| is_dns_label(part, 63))
}

/// The name of a ConfigMap, Secret, claim or ServiceAccount: a DNS-1123 subdomain (templates
/// are checked by Kubernetes once rendered).
pub(super) fn check_object_name(name: &str, path: &str, source: &SourceDocument, errors: &mut Diagnostics) {
    if !crate::config::template::is_template(name) && !is_dns_subdomain(name) {
        errors.push(source.error_at(
            path,
            format!(
                "\"{}\" is not a Kubernetes object name (a DNS-1123 subdomain: lowercase letters, digits, '-', '.')",
                excerpt(name)
            ),
        ));
    }
}

pub(super) fn check_absolute(path_text: &str, path: &str, source: &SourceDocument, errors: &mut Diagnostics) {
    if !path_text.starts_with('/') && !crate::config::template::is_template(path_text) {
        errors.push(source.error_at(path, format!("\"{}\" must be an absolute path", excerpt(path_text))));
    }
}

pub(super) fn check_quantity(text: &str, path: &str, source: &SourceDocument, errors: &mut Diagnostics) {
    if !is_quantity(text) {
        errors.push(
            source.error_at(path, format!("\"{}\" is not a Kubernetes quantity such as 1Gi or 500Mi", excerpt(text))),
        );
    }
}

/// Whether `text` is a Kubernetes quantity (`500m`, `2`, `1.5Gi`, `1e3`): sizes, CPU, memory.
pub fn is_quantity(text: &str) -> bool {
    let number_end = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, suffix) = text.split_at(number_end);
    let digits_ok = !number.is_empty()
        && number.matches('.').count() <= 1
        && number.chars().any(|c| c.is_ascii_digit())
        && !number.ends_with('.');
    let suffix_ok = matches!(
        suffix,
        "" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" | "n" | "u" | "m" | "k" | "M" | "G" | "T" | "P" | "E"
    ) || is_exponent(suffix);
    digits_ok && suffix_ok
}

fn is_exponent(suffix: &str) -> bool {
    let Some(rest) = suffix.strip_prefix(['e', 'E']) else {
        return false;
    };
    let rest = rest.strip_prefix(['+', '-']).unwrap_or(rest);
    !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::is_quantity;

    #[test]
    fn quantities_are_told_from_other_text() {
        for good in ["1", "500m", "2.5", "1Gi", "64Mi", "1e3", "0.5Ki", "10"] {
            assert!(is_quantity(good), "{good}");
        }
        for bad in ["", "lots", "1GB", "Gi", "1.", ".", "1..2", "-1", "1 Gi", "1e", "2x"] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }
}
