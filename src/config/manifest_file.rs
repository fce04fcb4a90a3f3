//! Reading a unit's extra `manifests:` file. The path comes from services.yaml, which may
//! come from anyone (a pull request), so it is confined to the directory of services.yaml:
//! no absolute paths, no `..`, no symlink that leads out, regular files of bounded size only
//! (`/dev/zero` or a FIFO would otherwise hang or exhaust the loader).

use super::source::MAX_FILE_BYTES;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Reads `file` (relative to `base_dir`). The error says why, in words fit for a diagnostic.
pub fn read(base_dir: &Path, file: &str) -> Result<(PathBuf, String), String> {
    let relative = Path::new(file);
    if file.is_empty() || relative.components().any(|c| !matches!(c, Component::Normal(_) | Component::CurDir)) {
        return Err(format!(
            "\"{file}\" must be a relative path inside the directory of services.yaml (no leading '/', no '..')"
        ));
    }
    // `-f services.yaml` gives an empty directory, which the file system knows as `.`.
    let base_dir = if base_dir.as_os_str().is_empty() { Path::new(".") } else { base_dir };
    let full = base_dir.join(relative);
    let resolved = full.canonicalize().map_err(|e| format!("cannot read {}: {e}", full.display()))?;
    let root = base_dir.canonicalize().map_err(|e| format!("cannot read {}: {e}", base_dir.display()))?;
    if !resolved.starts_with(&root) {
        return Err(format!(
            "{} leads outside the directory of services.yaml (to {})",
            full.display(),
            resolved.display()
        ));
    }
    let metadata = std::fs::metadata(&resolved).map_err(|e| format!("cannot read {}: {e}", full.display()))?;
    if !metadata.is_file() {
        return Err(format!("{} is not a regular file", full.display()));
    }
    if metadata.len() > MAX_FILE_BYTES as u64 {
        return Err(format!("{} is {} bytes; the limit is {MAX_FILE_BYTES}", full.display(), metadata.len()));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(&resolved)
        .and_then(|f| f.take(MAX_FILE_BYTES as u64 + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read {}: {e}", full.display()))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8 text", full.display()))?;
    Ok((full, text))
}

#[cfg(test)]
mod tests {
    use super::read;
    use std::path::Path;

    #[test]
    fn paths_leaving_the_directory_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ok.yaml"), "kind: A\n").unwrap();
        assert!(read(dir.path(), "ok.yaml").is_ok());
        assert!(read(dir.path(), "./ok.yaml").is_ok());
        for bad in ["/etc/passwd", "../x.yaml", "a/../../x.yaml", "", "/dev/zero"] {
            assert!(read(dir.path(), bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn symlinks_out_and_special_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/etc/hostname", dir.path().join("out.yaml")).unwrap();
        let message = read(dir.path(), "out.yaml").unwrap_err();
        assert!(message.contains("leads outside"), "{message}");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        assert!(read(dir.path(), "sub").unwrap_err().contains("not a regular file"));
        assert!(read(Path::new("/nonexistent-dir"), "x.yaml").is_err());
    }

    #[test]
    fn an_empty_directory_is_the_current_one() {
        // What `-f services.yaml` gives: the crate's own directory holds Cargo.toml.
        assert!(read(Path::new(""), "Cargo.toml").is_ok());
    }
}
