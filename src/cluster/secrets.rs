//! Before the first phase is installed: the Secrets of `secrets` as the namespace has them.
//! A generated key keeps the value the namespace's Secret already holds (so it survives
//! upgrades and review rounds) and is made only when missing; a Secret that is missing, lacks
//! a key or carries another content digest than ours makes the first phase install even when
//! its values did not change (a repair).

use super::api;
use crate::config::secrets::{generate_value, generated_placeholder};
use crate::config::stack::Stack;
use crate::labels;
use crate::values::secrets::{real_values, Generated};
use anyhow::{anyhow, Context, Result};
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};

/// The real values for Helm, and what was found.
pub struct Prepared {
    /// The `secrets` values with every key's bytes (go to Helm's standard input only).
    pub values: serde_json::Value,
    /// Secrets the first phase must (re)write: missing, a key short, or another digest.
    pub repair: Vec<String>,
    /// `secret/key` of generated keys made in this run (the others were kept).
    pub generated: Vec<String>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared").field("repair", &self.repair).field("generated", &self.generated).finish()
    }
}

/// Reads the namespace's Secrets and prepares the values; None when the stack declares none.
pub async fn prepare(client: &Client, stack: &Stack) -> Result<Option<Prepared>> {
    if stack.secrets.is_empty() {
        return Ok(None);
    }
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &stack.namespace);
    let mut generated = Generated::new();
    let mut made = Vec::new();
    let mut repair = Vec::new();
    for declared in &stack.secrets {
        let existing = api(secrets.get_opt(&declared.name).await, || {
            format!("reading Secret {} in {} (to keep its generated keys)", declared.name, stack.namespace)
        })?;
        let data = existing.as_ref().and_then(|s| s.data.clone()).unwrap_or_default();
        let digest = existing
            .as_ref()
            .and_then(|s| s.metadata.annotations.as_ref())
            .and_then(|a| a.get(labels::CONTENT_DIGEST))
            .cloned();
        let keys_present = declared.data.keys().chain(&declared.generate).all(|k| data.contains_key(k));
        if existing.is_none() || !keys_present || digest.as_deref() != Some(declared.digest.as_str()) {
            repair.push(declared.name.clone());
        }
        for key in &declared.generate {
            let kept = data.get(key).filter(|v| !v.0.is_empty()).and_then(|v| String::from_utf8(v.0.clone()).ok());
            let value = match kept {
                Some(value) => value,
                None => {
                    made.push(format!("{}/{key}", declared.name));
                    generate_value().context("reading random bytes from the kernel")?
                }
            };
            crate::redact::register(&value, &generated_placeholder(&declared.name, key));
            generated.insert((declared.name.clone(), key.clone()), value);
        }
    }
    let values = real_values(stack, &generated).map_err(|e| anyhow!(e))?;
    Ok(Some(Prepared { values, repair, generated: made }))
}
