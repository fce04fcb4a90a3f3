//! Label and annotation keys, and the defaults tied to them: defined once, used everywhere.

/// Marks every namespace and object we create; `gc` touches nothing without it.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// Helm's instance label: the phase release an object belongs to.
pub const INSTANCE: &str = "app.kubernetes.io/instance";
/// The chart names each workload's unit in this label (part of its pod selector).
pub const NAME: &str = "app.kubernetes.io/name";
/// Value of [`MANAGED_BY`] on objects we create directly (Helm sets its own on chart objects).
pub const MANAGED_BY_VALUE: &str = "kubectl-codex";

pub const PROJECT: &str = "codex-k8s.dev/project";
pub const ENV: &str = "codex-k8s.dev/env";
pub const SLOT: &str = "codex-k8s.dev/slot";
pub const ISSUE: &str = "codex-k8s.dev/issue";
pub const PHASE: &str = "codex-k8s.dev/phase";
/// On every object of a unit's manifests: the unit it belongs to (readiness, diagnostics).
pub const UNIT: &str = "codex-k8s.dev/unit";

/// Label on every agent Job and its pod: the run id. `check` knows agent Jobs by it.
pub const AGENT_RUN: &str = "codex-k8s.dev/agent-run";
/// Label that marks evidence ConfigMaps.
pub const EVIDENCE: &str = "codex-k8s.dev/evidence";

/// The [`UNIT`] label of an object given as JSON.
pub fn unit_of(object: &serde_json::Value) -> Option<&str> {
    object.get("metadata")?.get("labels")?.get(UNIT)?.as_str()
}

/// When the environment was last deployed to (RFC 3339).
pub const LAST_ACTIVITY: &str = "codex-k8s.dev/last-activity";
/// How long the environment may sit idle before `gc` removes it (Go duration).
pub const IDLE_TTL: &str = "codex-k8s.dev/idle-ttl";
/// Digest of the values a phase release was installed with; equal digest = nothing to do.
pub const VALUES_DIGEST: &str = "codex-k8s.dev/values-digest";
/// On pod templates: a digest of the salted digests of the Secrets (of `secrets`) the pods
/// read, so they roll when one changes.
pub const SECRETS_DIGEST: &str = "codex-k8s.dev/secrets-digest";
/// On each Secret of `secrets`: its salted content digest (HMAC-SHA256 keyed by the namespace).
pub const CONTENT_DIGEST: &str = "codex-k8s.dev/content-digest";

/// Idle TTL when neither services.yaml nor the command line sets one.
pub const DEFAULT_IDLE_TTL: &str = "8h";
/// Name of the shared workspace PVC when services.yaml does not set one.
pub const DEFAULT_WORKSPACE_CLAIM: &str = "codex-workspace";
/// Where the workspace is mounted when a mount does not say.
pub const DEFAULT_WORKSPACE_MOUNT_PATH: &str = "/workspace";
/// Name of the workspace volume in every pod that mounts it (chart, manifests, agent Job).
pub const WORKSPACE_VOLUME: &str = "codex-workspace";
/// The one identity of every pod that mounts the workspace, unless services.yaml sets one.
pub const DEFAULT_WORKSPACE_ID: u32 = 10001;

/// Helm release name of a phase.
pub fn release_name(phase: crate::config::phase::Phase) -> String {
    format!("codex-{}", phase.as_str())
}

/// Pod Security admission's namespace labels: the level it refuses pods below, and the
/// levels it records in the audit log and warns clients about. kubectl-codex sets all three
/// to the environment's `podSecurity`.
pub const POD_SECURITY_ENFORCE: &str = "pod-security.kubernetes.io/enforce";
pub const POD_SECURITY_AUDIT: &str = "pod-security.kubernetes.io/audit";
pub const POD_SECURITY_WARN: &str = "pod-security.kubernetes.io/warn";
