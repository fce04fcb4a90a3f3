//! The environment's posture, as `check` reports it: does the namespace enforce the declared
//! Pod Security level, is the NetworkPolicy `codex-isolation` in place, does the declared quota
//! stand (ResourceQuota `codex-quota`, LimitRange `codex-defaults`), and would the API
//! server's Pod Security admission admit a pod of every workload? And, for `status`, how much
//! of the quota is used.
//!
//! Reading is split from judging: [`read`] makes the API calls (a few GETs and one
//! server-side dry-run Pod create per workload); the pure functions ([`judge_level`],
//! [`judge_quota`], [`templates`], [`dry_run_pod`], [`judge_admission`]) are tested on inline
//! objects.

use super::api;
use crate::config::isolation::{Isolation, PodSecurityLevel};
use crate::exit::{self, coded};
use crate::labels;
use anyhow::{anyhow, Context, Result};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    LimitRange, Namespace, PersistentVolumeClaimVolumeSource, Pod, PodSpec, PodTemplateSpec, ResourceQuota, Volume,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, ListParams};
use kube::Client;
use serde::Serialize;
use std::collections::BTreeMap;

use crate::config::isolation::{LIMIT_RANGE, NETWORK_POLICY, RESOURCE_QUOTA};

/// Everything `check` found about the environment's posture.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Posture {
    pub pod_security: LevelFinding,
    pub network_policy: PresenceFinding,
    /// `None` when services.yaml declares no quota (nothing to check).
    pub quota: Option<QuotaFinding>,
    /// `None` when services.yaml declares no quota.
    pub limit_range: Option<PresenceFinding>,
    pub workloads: WorkloadsFinding,
    pub checks: usize,
    pub violations: usize,
    pub passed: bool,
}

/// The namespace's Pod Security labels against the declared level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LevelFinding {
    pub declared: PodSecurityLevel,
    /// The `pod-security.kubernetes.io/enforce` label as found; `None` when missing.
    pub enforced: Option<String>,
    /// The `…/warn` label as found (informational: it decides what the dry runs are warned about).
    pub warn: Option<String>,
    pub ok: bool,
    /// Why not, when not ok.
    pub problem: Option<String>,
}

/// An object that must exist in the namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceFinding {
    pub kind: &'static str,
    pub name: &'static str,
    pub present: bool,
    pub ok: bool,
}

impl PresenceFinding {
    fn of(kind: &'static str, name: &'static str, present: bool) -> Self {
        PresenceFinding { kind, name, present, ok: present }
    }
}

/// ResourceQuota `codex-quota` against the declared `spec.hard`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaFinding {
    pub name: &'static str,
    pub present: bool,
    pub declared: BTreeMap<String, String>,
    /// `spec.hard` as found (empty when the quota is missing).
    pub found: BTreeMap<String, String>,
    pub problems: Vec<String>,
    pub ok: bool,
}

/// What admission said about a pod of every workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadsFinding {
    pub checked: usize,
    /// Workloads whose pod violates the declared level (refused, or warned about at it).
    pub refused: usize,
    pub results: Vec<WorkloadAdmission>,
    /// When admission could not judge at the declared level (the namespace enforces and warns
    /// at a lower one), what was judged instead.
    pub limit: Option<String>,
}

/// The dry run of one workload's pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadAdmission {
    pub kind: &'static str,
    pub name: String,
    pub verdict: Verdict,
    /// The refusal or warning, in the API server's words.
    pub message: Option<String>,
    /// Every warning the dry run returned (PodSecurity `warn` level, deprecations, …).
    pub warnings: Vec<String>,
}

