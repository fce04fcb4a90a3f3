//! `cargo xtask dist`: release archives in `dist/`, one per target of [`TARGETS`], each with
//! its `.sha256`, and the krew manifest generated from them (`dist/codex.yaml`).
//!
//! An archive is reproducible from the binary: entries sorted, one fixed mtime (the commit's),
//! owner 0, `gzip -n`. The binary is reproducible for one commit and toolchain (paths are
//! remapped, the commit is the only stamp), but it changes with every commit, so the committed
//! `krew-manifest.yaml` cannot carry the sha256 of the commit it is part of: [`check_committed_manifest`]
//! compares everything but the sha256 lines (see the README, Install).

use crate::exec;
use crate::repo::{cargo, repo_root};
use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// One release platform: the names krew, Helm and the archive use, and how Rust builds it.
pub struct Target {
    /// `GOOS`-style name: krew's `os` selector label and the archive name.
    pub os: &'static str,
    /// `GOARCH`-style name: krew's `arch` selector label and the archive name.
    pub arch: &'static str,
    pub triple: &'static str,
    /// rustc flags for this target only (never for build scripts and proc macros: cargo
    /// applies them to the `--target` build alone).
    pub rustflags: &'static [&'static str],
    /// Whether the binary must come out without a dynamic loader (checked after the build).
    pub is_static: bool,
}

/// Every platform `cargo xtask dist` builds; a new row is a new archive and a new platform in
/// the krew manifest. linux/amd64 is static through glibc's own static libc: the musl target's
/// std is not installed with the toolchain and rustup cannot download it on the build machines.
pub const TARGETS: &[Target] = &[Target {
    os: "linux",
    arch: "amd64",
    triple: "x86_64-unknown-linux-gnu",
    rustflags: &["-C", "target-feature=+crt-static"],
    is_static: true,
}];

/// Where release archives are published: `<RELEASES>/v<version>/<archive>`.
pub const RELEASES: &str = "https://codex-k8s.dev/kubectl-codex/releases/download";
const HOMEPAGE: &str = "https://codex-k8s.dev/kubectl-codex";
/// krew's name of the plugin: `kubectl codex` runs `kubectl-codex`.
pub const PLUGIN: &str = "codex";
pub const BINARY: &str = "kubectl-codex";
/// The directory of Helm 3's plugin manifest (Helm 3 refuses the versioned plugin.yaml).
pub const HELM3_PLUGIN_DIR: &str = "helm3";
/// The completion helper kubectl runs for `kubectl codex <TAB>` (scripts/kubectl_complete-codex).
pub const COMPLETION_HELPER: &str = "kubectl_complete-codex";

#[derive(clap::Args, Debug)]
pub struct DistArgs {
    /// Also write the generated manifest to krew-manifest.yaml at the repository root (the
    /// release step, from the tagged commit).
    #[arg(long)]
    pub update_manifest: bool,
    /// Then run the install checks of `cargo xtask test` (krew, validate-krew-manifest, Helm
    /// plugin) on the archives.
    #[arg(long)]
    pub check: bool,
}

/// One built archive.
pub struct Archive {
    pub target: &'static Target,
    pub path: PathBuf,
    pub sha256: String,
    pub bytes: u64,
}

/// What `dist` produced.
pub struct Dist {
    pub version: String,
    pub archives: Vec<Archive>,
    /// `dist/codex.yaml`: the krew manifest of exactly these archives.
    pub manifest: PathBuf,
}

impl Dist {
    /// The archive for the machine we run on (the one the install checks use).
    pub fn host_archive(&self) -> Result<&Archive> {
        self.archives
            .iter()
            .find(|a| a.target.os == std::env::consts::OS && go_arch(std::env::consts::ARCH) == Some(a.target.arch))
            .context("no archive in dist/ runs on this machine")
    }
}

fn go_arch(rust_arch: &str) -> Option<&'static str> {
    match rust_arch {
        "x86_64" => Some("amd64"),
        "aarch64" => Some("arm64"),
        _ => None,
    }
}

