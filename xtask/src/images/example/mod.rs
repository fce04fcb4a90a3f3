//! `cargo xtask images`: the images of the example ("dogfood") stack under
//! `example/`, assembled from files built on this host — no Docker engine, no
//! base image — and pushed with [`crate::images::oci::assemble_and_push`].
//!
//! | unit     | repository               | contents                                               |
//! |----------|--------------------------|--------------------------------------------------------|
//! | greeter  | codex-example/greeter    | static Go binary /app/greeter, /etc/passwd+group (uid 10001 `app`) |
//! | catalog  | codex-example/catalog    | likewise /app/catalog                                  |
//! | gateway  | codex-example/gateway    | likewise /app/gateway                                  |
//! | migrate  | codex-example/migrate    | likewise /app/migrate                                  |
//! | web      | codex-example/web        | /app/webserve + `vite build` output at /srv/www        |
//! | postgres | codex-example/postgres   | Debian's PostgreSQL 15, its shared libraries, /bin/sh, /app/pg-entrypoint |
//!
//! Every image runs as UID/GID 10001 (the postgres image calls that user
//! `postgres`), so one pod security context fits the whole stack.
//!
//! `--verify` pulls each pushed image back (`crane export`), unpacks it and
//! runs the whole stack from the unpacked trees with `chroot` on 127.0.0.1:
//! PostgreSQL from its image, the migrations twice, every service, then
//! requests through webserve → gateway → greeter/catalog → PostgreSQL.
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::exec;
use anyhow::{bail, ensure, Context, Result};

mod verify;

use crate::images::elf::{is_elf, shared_libraries};

use crate::images::oci::{assemble_and_push, ImageSpec};
use crate::repo::repo_root;
use crate::tools;

/// Repository prefix of every example image inside the registry.
const REPOSITORY_PREFIX: &str = "codex-example";

/// Go services whose image is their binary and nothing else, in deploy-phase
/// order (migrations, internal, edge).
const GO_SERVICES: [&str; 4] = ["migrate", "greeter", "catalog", "gateway"];

/// Every Go command the images need, built in one `go build`.
const GO_COMMANDS: [&str; 6] = ["greeter", "catalog", "gateway", "migrate", "webserve", "pg-entrypoint"];

/// The Debian PostgreSQL major version copied into the postgres image.
const PG_MAJOR: &str = "15";

/// UID and GID of every example process (and of the node base image's `node` user):
/// above 10000, so no host account and no auditor's "low UID" rule matches it, and equal
/// to services.yaml's `workspace.uid`/`gid`, which the pods run as.
pub(crate) const APP_UID: u32 = 10001;
/// [`APP_UID`] as an image's `USER` (`uid:gid`).
pub(crate) fn app_user() -> String {
    format!("{APP_UID}:{APP_UID}")
}

/// Files in /usr/lib/postgresql/15/lib left out of the image. JIT support
/// (llvmjit.so) needs libLLVM, which alone would triple the image's size;
/// without llvmjit.so PostgreSQL silently runs without JIT. `bitcode/` only
/// serves JIT inlining and `pgxs/` only builds extensions.
const PG_LIB_EXCLUDED: [&str; 4] = ["llvmjit.so", "llvmjit_types.bc", "bitcode", "pgxs"];

/// One image: the unit name used in services.yaml, its spec, its pushed reference.
struct Built {
    unit: String,
    spec: ImageSpec,
    reference: String,
}

/// The tag the images get: `versions.app` in the root services.yaml, which references them.
pub const DEFAULT_TAG: &str = "0.1.0";

/// Builds every example image and pushes it; returns `(unit, image reference)`
/// pairs in deploy-phase order (postgres, migrate, greeter, catalog, gateway, web).
pub fn build_example_images(tag: &str) -> Result<Vec<(String, String)>> {
    Ok(build_and_push(tag)?.into_iter().map(|b| (b.unit, b.reference)).collect())
}

fn build_and_push(tag: &str) -> Result<Vec<Built>> {
    let specs = example_image_specs(tag)?;
    let mut built = Vec::new();
    for (unit, spec) in specs {
        let reference = assemble_and_push(&spec).with_context(|| format!("image of {unit}"))?;
        built.push(Built { unit, spec, reference });
    }
    Ok(built)
}