impl WorkloadAdmission {
    pub fn violation(&self) -> bool {
        matches!(self.verdict, Verdict::ViolatesPodSecurity)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    /// Admitted, with no PodSecurity warning at the declared level.
    Admitted,
    /// Refused by Pod Security admission, or admitted with its warning at the declared level.
    ViolatesPodSecurity,
    /// Refused for another reason (quota exceeded, an invalid template, a missing
    /// ServiceAccount): reported, but not a posture violation — it says nothing about what the
    /// pod may do once running.
    RefusedOtherwise,
}

impl Posture {
    /// Counts the checks and violations of the parts.
    pub fn new(
        pod_security: LevelFinding,
        network_policy: PresenceFinding,
        quota: Option<QuotaFinding>,
        limit_range: Option<PresenceFinding>,
        workloads: WorkloadsFinding,
    ) -> Self {
        let oks = [
            Some(pod_security.ok),
            Some(network_policy.ok),
            quota.as_ref().map(|q| q.ok),
            limit_range.as_ref().map(|l| l.ok),
        ];
        let checks = oks.iter().flatten().count() + workloads.checked;
        let violations = oks.iter().flatten().filter(|ok| !**ok).count() + workloads.refused;
        Posture {
            pod_security,
            network_policy,
            quota,
            limit_range,
            workloads,
            checks,
            violations,
            passed: violations == 0,
        }
    }
}

/// The enforce label against the declared level: missing, unknown, lower or higher is a
/// violation (higher too: the declaration is what `up` applies, and a stricter namespace
/// refuses pods the stack was written for).
pub fn judge_level(declared: PodSecurityLevel, namespace_labels: &BTreeMap<String, String>) -> LevelFinding {
    let enforced = namespace_labels.get(labels::POD_SECURITY_ENFORCE).cloned();
    let warn = namespace_labels.get(labels::POD_SECURITY_WARN).cloned();
    let problem = match enforced.as_deref().map(|e| (e, PodSecurityLevel::parse(e))) {
        None => Some(format!("no {} label (declared {})", labels::POD_SECURITY_ENFORCE, declared.as_str())),
        Some((text, None)) => Some(format!("enforces {text:?}, not a level (declared {})", declared.as_str())),
        Some((text, Some(level))) if level < declared => {
            Some(format!("enforces {text}, weaker than the declared {}", declared.as_str()))
        }
        Some((text, Some(level))) if level > declared => {
            Some(format!("enforces {text}, stricter than the declared {}", declared.as_str()))
        }
        Some(_) => None,
    };
    LevelFinding { declared, enforced, warn, ok: problem.is_none(), problem }
}

/// The quota as found against the declared `hard`: every declared key present with an equal
/// quantity (the API server may write `2000m` back as `2`), and no key that was not declared.
pub fn judge_quota(declared: &BTreeMap<String, String>, found: Option<&ResourceQuota>) -> QuotaFinding {
    let hard: BTreeMap<String, String> = found
        .and_then(|q| q.spec.as_ref()?.hard.as_ref())
        .map(|h| h.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect())
        .unwrap_or_default();
    let mut problems = Vec::new();
    if found.is_none() {
        problems.push(format!("ResourceQuota {RESOURCE_QUOTA} is missing"));
    } else {
        for (key, want) in declared {
            match hard.get(key) {
                None => problems.push(format!("{key}: not limited (declared {want})")),
                Some(have) if !same_quantity(have, want) => problems.push(format!("{key}: {have} (declared {want})")),
                Some(_) => {}
            }
        }
        for (key, have) in hard.iter().filter(|(k, _)| !declared.contains_key(*k)) {
            problems.push(format!("{key}: {have} (not declared)"));
        }
    }
    QuotaFinding {
        name: RESOURCE_QUOTA,
        present: found.is_some(),
        declared: declared.clone(),
        found: hard,
        ok: problems.is_empty(),
        problems,
    }
}

/// Whether two quantities are the same amount (`1Gi` = `1024Mi`, `2` = `2000m`); text that
/// does not parse compares as text.
pub fn same_quantity(a: &str, b: &str) -> bool {
    match (rational(a), rational(b)) {
        (Some((an, ad)), Some((bn, bd))) => match (an.checked_mul(bd), bn.checked_mul(ad)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
        _ => a == b,
    }
}

/// A non-negative quantity as numerator and denominator.
fn rational(text: &str) -> Option<(u128, u128)> {
    let end = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, suffix) = text.split_at(end);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let digits: u128 = format!("{whole}{fraction}").parse().ok()?;
    let mut numerator = digits;
    let mut denominator = 10u128.checked_pow(fraction.len() as u32)?;
    let binary = |n: u32| 2u128.checked_pow(10 * n);
    let decimal = |n: i32| 10u128.checked_pow(n.unsigned_abs());
    let (multiply, divide) = match suffix {
        "" => (Some(1), Some(1)),
        "Ki" => (binary(1), Some(1)),
        "Mi" => (binary(2), Some(1)),
        "Gi" => (binary(3), Some(1)),
        "Ti" => (binary(4), Some(1)),
        "Pi" => (binary(5), Some(1)),
        "Ei" => (binary(6), Some(1)),
        "n" => (Some(1), decimal(9)),
        "u" => (Some(1), decimal(6)),
        "m" => (Some(1), decimal(3)),
        "k" => (decimal(3), Some(1)),
        "M" => (decimal(6), Some(1)),
        "G" => (decimal(9), Some(1)),
        "T" => (decimal(12), Some(1)),
        "P" => (decimal(15), Some(1)),
        "E" => (decimal(18), Some(1)),
        exponent => {
            let power: i32 = exponent.strip_prefix(['e', 'E'])?.parse().ok()?;
            if power >= 0 {
                (decimal(power), Some(1))
            } else {
                (Some(1), decimal(power))
            }
        }
    };
    numerator = numerator.checked_mul(multiply?)?;
    denominator = denominator.checked_mul(divide?)?;
    Some((numerator, denominator))
}

/// A pod template of the namespace, as a dry-run pod is made from it.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub kind: &'static str,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub spec: PodSpec,
}

