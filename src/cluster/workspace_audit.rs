//! Does every workload that mounts the shared workspace run as the one declared identity,
//! with the mount mode services.yaml declares for it? Read from the pod templates of the
//! namespace's Deployments, StatefulSets, DaemonSets, Jobs and CronJobs, and from bare pods.

use super::api;
use anyhow::Result;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Pod, PodSpec, PodTemplateSpec};
use k8s_openapi::NamespaceResourceScope;
use kube::api::{Api, ListParams};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::BTreeMap;

/// The identity every pod that mounts the workspace must run as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub uid: i64,
    pub gid: i64,
    pub fs_group: i64,
}

/// What services.yaml declares: unit name → read-only?, and the agent's mode.
#[derive(Debug, Clone, Default)]
pub struct Declared {
    pub units: BTreeMap<String, bool>,
    pub agent: Option<bool>,
}

/// The verdict on one workload that mounts the workspace.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub kind: String,
    pub name: String,
    /// The unit it belongs to (`app.kubernetes.io/name`), or `agent`.
    pub unit: String,
    /// What was observed, in words.
    pub observed: String,
    /// Empty when it matches the declaration.
    pub problems: Vec<String>,
}

impl Finding {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

fn mode(read_only: bool) -> &'static str {
    if read_only {
        "read-only"
    } else {
        "read-write"
    }
}

/// Judges one pod spec; `None` when it does not mount the workspace claim.
pub fn judge(
    kind: &str,
    name: &str,
    labels: &BTreeMap<String, String>,
    spec: &PodSpec,
    claim: &str,
    identity: Identity,
    declared: &Declared,
) -> Option<Finding> {
    let volumes: Vec<&str> = spec
        .volumes
        .iter()
        .flatten()
        .filter(|v| v.persistent_volume_claim.as_ref().is_some_and(|p| p.claim_name == claim))
        .map(|v| v.name.as_str())
        .collect();
    if volumes.is_empty() {
        return None;
    }
    let (unit, expected_read_only) = if labels.contains_key(crate::labels::AGENT_RUN) {
        ("agent".to_string(), declared.agent)
    } else {
        let unit = labels.get(crate::labels::NAME).cloned().unwrap_or_default();
        let expected = declared.units.get(&unit).copied();
        (unit, expected)
    };
    let mut problems = Vec::new();
    let mut observed = Vec::new();
    let pod_context = spec.security_context.as_ref();
    let fs_group = pod_context.and_then(|c| c.fs_group);
    if fs_group != Some(identity.fs_group) {
        problems.push(format!("fsGroup {} (declared {})", show(fs_group), identity.fs_group));
    }
    let containers = spec.init_containers.iter().flatten().chain(spec.containers.iter());
    for container in containers {
        let mounts: Vec<_> =
            container.volume_mounts.iter().flatten().filter(|m| volumes.contains(&m.name.as_str())).collect();
        if mounts.is_empty() {
            continue;
        }
        let own = container.security_context.as_ref();
        let uid = own.and_then(|c| c.run_as_user).or(pod_context.and_then(|c| c.run_as_user));
        let gid = own.and_then(|c| c.run_as_group).or(pod_context.and_then(|c| c.run_as_group));
        if uid != Some(identity.uid) {
            problems.push(format!("container {}: runAsUser {} (declared {})", container.name, show(uid), identity.uid));
        }
        if gid != Some(identity.gid) {
            problems.push(format!(
                "container {}: runAsGroup {} (declared {})",
                container.name,
                show(gid),
                identity.gid
            ));
        }
        for mount in mounts {
            let read_only = mount.read_only.unwrap_or(false);
            observed.push(format!("{} {}", mount.mount_path, mode(read_only)));
            match expected_read_only {
                Some(expected) if expected == read_only => {}
                Some(expected) => {
                    problems.push(format!("{} is {} (declared {})", mount.mount_path, mode(read_only), mode(expected)))
                }
                None => problems.push(format!(
                    "{} is {}, but services.yaml declares no workspace mount for {:?}",
                    mount.mount_path,
                    mode(read_only),
                    unit
                )),
            }
        }
    }
    let uid = pod_context.and_then(|c| c.run_as_user);
    let gid = pod_context.and_then(|c| c.run_as_group);
    let summary = format!("uid {} gid {} fsGroup {}; {}", show(uid), show(gid), show(fs_group), observed.join(", "));
    Some(Finding { kind: kind.into(), name: name.into(), unit, observed: summary, problems })
}

fn show(value: Option<i64>) -> String {
    value.map_or_else(|| "unset".into(), |v| v.to_string())
}

/// Every workload of `namespace` that mounts `claim`, judged; sorted by kind and name.
pub async fn audit(
    client: &Client,
    namespace: &str,
    claim: &str,
    identity: Identity,
    declared: &Declared,
) -> Result<Vec<Finding>> {
    let mut out: Vec<Finding> = workloads(client, namespace)
        .await?
        .into_iter()
        .filter_map(|w| {
            let spec = w.spec.as_ref()?;
            let labels = w.labels.unwrap_or_default();
            judge(w.kind, &w.name.unwrap_or_default(), &labels, spec, claim, identity, declared)
        })
        .collect();
    out.sort_by(|a, b| (&a.kind, &a.name).cmp(&(&b.kind, &b.name)));
    Ok(out)
}

/// A pod template of the namespace: the kind and name of what runs it, its labels and spec.
struct Workload {
    kind: &'static str,
    name: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    spec: Option<PodSpec>,
}

impl Workload {
    fn of(kind: &'static str, name: Option<String>, template: Option<PodTemplateSpec>) -> Self {
        let (labels, spec) = template.map_or((None, None), |t| (t.metadata.and_then(|m| m.labels), t.spec));
        Workload { kind, name, labels, spec }
    }
}

