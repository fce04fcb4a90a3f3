//! OCI images assembled from local files and pushed to the local registry with
//! `crane`: no Docker engine, no base image from the internet.
//!
//! An image is one deterministic tar layer (sorted entries, mtime 0, owner 0:0,
//! normalised modes) appended to crane's empty base, then its config is set with
//! `crane mutate`. The same inputs give the same layer digest.
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::exec;
use anyhow::{bail, Context, Result};

use crate::tools;

/// What goes into an image.
#[derive(Debug, Clone, Default)]
pub struct ImageSpec {
    /// Repository inside the registry, e.g. `codex/users`.
    pub repository: String,
    pub tag: String,
    /// Host file or directory, and the absolute path it gets in the image.
    /// A directory is copied with its contents.
    pub files: Vec<(PathBuf, String)>,
    pub entrypoint: Vec<String>,
    pub env: Vec<(String, String)>,
    pub workdir: Option<String>,
    /// `uid[:gid]` (numeric: the image has no /etc/passwd unless you add one).
    pub user: Option<String>,
    /// `(path, uid, gid)`: the path in the image and everything below it get this owner
    /// instead of root, for directories the image's user must write to (a pre-filled cache).
    pub owners: Vec<(String, u32, u32)>,
}

/// The registry images are pushed to and pulled from: the local one
/// ([`crate::cluster::layout::REGISTRY`]), or `$CODEX_REGISTRY`.
pub fn registry_address() -> String {
    std::env::var("CODEX_REGISTRY")
        .ok()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| crate::cluster::layout::REGISTRY.to_string())
}

/// Builds the image and pushes it; returns the full reference, e.g.
/// `127.0.0.1:5000/codex/users:tag`.
///
/// Kubelet pulls a non-`latest` tag only once per node, so callers that rebuild
/// an image should give it a new tag (a content digest works well).
pub fn assemble_and_push(spec: &ImageSpec) -> Result<String> {
    validate(spec)?;
    let started = Instant::now();
    let reference = format!("{}/{}:{}", registry_address(), spec.repository, spec.tag);
    let crane = tools::tool_path("crane")?;
    let work = tempfile::tempdir().context("creating a temporary directory")?;
    let layer = work.path().join("layer.tar");
    write_layer_owned(&collect_entries(&spec.files)?, &spec.owners, &layer)?;

    let mut append = crane_command(&crane);
    append.args(["append", "--oci-empty-base", "-f"]).arg(&layer).args(["-t", &reference]);
    exec::stdout(&mut append)?;

    let mut mutate = crane_command(&crane);
    // The empty base has no platform, and containerd only runs images whose config
    // matches its own.
    mutate.args(["mutate", &reference, "-t", &reference, "--set-platform", "linux/amd64"]);
    if !spec.entrypoint.is_empty() {
        mutate.arg(format!("--entrypoint={}", csv_list(&spec.entrypoint)));
    }
    for (key, value) in &spec.env {
        mutate.arg(format!("--env={key}={value}"));
    }
    if let Some(workdir) = &spec.workdir {
        mutate.arg(format!("--workdir={workdir}"));
    }
    if let Some(user) = &spec.user {
        mutate.arg(format!("--user={user}"));
    }
    let digest = exec::stdout(&mut mutate)?;
    crate::say!(
        "[image] pushed {reference} ({}) in {:.1}s",
        digest.trim().rsplit('@').next().unwrap_or_default(),
        started.elapsed().as_secs_f64()
    );
    Ok(reference)
}

/// Copies a pushed image to another reference in the registry (blobs are mounted, not
/// uploaded again): one assembled image published under several repositories.
pub fn copy(from: &str, to: &str) -> Result<()> {
    let crane = tools::tool_path("crane")?;
    exec::stdout(crane_command(&crane).args(["copy", from, to]))?;
    crate::say!("[image] copied {from} to {to}");
    Ok(())
}

/// Whether the registry already has this reference (so an unchanged image need
/// not be pushed again).
pub fn exists(reference: &str) -> Result<bool> {
    let crane = tools::tool_path("crane")?;
    let output = crane_command(&crane).args(["digest", reference]).output().context("running crane digest")?;
    Ok(output.status.success())
}

