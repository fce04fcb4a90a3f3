//! `cargo xtask base-images`: the base images the example's Dockerfiles build on, assembled
//! on this machine and pushed to the local registry, so BuildKit never pulls from the
//! internet.
//!
//! | reference (in the local registry)  | layers |
//! |------------------------------------|--------|
//! | `codex-base/debian:bookworm`       | Debian bookworm `debootstrap --variant=minbase` from the host's apt mirror |
//! | `codex-base/golang:<go>-bookworm`  | debian + the host's Go toolchain at /usr/local/go (GOTOOLCHAIN=local) |
//! | `codex-base/node:<major>-bookworm` | debian + the host's node and npm, user `node` (10001:10001) |
//! | `codex-base/postgres:15-bookworm`  | debian with `postgresql-15` installed by apt in a chroot (no cluster created) |
//!
//! Every layer is a tarball cached in `~/.cache/kubectl-codex/base-images/` with its sha256
//! beside it; each image carries the label [`INPUTS_LABEL`], a digest of its layers and
//! configuration, so a pushed image that is already up to date costs one `crane config`.
//! Delete a tarball to rebuild it (the Debian ones are not refreshed on their own).
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::exec;
use anyhow::{ensure, Context, Result};
use sha2::{Digest, Sha256};

mod push;

use crate::tools;
use push::push;

/// The label holding the digest of what an image was assembled from.
pub const INPUTS_LABEL: &str = "dev.kubectl-codex.base.inputs";
const SUITE: &str = "bookworm";
const PG_MAJOR: &str = "15";
/// UID and GID of the node image's `node` user: the example's identity (the official
/// image uses 1000), so files the dev image gives `node` belong to the pods' user.
const NODE_ID: u32 = crate::images::example::APP_UID;
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Where apt sources are configured on the host; the rootfs uses the same mirror.
const APT_SOURCES_DIR: &str = "/etc/apt/sources.list.d";
const FALLBACK_MIRROR: &str = "http://deb.debian.org/debian";
/// Bumped when the way a layer is made changes, so cached tarballs are rebuilt.
const RECIPE: &str = "1";

/// One image to push: its repository, tag, layer tarballs (bottom first) and configuration.
#[derive(Debug)]
struct BaseImage {
    repository: String,
    tag: String,
    layers: Vec<Layer>,
    env: Vec<(String, String)>,
    cmd: Vec<String>,
    workdir: Option<String>,
}

#[derive(Debug, Clone)]
struct Layer {
    tarball: PathBuf,
    sha256: String,
}

/// `cargo xtask base-images`: prints `name<TAB>reference` per image.
pub fn run_cli() -> Result<()> {
    crate::cluster::ensure_registry()?;
    for (name, reference) in ensure_all()? {
        println!("{name}\t{reference}");
    }
    Ok(())
}

/// Assembles and pushes every base image that is missing or stale; returns
/// `(name, reference)` pairs.
pub fn ensure_all() -> Result<Vec<(String, String)>> {
    let dir = cache_dir()?;
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let debian = timed("debian rootfs", || debian_layer(&dir))?;
    let images = [
        debian_image(&debian),
        timed("go layer", || golang_image(&dir, &debian))?,
        timed("node layer", || node_image(&dir, &debian))?,
        timed("postgres rootfs", || postgres_image(&dir, &debian))?,
    ];
    let mut pushed = Vec::new();
    for base in images {
        let name = base.repository.rsplit('/').next().unwrap_or_default().to_string();
        let reference = push(&base).with_context(|| format!("base image {name}"))?;
        pushed.push((name, reference));
    }
    Ok(pushed)
}

fn cache_dir() -> Result<PathBuf> {
    Ok(tools::cache_root()?.join("base-images"))
}

fn timed<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let started = Instant::now();
    let result = f();
    let elapsed = started.elapsed().as_secs_f64();
    if elapsed > 1.0 {
        crate::say!("[base-images] {what}… {elapsed:.1}s");
    }
    result
}

// ---- layers --------------------------------------------------------------

/// The cached layer `name`, made by `make` (which writes the given path) when missing.
fn cached_layer(dir: &Path, name: &str, make: impl FnOnce(&Path) -> Result<()>) -> Result<Layer> {
    let tarball = dir.join(format!("{name}.tar"));
    let digest_file = dir.join(format!("{name}.tar.sha256"));
    if tarball.is_file() {
        if let Ok(sha256) = fs::read_to_string(&digest_file) {
            return Ok(Layer { tarball, sha256: sha256.trim().to_string() });
        }
    }
    let partial = dir.join(format!("{name}.tar.partial"));
    crate::say!("[base-images] making layer {name}");
    make(&partial)?;
    let sha256 = file_sha256(&partial)?;
    fs::rename(&partial, &tarball).with_context(|| format!("moving {} into place", partial.display()))?;
    fs::write(&digest_file, format!("{sha256}\n"))?;
    Ok(Layer { tarball, sha256 })
}

