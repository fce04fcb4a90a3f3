//! The objects a phase installs from units' manifests, read back from the API server: found
//! through discovery (any kind, built-in or custom), judged by [`object_readiness`], and failed
//! early when one of their pods cannot start ([`stuck_container`]).
//!
//! Discovery also runs before anything is applied ([`preflight`]): a kind the API server does
//! not serve, or a cluster-scoped kind the environment did not allow, stops `up` with nothing
//! installed.

use super::object_readiness::{self, ObjectState};
use super::readiness::UnitState;
use super::{api, job_pods, stuck_container};
use crate::config::kinds;
use crate::config::manifest_unit::{kind_of, name_of};
use crate::config::stack::Stack;
use crate::exit::{self, coded};
use anyhow::Result;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiCapabilities, ApiResource, Scope};
use kube::Client;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

/// One object of a unit's manifests, as installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestObject {
    pub unit: String,
    pub api_version: String,
    pub kind: String,
    pub name: String,
}

impl ManifestObject {
    pub fn of(unit: &str, object: &Value) -> Self {
        ManifestObject {
            unit: unit.to_string(),
            api_version: object.get("apiVersion").and_then(Value::as_str).unwrap_or_default().to_string(),
            kind: kind_of(object).to_string(),
            name: name_of(object).to_string(),
        }
    }

    /// `Kind/name`.
    pub fn reference(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    fn gvk(&self) -> GroupVersionKind {
        let (group, version) = self.api_version.split_once('/').unwrap_or(("", &self.api_version));
        GroupVersionKind::gvk(group, version, &self.kind)
    }
}

/// What one look at an object found.
#[derive(Debug, Clone)]
pub struct Observation {
    pub state: ObjectState,
    /// The object's `metadata.creationTimestamp`, once it exists.
    pub created_at: Option<String>,
}

/// Discovery answers and StorageClass binding modes, asked once per run.
#[derive(Default)]
pub struct Lookups {
    kinds: HashMap<(String, String), Option<(ApiResource, ApiCapabilities)>>,
    wait_for_first_consumer: HashMap<String, bool>,
}

impl Lookups {
    /// The API resource serving `object`'s kind; `None` when the API server serves none.
    pub async fn resource(&mut self, client: &Client, object: &ManifestObject) -> Result<Option<(ApiResource, Scope)>> {
        let key = (object.api_version.clone(), object.kind.clone());
        if !self.kinds.contains_key(&key) {
            let found = match kube::discovery::pinned_kind(client, &object.gvk()).await {
                Ok(found) => Some(found),
                Err(kube::Error::Api(e)) if e.code == 404 => None,
                Err(kube::Error::Discovery(_)) => None,
                Err(e) => return api(Err(e), || format!("discovering {} {}", object.api_version, object.kind)),
            };
            self.kinds.insert(key.clone(), found);
        }
        Ok(self.kinds[&key].as_ref().map(|(resource, capabilities)| (resource.clone(), capabilities.scope.clone())))
    }