pub fn run_cli(args: DistArgs) -> Result<()> {
    if args.check {
        return crate::install_check::run();
    }
    let dist = build()?;
    for archive in &dist.archives {
        println!("{}  {} ({} bytes)", archive.sha256, archive.path.display(), archive.bytes);
    }
    println!("{}", dist.manifest.display());
    let generated = fs::read_to_string(&dist.manifest)?;
    let committed_path = repo_root().join("krew-manifest.yaml");
    if args.update_manifest {
        fs::write(&committed_path, &generated).with_context(|| format!("writing {}", committed_path.display()))?;
        println!("{} updated", committed_path.display());
    } else {
        let committed =
            fs::read_to_string(&committed_path).with_context(|| format!("reading {}", committed_path.display()))?;
        match check_committed_manifest(&committed, &generated) {
            Ok(()) => println!("krew-manifest.yaml matches this build apart from sha256"),
            Err(e) => eprintln!("warning: {e:#}"),
        }
    }
    Ok(())
}

/// Builds every target's binary in release mode and packs the archives into `dist/`.
pub fn build() -> Result<Dist> {
    let root = repo_root();
    let metadata = cargo_metadata(&root)?;
    let out = root.join("dist");
    fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let mtime = source_date(&root)?;
    let mut archives = Vec::new();
    for target in TARGETS {
        let binary = build_binary(&root, &metadata.target_dir, target)?;
        if target.is_static && has_interpreter(&binary)? {
            bail!("{} asks for a dynamic loader although {} is meant to be static", binary.display(), target.triple);
        }
        let name = archive_name(&metadata.version, target);
        let path = out.join(&name);
        let entries = archive_entries(&root, &binary)?;
        write_tar_gz(&entries, mtime, &path)?;
        let data = fs::read(&path)?;
        let sha256 = hex(&Sha256::digest(&data));
        fs::write(out.join(format!("{name}.sha256")), format!("{sha256}  {name}\n"))?;
        archives.push(Archive { target, path, sha256, bytes: data.len() as u64 });
    }
    let shas: Vec<(&Target, &str)> = archives.iter().map(|a| (a.target, a.sha256.as_str())).collect();
    let manifest = out.join(format!("{PLUGIN}.yaml"));
    fs::write(&manifest, krew_manifest(&metadata.version, &shas, RELEASES))?;
    Ok(Dist { version: metadata.version, archives, manifest })
}

pub fn archive_name(version: &str, target: &Target) -> String {
    format!("{BINARY}_{version}_{}_{}.tar.gz", target.os, target.arch)
}

struct Metadata {
    version: String,
    target_dir: PathBuf,
}

fn cargo_metadata(root: &Path) -> Result<Metadata> {
    // Standard error stays on the terminal: cargo's own messages are the user's to read.
    let output = exec::output(
        cargo().current_dir(root).args(["metadata", "--format-version", "1", "--no-deps"]).stderr(Stdio::inherit()),
    )?;
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).context("reading cargo metadata")?;
    let version = json["packages"]
        .as_array()
        .and_then(|packages| packages.iter().find(|p| p["name"] == BINARY))
        .and_then(|p| p["version"].as_str())
        .context("cargo metadata names no kubectl-codex package")?
        .to_string();
    let target_dir = json["target_directory"].as_str().context("cargo metadata has no target_directory")?.into();
    Ok(Metadata { version, target_dir })
}

/// The archive mtime: `$SOURCE_DATE_EPOCH` (the reproducible-builds convention), else the
/// commit time, so two builds of one commit agree and extracted files carry a meaningful date.
fn source_date(root: &Path) -> Result<u64> {
    if let Ok(value) = std::env::var("SOURCE_DATE_EPOCH") {
        return value.trim().parse().with_context(|| format!("SOURCE_DATE_EPOCH={value:?} is not a number"));
    }
    let time = exec::stdout(Command::new("git").current_dir(root).args(["log", "-1", "--format=%ct"]))
        .context("set SOURCE_DATE_EPOCH outside a git checkout")?;
    time.trim().parse().context("reading the commit time from git log")
}

