//! `secrets:`: Secrets created in the environment's namespace, in its first phase, from
//! templates over inputs (`data`), files next to services.yaml (`files`) and random values
//! made once per namespace (`generate`).
//!
//! A secret's values live in memory only, in [`SecretValue`], whose every printed or
//! serialised form is a placeholder (`<secret:db/password>`); the real bytes go to Helm on its
//! standard input at install time (see `values::secrets`), never to a file, a plan, evidence
//! or a message. What changes when a value changes is the secret's digest, an HMAC-SHA256
//! keyed by the namespace: the Secret and the pods that use it carry it, so they roll.

use super::diagnostics::{excerpt, Diagnostics};
use super::model::{Document, ScalarString};
use super::path::FieldPath;
use super::source::SourceDocument;
use super::template;
use base64::Engine;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One declared Secret. Each key comes from exactly one of `data`, `files`, `generate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secret {
    #[serde(default)]
    pub description: Option<String>,
    /// Key → value, a template over inputs (`"{{ inputs.dbPassword }}"`); the only templates
    /// that may read secret inputs.
    #[serde(default)]
    pub data: BTreeMap<String, ScalarString>,
    /// Key → a file relative to services.yaml (inside its directory), read as it is.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Keys that get 32 random bytes (URL-safe base64) the first time the namespace gets the
    /// Secret, and keep them across upgrades and review rounds.
    #[serde(default)]
    pub generate: Vec<String>,
}

impl Secret {
    /// Every key the Secret holds.
    pub fn keys(&self) -> BTreeSet<&str> {
        self.data.keys().chain(self.files.keys()).chain(&self.generate).map(String::as_str).collect()
    }
}

/// Bytes of a secret value. Printing or serialising it gives its placeholder only; the bytes
/// are reached through [`SecretValue::expose`], by the one path that hands them to Helm.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue {
    bytes: Vec<u8>,
    placeholder: String,
}

impl SecretValue {
    pub fn new(bytes: Vec<u8>, placeholder: String) -> Self {
        SecretValue { bytes, placeholder }
    }
    pub fn expose(&self) -> &[u8] {
        &self.bytes
    }
    pub fn placeholder(&self) -> &str {
        &self.placeholder
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.placeholder)
    }
}

impl Serialize for SecretValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.placeholder)
    }
}

/// A Secret of one environment.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedSecret {
    pub name: String,
    /// Rendered `data` and read `files`, by key (placeholders when serialised).
    pub data: BTreeMap<String, SecretValue>,
    /// Keys generated in the cluster once per namespace.
    pub generate: Vec<String>,
    /// HMAC-SHA256, keyed by the namespace, of every key and value (generated keys by name).
    pub digest: String,
}

impl ResolvedSecret {
    /// Every key with what plans and values show for it.
    pub fn placeholders(&self) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> =
            self.data.iter().map(|(k, v)| (k.clone(), v.placeholder().to_string())).collect();
        for key in &self.generate {
            out.insert(key.clone(), generated_placeholder(&self.name, key));
        }
        out
    }
}

pub fn placeholder(secret: &str, key: &str) -> String {
    format!("<secret:{secret}/{key}>")
}

pub fn generated_placeholder(secret: &str, key: &str) -> String {
    format!("<generated:{secret}/{key}>")
}

/// HMAC-SHA256 (RFC 2104).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// The salted digest of a secret value: HMAC-SHA256 keyed by the namespace, hex.
pub fn salted_digest(namespace: &str, message: &[u8]) -> String {
    super::resolve::hex(&hmac_sha256(namespace.as_bytes(), message))
}

/// 32 random bytes from the kernel, URL-safe base64 without padding (43 characters).
pub fn generate_value() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    let mut filled = 0;
    while filled < bytes.len() {
        // SAFETY: the pointer and length describe the unfilled rest of `bytes`.
        let n = unsafe { libc::getrandom(bytes[filled..].as_mut_ptr().cast(), bytes.len() - filled, 0) };
        if n < 0 {
            let error = std::io::Error::last_os_error();
            if error.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(error);
        }
        filled += n as usize;
    }
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// A key of a Secret's data: what Kubernetes accepts (`[-._a-zA-Z0-9]+`, at most 253).
pub fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 253
        && key != "."
        && key != ".."
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The rules about declarations: names, keys, one source per key.
pub fn check(document: &Document, source: &SourceDocument, errors: &mut Diagnostics) {
    for (name, secret) in &document.secrets {
        let path = FieldPath::key("secrets", name);
        let dns = super::validate::is_dns_subdomain(name);
        if !dns {
            errors.push(source.error_at_key(
                &path,
                format!(
                    "\"{}\" is not a Secret name (a DNS-1123 subdomain: lowercase letters, digits, '-', '.')",
                    excerpt(name)
                ),
            ));
        } else if name.starts_with("sh.helm.") {
            errors
                .push(source.error_at_key(&path, "names starting with \"sh.helm.\" belong to Helm's release records"));
        }
        if secret.keys().is_empty() {
            errors
                .push(source.error_at(&path, "a secret needs at least one key in \"data\", \"files\" or \"generate\""));
        }
        for (field, keys) in
            [("data", secret.data.keys().collect::<Vec<_>>()), ("files", secret.files.keys().collect::<Vec<_>>())]
        {
            for key in keys {
                if !is_key(key) {
                    errors.push(source.error_at_key(&FieldPath::key(&FieldPath::key(&path, field), key), bad_key(key)));
                }
            }
        }
        for (key, _) in secret.files.iter().filter(|(k, _)| secret.data.contains_key(*k)) {
            errors.push(source.error_at_key(
                &FieldPath::key(&FieldPath::key(&path, "files"), key),
                format!(
                    "key \"{}\" is also in data: each key has one source; remove it from one of them",
                    excerpt(key)
                ),
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, key) in secret.generate.iter().enumerate() {
            let at = FieldPath::index(&FieldPath::key(&path, "generate"), i);
            if !is_key(key) {
                errors.push(source.error_at(&at, bad_key(key)));
            } else if !seen.insert(key.as_str()) {
                errors.push(source.error_at(&at, format!("key \"{}\" is listed twice", excerpt(key))));
            } else if secret.data.contains_key(key) || secret.files.contains_key(key) {
                let other = if secret.data.contains_key(key) { "data" } else { "files" };
                errors.push(source.error_at(
                    &at,
                    format!(
                        "key \"{}\" is also in {other}: a key is either generated or given; remove it from \"generate\" or from \"{other}\"",
                        excerpt(key)
                    ),
                ));
            }
        }
    }
}

fn bad_key(key: &str) -> String {
    format!("\"{}\" is not a Secret key (letters, digits, '-', '_' and '.', at most 253 characters)", excerpt(key))
}

/// What resolving secrets needs from the environment.
pub struct SecretContext<'a> {
    pub source: &'a SourceDocument,
    pub base_dir: &'a Path,
    pub namespace: &'a str,
    /// The template context with secret inputs in it.
    pub templates: &'a template::Prepared,
    /// (value, placeholder) of every secret input, scrubbed out of template errors.
    pub secret_texts: &'a [(String, String)],
}

/// Renders every declared secret for one environment.
pub fn resolve(document: &Document, context: &SecretContext<'_>, errors: &mut Diagnostics) -> Vec<ResolvedSecret> {
    let mut out = Vec::with_capacity(document.secrets.len());
    for (name, secret) in &document.secrets {
        let path = FieldPath::key("secrets", name);
        let mut data = BTreeMap::new();
        for (key, text) in &secret.data {
            let at = FieldPath::key(&FieldPath::key(&path, "data"), key);
            match template::render_prepared(text.as_str(), context.templates) {
                Ok(value) => {
                    data.insert(key.clone(), SecretValue::new(value.into_bytes(), placeholder(name, key)));
                }
                Err(message) => errors.push(context.source.error_at(&at, scrub(&message, context.secret_texts))),
            }
        }
        for (key, file) in &secret.files {
            let at = FieldPath::key(&FieldPath::key(&path, "files"), key);
            match super::manifest_file::read(context.base_dir, file) {
                Ok((_, text)) => {
                    data.insert(key.clone(), SecretValue::new(text.into_bytes(), placeholder(name, key)));
                }
                Err(message) => errors.push(context.source.error_at(&at, message)),
            }
        }
        let digest = content_digest(context.namespace, &data, &secret.generate);
        out.push(ResolvedSecret { name: name.clone(), data, generate: secret.generate.clone(), digest });
    }
    out
}

fn content_digest(namespace: &str, data: &BTreeMap<String, SecretValue>, generate: &[String]) -> String {
    let mut message = Vec::new();
    for (key, value) in data {
        message.extend_from_slice(b"data\0");
        message.extend_from_slice(key.as_bytes());
        message.push(0);
        message.extend_from_slice(&(value.expose().len() as u64).to_be_bytes());
        message.extend_from_slice(value.expose());
    }
    let mut generated: Vec<&String> = generate.iter().collect();
    generated.sort();
    for key in generated {
        message.extend_from_slice(b"generate\0");
        message.extend_from_slice(key.as_bytes());
        message.push(0);
    }
    salted_digest(namespace, &message)
}

/// `text` with every secret value in it replaced by its placeholder.
pub fn scrub(text: &str, secrets: &[(String, String)]) -> String {
    let mut out = text.to_string();
    // Longest first, so a value that contains another is replaced whole.
    let mut ordered: Vec<&(String, String)> = secrets.iter().filter(|(v, _)| !v.is_empty()).collect();
    ordered.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
    for (value, placeholder) in ordered {
        if out.contains(value.as_str()) {
            out = out.replace(value.as_str(), placeholder);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2 of RFC 4231.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            crate::config::resolve::hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        let mac = hmac_sha256(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First");
        assert_eq!(
            crate::config::resolve::hex(&mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn generated_values_are_32_random_bytes_url_safe() {
        let a = generate_value().unwrap();
        let b = generate_value().unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'), "{a}");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&a).unwrap();
        assert_eq!(bytes.len(), 32);
    }

    #[test]
    fn a_secret_value_never_prints_itself() {
        let value = SecretValue::new(b"hunter2".to_vec(), placeholder("db", "password"));
        assert_eq!(format!("{value:?}"), "<secret:db/password>");
        assert_eq!(serde_json::to_string(&value).unwrap(), "\"<secret:db/password>\"");
        assert_eq!(value.expose(), b"hunter2");
    }

    #[test]
    fn scrubbing_replaces_longest_values_first() {
        let secrets =
            vec![("abc".to_string(), "<secret:a>".to_string()), ("abcdef".to_string(), "<secret:b>".to_string())];
        assert_eq!(scrub("x abcdef y abc", &secrets), "x <secret:b> y <secret:a>");
    }
}
