//! ELF files and the shared libraries they need, found with `ldd`: what an image assembled
//! from host binaries must carry besides the binaries.

use anyhow::{bail, ensure, Context, Result};
use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A regular file (not a symlink: its target is handled on its own) starting
/// with the ELF magic.
pub fn is_elf(path: &Path) -> Result<bool> {
    let meta = fs::symlink_metadata(path)?;
    if !meta.is_file() {
        return Ok(false);
    }
    let mut magic = [0u8; 4];
    let mut file = fs::File::open(path)?;
    Ok(file.read(&mut magic)? == 4 && magic == *b"\x7fELF")
}

/// Where each needed shared library goes in the image (key) and which host
/// file holds it (value), found with `ldd` on every ELF.
///
/// A library lands under its soname in the *canonical* directory (e.g.
/// /usr/lib/x86_64-linux-gnu/libc.so.6 rather than /lib/…, which is a symlink
/// on merged-/usr Debian), which the loader searches by default, so the image
/// needs neither /etc/ld.so.cache nor the /lib symlink. The program
/// interpreter stays at its literal path (/lib64/ld-linux-x86-64.so.2),
/// since the kernel opens exactly that path.
pub fn shared_libraries(elves: &[PathBuf]) -> Result<BTreeMap<String, PathBuf>> {
    let mut libs = BTreeMap::new();
    let mut missing = Vec::new();
    for elf in elves {
        let output = Command::new("ldd").arg(elf).output().context("running ldd")?;
        let text = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            // ldd exits non-zero for static binaries: nothing to add.
            if text.contains("not a dynamic executable")
                || String::from_utf8_lossy(&output.stderr).contains("not a dynamic executable")
            {
                continue;
            }
            bail!("ldd {} failed: {}", elf.display(), String::from_utf8_lossy(&output.stderr));
        }
        for dep in parse_ldd(&text) {
            match dep {
                LddLine::Library(path) => {
                    let dir = fs::canonicalize(path.parent().context("library without a directory")?)?;
                    let dest = dir.join(path.file_name().context("library without a name")?);
                    libs.insert(super::example::path_str(&dest)?, fs::canonicalize(&path)?);
                }
                LddLine::Interpreter(path) => {
                    libs.insert(super::example::path_str(&path)?, fs::canonicalize(&path)?);
                }
                LddLine::NotFound(name) => missing.push(format!("{name} (needed by {})", elf.display())),
            }
        }
    }
    ensure!(missing.is_empty(), "shared libraries not found on this host: {}", missing.join(", "));
    Ok(libs)
}

#[derive(Debug, PartialEq)]
enum LddLine {
    Library(PathBuf),
    Interpreter(PathBuf),
    NotFound(String),
}

/// Parses ldd's output: `name => /path (0x…)`, `/lib64/ld-… (0x…)`,
/// `name => not found`; the vDSO (`linux-vdso.so.1 (0x…)`) has no file.
fn parse_ldd(text: &str) -> Vec<LddLine> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some((name, rest)) = line.split_once("=>") {
            let rest = rest.trim();
            if rest.starts_with("not found") {
                out.push(LddLine::NotFound(name.trim().to_string()));
            } else if let Some(path) = rest.split_whitespace().next().filter(|p| p.starts_with('/')) {
                out.push(LddLine::Library(PathBuf::from(path)));
            }
        } else if let Some(path) = line.split_whitespace().next().filter(|p| p.starts_with('/')) {
            out.push(LddLine::Interpreter(PathBuf::from(path)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_lines_are_classified() {
        let text = "\tlinux-vdso.so.1 (0x00007ffd)\n\
                    \tlibzstd.so.1 => /lib/x86_64-linux-gnu/libzstd.so.1 (0x00007f2c)\n\
                    \tlibfoo.so.2 => not found\n\
                    \t/lib64/ld-linux-x86-64.so.2 (0x00007f2d)\n";
        assert_eq!(
            parse_ldd(text),
            [
                LddLine::Library("/lib/x86_64-linux-gnu/libzstd.so.1".into()),
                LddLine::NotFound("libfoo.so.2".into()),
                LddLine::Interpreter("/lib64/ld-linux-x86-64.so.2".into()),
            ]
        );
    }

    #[test]
    fn elf_detection_ignores_scripts_and_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("s");
        fs::write(&script, "#!/bin/sh\n").unwrap();
        assert!(!is_elf(&script).unwrap());
        let link = dir.path().join("l");
        std::os::unix::fs::symlink("/bin/dash", &link).unwrap();
        assert!(!is_elf(&link).unwrap());
        assert!(is_elf(Path::new("/bin/dash")).unwrap());
    }
}