fn build_binary(root: &Path, target_dir: &Path, target: &Target) -> Result<PathBuf> {
    let cargo_home = match std::env::var_os("CARGO_HOME") {
        Some(home) => PathBuf::from(home),
        None => PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?).join(".cargo"),
    };
    let mut flags: Vec<String> = target.rustflags.iter().map(|f| f.to_string()).collect();
    flags.extend(["-C".into(), "strip=symbols".into()]);
    // Paths reach the binary through panic locations of dependencies and generated code; mapped
    // to fixed names, the binary does not depend on where the checkout, target dir or cargo
    // home are. The last matching prefix wins, so the target dir (often inside the checkout)
    // comes last.
    for (from, to) in [(&cargo_home, "/cargo"), (&root.to_path_buf(), "/build"), (&target_dir.to_path_buf(), "/target")]
    {
        flags.push(format!("--remap-path-prefix={}={to}", from.display()));
    }
    eprintln!("[dist] cargo build --release --target {} (static: {})", target.triple, target.is_static);
    exec::run(
        cargo()
            .current_dir(root)
            .args(["build", "--release", "--locked", "--package", BINARY, "--bin", BINARY, "--target", target.triple])
            // CARGO_ENCODED_RUSTFLAGS outranks RUSTFLAGS and build.rustflags, and takes paths with spaces.
            .env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f")),
    )?;
    Ok(target_dir.join(target.triple).join("release").join(BINARY))
}

/// Whether an ELF file names a program interpreter (PT_INTERP), i.e. needs the dynamic loader.
fn has_interpreter(path: &Path) -> Result<bool> {
    let data = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let u16_at = |at: usize| data.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |at: usize| data.get(at..at + 4).map(|b| u32::from_le_bytes(b.try_into().unwrap()));
    let u64_at = |at: usize| data.get(at..at + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap()));
    // 64-bit little-endian ELF only: every target in TARGETS is.
    if data.get(..6) != Some(&[0x7f, b'E', b'L', b'F', 2, 1][..]) {
        bail!("{} is not a 64-bit little-endian ELF file", path.display());
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38)) else {
        bail!("{}: truncated ELF header", path.display());
    };
    const PT_INTERP: u32 = 3;
    for i in 0..phnum as usize {
        let at = phoff as usize + i * phentsize as usize;
        if u32_at(at).context("truncated program header")? == PT_INTERP {
            return Ok(true);
        }
    }
    Ok(false)
}

/// One file (or directory, without contents) of an archive.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub path: String,
    pub contents: Option<Vec<u8>>,
    pub mode: u32,
}

/// The archive's files, flat at its root: krew's `files` name them from there, and Helm's
/// plugin installer wants plugin.yaml at the root (Helm 4's; Helm 3's is in `helm3/`). The same
/// archive is the krew plugin, the Helm plugin (binary included) and the plain download.
fn archive_entries(root: &Path, binary: &Path) -> Result<Vec<Entry>> {
    let read = |path: &Path| fs::read(path).with_context(|| format!("reading {}", path.display()));
    let file = |path: &str, mode: u32| -> Result<Entry> {
        Ok(Entry { path: path.to_string(), contents: Some(read(&root.join(path))?), mode })
    };
    Ok(vec![
        Entry { path: BINARY.into(), contents: Some(read(binary)?), mode: 0o755 },
        // krew-index requires a license file in every archive; validate-krew-manifest checks it.
        file("LICENSE", 0o644)?,
        file("README.md", 0o644)?,
        file("plugin.yaml", 0o644)?,
        Entry { path: format!("{HELM3_PLUGIN_DIR}/"), contents: None, mode: 0o755 },
        file(&format!("{HELM3_PLUGIN_DIR}/plugin.yaml"), 0o644)?,
        Entry { path: "scripts/".into(), contents: None, mode: 0o755 },
        file("scripts/helm-codex.sh", 0o755)?,
        // kubectl's plugin completion looks for `kubectl_complete-codex` on PATH; next to the
        // binary it finds the kubectl-codex it forwards to.
        Entry {
            path: COMPLETION_HELPER.into(),
            contents: Some(read(&root.join("scripts").join(COMPLETION_HELPER))?),
            mode: 0o755,
        },
    ])
}

/// The uncompressed tar: entries sorted by path (so a directory precedes its files, which
/// Helm's extractor needs), every header with the same mtime and owner 0.
pub fn tar_bytes(entries: &[Entry], mtime: u64) -> Result<Vec<u8>> {
    let mut sorted = entries.to_vec();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut builder = tar::Builder::new(Vec::new());
    for entry in &sorted {
        let mut header = tar::Header::new_ustar();
        header.set_path(&entry.path).with_context(|| format!("archive path {}", entry.path))?;
        header.set_mode(entry.mode);
        header.set_mtime(mtime);
        header.set_uid(0);
        header.set_gid(0);
        header.set_username("root")?;
        header.set_groupname("root")?;
        let contents: &[u8] = entry.contents.as_deref().unwrap_or_default();
        header.set_entry_type(if entry.contents.is_some() {
            tar::EntryType::Regular
        } else {
            tar::EntryType::Directory
        });
        header.set_size(contents.len() as u64);
        header.set_cksum();
        builder.append(&header, contents)?;
    }
    Ok(builder.into_inner()?)
}