fn debian_layer(dir: &Path) -> Result<Layer> {
    cached_layer(dir, &format!("debian-{SUITE}-minbase-r{RECIPE}"), |out| {
        crate::cluster::packages::ensure_installed(&[("debootstrap", "/usr/sbin/debootstrap")])?;
        let mirror = host_mirror()?;
        let rootfs = scratch_dir(dir, "debian-rootfs")?;
        let debs = dir.join("debs");
        fs::create_dir_all(&debs)?;
        exec::logged(
            Command::new("debootstrap")
                .args(["--variant=minbase", "--arch=amd64"])
                .arg(format!("--cache-dir={}", debs.display()))
                .arg(SUITE)
                .arg(&rootfs)
                .arg(&mirror),
        )?;
        fs::write(rootfs.join("etc/apt/sources.list"), sources_list(&mirror))?;
        // Host leftovers and caches an image should not carry; a container gets its own
        // hostname, resolv.conf and /dev.
        for leftover in ["etc/hostname", "etc/resolv.conf"] {
            let path = rootfs.join(leftover);
            if path.exists() {
                fs::remove_file(&path)?;
            }
        }
        empty_image_dirs(&rootfs)?;
        tar_tree(&rootfs, out)?;
        remove_tree(&rootfs)
    })
}

fn debian_image(debian: &Layer) -> BaseImage {
    BaseImage {
        repository: "codex-base/debian".to_string(),
        tag: SUITE.to_string(),
        layers: vec![debian.clone()],
        env: vec![("PATH".into(), DEFAULT_PATH.into())],
        cmd: vec!["bash".into()],
        workdir: None,
    }
}

/// The host's Go toolchain, whole, at /usr/local/go, and an empty GOPATH at /go as in the
/// official golang image.
fn golang_image(dir: &Path, debian: &Layer) -> Result<BaseImage> {
    let goroot = Path::new("/usr/local/go");
    let version = fs::read_to_string(goroot.join("VERSION"))
        .with_context(|| format!("reading {}/VERSION (is Go installed there?)", goroot.display()))?;
    let version = version.lines().next().unwrap_or_default().trim().to_string();
    let minor = go_minor(&version)
        .with_context(|| format!("{}/VERSION starts with {version:?}, not goX.Y", goroot.display()))?;
    let layer = cached_layer(dir, &format!("{version}-r{RECIPE}"), |out| {
        let staging = scratch_dir(dir, "go-staging")?;
        fs::create_dir_all(staging.join("go/bin"))?;
        fs::create_dir_all(staging.join("go/src"))?;
        set_mode(&staging.join("go"), 0o1777)?;
        exec::logged(tar_command(out).args(["-C", "/", "usr/local/go", "-C"]).arg(&staging).arg("go"))?;
        fs::remove_dir_all(&staging)?;
        Ok(())
    })?;
    Ok(BaseImage {
        repository: "codex-base/golang".to_string(),
        tag: format!("{minor}-{SUITE}"),
        layers: vec![debian.clone(), layer],
        env: vec![
            ("PATH".into(), format!("/go/bin:/usr/local/go/bin:{DEFAULT_PATH}")),
            ("GOPATH".into(), "/go".into()),
            ("GOLANG_VERSION".into(), version.trim_start_matches("go").into()),
            // The toolchain in the image is the one to use: never download another.
            ("GOTOOLCHAIN".into(), "local".into()),
        ],
        cmd: vec!["bash".into()],
        workdir: Some("/go".into()),
    })
}

/// `go1.26.8` → `1.26`.
fn go_minor(version: &str) -> Option<String> {
    let mut parts = version.strip_prefix("go")?.split('.');
    let major = parts.next().filter(|p| p.chars().all(|c| c.is_ascii_digit()))?;
    let minor = parts.next().filter(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))?;
    Some(format!("{major}.{minor}"))
}

