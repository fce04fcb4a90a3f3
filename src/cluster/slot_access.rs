//! The slot's shared parts: the workspace PVC, and the agent's ServiceAccount with a Role
//! limited to its own namespace.

use super::{api, FIELD_MANAGER};
use crate::config::stack::Stack;
use anyhow::Result;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{Api, Patch, PatchParams};
use kube::Client;
use serde_json::json;

/// Name of the agent's ServiceAccount, Role and RoleBinding.
pub const AGENT_ACCOUNT: &str = "codex-agent";

fn common_labels(stack: &Stack) -> serde_json::Value {
    json!(super::namespace::namespace_labels(stack))
}

/// Creates (or updates) the workspace PVC, the agent account and its Role.
pub async fn ensure(client: &Client, stack: &Stack) -> Result<()> {
    let ns = &stack.namespace;
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let w = &stack.workspace;
    let mut spec = json!({
        "accessModes": [w.access_mode.as_str()],
        "resources": {"requests": {"storage": w.size}},
    });
    if !w.storage_class_name.is_empty() {
        spec["storageClassName"] = json!(w.storage_class_name);
    }
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);
    // A bound claim's spec is immutable except for growth: only create it when missing.
    if api(pvcs.get_opt(&w.claim_name).await, || format!("reading PVC {}", w.claim_name))?.is_none() {
        let pvc = json!({
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": w.claim_name, "labels": common_labels(stack)},
            "spec": spec,
        });
        api(pvcs.patch(&w.claim_name, &params, &Patch::Apply(&pvc)).await, || {
            format!("creating the workspace PVC {}", w.claim_name)
        })?;
    }
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), ns);
    let account = json!({
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": AGENT_ACCOUNT, "labels": common_labels(stack)},
    });
    api(accounts.patch(AGENT_ACCOUNT, &params, &Patch::Apply(&account)).await, || {
        "applying the agent ServiceAccount".into()
    })?;
    let rules: Vec<serde_json::Value> = stack
        .agent
        .as_ref()
        .map(|a| {
            a.permissions
                .iter()
                .map(|r| json!({"apiGroups": r.api_groups, "resources": r.resources, "verbs": r.verbs}))
                .collect()
        })
        .unwrap_or_default();
    let roles: Api<Role> = Api::namespaced(client.clone(), ns);
    let role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": AGENT_ACCOUNT, "labels": common_labels(stack)},
        "rules": rules,
    });
    api(roles.patch(AGENT_ACCOUNT, &params, &Patch::Apply(&role)).await, || "applying the agent Role".into())?;
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), ns);
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": AGENT_ACCOUNT, "labels": common_labels(stack)},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": AGENT_ACCOUNT},
        "subjects": [{"kind": "ServiceAccount", "name": AGENT_ACCOUNT, "namespace": ns}],
    });
    api(bindings.patch(AGENT_ACCOUNT, &params, &Patch::Apply(&binding)).await, || {
        "applying the agent RoleBinding".into()
    })?;
    Ok(())
}