/// The pod templates of every workload kind in `namespace`, and the pods nobody owns.
async fn workloads(client: &Client, namespace: &str) -> Result<Vec<Workload>> {
    let mut out = Vec::new();
    for d in list::<Deployment>(client, namespace).await? {
        out.push(Workload::of("Deployment", d.metadata.name, d.spec.map(|s| s.template)));
    }
    for s in list::<StatefulSet>(client, namespace).await? {
        out.push(Workload::of("StatefulSet", s.metadata.name, s.spec.map(|s| s.template)));
    }
    for d in list::<DaemonSet>(client, namespace).await? {
        out.push(Workload::of("DaemonSet", d.metadata.name, d.spec.map(|s| s.template)));
    }
    for j in list::<Job>(client, namespace).await? {
        out.push(Workload::of("Job", j.metadata.name, j.spec.map(|s| s.template)));
    }
    for c in list::<CronJob>(client, namespace).await? {
        let template = c.spec.and_then(|s| s.job_template.spec).map(|s| s.template);
        out.push(Workload::of("CronJob", c.metadata.name, template));
    }
    // Pods nobody owns are workloads too; owned pods are judged through their owner.
    for p in list::<Pod>(client, namespace).await? {
        if p.metadata.owner_references.as_ref().is_some_and(|o| !o.is_empty()) {
            continue;
        }
        out.push(Workload { kind: "Pod", name: p.metadata.name, labels: p.metadata.labels, spec: p.spec });
    }
    Ok(out)
}

/// Every object of kind `K` in `namespace`.
async fn list<K>(client: &Client, namespace: &str) -> Result<Vec<K>>
where
    K: Resource<Scope = NamespaceResourceScope> + Clone + DeserializeOwned + std::fmt::Debug,
    K::DynamicType: Default,
{
    let kind = K::kind(&K::DynamicType::default()).into_owned();
    let listed = Api::<K>::namespaced(client.clone(), namespace).list(&ListParams::default()).await;
    Ok(api(listed, || format!("listing {kind}s in {namespace}"))?.items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(value: serde_json::Value) -> PodSpec {
        serde_json::from_value(value).unwrap()
    }

    fn labels(name: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("app.kubernetes.io/name".to_string(), name.to_string())])
    }

    const ID: Identity = Identity { uid: 1000, gid: 1000, fs_group: 1000 };

    fn declared() -> Declared {
        Declared {
            units: BTreeMap::from([("greeter".to_string(), true), ("seed".to_string(), false)]),
            agent: Some(false),
        }
    }

    fn pod(read_only: bool, security: serde_json::Value) -> PodSpec {
        spec(json!({
            "securityContext": security,
            "containers": [{"name": "c", "volumeMounts": [{"name": "ws", "mountPath": "/workspace/services", "readOnly": read_only}]}],
            "volumes": [{"name": "ws", "persistentVolumeClaim": {"claimName": "codex-workspace"}}],
        }))
    }

    #[test]
    fn a_declared_mount_with_the_identity_passes() {
        let good = json!({"runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000});
        let f =
            judge("Deployment", "greeter", &labels("greeter"), &pod(true, good), "codex-workspace", ID, &declared())
                .unwrap();
        assert!(f.ok(), "{f:?}");
        assert_eq!(f.observed, "uid 1000 gid 1000 fsGroup 1000; /workspace/services read-only");
    }

    #[test]
    fn a_wrong_mode_identity_or_undeclared_unit_fails() {
        let good = json!({"runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000});
        let writable = judge(
            "Deployment",
            "greeter",
            &labels("greeter"),
            &pod(false, good.clone()),
            "codex-workspace",
            ID,
            &declared(),
        )
        .unwrap();
        assert_eq!(writable.problems, ["/workspace/services is read-write (declared read-only)"]);
        let root = judge(
            "Deployment",
            "greeter",
            &labels("greeter"),
            &pod(true, json!({"runAsUser": 0, "fsGroup": 1000})),
            "codex-workspace",
            ID,
            &declared(),
        )
        .unwrap();
        assert_eq!(
            root.problems,
            ["container c: runAsUser 0 (declared 1000)", "container c: runAsGroup unset (declared 1000)"]
        );
        let stranger =
            judge("Pod", "debug", &labels("debug"), &pod(false, good), "codex-workspace", ID, &declared()).unwrap();
        assert!(stranger.problems[0].contains("declares no workspace mount for \"debug\""), "{stranger:?}");
    }

    #[test]
    fn a_container_override_counts_and_other_claims_are_ignored() {
        let mut p = pod(true, json!({"runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000}));
        p.containers[0].security_context = Some(serde_json::from_value(json!({"runAsUser": 0})).unwrap());
        let f = judge("Deployment", "greeter", &labels("greeter"), &p, "codex-workspace", ID, &declared()).unwrap();
        assert_eq!(f.problems, ["container c: runAsUser 0 (declared 1000)"]);
        assert!(judge("Deployment", "greeter", &labels("greeter"), &p, "other-claim", ID, &declared()).is_none());
    }

    #[test]
    fn agent_jobs_are_judged_against_the_agent_declaration() {
        let mut l = labels("codex-agent");
        l.insert(crate::labels::AGENT_RUN.into(), "run-1".into());
        let f = judge(
            "Job",
            "codex-agent-run-1",
            &l,
            &pod(true, json!({"runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000})),
            "codex-workspace",
            ID,
            &declared(),
        )
        .unwrap();
        assert_eq!(f.unit, "agent");
        assert_eq!(f.problems, ["/workspace/services is read-only (declared read-write)"]);
    }
}
