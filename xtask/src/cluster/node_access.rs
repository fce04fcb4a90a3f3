//! What the kubelet may read without waiting for the Node authorizer's graph.
//!
//! The Node authorizer lets a kubelet read a pod's PersistentVolumeClaim only once its graph
//! links the pod to the node, which it learns from its own watch of pods. On this 2-core
//! machine the kubelet sometimes asks first: "persistentvolumeclaims … is forbidden … no
//! relationship found between node 'codex-node' and this object", and the pod's volumes wait
//! for the kubelet's next try, about 15 s later (seen in nine of about fifty pods with a claim in
//! one session). The Node authorizer has no opinion then, so RBAC decides: this grant lets the
//! one node of this throwaway cluster read claims and volumes whatever the graph says. Nothing
//! else is granted; Secrets and ConfigMaps still go through the graph.
use anyhow::Result;

use super::kubectl;
use super::layout::{Layout, NODE_NAME};

const NAME: &str = "codex:node-reads-volume-claims";

pub fn grant(layout: &Layout) -> Result<()> {
    kubectl::apply(layout, &manifest())
}

fn manifest() -> String {
    format!(
        "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {NAME}
rules:
- apiGroups: [\"\"]
  resources: [persistentvolumeclaims, persistentvolumes]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {NAME}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {NAME}
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: system:node:{NODE_NAME}
"
    )
}