/// The host's node and npm (node links only against glibc and libstdc++, which the Debian
/// layer has), and the `node` user of the official image.
fn node_image(dir: &Path, debian: &Layer) -> Result<BaseImage> {
    let version = exec::stdout(Command::new("node").arg("--version"))?;
    let version = version.trim().trim_start_matches('v').to_string();
    let major = version.split('.').next().unwrap_or_default().to_string();
    let npm_dir = Path::new("/usr/lib/node_modules/npm");
    ensure!(
        npm_dir.join("bin/npm-cli.js").is_file(),
        "npm is not at {} (the host's node install is not the one this expects)",
        npm_dir.display()
    );
    let layer = cached_layer(dir, &format!("node-{version}-u{NODE_ID}-r{RECIPE}"), |out| {
        let staging = scratch_dir(dir, "node-staging")?;
        let etc = staging.join("etc");
        fs::create_dir_all(&etc)?;
        // The account files of the Debian layer with the node user added.
        exec::logged(Command::new("tar").arg("-xf").arg(&debian.tarball).arg("-C").arg(&staging).args([
            "etc/passwd",
            "etc/group",
            "etc/shadow",
            "etc/gshadow",
        ]))?;
        append_line(&etc.join("passwd"), &format!("node:x:{NODE_ID}:{NODE_ID}::/home/node:/bin/bash"))?;
        append_line(&etc.join("group"), &format!("node:x:{NODE_ID}:"))?;
        append_line(&etc.join("shadow"), "node:!::0:99999:7:::")?;
        append_line(&etc.join("gshadow"), "node:!::")?;
        let home = staging.join("home/node");
        fs::create_dir_all(&home)?;
        chown(&home, NODE_ID, NODE_ID)?;
        let bin = staging.join("usr/local/bin");
        fs::create_dir_all(&bin)?;
        std::os::unix::fs::symlink("/usr/lib/node_modules/npm/bin/npm-cli.js", bin.join("npm"))?;
        std::os::unix::fs::symlink("/usr/lib/node_modules/npm/bin/npx-cli.js", bin.join("npx"))?;
        let node = fs::canonicalize(crate::tools::on_path("node")?)?;
        fs::copy(&node, bin.join("node")).with_context(|| format!("copying {}", node.display()))?;
        exec::logged(
            tar_command(out).arg("--numeric-owner").arg("-C").arg(&staging).args(["etc", "home", "usr"]).args([
                "-C",
                "/",
                "usr/lib/node_modules/npm",
            ]),
        )?;
        fs::remove_dir_all(&staging)?;
        Ok(())
    })?;
    Ok(BaseImage {
        repository: "codex-base/node".to_string(),
        tag: format!("{major}-{SUITE}"),
        layers: vec![debian.clone(), layer],
        env: vec![("PATH".into(), DEFAULT_PATH.into()), ("NODE_VERSION".into(), version)],
        cmd: vec!["node".into()],
        workdir: None,
    })
}

/// Debian's PostgreSQL installed by apt-get in a chroot of the Debian rootfs, configured
/// like the official image (no cluster at install time: the entrypoint makes one in
/// $PGDATA). One layer holding the whole tree: simpler than an overlay diff, and only
/// this machine's registry stores it.
fn postgres_image(dir: &Path, debian: &Layer) -> Result<BaseImage> {
    let layer = cached_layer(dir, &format!("postgres-{PG_MAJOR}-{SUITE}-{}-r{RECIPE}", &debian.sha256[..12]), |out| {
        let rootfs = scratch_dir(dir, "postgres-rootfs")?;
        exec::logged(
            Command::new("tar").args(["--numeric-owner", "-xpf"]).arg(&debian.tarball).arg("-C").arg(&rootfs),
        )?;
        {
            let _chroot = ChrootMounts::mount(&rootfs, &dir.join("debs"))?;
            fs::copy("/etc/resolv.conf", rootfs.join("etc/resolv.conf"))?;
            // No service may start inside the chroot.
            let policy = rootfs.join("usr/sbin/policy-rc.d");
            fs::write(&policy, "#!/bin/sh\nexit 101\n")?;
            set_mode(&policy, 0o755)?;
            let script = format!(
                "set -eu\n\
                     apt-get update\n\
                     apt-get install -y --no-install-recommends postgresql-common\n\
                     sed -i 's/^#\\?create_main_cluster.*/create_main_cluster = false/' \
                       /etc/postgresql-common/createcluster.conf\n\
                     apt-get install -y --no-install-recommends postgresql-{PG_MAJOR}\n\
                     mkdir -p /var/lib/postgresql/data /var/run/postgresql\n\
                     chown postgres:postgres /var/lib/postgresql/data /var/run/postgresql\n\
                     chmod 1777 /var/lib/postgresql/data /var/run/postgresql\n"
            );
            exec::logged(
                Command::new("chroot")
                    .arg(&rootfs)
                    .args(["/bin/sh", "-c", &script])
                    .env_clear()
                    .env("PATH", DEFAULT_PATH)
                    .env("DEBIAN_FRONTEND", "noninteractive")
                    .env("LANG", "C.UTF-8"),
            )?;
            fs::remove_file(&policy)?;
            fs::remove_file(rootfs.join("etc/resolv.conf"))?;
        }
        empty_image_dirs(&rootfs)?;
        // /run is a tmpfs in containers, but /var/run/postgresql lives there.
        fs::create_dir_all(rootfs.join("run/postgresql"))?;
        set_mode(&rootfs.join("run/postgresql"), 0o1777)?;
        tar_tree(&rootfs, out)?;
        remove_tree(&rootfs)
    })?;
    Ok(BaseImage {
        repository: "codex-base/postgres".to_string(),
        tag: format!("{PG_MAJOR}-{SUITE}"),
        layers: vec![layer],
        env: vec![
            ("PATH".into(), format!("{DEFAULT_PATH}:/usr/lib/postgresql/{PG_MAJOR}/bin")),
            ("PG_MAJOR".into(), PG_MAJOR.into()),
            ("PGDATA".into(), "/var/lib/postgresql/data".into()),
        ],
        cmd: vec!["postgres".into()],
        workdir: None,
    })
}