    async fn binds_on_first_consumer(&mut self, client: &Client, class: &str) -> Result<bool> {
        if let Some(known) = self.wait_for_first_consumer.get(class) {
            return Ok(*known);
        }
        let classes: Api<StorageClass> = Api::all(client.clone());
        let found = api(classes.get_opt(class).await, || format!("reading StorageClass {class}"))?;
        let wait = found.and_then(|c| c.volume_binding_mode).is_some_and(|m| m == "WaitForFirstConsumer");
        self.wait_for_first_consumer.insert(class.to_string(), wait);
        Ok(wait)
    }
}

/// Every object of every phase, before anything is applied: each kind must be served, and a
/// cluster-scoped one must be allowed by the environment (discovery knows kinds our offline
/// list does not). The error names the object and its unit; exit code 5.
pub async fn preflight(client: &Client, stack: &Stack, lookups: &mut Lookups) -> Result<()> {
    let mut seen = BTreeSet::new();
    for unit in &stack.units {
        for object in &unit.manifests {
            let object = ManifestObject::of(&unit.name, object);
            if !seen.insert((object.api_version.clone(), object.kind.clone())) {
                continue;
            }
            let refuse = |why: String| {
                let message = format!(
                    "unit {}: {} ({}): {why}; nothing was applied",
                    unit.name,
                    object.reference(),
                    object.api_version
                );
                Err(coded(exit::DEPLOY_FAILED, anyhow::anyhow!(message)))
            };
            match lookups.resource(client, &object).await? {
                None => return refuse("the API server does not serve this kind (is its CRD installed?)".into()),
                Some((_, Scope::Cluster)) if !kinds::allowed(&stack.allow_cluster_scoped, &object.kind) => {
                    return refuse(format!(
                        "the kind is cluster-scoped and environment \"{}\" does not allow it (allowClusterScoped)",
                        stack.env
                    ));
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// The API of objects of `resource`: in `namespace`, or cluster-wide for a cluster-scoped kind.
fn dynamic_api(client: &Client, namespace: &str, resource: &ApiResource, scope: &Scope) -> Api<DynamicObject> {
    match scope {
        Scope::Cluster => Api::all_with(client.clone(), resource),
        Scope::Namespaced => Api::namespaced_with(client.clone(), namespace, resource),
    }
}

/// The object's `metadata.generation`, or `None` when it does not exist (yet).
pub async fn generation(
    client: &Client,
    namespace: &str,
    object: &ManifestObject,
    lookups: &mut Lookups,
) -> Result<Option<i64>> {
    let Some((resource, scope)) = lookups.resource(client, object).await? else { return Ok(None) };
    let objects = dynamic_api(client, namespace, &resource, &scope);
    let found = api(objects.get_opt(&object.name).await, || format!("reading {}", object.reference()))?;
    Ok(found.and_then(|o| o.metadata.generation))
}

/// Reads `object` and judges it.
pub async fn observe(
    client: &Client,
    namespace: &str,
    object: &ManifestObject,
    lookups: &mut Lookups,
) -> Result<Observation> {
    let Some((resource, scope)) = lookups.resource(client, object).await? else {
        let state = ObjectState::Failed(format!("the API server no longer serves {}", object.api_version));
        return Ok(Observation { state, created_at: None });
    };
    let objects = dynamic_api(client, namespace, &resource, &scope);
    let what = || format!("reading {}", object.reference());
    let Some(found) = api(objects.get_opt(&object.name).await, what)? else {
        return Ok(Observation { state: ObjectState::Pending("not created yet".into()), created_at: None });
    };
    let created_at = found.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string());
    let value = serde_json::to_value(&found).unwrap_or(Value::Null);
    let wait_for_first_consumer = match value.pointer("/spec/storageClassName").and_then(Value::as_str) {
        Some(class) if object.kind == "PersistentVolumeClaim" => lookups.binds_on_first_consumer(client, class).await?,
        _ => false,
    };
    let mut state = object_readiness::state(&value, wait_for_first_consumer);
    // A Job written as a manifest counts as complete on the same evidence as a typed Job
    // unit: for one that runs one pod once, that pod's exit 0 (see `job_pods`).
    if object.api_version == "batch/v1" && object.kind == "Job" && matches!(state, ObjectState::Pending(_)) {
        if let Ok(job) = serde_json::from_value::<Job>(value.clone()) {
            if let UnitState::Ready(how) = job_pods::state(client, namespace, &job).await? {
                state = ObjectState::Ready(how);
            }
        }
    }
    if let ObjectState::Pending(waiting) = &state {
        if let Some(selector) = object_readiness::pod_selector(&value) {
            if let Some(reason) = stuck_pod(client, namespace, &selector).await? {
                state = ObjectState::Failed(format!("{reason} (while waiting: {waiting})"));
            }
        }
    }
    Ok(Observation { state, created_at })
}

/// The first pod matching `selector` that cannot start by itself.
async fn stuck_pod(client: &Client, namespace: &str, selector: &str) -> Result<Option<String>> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let list = api(pods.list(&ListParams::default().labels(selector)).await, || format!("listing pods {selector}"))?;
    Ok(list.items.iter().find_map(|pod| {
        let (container, why) = stuck_container::stuck_container(pod)?;
        Some(format!("pod {} container {container}: {why}", pod.metadata.name.clone().unwrap_or_default()))
    }))
}

/// The selector of the pods a manifest object owns, for diagnostics.
pub async fn pod_selector_of(
    client: &Client,
    namespace: &str,
    object: &ManifestObject,
    lookups: &mut Lookups,
) -> Option<String> {
    let (resource, scope) = lookups.resource(client, object).await.ok()??;
    if matches!(scope, Scope::Cluster) {
        return None; // cluster-scoped objects own no pods of this namespace
    }
    let objects = dynamic_api(client, namespace, &resource, &scope);
    let found = objects.get_opt(&object.name).await.ok()??;
    object_readiness::pod_selector(&serde_json::to_value(&found).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::fake_api::{self, NAMESPACE};
    use serde_json::json;

    /// A Job of one pod, still running by its conditions, and its pod that has exited 0.
    fn job_and_pod(path: &str) -> Option<Value> {
        let job = json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "migrate", "namespace": NAMESPACE, "uid": "u-1"},
            "spec": {"template": {"spec": {"containers": [{"name": "migrate", "image": "m:1"}]}}},
            "status": {"active": 1, "startTime": "2026-12-07T10:00:00Z"},
        });
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "migrate-x", "labels": {"batch.kubernetes.io/controller-uid": "u-1"}},
            "spec": {"containers": [{"name": "migrate", "image": "m:1"}]},
            "status": {"containerStatuses": [{"name": "migrate", "image": "m:1", "imageID": "", "ready": false,
                "restartCount": 0, "state": {"terminated": {"exitCode": 0, "finishedAt": "2026-12-07T10:00:03Z"}}}]},
        });
        match path {
            p if p.ends_with("/jobs/migrate") => Some(job),
            p if p.ends_with("/pods") => {
                Some(json!({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": [pod]}))
            }
            _ => None,
        }
    }

    /// The same rule as a typed Job unit's (`job_pods`): one pod run once is complete at its exit.
    #[tokio::test]
    async fn a_manifest_job_whose_one_pod_exited_zero_is_ready() {
        let client = fake_api::client(job_and_pod);
        let object = ManifestObject::of(
            "migrate",
            &json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"}}),
        );
        let seen = observe(&client, NAMESPACE, &object, &mut Lookups::default()).await.unwrap();
        match seen.state {
            ObjectState::Ready(how) => assert!(how.contains("migrate-x exited 0"), "{how}"),
            other => panic!("still waiting for the Complete condition: {other:?}"),
        }
    }
}
