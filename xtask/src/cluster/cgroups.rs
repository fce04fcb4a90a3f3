//! The pods' cgroups: kubelet (cgroupfs driver) puts every pod below `kubepods`
//! in each cgroup v1 hierarchy. After teardown, anything still in there is a
//! container process that escaped its shim, and the empty groups are removed.
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;

use super::process;

const CGROUP_ROOT: &str = "/sys/fs/cgroup";
const PODS_CGROUP: &str = "kubepods";

/// The `kubepods` group of every mounted hierarchy.
fn pod_roots() -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(CGROUP_ROOT) else {
        return Vec::new();
    };
    entries.filter_map(|e| e.ok()).map(|e| e.path().join(PODS_CGROUP)).filter(|p| p.is_dir()).collect()
}

/// Kills every process left in the pods' cgroups, then removes the groups.
pub fn remove_pod_cgroups() -> Result<()> {
    for root in pod_roots() {
        for group in groups_deepest_first(&root) {
            for pid in pids_in(&group) {
                process::terminate(pid, Duration::from_secs(2))?;
            }
        }
    }
    for root in pod_roots() {
        for group in groups_deepest_first(&root) {
            // A group vanishes once empty; a busy one is reported by the next `up`.
            let _ = fs::remove_dir(&group);
        }
    }
    Ok(())
}

/// Every process inside the pods' cgroups (counted once, from one hierarchy).
pub fn pod_pids() -> Vec<u32> {
    let root = Path::new(CGROUP_ROOT).join("memory").join(PODS_CGROUP);
    groups_deepest_first(&root).iter().flat_map(|g| pids_in(g)).collect()
}

fn groups_deepest_first(root: &Path) -> Vec<PathBuf> {
    let mut groups = Vec::new();
    collect(root, &mut groups);
    groups.sort_by_key(|g| std::cmp::Reverse(g.components().count()));
    groups
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    out.push(dir.to_path_buf());
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.filter_map(|e| e.ok()) {
            if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                collect(&entry.path(), out);
            }
        }
    }
}

fn pids_in(group: &Path) -> Vec<u32> {
    fs::read_to_string(group.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}
