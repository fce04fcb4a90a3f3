//! Mounts left by kubelet and containerd (volumes, overlay rootfs, netns
//! bind mounts), which must go before their directories can be removed.
use std::ffi::CString;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

/// Every mount point at or below `root`, deepest first.
pub fn mounts_under(root: &Path) -> Vec<PathBuf> {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut points: Vec<PathBuf> = info
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(unescape)
        .map(PathBuf::from)
        .filter(|p| p.starts_with(root))
        .collect();
    points.sort();
    points.dedup();
    points.reverse();
    points
}

/// Unmounts everything at or below `root`.
pub fn unmount_all_under(root: &Path) -> Result<()> {
    // A path may be mounted several times over; repeat until nothing is left.
    for _ in 0..10 {
        let points = mounts_under(root);
        if points.is_empty() {
            return Ok(());
        }
        for point in points {
            unmount(&point)?;
        }
    }
    bail!("mounts under {} keep reappearing: {:?}", root.display(), mounts_under(root))
}

/// Lazily unmounts one mount point; a path that is not mounted is fine.
pub fn unmount(path: &Path) -> Result<()> {
    let Ok(c_path) = CString::new(path.as_os_str().as_encoded_bytes()) else {
        bail!("{} contains a NUL byte", path.display())
    };
    // MNT_DETACH: a mount still in use by a dying process must not block teardown.
    let rc = unsafe { libc::umount2(c_path.as_ptr(), libc::MNT_DETACH) };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        if !matches!(err.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOENT)) {
            bail!("unmounting {}: {err}", path.display());
        }
    }
    Ok(())
}

/// mountinfo escapes spaces and friends as octal `\040`.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() && bytes[i + 1..i + 4].iter().all(|b| (b'0'..=b'7').contains(b)) {
            let value = (bytes[i + 1] - b'0') * 64 + (bytes[i + 2] - b'0') * 8 + (bytes[i + 3] - b'0');
            out.push(value);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_escapes_in_mountinfo_are_decoded() {
        assert_eq!(unescape(r"/a\040b"), "/a b");
        assert_eq!(unescape("/plain"), "/plain");
    }
}