/// The namespace's workloads, as listed.
#[derive(Debug, Default)]
pub struct Listing {
    pub deployments: Vec<Deployment>,
    pub statefulsets: Vec<StatefulSet>,
    pub daemonsets: Vec<DaemonSet>,
    pub jobs: Vec<Job>,
    pub cronjobs: Vec<CronJob>,
    pub pods: Vec<Pod>,
}

/// Every pod template of the listing, sorted by kind and name: each workload's, and every
/// bare pod's (an owned pod is judged through its owner). Jobs a CronJob started are left out:
/// the CronJob's template is theirs.
pub fn templates(listing: &Listing) -> Vec<Template> {
    fn of(kind: &'static str, meta: &ObjectMeta, template: Option<&PodTemplateSpec>) -> Option<Template> {
        let template = template?;
        let template_meta = template.metadata.clone().unwrap_or_default();
        Some(Template {
            kind,
            name: meta.name.clone().unwrap_or_default(),
            labels: template_meta.labels.unwrap_or_default(),
            annotations: template_meta.annotations.unwrap_or_default(),
            spec: template.spec.clone()?,
        })
    }
    let mut out = Vec::new();
    out.extend(
        listing.deployments.iter().filter_map(|d| of("Deployment", &d.metadata, d.spec.as_ref().map(|s| &s.template))),
    );
    for s in &listing.statefulsets {
        let Some(mut template) = of("StatefulSet", &s.metadata, s.spec.as_ref().map(|s| &s.template)) else { continue };
        // The controller adds a volume per claim template; without it the pod would not
        // validate (a mount of no volume) and admission would never look at it.
        let name = template.name.clone();
        let claims = s.spec.as_ref().and_then(|s| s.volume_claim_templates.as_ref());
        let volumes = template.spec.volumes.get_or_insert_with(Vec::new);
        for claim in claims.into_iter().flatten() {
            let Some(claim_name) = claim.metadata.name.as_deref() else { continue };
            if !volumes.iter().any(|v| v.name == claim_name) {
                volumes.push(Volume {
                    name: claim_name.to_string(),
                    persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                        claim_name: format!("{claim_name}-{name}-0"),
                        read_only: None,
                    }),
                    ..Default::default()
                });
            }
        }
        out.push(template);
    }
    out.extend(
        listing.daemonsets.iter().filter_map(|d| of("DaemonSet", &d.metadata, d.spec.as_ref().map(|s| &s.template))),
    );
    let started_by_cron = |meta: &ObjectMeta| meta.owner_references.iter().flatten().any(|o| o.kind == "CronJob");
    out.extend(
        listing
            .jobs
            .iter()
            .filter(|j| !started_by_cron(&j.metadata))
            .filter_map(|j| of("Job", &j.metadata, j.spec.as_ref().map(|s| &s.template))),
    );
    out.extend(listing.cronjobs.iter().filter_map(|c| {
        of("CronJob", &c.metadata, c.spec.as_ref().and_then(|s| s.job_template.spec.as_ref()).map(|s| &s.template))
    }));
    for pod in listing.pods.iter().filter(|p| p.metadata.owner_references.as_ref().is_none_or(|o| o.is_empty())) {
        let Some(spec) = pod.spec.clone() else { continue };
        out.push(Template {
            kind: "Pod",
            name: pod.metadata.name.clone().unwrap_or_default(),
            labels: pod.metadata.labels.clone().unwrap_or_default(),
            annotations: pod.metadata.annotations.clone().unwrap_or_default(),
            spec,
        });
    }
    out.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    out
}

/// The pod a dry run creates for `template`: `<workload>-check-<random>`, the template's
/// labels and spec. Its annotations go along too, since the baseline level reads AppArmor
/// annotations. Ephemeral containers cannot be set on create, so a bare pod's are dropped.
pub fn dry_run_pod(template: &Template) -> Pod {
    let mut spec = template.spec.clone();
    spec.ephemeral_containers = None;
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}-check-", template.name)),
            labels: (!template.labels.is_empty()).then(|| template.labels.clone()),
            annotations: (!template.annotations.is_empty()).then(|| template.annotations.clone()),
            ..Default::default()
        },
        spec: Some(spec),
        status: None,
    }
}

