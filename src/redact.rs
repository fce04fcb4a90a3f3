//! The last line of defence for secret values: every value of a secret input or a Secret this
//! process handles is registered here, and text that comes from elsewhere (Helm's and the API
//! server's errors, pod logs quoted in a failure report, template errors) is scrubbed of them
//! before it is printed or stored. Our own output never holds a value to begin with; this
//! catches what other programs say.

use std::borrow::Cow;
use std::sync::Mutex;

/// Values shorter than this are not scrubbed: replacing every `a` or `42` would mangle
/// messages without protecting anything a guess would not find.
pub const MIN_LEN: usize = 4;

static KNOWN: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// Remembers `value`, to be shown as `placeholder` wherever it turns up.
pub fn register(value: &str, placeholder: &str) {
    if value.len() < MIN_LEN {
        return;
    }
    let mut known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    if !known.iter().any(|(v, _)| v == value) {
        known.push((value.to_string(), placeholder.to_string()));
        // Longest first, so a value that contains another is replaced whole.
        known.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
    }
}

/// `text` with every registered value replaced by its placeholder.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    if !known.iter().any(|(v, _)| text.contains(v.as_str())) {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_string();
    for (value, placeholder) in known.iter() {
        if out.contains(value.as_str()) {
            out = out.replace(value.as_str(), placeholder);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_values_are_scrubbed_longest_first() {
        register("s3cr3t-value", "<secret:db/password>");
        register("postgres://app:s3cr3t-value@db", "<secret:db/url>");
        register("abc", "<secret:short>");
        assert_eq!(scrub("error: postgres://app:s3cr3t-value@db refused"), "error: <secret:db/url> refused");
        assert_eq!(scrub("password s3cr3t-value"), "password <secret:db/password>");
        assert_eq!(scrub("abc stays"), "abc stays");
        assert!(matches!(scrub("nothing here"), Cow::Borrowed(_)));
    }
}