fn validate(spec: &ImageSpec) -> Result<()> {
    if spec.repository.is_empty() || spec.repository.starts_with('/') || spec.repository.contains(':') {
        bail!("image repository {:?} must look like `codex/name`", spec.repository);
    }
    if spec.tag.is_empty() || spec.tag.contains(['/', ':', '@']) {
        bail!("image tag {:?} is not a valid tag", spec.tag);
    }
    for (_, dest) in &spec.files {
        if !dest.starts_with('/') || dest.split('/').any(|part| part == "..") {
            bail!("destination {dest:?} in image {} must be an absolute path without `..`", spec.repository);
        }
    }
    Ok(())
}

/// crane runs in HTTP-only mode for our own registry; go-containerregistry already
/// does that for 127.0.0.1 and localhost, so `--insecure` is only added for an
/// overridden `$CODEX_REGISTRY` (which is still the cluster's plain-HTTP registry).
pub(crate) fn crane_command(crane: &Path) -> Command {
    let mut command = Command::new(crane);
    let registry = registry_address();
    if !(registry.starts_with("127.") || registry.starts_with("localhost")) {
        command.arg("--insecure");
    }
    command
}

/// pflag parses list flags as one CSV record, so each element is quoted.
fn csv_list(items: &[String]) -> String {
    items.iter().map(|item| format!("\"{}\"", item.replace('"', "\"\""))).collect::<Vec<_>>().join(",")
}

/// One entry of the layer, keyed by its path inside the image (no leading `/`).
#[derive(Debug, PartialEq)]
enum Entry {
    Dir { mode: u32 },
    File { source: PathBuf, mode: u32 },
    Symlink { target: PathBuf },
}

/// Every path of the layer; a BTreeMap sorts parents before their children.
fn collect_entries(files: &[(PathBuf, String)]) -> Result<BTreeMap<String, Entry>> {
    let mut entries = BTreeMap::new();
    // Programs expect a writable /tmp, and runc does not provide one.
    entries.insert("tmp".to_string(), Entry::Dir { mode: 0o1777 });
    for (source, dest) in files {
        let dest = dest.trim_matches('/').to_string();
        add_parents(&mut entries, &dest);
        add_tree(&mut entries, source, dest)?;
    }
    Ok(entries)
}

fn add_parents(entries: &mut BTreeMap<String, Entry>, path: &str) {
    let mut parent = String::new();
    let parts: Vec<&str> = path.split('/').collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        if !parent.is_empty() {
            parent.push('/');
        }
        parent.push_str(part);
        entries.entry(parent.clone()).or_insert(Entry::Dir { mode: 0o755 });
    }
}

fn add_tree(entries: &mut BTreeMap<String, Entry>, source: &Path, dest: String) -> Result<()> {
    let meta = fs::symlink_metadata(source).with_context(|| format!("reading {} for the image", source.display()))?;
    if meta.file_type().is_symlink() {
        let target = fs::read_link(source)?;
        entries.insert(dest, Entry::Symlink { target });
    } else if meta.is_dir() {
        if !dest.is_empty() {
            entries.insert(dest.clone(), Entry::Dir { mode: 0o755 });
        }
        for child in fs::read_dir(source).with_context(|| format!("listing {}", source.display()))? {
            let child = child?;
            let name = child.file_name().to_string_lossy().into_owned();
            let child_dest = if dest.is_empty() { name } else { format!("{dest}/{name}") };
            add_tree(entries, &child.path(), child_dest)?;
        }
    } else if meta.is_file() {
        use std::os::unix::fs::PermissionsExt;
        // Only "executable or not" survives, so the host's umask cannot change the digest.
        let mode = if meta.permissions().mode() & 0o111 != 0 { 0o755 } else { 0o644 };
        entries.insert(dest, Entry::File { source: source.to_path_buf(), mode });
    } else {
        bail!("{} is neither a file, a directory nor a symlink", source.display());
    }
    Ok(())
}

#[cfg(test)]
fn write_layer(entries: &BTreeMap<String, Entry>, out: &Path) -> Result<()> {
    write_layer_owned(entries, &[], out)
}

/// The owner of an entry: the most specific `owners` prefix that covers it, else root.
fn owner_of(path: &str, owners: &[(String, u32, u32)]) -> (u32, u32) {
    owners
        .iter()
        .map(|(prefix, uid, gid)| (prefix.trim_matches('/'), *uid, *gid))
        .filter(|(prefix, _, _)| path == *prefix || path.starts_with(&format!("{prefix}/")))
        .max_by_key(|(prefix, _, _)| prefix.len())
        .map_or((0, 0), |(_, uid, gid)| (uid, gid))
}