/// /proc, /sys and /dev of the host inside a chroot for apt's maintainer scripts, and the
/// .deb cache shared with debootstrap as apt's archive directory (a rebuild downloads
/// nothing new); unmounted again on drop, also when the install fails.
struct ChrootMounts {
    mounted: Vec<PathBuf>,
}

impl ChrootMounts {
    fn mount(rootfs: &Path, debs: &Path) -> Result<ChrootMounts> {
        let mut mounts = ChrootMounts { mounted: Vec::new() };
        fs::create_dir_all(debs.join("partial"))?;
        let debs = debs.to_string_lossy();
        for (args, target) in [
            (vec!["-t", "proc", "proc"], "proc"),
            (vec!["-t", "sysfs", "sysfs"], "sys"),
            (vec!["--bind", "/dev"], "dev"),
            (vec!["--bind", &debs], "var/cache/apt/archives"),
        ] {
            let target = rootfs.join(target);
            fs::create_dir_all(&target)?;
            exec::logged(Command::new("mount").args(args).arg(&target))?;
            mounts.mounted.push(target);
        }
        Ok(mounts)
    }
}

impl Drop for ChrootMounts {
    fn drop(&mut self) {
        for target in self.mounted.iter().rev() {
            let _ = Command::new("umount").arg("--lazy").arg(target).status();
        }
    }
}

// ---- helpers ----------------------------------------------------------------

/// The first Debian mirror of the host's deb822 sources that serves bookworm itself (not
/// the security archive), or deb.debian.org.
fn host_mirror() -> Result<String> {
    let mut texts = Vec::new();
    if let Ok(entries) = fs::read_dir(APT_SOURCES_DIR) {
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "sources")) {
            texts.push(fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?);
        }
    }
    Ok(mirror_from_sources(&texts.join("\n\n")).unwrap_or_else(|| FALLBACK_MIRROR.to_string()))
}

/// The URI of the first deb822 stanza whose Suites include the plain suite.
fn mirror_from_sources(text: &str) -> Option<String> {
    text.split("\n\n").find_map(|stanza| {
        let field = |name: &str| {
            stanza.lines().find_map(|line| {
                let (key, value) = line.split_once(':')?;
                (key.trim().eq_ignore_ascii_case(name)).then(|| value.trim().to_string())
            })
        };
        let suites = field("Suites")?;
        if !suites.split_whitespace().any(|s| s == SUITE) {
            return None;
        }
        field("URIs")?.split_whitespace().next().map(str::to_string)
    })
}

/// The rootfs's apt sources: the release, its updates and the security archive.
fn sources_list(mirror: &str) -> String {
    let security = mirror
        .strip_suffix("/debian")
        .map(|base| format!("{base}/debian-security"))
        .unwrap_or_else(|| "http://deb.debian.org/debian-security".to_string());
    format!(
        "deb {mirror} {SUITE} main\n\
         deb {mirror} {SUITE}-updates main\n\
         deb {security} {SUITE}-security main\n"
    )
}

