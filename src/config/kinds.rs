//! What is known about Kubernetes kinds without asking a cluster: which are cluster-scoped.
//! `up` asks the API server too (discovery) before it applies anything, so a kind missing
//! here is still caught there; this list lets `validate` and `plan` say it offline.

/// Kinds that live outside any namespace, from Kubernetes itself and the common add-ons
/// (cert-manager, Gateway API, snapshots, Kyverno, Gatekeeper, Prometheus operator).
const CLUSTER_SCOPED: &[&str] = &[
    "APIService",
    "CSIDriver",
    "CSINode",
    "CertificateSigningRequest",
    "ClusterIssuer",
    "ClusterPolicy",
    "ClusterRole",
    "ClusterRoleBinding",
    "ClusterTrustBundle",
    "ComponentStatus",
    "ConstraintTemplate",
    "CustomResourceDefinition",
    "DeviceClass",
    "FlowSchema",
    "GatewayClass",
    "IPAddress",
    "IngressClass",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "RuntimeClass",
    "ServiceCIDR",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
    "VolumeAttributesClass",
    "VolumeSnapshotClass",
    "VolumeSnapshotContent",
];

/// Whether `kind` is known to be cluster-scoped.
pub fn is_cluster_scoped(kind: &str) -> bool {
    CLUSTER_SCOPED.binary_search(&kind).is_ok()
}

/// Whether an environment's `allowClusterScoped` list lets `kind` in (`*` allows every kind).
pub fn allowed(allow: &[String], kind: &str) -> bool {
    allow.iter().any(|k| k == "*" || k == kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_so_lookups_find_every_entry() {
        assert!(CLUSTER_SCOPED.windows(2).all(|w| w[0] < w[1]));
        assert!(is_cluster_scoped("ClusterRole") && is_cluster_scoped("StorageClass"));
        assert!(!is_cluster_scoped("Role") && !is_cluster_scoped("Deployment"));
    }

    #[test]
    fn an_environment_allows_named_kinds_or_all() {
        assert!(allowed(&["ClusterRole".into()], "ClusterRole"));
        assert!(!allowed(&["ClusterRole".into()], "StorageClass"));
        assert!(allowed(&["*".into()], "StorageClass"));
        assert!(!allowed(&[], "ClusterRole"));
    }
}