fn write_layer_owned(entries: &BTreeMap<String, Entry>, owners: &[(String, u32, u32)], out: &Path) -> Result<()> {
    let file = fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut builder = tar::Builder::new(file);
    for (path, entry) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(0);
        let (uid, gid) = owner_of(path, owners);
        header.set_uid(uid.into());
        header.set_gid(gid.into());
        match entry {
            Entry::Dir { mode } => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(*mode);
                header.set_size(0);
                builder.append_data(&mut header, format!("{path}/"), std::io::empty())?;
            }
            Entry::File { source, mode } => {
                let data = fs::File::open(source).with_context(|| format!("opening {}", source.display()))?;
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(*mode);
                header.set_size(data.metadata()?.len());
                builder.append_data(&mut header, path, data)?;
            }
            Entry::Symlink { target } => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_size(0);
                builder.append_link(&mut header, path, target)?;
            }
        }
    }
    builder.into_inner()?.sync_all()?;
    Ok(())
}

/// `cargo xtask image`: assemble and push one image from the command line.
#[derive(clap::Args, Debug)]
pub struct ImageArgs {
    /// Repository inside the registry, e.g. `codex/users`.
    #[arg(long)]
    repo: String,
    #[arg(long)]
    tag: String,
    /// `SRC:DEST`: a host file or directory and its absolute path in the image.
    #[arg(long = "file", value_name = "SRC:DEST")]
    files: Vec<String>,
    /// The entrypoint, one argument per flag (`--entrypoint /bin/app --entrypoint serve`).
    #[arg(long, allow_hyphen_values = true)]
    entrypoint: Vec<String>,
    /// `KEY=VALUE`
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    #[arg(long)]
    workdir: Option<String>,
    /// `uid[:gid]`
    #[arg(long)]
    user: Option<String>,
}

pub fn run_cli(args: ImageArgs) -> Result<()> {
    let files = args
        .files
        .iter()
        .map(|f| {
            let (src, dest) = f.rsplit_once(':').with_context(|| format!("--file {f:?} must be SRC:DEST"))?;
            Ok((PathBuf::from(src), dest.to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    let env = args
        .env
        .iter()
        .map(|e| {
            let (k, v) = e.split_once('=').with_context(|| format!("--env {e:?} must be KEY=VALUE"))?;
            Ok((k.to_string(), v.to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    let spec = ImageSpec {
        repository: args.repo,
        tag: args.tag,
        files,
        entrypoint: args.entrypoint,
        env,
        workdir: args.workdir,
        user: args.user,
        owners: Vec::new(),
    };
    println!("{}", assemble_and_push(&spec)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_come_before_children_and_tmp_is_always_there() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("app");
        fs::write(&bin, "x").unwrap();
        let entries = collect_entries(&[(bin, "/usr/local/bin/app".into())]).unwrap();
        let paths: Vec<&str> = entries.keys().map(String::as_str).collect();
        assert_eq!(paths, ["tmp", "usr", "usr/local", "usr/local/bin", "usr/local/bin/app"]);
    }

    #[test]
    fn layer_bytes_do_not_depend_on_mtimes() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("data");
        fs::write(&src, "hello").unwrap();
        let spec = [(src.clone(), "/data".to_string())];
        let first = dir.path().join("a.tar");
        write_layer(&collect_entries(&spec).unwrap(), &first).unwrap();
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
        fs::File::options().write(true).open(&src).unwrap().set_modified(later).unwrap();
        let second = dir.path().join("b.tar");
        write_layer(&collect_entries(&spec).unwrap(), &second).unwrap();
        assert_eq!(fs::read(first).unwrap(), fs::read(second).unwrap());
    }

    #[test]
    fn owners_cover_a_path_and_everything_below_it() {
        let owners = [("/tmp/cache".to_string(), 1000, 1001)];
        assert_eq!(owner_of("tmp/cache", &owners), (1000, 1001));
        assert_eq!(owner_of("tmp/cache/00/ab-d", &owners), (1000, 1001));
        assert_eq!(owner_of("tmp/cache2", &owners), (0, 0));
        assert_eq!(owner_of("tmp", &owners), (0, 0));
    }

    #[test]
    fn entrypoint_elements_with_commas_stay_whole() {
        assert_eq!(csv_list(&["/app".into(), "a,b".into()]), r#""/app","a,b""#);
    }
}
