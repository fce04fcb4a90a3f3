//! `cargo xtask images`: the images of the example ("dogfood") stack under
//! `example/`, assembled from files built on this host — no Docker engine, no
//! base image — and pushed with [`crate::image::assemble_and_push`].
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
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};

use crate::image::{assemble_and_push, ImageSpec};
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
    verify(&built)?;
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

/// Runs a helper to completion. Its output goes to stderr: stdout carries
/// only the `unit<TAB>reference` lines that scripts read.
fn run(command: &mut Command, what: &str) -> Result<()> {
    let status = command
        .stdout(crate::progress::progress_output())
        .stderr(crate::progress::stderr())
        .status()
        .with_context(|| format!("running {what} (is it installed?)"))?;
    ensure!(status.success(), "{what} failed ({status})");
    Ok(())
}

/// Static, reproducible Linux/amd64 binaries from the vendored module: no
/// cgo (the images have no libc for them), no module downloads, no host paths
/// or VCS stamps baked in (so unchanged sources give unchanged layers).
fn build_go_commands(module: &Path, out: &Path) -> Result<()> {
    fs::create_dir_all(out)?;
    crate::say!("[images] go build {} → {}", GO_COMMANDS.join(" "), out.display());
    let mut go = Command::new("go");
    go.current_dir(module)
        .env("CGO_ENABLED", "0")
        .env("GOOS", "linux")
        .env("GOARCH", "amd64")
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "")
        .args(["build", "-mod=vendor", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o"])
        // A trailing slash makes -o a directory: one binary per command.
        .arg(format!("{}/", out.display()))
        .args(GO_COMMANDS.iter().map(|c| format!("./cmd/{c}")));
    run(&mut go, "go build")
}

/// `npm ci` and `vite build` in example/web; returns the dist directory.
fn build_web(web: &Path) -> Result<PathBuf> {
    crate::say!("[images] npm ci + vite build in {}", web.display());
    run(Command::new("npm").current_dir(web).args(["ci", "--no-audit", "--no-fund", "--prefer-offline"]), "npm ci")?;
    run(Command::new("npx").current_dir(web).args(["vite", "build"]), "vite build")?;
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
        run(
            Command::new("apt-get").env("DEBIAN_FRONTEND", "noninteractive").args(args),
            &format!("apt-get {}", args.join(" ")),
        )
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
    // (image.rs normalises owners), so PostgreSQL can only write here once a
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

/// A regular file (not a symlink: its target is handled on its own) starting
/// with the ELF magic.
pub(crate) fn is_elf(path: &Path) -> Result<bool> {
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
pub(crate) fn shared_libraries(elves: &[PathBuf]) -> Result<BTreeMap<String, PathBuf>> {
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
                    libs.insert(path_str(&dest)?, fs::canonicalize(&path)?);
                }
                LddLine::Interpreter(path) => {
                    libs.insert(path_str(&path)?, fs::canonicalize(&path)?);
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

// ---------------------------------------------------------------------------
// --verify: run the stack from the pushed images, on loopback only.

/// Processes started by the verification. If it bails out early they are
/// stopped here: SIGTERM first, because SIGKILL on pg-entrypoint would leave
/// its postgres child running on the host.
struct Procs {
    children: Vec<(String, Child)>,
}

impl Drop for Procs {
    fn drop(&mut self) {
        for (_, child) in self.children.iter_mut().rev() {
            if matches!(child.try_wait(), Ok(None)) {
                let _ = signal(child, "TERM");
                // wait_exit falls back to SIGKILL after the timeout.
                let _ = wait_exit(child, Duration::from_secs(15));
            }
        }
    }
}

fn verify(built: &[Built]) -> Result<()> {
    ensure!(is_root()?, "--verify runs the images with chroot and needs root");
    let crane = tools::tool_path("crane")?;
    let work =
        tempfile::Builder::new().prefix("codex-example-verify-").tempdir().context("creating a temporary directory")?;
    let by_unit: BTreeMap<&str, &Built> = built.iter().map(|b| (b.unit.as_str(), b)).collect();
    // Each image unpacked once, into <work>/<unit>.
    let rootfs = |unit: &str| -> Result<PathBuf> {
        let dir = work.path().join(unit);
        if dir.is_dir() {
            return Ok(dir);
        }
        let b = by_unit.get(unit).with_context(|| format!("no image for {unit}"))?;
        unpack(&crane, &b.reference, &dir)
    };
    let mut procs = Procs { children: Vec::new() };
    let logs = work.path().join("logs");
    fs::create_dir_all(&logs)?;

    // PostgreSQL from its image.
    let pg_root = rootfs("postgres")?;
    // What the container runtime provides and a bare chroot lacks: initdb
    // writes to /dev/null, PostgreSQL's shared memory lives in /dev/shm.
    fs::create_dir_all(pg_root.join("dev/shm"))?;
    make_dev_null(&pg_root.join("dev/null"))?;
    set_mode(&pg_root.join("dev/shm"), 0o1777)?;
    // Stands in for the data volume the pod would mount there.
    set_owner(&pg_root.join("var/lib/postgresql/data"), APP_UID)?;

    let pg_port = free_port()?;
    let pg = start(
        by_unit["postgres"],
        &pg_root,
        &[("PGPORT", pg_port.to_string()), ("POSTGRES_LISTEN_ADDRESSES", "127.0.0.1".into())],
        &logs,
    )?;
    procs.children.push(("postgres".into(), pg));
    wait_until(&mut procs, &logs, "postgres", Duration::from_secs(90), || {
        Ok(TcpStream::connect(("127.0.0.1", pg_port)).is_ok())
    })?;
    crate::say!("[verify] postgres from the image accepts connections on 127.0.0.1:{pg_port}");

    let url = |password: &str| format!("postgres://codex:{password}@127.0.0.1:{pg_port}/codex?sslmode=disable");
    // psql from the image: proves the client side of the copied libraries
    // too, and that TCP really asks for the password.
    let psql = |password: &str, sql: &str| -> Result<std::process::Output> {
        Command::new(chroot()?)
            .arg(format!("--userspec={}", app_user()))
            .arg(&pg_root)
            .args([&format!("/usr/lib/postgresql/{PG_MAJOR}/bin/psql"), "-XAtq", &url(password), "-c", sql])
            .env_clear()
            .output()
            .context("running psql from the postgres image")
    };
    let wrong = psql("wrong-password", "SELECT 1")?;
    ensure!(
        !wrong.status.success() && String::from_utf8_lossy(&wrong.stderr).contains("password authentication failed"),
        "a wrong password must be refused over TCP; psql said: {}",
        String::from_utf8_lossy(&wrong.stderr)
    );

    // Migrations, twice: the second run must find nothing to do.
    for round in 1..=2 {
        let mut migrate = start(by_unit["migrate"], &rootfs("migrate")?, &[("DATABASE_URL", url("codex"))], &logs)?;
        let status = wait_exit(&mut migrate, Duration::from_secs(90))?;
        let log = fs::read_to_string(logs.join("migrate.log")).unwrap_or_default();
        ensure!(status, "migrate run {round} failed:\n{log}");
        if round == 2 {
            ensure!(log.contains("0 applied now"), "second migrate run applied something:\n{log}");
        }
    }
    let counts =
        psql("codex", "SELECT (SELECT count(*) FROM items) || ' ' || (SELECT text FROM greetings WHERE id = 1)")?;
    let counts_text = String::from_utf8_lossy(&counts.stdout).trim().to_string();
    ensure!(
        counts.status.success() && counts_text == "3 hello from the database",
        "unexpected data after migrating: {counts_text:?} {}",
        String::from_utf8_lossy(&counts.stderr)
    );
    crate::say!("[verify] migrate from its image applied the migrations once (items: 3, greeting row present)");

    // The services, each from its own image, wired over loopback.
    let ports: BTreeMap<&str, u16> =
        ["greeter", "catalog", "gateway", "web"].into_iter().map(|u| Ok((u, free_port()?))).collect::<Result<_>>()?;
    let base = |unit: &str| format!("http://127.0.0.1:{}", ports[unit]);
    for (unit, env) in [
        ("greeter", vec![("DATABASE_URL", url("codex"))]),
        ("catalog", vec![("DATABASE_URL", url("codex"))]),
        ("gateway", vec![("GREETER_URL", base("greeter")), ("CATALOG_URL", base("catalog"))]),
        ("web", vec![("GATEWAY_URL", base("gateway"))]),
    ] {
        let mut env: Vec<(&str, String)> = env;
        env.push(("PORT", ports[unit].to_string()));
        let child = start(by_unit[unit], &rootfs(unit)?, &env, &logs)?;
        procs.children.push((unit.to_string(), child));
    }
    for unit in ["greeter", "catalog", "gateway", "web"] {
        let port = ports[unit];
        wait_until(&mut procs, &logs, unit, Duration::from_secs(30), || {
            Ok(http_get(port, "/readyz").map(|(status, _)| status == 200).unwrap_or(false))
        })?;
    }
    crate::say!("[verify] greeter, catalog, gateway and web are ready");

    let web = ports["web"];
    let (status, greeting) = http_get(web, "/api/greeting")?;
    ensure!(
        status == 200
            && greeting.contains(r#""service":"greeter""#)
            && greeting.contains(r#""fromDatabase":"hello from the database""#),
        "/api/greeting through web → gateway → greeter: {status} {greeting}"
    );
    let (status, items) = http_get(web, "/api/items")?;
    ensure!(
        status == 200 && items.contains(r#""name":"Widget""#) && items.contains(r#""priceCents":1999"#),
        "/api/items through web → gateway → catalog: {status} {items}"
    );
    let (status, page) = http_get(web, "/")?;
    ensure!(status == 200 && page.contains(r#"<div id="app">"#), "web / : {status} {page}");
    let (status, upstreams) = http_get(ports["gateway"], "/api/status")?;
    ensure!(status == 200 && upstreams.starts_with(r#"{"ready":true"#), "gateway /api/status: {status} {upstreams}");
    crate::say!("[verify] GET /api/greeting → {}", greeting.trim());
    crate::say!("[verify] GET /api/items → {}", items.trim());

    // Every request above left one access-log line.
    let gateway_log = fs::read_to_string(logs.join("gateway.log")).unwrap_or_default();
    ensure!(
        gateway_log.contains("gateway GET /api/greeting 200"),
        "gateway logged no line for /api/greeting:\n{gateway_log}"
    );

    // Graceful stop: SIGTERM everywhere; pg-entrypoint turns it into
    // PostgreSQL's fast shutdown, so the server must finish cleanly and fast.
    for (unit, child) in procs.children.iter_mut().rev() {
        signal(child, "TERM")?;
        ensure!(
            wait_exit(child, Duration::from_secs(20))?,
            "{unit} did not exit cleanly after SIGTERM:\n{}",
            tail(&logs.join(format!("{unit}.log")))
        );
    }
    let pg_log = fs::read_to_string(logs.join("postgres.log")).unwrap_or_default();
    ensure!(pg_log.contains("database system is shut down"), "postgres did not shut down cleanly:\n{pg_log}");
    procs.children.clear();
    crate::say!("[verify] everything stopped cleanly on SIGTERM");
    Ok(())
}

/// `crane export` the image and unpack it as root, keeping owners and modes
/// exactly as the layer says.
fn unpack(crane: &Path, reference: &str, dir: &Path) -> Result<PathBuf> {
    fs::create_dir_all(dir)?;
    let tar_path = dir.with_extension("tar");
    let mut export = Command::new(crane);
    export.args(["export", reference]).arg(&tar_path);
    if !(reference.starts_with("127.") || reference.starts_with("localhost")) {
        export.arg("--insecure");
    }
    run(&mut export, "crane export")?;
    run(
        Command::new("tar").args(["--same-owner", "--same-permissions", "-xf"]).arg(&tar_path).arg("-C").arg(dir),
        "tar -x",
    )?;
    fs::remove_file(&tar_path)?;
    Ok(dir.to_path_buf())
}

/// The host's chroot, by absolute path: the child's environment is the
/// image's, and Command looks programs up in the child's PATH.
fn chroot() -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join("chroot"))
        .find(|p| p.is_file())
        .context("chroot not found (coreutils)")
}

/// Starts the image's entrypoint chrooted into its unpacked tree, as the
/// image's user, with the image's environment plus `extra`; output goes to
/// logs/<unit>.log.
fn start(built: &Built, root: &Path, extra: &[(&str, String)], logs: &Path) -> Result<Child> {
    let log = fs::File::create(logs.join(format!("{}.log", built.unit)))?;
    let user = built.spec.user.clone().unwrap_or_else(|| "0:0".into());
    let mut command = Command::new(chroot()?);
    command
        .arg(format!("--userspec={user}"))
        .arg(root)
        .args(&built.spec.entrypoint)
        .env_clear()
        .envs(built.spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .envs(extra.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    command.spawn().with_context(|| format!("starting {} from its image", built.unit))
}

/// Polls `ready` every 250 ms until it holds, failing early if the unit's
/// process has exited.
fn wait_until(
    procs: &mut Procs,
    logs: &Path,
    unit: &str,
    timeout: Duration,
    mut ready: impl FnMut() -> Result<bool>,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if ready()? {
            return Ok(());
        }
        if let Some((_, child)) = procs.children.iter_mut().find(|(u, _)| u == unit) {
            if let Some(status) = child.try_wait()? {
                bail!("{unit} exited ({status}) before it was ready:\n{}", tail(&logs.join(format!("{unit}.log"))));
            }
        }
        if Instant::now() > deadline {
            bail!("{unit} not ready after {timeout:?}:\n{}", tail(&logs.join(format!("{unit}.log"))));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Waits for the child to exit; Ok(true) for exit status 0.
fn wait_exit(child: &mut Child, timeout: Duration) -> Result<bool> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status.success());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends a signal to one process we started, by its pid.
fn signal(child: &Child, name: &str) -> Result<()> {
    run(Command::new("kill").arg(format!("-{name}")).arg(child.id().to_string()), "kill")
}

fn tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// A port nobody listens on right now (the kernel's choice, released at once).
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A plain HTTP/1.0 GET on 127.0.0.1 (1.0, so the answer is never chunked).
fn http_get(port: u16, path: &str) -> Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("no HTTP status in {head:?}"))?;
    Ok((status, body.to_string()))
}

fn make_dev_null(path: &Path) -> Result<()> {
    if !path.exists() {
        run(Command::new("mknod").arg(path).args(["c", "1", "3"]), "mknod /dev/null")?;
    }
    set_mode(path, 0o666)
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).with_context(|| format!("chmod {}", path.display()))
}

fn set_owner(path: &Path, uid: u32) -> Result<()> {
    std::os::unix::fs::chown(path, Some(uid), Some(uid)).with_context(|| format!("chown {}", path.display()))
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
    fn user_db_has_the_app_uid() {
        let dir = tempfile::tempdir().unwrap();
        write_user_db(dir.path(), "postgres", "/var/lib/postgresql").unwrap();
        let passwd = fs::read_to_string(dir.path().join("passwd")).unwrap();
        assert!(passwd.contains("\npostgres:x:10001:10001:"), "{passwd}");
        assert_eq!(fs::read_to_string(dir.path().join("group")).unwrap(), "root:x:0:\npostgres:x:10001:\n");
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