/// How the API server answered a dry-run create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub code: u16,
    /// The `message` of the Status a refusal carries.
    pub message: String,
    /// The `Warning` headers, unquoted.
    pub warnings: Vec<String>,
}

/// What admission's answer means for the declared level. A 403 whose message says "violates
/// PodSecurity" is Pod Security admission refusing at the enforced level. An admitted pod is
/// still a violation when a warning says it "would violate PodSecurity" at the declared level
/// (the namespace's `warn` label, which is how a pod is judged at the declared level while the
/// namespace enforces less). Any other refusal is not about posture.
pub fn judge_admission(template: &Template, answer: &Answer, declared: PodSecurityLevel) -> WorkloadAdmission {
    let at_declared = answer.warnings.iter().find(|w| warned_level(w) == Some(declared));
    // Pod Security admission runs before ResourceQuota (always the last plugin), so a pod
    // refused for its quota was judged by it first; its warnings came along all the same.
    let (verdict, message) = if answer.code == 403 && answer.message.contains("violates PodSecurity") {
        (Verdict::ViolatesPodSecurity, Some(answer.message.clone()))
    } else if let Some(warning) = at_declared {
        (Verdict::ViolatesPodSecurity, Some(warning.clone()))
    } else if (200..300).contains(&answer.code) {
        (Verdict::Admitted, None)
    } else {
        (Verdict::RefusedOtherwise, Some(format!("{} {}", answer.code, answer.message)))
    };
    WorkloadAdmission {
        kind: template.kind,
        name: template.name.clone(),
        verdict,
        message,
        warnings: answer.warnings.clone(),
    }
}

/// The level a PodSecurity warning is about: `would violate PodSecurity "restricted:latest": …`.
pub fn warned_level(warning: &str) -> Option<PodSecurityLevel> {
    let rest = warning.split_once("would violate PodSecurity \"")?.1;
    PodSecurityLevel::parse(rest.split([':', '"']).next()?)
}

/// The text of a `Warning` header (RFC 7234: `299 - "text"`), unquoted.
pub fn warning_text(header: &str) -> String {
    let mut parts = header.splitn(3, ' ');
    let (code, agent, rest) = (parts.next(), parts.next(), parts.next());
    let quoted = match (code, agent, rest) {
        (Some(code), Some(_), Some(rest)) if code.len() == 3 && code.chars().all(|c| c.is_ascii_digit()) => rest,
        _ => return header.to_string(),
    };
    let Some(inner) = quoted.strip_prefix('"') else { return header.to_string() };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            '"' => break,
            c => out.push(c),
        }
    }
    out
}

/// What admission can judge at the declared level, given the namespace's labels: a refusal
/// needs the enforce label at it, a warning the warn label. When neither is at the declared
/// level, the dry runs judge at the enforced level only — a weaker one lets through what the
/// declared level would refuse. (A server-side dry-run patch of the namespace to the declared
/// level would have the API server list violating *running* pods, in Warning headers too; the
/// pod dry runs cover templates without pods as well, so they are what `check` uses.)
pub fn coverage_limit(declared: PodSecurityLevel, found: &LevelFinding) -> Option<String> {
    let at = |label: &Option<String>| label.as_deref().and_then(PodSecurityLevel::parse);
    if at(&found.enforced) == Some(declared) || at(&found.warn) == Some(declared) {
        return None;
    }
    Some(format!(
        "the namespace neither enforces nor warns at {}: pods were judged at {} only",
        declared.as_str(),
        found.enforced.as_deref().unwrap_or("no level (privileged)")
    ))
}

