//! The `secrets` values of the first phase: what is written and digested holds placeholders
//! only; the values themselves are merged over them into the document Helm reads on its
//! standard input at install time (`super::helm_document`), and never touch the disk.

use super::contract::{Ordered, SecretValues};
use crate::config::secrets::{generated_placeholder, ResolvedSecret};
use crate::config::stack::Stack;
use base64::Engine;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// `secrets` as values.yaml holds it: each Secret's salted digest, each key's placeholder.
pub fn placeholder_values(secrets: &[ResolvedSecret]) -> Ordered<SecretValues> {
    let secret = |s: &ResolvedSecret| SecretValues { digest: s.digest.clone(), data: s.placeholders() };
    Ordered(secrets.iter().map(|s| (s.name.clone(), secret(s))).collect())
}

/// Values of generated keys by (secret, key): kept from the cluster, or made for this namespace.
pub type Generated = BTreeMap<(String, String), String>;

/// What is merged over the placeholders: every key's bytes, base64 as a Secret's `data` holds
/// them. It holds secrets: it goes to Helm's standard input and nowhere else.
pub fn real_values(stack: &Stack, generated: &Generated) -> Result<Value, String> {
    let base64 = base64::engine::general_purpose::STANDARD;
    let mut secrets = Map::new();
    for secret in &stack.secrets {
        let mut data = Map::new();
        for (key, value) in &secret.data {
            data.insert(key.clone(), Value::String(base64.encode(value.expose())));
        }
        for key in &secret.generate {
            let value = generated
                .get(&(secret.name.clone(), key.clone()))
                .ok_or_else(|| format!("no value for {}", generated_placeholder(&secret.name, key)))?;
            data.insert(key.clone(), Value::String(base64.encode(value.as_bytes())));
        }
        secrets.insert(secret.name.clone(), json!({ "data": data }));
    }
    Ok(json!({ "secrets": secrets }))
}