/// A fresh, empty directory in the cache (not /tmp: rootfs trees are large and need a
/// filesystem that keeps owners and device nodes).
fn scratch_dir(dir: &Path, name: &str) -> Result<PathBuf> {
    let path = dir.join(format!("{name}.work"));
    if path.exists() {
        remove_tree(&path)?;
    }
    fs::create_dir_all(&path)?;
    Ok(path)
}

/// Removes a rootfs tree, never through a mount point: a /dev bind mount left in it would
/// otherwise take the host's device nodes along.
fn remove_tree(path: &Path) -> Result<()> {
    ensure_unmounted(path)?;
    fs::remove_dir_all(path).with_context(|| format!("removing {}", path.display()))
}

/// Unmounts whatever is still mounted at or below `path` and checks that it worked.
fn ensure_unmounted(path: &Path) -> Result<()> {
    crate::cluster::mounts::unmount_all_under(path)?;
    let left = crate::cluster::mounts::mounts_under(path);
    ensure!(left.is_empty(), "{} still has mounts below it: {left:?}", path.display());
    Ok(())
}

/// Empties the directories an image should not carry content in (apt's lists and caches;
/// /dev, /run and /tmp, which a container gets fresh), after making sure nothing is mounted
/// there any more.
fn empty_image_dirs(rootfs: &Path) -> Result<()> {
    ensure_unmounted(rootfs)?;
    for dir in ["var/lib/apt/lists", "var/cache/apt", "dev", "run", "tmp"] {
        empty_dir(&rootfs.join(dir))?;
    }
    Ok(())
}

fn empty_dir(path: &Path) -> Result<()> {
    if !path.is_dir() {
        return Ok(());
    }
    for entry in fs::read_dir(path)? {
        let entry = entry?.path();
        if fs::symlink_metadata(&entry)?.is_dir() {
            fs::remove_dir_all(&entry)?;
        } else {
            fs::remove_file(&entry)?;
        }
    }
    Ok(())
}

/// GNU tar, reproducibly ordered, owners and modes kept (a rootfs needs setuid bits and
/// its own owners).
fn tar_command(out: &Path) -> Command {
    let mut tar = Command::new("tar");
    tar.args(["--create", "--sort=name", "--numeric-owner", "--file"]).arg(out);
    tar
}

/// The whole tree, entries named without a leading `./`.
fn tar_tree(root: &Path, out: &Path) -> Result<()> {
    let mut top: Vec<String> =
        fs::read_dir(root)?.map(|e| Ok(e?.file_name().to_string_lossy().into_owned())).collect::<Result<_>>()?;
    top.sort();
    Ok(exec::logged(tar_command(out).arg("--xattrs").arg("-C").arg(root).args(&top))?)
}

fn file_sha256(path: &Path) -> Result<String> {
    let mut file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 20];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn append_line(path: &Path, line: &str) -> Result<()> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    if BufReader::new(text.as_bytes()).lines().any(|l| l.map(|l| l == line).unwrap_or(false)) {
        return Ok(());
    }
    let mut file = fs::OpenOptions::new().append(true).open(path)?;
    writeln!(file, "{line}")?;
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("setting the mode of {}", path.display()))
}

fn chown(path: &Path, uid: u32, gid: u32) -> Result<()> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .with_context(|| format!("changing the owner of {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mirror_is_the_one_serving_the_release_not_security() {
        let sources = "Types: deb\nURIs: http://deb.debian.org/debian-security\n\
                       Suites: bookworm-security\nComponents: main\n\n\
                       Types: deb\nURIs: http://mirror.example/debian\n\
                       Suites: bookworm bookworm-updates\nComponents: main\n";
        assert_eq!(mirror_from_sources(sources).as_deref(), Some("http://mirror.example/debian"));
        assert_eq!(mirror_from_sources("Types: deb\n"), None);
    }

    #[test]
    fn the_rootfs_gets_release_updates_and_security_from_one_mirror() {
        assert_eq!(
            sources_list("http://mirror.example/debian"),
            "deb http://mirror.example/debian bookworm main\n\
             deb http://mirror.example/debian bookworm-updates main\n\
             deb http://mirror.example/debian-security bookworm-security main\n"
        );
    }

    #[test]
    fn go_images_are_tagged_by_minor_version() {
        assert_eq!(go_minor("go1.26.8").as_deref(), Some("1.26"));
        assert_eq!(go_minor("go1.27rc1"), None);
        assert_eq!(go_minor("devel +abc"), None);
    }
}