/// Reads the namespace's posture against `isolation` (the namespace must exist).
pub async fn read(client: &Client, namespace: &str, isolation: &Isolation) -> Result<Posture> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns = api(namespaces.get(namespace).await, || format!("reading namespace {namespace}"))?;
    let level = judge_level(isolation.pod_security, &ns.metadata.labels.unwrap_or_default());
    let policies: Api<NetworkPolicy> = Api::namespaced(client.clone(), namespace);
    let policy = api(policies.get_opt(NETWORK_POLICY).await, || format!("reading NetworkPolicy {NETWORK_POLICY}"))?;
    let network_policy = PresenceFinding::of("NetworkPolicy", NETWORK_POLICY, policy.is_some());
    let declares_quota = !isolation.quota.is_empty() || isolation.container_defaults.is_some();
    let (quota, limit_range) = if declares_quota {
        let quotas: Api<ResourceQuota> = Api::namespaced(client.clone(), namespace);
        let found = api(quotas.get_opt(RESOURCE_QUOTA).await, || format!("reading ResourceQuota {RESOURCE_QUOTA}"))?;
        let ranges: Api<LimitRange> = Api::namespaced(client.clone(), namespace);
        let range = api(ranges.get_opt(LIMIT_RANGE).await, || format!("reading LimitRange {LIMIT_RANGE}"))?;
        (
            Some(judge_quota(&isolation.quota, found.as_ref())),
            Some(PresenceFinding::of("LimitRange", LIMIT_RANGE, range.is_some())),
        )
    } else {
        (None, None)
    };
    let mut results = Vec::new();
    for template in templates(&list(client, namespace).await?) {
        let answer = dry_run(client, namespace, &dry_run_pod(&template)).await?;
        results.push(judge_admission(&template, &answer, isolation.pod_security));
    }
    let workloads = WorkloadsFinding {
        checked: results.len(),
        refused: results.iter().filter(|r| r.violation()).count(),
        limit: coverage_limit(isolation.pod_security, &level),
        results,
    };
    Ok(Posture::new(level, network_policy, quota, limit_range, workloads))
}

async fn list(client: &Client, namespace: &str) -> Result<Listing> {
    let params = ListParams::default();
    macro_rules! items {
        ($t:ty, $what:literal) => {
            api(Api::<$t>::namespaced(client.clone(), namespace).list(&params).await, || {
                format!("listing {} in {namespace}", $what)
            })?
            .items
        };
    }
    Ok(Listing {
        deployments: items!(Deployment, "Deployments"),
        statefulsets: items!(StatefulSet, "StatefulSets"),
        daemonsets: items!(DaemonSet, "DaemonSets"),
        jobs: items!(Job, "Jobs"),
        cronjobs: items!(CronJob, "CronJobs"),
        pods: items!(Pod, "pods"),
    })
}

/// Creates `pod` with `dryRun=All`: admission runs in full and nothing is stored. Sent as a
/// plain request, because kube's typed create drops the response's `Warning` headers.
async fn dry_run(client: &Client, namespace: &str, pod: &Pod) -> Result<Answer> {
    let uri = format!("/api/v1/namespaces/{namespace}/pods?dryRun=All&fieldManager={}", super::FIELD_MANAGER);
    let body = serde_json::to_vec(pod)?;
    let request = http::Request::post(&uri)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(kube::client::Body::from(body))?;
    let what = || format!("dry-run creating a pod in {namespace}");
    let response = api(client.send(request).await, what)?;
    let code = response.status().as_u16();
    let warnings = response
        .headers()
        .get_all(http::header::WARNING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(warning_text)
        .collect();
    let bytes = api(response.into_body().collect_bytes().await, what)?;
    let message = if (200..300).contains(&code) {
        String::new()
    } else {
        serde_json::from_slice::<kube::core::Status>(&bytes)
            .map(|s| s.message)
            .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into_owned())
    };
    if code >= 500 {
        return Err(anyhow!("{code} {message}")).with_context(what).map_err(|e| coded(exit::CLUSTER, e));
    }
    Ok(Answer { code, message, warnings })
}

/// The quota's use, as `status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaUse {
    pub name: String,
    pub hard: BTreeMap<String, String>,
    pub used: BTreeMap<String, String>,
}

/// `status.hard` and `status.used` of a ResourceQuota; `spec.hard` while the quota
/// controller has not filled in the status yet.
pub fn quota_use(quota: &ResourceQuota) -> QuotaUse {
    let text = |m: Option<&BTreeMap<String, Quantity>>| -> BTreeMap<String, String> {
        m.map(|m| m.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect()).unwrap_or_default()
    };
    let status = quota.status.as_ref();
    let mut hard = text(status.and_then(|s| s.hard.as_ref()));
    if hard.is_empty() {
        hard = text(quota.spec.as_ref().and_then(|s| s.hard.as_ref()));
    }
    QuotaUse {
        name: quota.metadata.name.clone().unwrap_or_default(),
        hard,
        used: text(status.and_then(|s| s.used.as_ref())),
    }
}

/// ResourceQuota `codex-quota` of the namespace, when there is one.
pub async fn read_quota_use(client: &Client, namespace: &str) -> Result<Option<QuotaUse>> {
    let quotas: Api<ResourceQuota> = Api::namespaced(client.clone(), namespace);
    let found = api(quotas.get_opt(RESOURCE_QUOTA).await, || format!("reading ResourceQuota {RESOURCE_QUOTA}"))?;
    Ok(found.as_ref().map(quota_use))
}

#[cfg(test)]
mod tests;
