//! The default StorageClass and its provisioner (`tools/go/provisioner`), a host
//! process that gives each claim a hostPath volume under the state dir. On one
//! node such a volume serves ReadWriteOnce and ReadWriteMany claims alike.
use anyhow::Result;

use super::kubectl;
use super::layout::{Layout, PROVISIONER_NAME, STORAGE_CLASS};
use super::process::Daemon;

pub const NAME: &str = "provisioner";

pub fn daemon<'a>(layout: &Layout) -> Result<Daemon<'a>> {
    Daemon::admin_client(
        NAME,
        layout,
        &[
            format!("--name={PROVISIONER_NAME}"),
            format!("--storage-class={STORAGE_CLASS}"),
            format!("--root={}", layout.volumes().display()),
        ],
    )
}

pub fn apply_storage_class(layout: &Layout) -> Result<()> {
    kubectl::apply(
        layout,
        &format!(
            r#"apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: {STORAGE_CLASS}
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: {PROVISIONER_NAME}
reclaimPolicy: Delete
volumeBindingMode: Immediate
"#
        ),
    )
}

pub fn storage_class_is_default(layout: &Layout) -> bool {
    kubectl::output(
        layout,
        &[
            "get",
            "storageclass",
            STORAGE_CLASS,
            "-o",
            r#"jsonpath={.metadata.annotations.storageclass\.kubernetes\.io/is-default-class}"#,
        ],
    )
    .map(|s| s.trim() == "true")
    .unwrap_or(false)
}