/// `cargo xtask images`
#[derive(clap::Args, Debug)]
pub struct ImagesArgs {
    /// Tag given to every image.
    #[arg(long, default_value = DEFAULT_TAG)]
    tag: String,
    /// Then pull every image back and run the stack from the unpacked images on
    /// 127.0.0.1 with chroot (needs root).
    #[arg(long)]
    verify: bool,
}

/// Prints one `unit<TAB>reference` line per image on stdout (progress goes to
/// stderr), so scripts can read the references.
pub fn run_cli(args: ImagesArgs) -> Result<()> {
    if !args.verify {
        for (unit, reference) in build_example_images(&args.tag)? {
            println!("{unit}\t{reference}");
        }
        return Ok(());
    }
    // Verification also needs each image's entrypoint, env and user.
    let built = build_and_push(&args.tag)?;
    for b in &built {
        println!("{}\t{}", b.unit, b.reference);
    }
    verify::verify(&built)?;
    crate::say!("[images] verified: the stack runs from the pushed images");
    Ok(())
}

/// Builds everything the images contain and describes the images, in
/// deploy-phase order. Nothing is pushed.
fn example_image_specs(tag: &str) -> Result<Vec<(String, ImageSpec)>> {
    let root = repo_root();
    let out = root.join("target").join("example-images");
    fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;

    let bin = out.join("bin");
    build_go_commands(&root.join("example").join("services"), &bin)?;
    let web_dist = build_web(&root.join("example").join("web"))?;

    let app_etc = out.join("etc-app");
    write_user_db(&app_etc, "app", "/app")?;
    let app_files = |binary: &str| {
        vec![
            (bin.join(binary), format!("/app/{binary}")),
            (app_etc.join("passwd"), "/etc/passwd".to_string()),
            (app_etc.join("group"), "/etc/group".to_string()),
        ]
    };
    let spec = |unit: &str, files, entrypoint: &str, env: Vec<(String, String)>| ImageSpec {
        repository: format!("{REPOSITORY_PREFIX}/{unit}"),
        tag: tag.to_string(),
        files,
        entrypoint: vec![entrypoint.to_string()],
        env,
        workdir: None,
        user: Some(app_user()),
        owners: Vec::new(),
    };

    let mut specs = vec![(
        "postgres".to_string(),
        spec("postgres", postgres_files(&out, &bin)?, "/app/pg-entrypoint", postgres_env()),
    )];
    for unit in GO_SERVICES {
        specs.push((unit.to_string(), spec(unit, app_files(unit), &format!("/app/{unit}"), vec![])));
    }
    let mut web_files = app_files("webserve");
    web_files.push((web_dist, "/srv/www".to_string()));
    specs.push((
        "web".to_string(),
        spec("web", web_files, "/app/webserve", vec![("WEB_ROOT".into(), "/srv/www".into())]),
    ));
    Ok(specs)
}

