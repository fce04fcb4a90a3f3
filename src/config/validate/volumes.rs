//! `workload.volumes`: names, mount paths, one source at most, the owned claim's fields.

use super::names::{check_absolute, check_object_name, check_quantity, is_dns_label};
use crate::config::diagnostics::{excerpt, Diagnostics};
use crate::config::model::{AccessMode, Volume, Workload, WorkloadKind};
use crate::config::path::FieldPath;
use crate::config::source::SourceDocument;
use std::collections::BTreeSet;

/// Names, mount paths and sources of `workload.volumes`; returns the volume names.
pub(super) fn check_volumes<'a>(
    workload: &'a Workload,
    workload_path: &str,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) -> BTreeSet<&'a str> {
    let mut volume_names = BTreeSet::new();
    for (i, volume) in workload.volumes.iter().enumerate() {
        let volume_path = FieldPath::index(&FieldPath::key(workload_path, "volumes"), i);
        if !is_dns_label(&volume.name, 63) {
            errors.push(source.error_at(
                &FieldPath::key(&volume_path, "name"),
                format!("\"{}\" is not a DNS-1123 label", excerpt(&volume.name)),
            ));
        } else if volume.name == "codex-workspace" {
            errors.push(source.error_at(
                &FieldPath::key(&volume_path, "name"),
                "\"codex-workspace\" is the volume of the workspace mount; choose another name",
            ));
        }
        if !volume_names.insert(volume.name.as_str()) {
            errors.push(
                source.error_at(
                    &FieldPath::key(&volume_path, "name"),
                    format!("duplicate volume name \"{}\"", volume.name),
                ),
            );
        }
        check_absolute(&volume.mount_path, &FieldPath::key(&volume_path, "mountPath"), source, errors);
        if let Some(size) = &volume.size {
            check_quantity(size, &FieldPath::key(&volume_path, "size"), source, errors);
        }
        check_volume_source(workload.kind, volume, &volume_path, source, errors);
    }
    volume_names
}

/// At most one source; the owned claim's fields only without one; names that Kubernetes takes.
fn check_volume_source(
    kind: WorkloadKind,
    volume: &Volume,
    volume_path: &str,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    let sources = volume.sources();
    if let [first, second, ..] = sources.as_slice() {
        errors.push(source.error_at(
            &FieldPath::key(volume_path, second),
            format!(
                "\"{second}\" and \"{first}\" are both set: a volume has one source at most (configMap, secret, emptyDir or claimName; none: a claim the unit owns)"
            ),
        ));
    }
    if let Some(from) = sources.first() {
        let owned = [
            ("size", volume.size.is_some()),
            ("accessMode", volume.access_mode.is_some()),
            ("storageClassName", volume.storage_class_name.is_some()),
        ];
        for (field, _) in owned.iter().filter(|(_, set)| *set) {
            errors.push(source.error_at(
                &FieldPath::key(volume_path, field),
                format!("\"{field}\" applies to a claim the unit owns, not to a volume with \"{from}\""),
            ));
        }
    } else if kind == WorkloadKind::DaemonSet
        && matches!(
            volume.access_mode.unwrap_or(AccessMode::ReadWriteOnce),
            AccessMode::ReadWriteOnce | AccessMode::ReadWriteOncePod
        )
    {
        errors.push(source.error_at(
            volume_path,
            "a DaemonSet runs a pod on every node, which cannot all attach one ReadWriteOnce claim; use accessMode ReadWriteMany or ReadOnlyMany, or a source (emptyDir, claimName, …)",
        ));
    }
    for (field, name) in
        [("configMap", &volume.config_map), ("secret", &volume.secret), ("claimName", &volume.claim_name)]
    {
        if let Some(name) = name {
            check_object_name(name, &FieldPath::key(volume_path, field), source, errors);
        }
    }
    if let Some(empty_dir) = &volume.empty_dir {
        let path = FieldPath::key(volume_path, "emptyDir");
        if let Some(limit) = &empty_dir.size_limit {
            check_quantity(limit, &FieldPath::key(&path, "sizeLimit"), source, errors);
        }
        if let Some(medium) = &empty_dir.medium {
            if !(medium.is_empty() || medium == "Memory" || medium == "HugePages" || medium.starts_with("HugePages-")) {
                errors.push(source.error_at(
                    &FieldPath::key(&path, "medium"),
                    format!(
                        "\"{}\" is not a medium; use \"Memory\" (tmpfs), \"HugePages\" or leave it out (disk)",
                        excerpt(medium)
                    ),
                ));
            }
        }
    }
}