/// Writes `entries` as a gzip-compressed tar. `gzip -n` leaves the file name and time out of
/// the gzip header, so the bytes depend only on the tar (and gzip's version).
pub fn write_tar_gz(entries: &[Entry], mtime: u64, out: &Path) -> Result<()> {
    let scratch = tempfile::NamedTempFile::new().context("creating a temporary file")?;
    fs::write(scratch.path(), tar_bytes(entries, mtime)?)?;
    let partial = out.with_extension("partial");
    exec::run(
        Command::new("gzip")
            .args(["-n", "-9", "-c"])
            .stdin(File::open(scratch.path())?)
            .stdout(File::create(&partial).with_context(|| format!("creating {}", partial.display()))?),
    )?;
    fs::rename(&partial, out).with_context(|| format!("moving {} into place", out.display()))?;
    Ok(())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The krew plugin manifest for `version` with one platform per archive.
pub fn krew_manifest(version: &str, archives: &[(&Target, &str)], releases: &str) -> String {
    let mut platforms = String::new();
    for (target, sha256) in archives {
        let name = archive_name(version, target);
        platforms.push_str(&format!(
            "  - selector:
      matchLabels:
        os: {os}
        arch: {arch}
    uri: {releases}/v{version}/{name}
    sha256: {sha256}
    bin: {BINARY}
    files:
      - from: {BINARY}
        to: .
      - from: {COMPLETION_HELPER}
        to: .
      - from: LICENSE
        to: .
",
            os = target.os,
            arch = target.arch,
        ));
    }
    format!(
        "# Generated by `cargo xtask dist` from the release archives; `cargo xtask test` checks that it
# matches a fresh build apart from the sha256 lines (README, Install).
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: {PLUGIN}
spec:
  version: v{version}
  homepage: {HOMEPAGE}
  shortDescription: Bring up a multi-service environment from one services.yaml
  description: |
    Brings up a complete, isolated environment of a multi-service project on
    Kubernetes from one declarative services.yaml: stateful dependencies, then
    migrations, then internal services, then edge services, then the frontend.
    Each phase is one Helm release, installed only after the previous phase is
    ready, with an evidence record that proves the order from Helm's history.
  caveats: |
    kubectl codex runs helm 3.13 or later (tested with v3.22.0): it takes
    --helm PATH, $CODEX_HELM, or helm on PATH.
    Completion covers the kubectl-codex command (krew puts it on PATH too):
      source <(kubectl codex completion bash)    # or zsh, fish
    For `kubectl codex <TAB>` (kubectl 1.26+), put kubectl_complete-codex on PATH:
      ln -s \"$(dirname \"$(readlink -f ~/.krew/bin/kubectl-codex)\")/kubectl_complete-codex\" ~/.krew/bin/
  platforms:
{platforms}"
    )
}

/// The committed manifest must equal the generated one line for line, except that each
/// `sha256:` line only has to be a well-formed digest (it is the released archive's).
pub fn check_committed_manifest(committed: &str, generated: &str) -> Result<()> {
    let fix = "run `cargo xtask dist --update-manifest` and commit krew-manifest.yaml";
    let is_sha = |line: &str| line.trim_start().starts_with("sha256:");
    let committed_lines: Vec<&str> = committed.lines().collect();
    let generated_lines: Vec<&str> = generated.lines().collect();
    for (i, (c, g)) in committed_lines.iter().zip(&generated_lines).enumerate() {
        if is_sha(c) && is_sha(g) {
            let digest = c.trim_start().trim_start_matches("sha256:").trim();
            if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                bail!("krew-manifest.yaml:{}: {digest:?} is not a sha256 digest; {fix}", i + 1);
            }
        } else if c != g {
            bail!(
                "krew-manifest.yaml:{} differs from this build's manifest:\n  committed: {c}\n  generated: {g}\n{fix}",
                i + 1
            );
        }
    }
    if committed_lines.len() != generated_lines.len() {
        bail!(
            "krew-manifest.yaml has {} lines, this build's manifest {}; {fix}",
            committed_lines.len(),
            generated_lines.len()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries() -> Vec<Entry> {
        vec![
            Entry { path: "scripts/x.sh".into(), contents: Some(b"#!/bin/sh\n".to_vec()), mode: 0o755 },
            Entry { path: "kubectl-codex".into(), contents: Some(vec![0; 1000]), mode: 0o755 },
            Entry { path: "scripts/".into(), contents: None, mode: 0o755 },
        ]
    }

    #[test]
    fn tar_is_sorted_and_independent_of_input_order_and_clock() {
        let mut reversed = entries();
        reversed.reverse();
        let a = tar_bytes(&entries(), 1_700_000_000).unwrap();
        assert_eq!(a, tar_bytes(&reversed, 1_700_000_000).unwrap());
        let mut archive = tar::Archive::new(&a[..]);
        let listed: Vec<(String, u64, u64)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (e.path().unwrap().display().to_string(), h.mtime().unwrap(), h.uid().unwrap())
            })
            .collect();
        let paths: Vec<&str> = listed.iter().map(|(p, _, _)| p.as_str()).collect();
        assert_eq!(paths, ["kubectl-codex", "scripts/", "scripts/x.sh"]);
        assert!(listed.iter().all(|(_, mtime, uid)| *mtime == 1_700_000_000 && *uid == 0));
    }

    #[test]
    fn gzip_output_is_reproducible() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.tar.gz"), dir.path().join("b.tar.gz"));
        write_tar_gz(&entries(), 1, &a).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        write_tar_gz(&entries(), 1, &b).unwrap();
        assert_eq!(fs::read(a).unwrap(), fs::read(b).unwrap());
    }

    #[test]
    fn manifest_check_ignores_only_the_digest() {
        let sha_a = "a".repeat(64);
        let sha_b = "b".repeat(64);
        let a = krew_manifest("1.2.3", &[(&TARGETS[0], &sha_a)], RELEASES);
        let b = krew_manifest("1.2.3", &[(&TARGETS[0], &sha_b)], RELEASES);
        check_committed_manifest(&a, &b).unwrap();
        let bumped = krew_manifest("1.2.4", &[(&TARGETS[0], &sha_b)], RELEASES);
        let err = check_committed_manifest(&a, &bumped).unwrap_err().to_string();
        assert!(err.contains("version: v1.2.3") && err.contains("--update-manifest"), "{err}");
        let placeholder = a.replace(&sha_a, "not-a-sha256");
        assert!(check_committed_manifest(&placeholder, &b).is_err());
        let extra = format!("{b}  - selector: {{}}\n");
        assert!(check_committed_manifest(&a, &extra).is_err());
    }

    /// The committed krew-manifest.yaml is what the generator makes for the crate's version
    /// (apart from the digest), without a release build: an edit of one without the other
    /// fails here rather than only in the install checks.
    #[test]
    fn committed_manifest_matches_the_generator() {
        let root = repo_root();
        let committed = fs::read_to_string(root.join("krew-manifest.yaml")).unwrap();
        let cargo_toml = fs::read_to_string(root.join("Cargo.toml")).unwrap();
        let version = cargo_toml
            .lines()
            .find_map(|line| line.strip_prefix("version = \""))
            .and_then(|rest| rest.strip_suffix('"'))
            .unwrap();
        let generated = krew_manifest(version, &[(&TARGETS[0], &"0".repeat(64))], RELEASES);
        check_committed_manifest(&committed, &generated).unwrap();
        assert!(generated.contains(&format!("      - from: {COMPLETION_HELPER}\n")));
    }

    #[test]
    fn the_archive_carries_the_completion_helper_executable() {
        let root = repo_root();
        // Any file stands in for the release binary here.
        let entries = archive_entries(&root, &root.join("Cargo.toml")).unwrap();
        let helper = entries.iter().find(|e| e.path == COMPLETION_HELPER).expect("the helper is in the archive");
        assert_eq!(helper.mode, 0o755);
        let script = String::from_utf8(helper.contents.clone().unwrap()).unwrap();
        assert!(script.starts_with("#!/bin/sh\n") && script.contains("__complete -- \"$@\""), "{script}");
    }

    #[test]
    fn manifest_names_the_version_and_the_archive() {
        let manifest = krew_manifest("9.8.7", &[(&TARGETS[0], "0")], RELEASES);
        assert!(manifest.contains("  version: v9.8.7\n"));
        assert!(manifest.contains(&format!("{RELEASES}/v9.8.7/kubectl-codex_9.8.7_linux_amd64.tar.gz\n")));
    }
}