fn postgres_env() -> Vec<(String, String)> {
    [
        ("PGDATA", "/var/lib/postgresql/data/pgdata".to_string()),
        // pg-entrypoint puts the socket in /tmp (the only directory every UID
        // can write in these images); PGHOST points psql inside the pod at it.
        ("PGHOST", "/tmp".to_string()),
        ("PATH", format!("/usr/lib/postgresql/{PG_MAJOR}/bin:/usr/bin:/bin")),
        // initdb writes the timezone it detects into postgresql.conf; without
        // TZ it would depend on the host the image happens to start on.
        ("TZ", "UTC".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Static, reproducible Linux/amd64 binaries from the vendored module: no
/// cgo (the images have no libc for them), no module downloads, no host paths
/// or VCS stamps baked in (so unchanged sources give unchanged layers).
fn build_go_commands(module: &Path, out: &Path) -> Result<()> {
    fs::create_dir_all(out)?;
    crate::say!("[images] go build {} → {}", GO_COMMANDS.join(" "), out.display());
    let mut go = super::go_linux_static(module);
    go.env("GOFLAGS", "")
        .args(["build", "-mod=vendor", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o"])
        // A trailing slash makes -o a directory: one binary per command.
        .arg(format!("{}/", out.display()))
        .args(GO_COMMANDS.iter().map(|c| format!("./cmd/{c}")));
    Ok(exec::logged(&mut go)?)
}

/// `npm ci` and `vite build` in example/web; returns the dist directory.
fn build_web(web: &Path) -> Result<PathBuf> {
    crate::say!("[images] npm ci + vite build in {}", web.display());
    exec::logged(Command::new("npm").current_dir(web).args(["ci", "--no-audit", "--no-fund", "--prefer-offline"]))?;
    exec::logged(Command::new("npx").current_dir(web).args(["vite", "build"]))?;
    let dist = web.join("dist");
    ensure!(dist.join("index.html").is_file(), "vite build left no {}", dist.join("index.html").display());
    Ok(dist)
}

/// Writes passwd and group files with root and one user, UID/GID [`APP_UID`].
pub(crate) fn write_user_db(dir: &Path, user: &str, home: &str) -> Result<()> {
    fs::create_dir_all(dir)?;
    fs::write(
        dir.join("passwd"),
        format!(
            "root:x:0:0:root:/root:/usr/sbin/nologin\n{user}:x:{APP_UID}:{APP_UID}:{user}:{home}:/usr/sbin/nologin\n"
        ),
    )?;
    fs::write(dir.join("group"), format!("root:x:0:\n{user}:x:{APP_UID}:\n"))?;
    Ok(())
}

fn pg_lib_dir() -> PathBuf {
    PathBuf::from(format!("/usr/lib/postgresql/{PG_MAJOR}"))
}

/// Installs Debian's postgresql-15 if it is missing, without leaving a host
/// cluster running on port 5432 (it would collide with port forwards and
/// with anything else the tests start there).
fn ensure_postgres_installed() -> Result<()> {
    if pg_lib_dir().join("bin").join("postgres").is_file() {
        return Ok(());
    }
    if !is_root()? {
        bail!("PostgreSQL {PG_MAJOR} is not installed; run `apt-get install postgresql-{PG_MAJOR}` as root, or this command as root");
    }
    crate::say!("[images] installing postgresql-{PG_MAJOR} from Debian's packages");
    let apt = |args: &[&str]| -> Result<()> {
        Ok(exec::logged(Command::new("apt-get").env("DEBIAN_FRONTEND", "noninteractive").args(args))?)
    };
    apt(&["update"])?;
    // postgresql-common first, so its createcluster.conf can be told not to
    // create (and start) the "main" cluster when the server package arrives.
    apt(&["install", "-y", "--no-install-recommends", "postgresql-common"])?;
    let conf = Path::new("/etc/postgresql-common/createcluster.conf");
    let text = fs::read_to_string(conf).with_context(|| format!("reading {}", conf.display()))?;
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.trim_start().trim_start_matches('#').trim_start().starts_with("create_main_cluster"))
        .map(str::to_string)
        .collect();
    lines.push("create_main_cluster = false".to_string());
    fs::write(conf, lines.join("\n") + "\n")?;
    apt(&["install", "-y", "--no-install-recommends", &format!("postgresql-{PG_MAJOR}")])?;
    // Belt and braces: if a cluster exists anyway (created earlier), make sure
    // it is not left running.
    let _ = Command::new("pg_ctlcluster").args([PG_MAJOR, "main", "stop"]).stderr(Stdio::null()).status();
    ensure!(
        pg_lib_dir().join("bin").join("postgres").is_file(),
        "postgresql-{PG_MAJOR} installed but {} is missing",
        pg_lib_dir().join("bin/postgres").display()
    );
    Ok(())
}

/// The postgres image's files: Debian's server, client and data files, the
/// shared libraries every ELF among them needs, a shell for initdb, the user
/// database and the entrypoint.
fn postgres_files(out: &Path, bin: &Path) -> Result<Vec<(PathBuf, String)>> {
    ensure_postgres_installed()?;
    let lib_root = pg_lib_dir();
    let share = PathBuf::from(format!("/usr/share/postgresql/{PG_MAJOR}"));
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let mut elves: Vec<PathBuf> = Vec::new();

    let pg_bin = lib_root.join("bin");
    files.push((pg_bin.clone(), path_str(&pg_bin)?));
    for entry in sorted_dir(&pg_bin)? {
        if is_elf(&entry)? {
            elves.push(entry);
        }
    }
    let pg_lib = lib_root.join("lib");
    for entry in sorted_dir(&pg_lib)? {
        let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if PG_LIB_EXCLUDED.contains(&name) {
            continue;
        }
        if is_elf(&entry)? {
            elves.push(entry.clone());
        }
        files.push((entry.clone(), path_str(&entry)?));
    }
    files.push((share.clone(), path_str(&share)?));
    // Named time zones (SET timezone = 'Europe/Berlin'); Debian's PostgreSQL
    // reads the system's tzdata instead of shipping its own.
    let zoneinfo = Path::new("/usr/share/zoneinfo");
    if zoneinfo.is_dir() {
        files.push((zoneinfo.to_path_buf(), "/usr/share/zoneinfo".to_string()));
    }

    // initdb starts its helper backends through popen(), i.e. /bin/sh; dash
    // is the smallest shell at hand and needs only libc.
    let dash = fs::canonicalize("/bin/dash").context("finding /bin/dash for initdb's popen")?;
    elves.push(dash.clone());
    files.push((dash, "/bin/sh".to_string()));

    // initdb imports the system's collations by running `locale -a` (a
    // warning and no C.UTF-8 collation without it); C.utf8 is the one locale
    // Debian always has, and all the image needs.
    let locale = Path::new("/usr/bin/locale");
    if locale.is_file() {
        elves.push(locale.to_path_buf());
        files.push((locale.to_path_buf(), "/usr/bin/locale".to_string()));
    }
    let c_utf8 = Path::new("/usr/lib/locale/C.utf8");
    if c_utf8.is_dir() {
        files.push((c_utf8.to_path_buf(), "/usr/lib/locale/C.utf8".to_string()));
    }

    for (dest, source) in shared_libraries(&elves)? {
        files.push((source, dest));
    }

    let etc = out.join("etc-postgres");
    write_user_db(&etc, "postgres", "/var/lib/postgresql")?;
    // glibc 2.36 has the "files" NSS module built in; this makes initdb's
    // getpwuid() use it without trying anything else.
    fs::write(etc.join("nsswitch.conf"), "passwd: files\ngroup: files\nhosts: files dns\n")?;
    for name in ["passwd", "group", "nsswitch.conf"] {
        files.push((etc.join(name), format!("/etc/{name}")));
    }
    // The mount point of the data volume. The layer's directories are root's
    // (images/oci.rs normalises owners), so PostgreSQL can only write here once a
    // volume (PVC or emptyDir) is mounted; pg-entrypoint says so if not.
    let empty = out.join("empty-dir");
    fs::create_dir_all(&empty)?;
    files.push((empty, "/var/lib/postgresql/data".to_string()));
    files.push((bin.join("pg-entrypoint"), "/app/pg-entrypoint".to_string()));
    Ok(files)
}

/// std has no safe geteuid(); `id -u` avoids unsafe code for one question.
fn is_root() -> Result<bool> {
    let uid = Command::new("id").arg("-u").output().context("running id -u")?;
    Ok(String::from_utf8_lossy(&uid.stdout).trim() == "0")
}

pub(crate) fn path_str(path: &Path) -> Result<String> {
    path.to_str().map(str::to_string).with_context(|| format!("{} is not UTF-8", path.display()))
}

fn sorted_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries = fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?;
    entries.sort();
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_db_has_the_app_uid() {
        let dir = tempfile::tempdir().unwrap();
        write_user_db(dir.path(), "postgres", "/var/lib/postgresql").unwrap();
        let passwd = fs::read_to_string(dir.path().join("passwd")).unwrap();
        assert!(passwd.contains("\npostgres:x:10001:10001:"), "{passwd}");
        assert_eq!(fs::read_to_string(dir.path().join("group")).unwrap(), "root:x:0:\npostgres:x:10001:\n");
    }
}
