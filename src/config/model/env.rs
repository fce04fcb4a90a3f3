//! Environment variables of a container: plain values, or values read from a Secret, a
//! ConfigMap or the pod, in the short services.yaml forms and the Kubernetes ones.

use super::ScalarString;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An environment variable's value: a scalar (`LOG_LEVEL: debug`), or a mapping with exactly
/// one of `secretKeyRef`, `configMapKeyRef`, `fieldRef`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EnvValue {
    Value(ScalarString),
    From(Box<EnvSource>),
}

impl EnvValue {
    /// The plain text, when it is not taken from elsewhere.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            EnvValue::Value(text) => Some(text.as_str()),
            EnvValue::From(_) => None,
        }
    }
}

/// One schema for both forms, told apart by type: a scalar, or a closed mapping. An `anyOf`
/// of the two would report a wrong mapping only as "does not match any allowed form".
impl JsonSchema for EnvValue {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "EnvValue".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A scalar read as text, or a mapping with exactly one source: `{ secret: NAME, key: KEY }` (a Secret of `secrets`), `{ configMap: NAME, key: KEY }`, `{ field: metadata.name }`, or the Kubernetes forms `secretKeyRef`, `configMapKeyRef`, `fieldRef`.",
            "type": ["string", "number", "boolean", "object"],
            "properties": {
                "secret": {"type": "string", "description": "A Secret declared in `secrets`."},
                "configMap": {"type": "string", "description": "Name of a ConfigMap."},
                "key": {"type": "string", "description": "The key, with `secret` or `configMap`."},
                "field": {"type": "string", "description": "A field of the pod, e.g. `metadata.name`."},
                "optional": {"type": "boolean", "description": "With `secret` or `configMap`: the pod starts even when the key is missing."},
                "secretKeyRef": generator.subschema_for::<KeySelector>(),
                "configMapKeyRef": generator.subschema_for::<KeySelector>(),
                "fieldRef": generator.subschema_for::<FieldSelector>(),
            },
            "additionalProperties": false,
        })
    }
}

/// Where an environment variable's value is read from (exactly one, checked by `validate`):
/// a short form (`secret` + `key`, `configMap` + `key`, `field`) or a Kubernetes one. A
/// resolved stack holds the Kubernetes form only ([`EnvSource::normalized`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<KeySelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<KeySelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_ref: Option<FieldSelector>,
    /// Short form: a Secret declared in `secrets`, with `key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Short form: a ConfigMap, with `key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Short form: a field of the pod, e.g. `metadata.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

impl EnvSource {
    /// The sources that are set, by their services.yaml names.
    pub fn sources(&self) -> Vec<&'static str> {
        let set = [
            ("secretKeyRef", self.secret_key_ref.is_some()),
            ("configMapKeyRef", self.config_map_key_ref.is_some()),
            ("fieldRef", self.field_ref.is_some()),
            ("secret", self.secret.is_some()),
            ("configMap", self.config_map.is_some()),
            ("field", self.field.is_some()),
        ];
        set.iter().filter(|(_, on)| *on).map(|(name, _)| *name).collect()
    }

    /// The Secret or ConfigMap key it reads, in either form: (is a Secret, name, key).
    pub fn object_key(&self) -> Option<(bool, &str, &str)> {
        let key = self.key.as_deref().unwrap_or_default();
        if let Some(name) = &self.secret {
            return Some((true, name, key));
        }
        if let Some(name) = &self.config_map {
            return Some((false, name, key));
        }
        if let Some(selector) = &self.secret_key_ref {
            return Some((true, &selector.name, &selector.key));
        }
        self.config_map_key_ref.as_ref().map(|s| (false, s.name.as_str(), s.key.as_str()))
    }

    /// The Kubernetes form of a short one (checked by `validate`); a Kubernetes one as it is.
    pub fn normalized(self) -> EnvSource {
        let selector = |name: String, key: Option<String>, optional: Option<bool>| KeySelector {
            name,
            key: key.unwrap_or_default(),
            optional,
        };
        let EnvSource { secret_key_ref, config_map_key_ref, field_ref, secret, config_map, key, field, optional } =
            self;
        EnvSource {
            secret_key_ref: secret_key_ref.or_else(|| secret.map(|n| selector(n, key.clone(), optional))),
            config_map_key_ref: config_map_key_ref.or_else(|| config_map.map(|n| selector(n, key.clone(), optional))),
            field_ref: field_ref.or_else(|| field.map(|field_path| FieldSelector { field_path })),
            ..EnvSource::default()
        }
    }
}

/// One key of a Secret or ConfigMap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KeySelector {
    /// Name of the Secret or ConfigMap.
    pub name: String,
    pub key: String,
    /// The pod starts even when the object or key is missing. Default `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

/// A field of the pod, e.g. `metadata.name`, `status.podIP`, `spec.nodeName`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FieldSelector {
    pub field_path: String,
}

/// Every key of a Secret or a ConfigMap as an environment variable: exactly one of
/// `secret` (a Secret declared in `secrets`), `configMap`, `secretRef`, `configMapRef`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvFrom {
    /// Name of a Secret declared in `secrets`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Name of a ConfigMap (as `configMapRef`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<String>,
    /// Name of a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<String>,
    /// Name of a ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<String>,
    /// Put before every variable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// The pod starts even when the object is missing. Default `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

impl EnvFrom {
    /// The Kubernetes form: `secret` becomes `secretRef`, `configMap` `configMapRef`.
    pub fn normalized(self) -> EnvFrom {
        EnvFrom {
            secret_ref: self.secret_ref.or(self.secret),
            config_map_ref: self.config_map_ref.or(self.config_map),
            secret: None,
            config_map: None,
            prefix: self.prefix,
            optional: self.optional,
        }
    }
}
