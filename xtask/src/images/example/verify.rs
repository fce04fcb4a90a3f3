//! `cargo xtask images --verify`: run the stack from the pushed images, on loopback only.
//! Each pushed image is pulled back (`crane export`) and unpacked, and the whole stack runs
//! from the unpacked trees with `chroot` on 127.0.0.1.

use super::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

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

pub(super) fn verify(built: &[Built]) -> Result<()> {
    ensure!(is_root()?, "--verify runs the images with chroot and needs root");
    let work =
        tempfile::Builder::new().prefix("codex-example-verify-").tempdir().context("creating a temporary directory")?;
    let logs = work.path().join("logs");
    fs::create_dir_all(&logs)?;
    let mut run = Verification {
        procs: Procs { children: Vec::new() },
        crane: tools::tool_path("crane")?,
        by_unit: built.iter().map(|b| (b.unit.as_str(), b)).collect(),
        logs,
        work,
        pg_port: free_port()?,
    };
    run.start_postgres()?;
    run.refuses_a_wrong_password()?;
    run.migrate_twice()?;
    let ports = run.start_services()?;
    run.answer_through_web(&ports)?;
    run.stop_cleanly()
}

/// One verification: the images, their unpacked trees and the processes started from them.
struct Verification<'a> {
    /// Before `work`: fields drop in order, and the processes must stop before their trees go.
    procs: Procs,
    crane: PathBuf,
    by_unit: BTreeMap<&'a str, &'a Built>,
    logs: PathBuf,
    work: tempfile::TempDir,
    pg_port: u16,
}

impl Verification<'_> {
    /// The image of `unit`, unpacked once, into <work>/<unit>.
    fn rootfs(&self, unit: &str) -> Result<PathBuf> {
        let dir = self.work.path().join(unit);
        if dir.is_dir() {
            return Ok(dir);
        }
        let b = self.by_unit.get(unit).with_context(|| format!("no image for {unit}"))?;
        unpack(&self.crane, &b.reference, &dir)
    }

    fn url(&self, password: &str) -> String {
        format!("postgres://codex:{password}@127.0.0.1:{}/codex?sslmode=disable", self.pg_port)
    }

    /// psql from the image: proves the client side of the copied libraries too, and that TCP
    /// really asks for the password.
    fn psql(&self, password: &str, sql: &str) -> Result<std::process::Output> {
        Command::new(chroot()?)
            .arg(format!("--userspec={}", app_user()))
            .arg(self.rootfs("postgres")?)
            .args([&format!("/usr/lib/postgresql/{PG_MAJOR}/bin/psql"), "-XAtq", &self.url(password), "-c", sql])
            .env_clear()
            .output()
            .context("running psql from the postgres image")
    }

    /// PostgreSQL from its image, until it accepts connections.
    fn start_postgres(&mut self) -> Result<()> {
        let pg_root = self.rootfs("postgres")?;
        // What the container runtime provides and a bare chroot lacks: initdb
        // writes to /dev/null, PostgreSQL's shared memory lives in /dev/shm.
        fs::create_dir_all(pg_root.join("dev/shm"))?;
        make_dev_null(&pg_root.join("dev/null"))?;
        set_mode(&pg_root.join("dev/shm"), 0o1777)?;
        // Stands in for the data volume the pod would mount there.
        set_owner(&pg_root.join("var/lib/postgresql/data"), APP_UID)?;

        let pg_port = self.pg_port;
        let pg = start(
            self.by_unit["postgres"],
            &pg_root,
            &[("PGPORT", pg_port.to_string()), ("POSTGRES_LISTEN_ADDRESSES", "127.0.0.1".into())],
            &self.logs,
        )?;
        self.procs.children.push(("postgres".into(), pg));
        wait_until(&mut self.procs, &self.logs, "postgres", Duration::from_secs(90), || {
            Ok(TcpStream::connect(("127.0.0.1", pg_port)).is_ok())
        })?;
        crate::say!("[verify] postgres from the image accepts connections on 127.0.0.1:{pg_port}");
        Ok(())
    }

    fn refuses_a_wrong_password(&self) -> Result<()> {
        let wrong = self.psql("wrong-password", "SELECT 1")?;
        ensure!(
            !wrong.status.success()
                && String::from_utf8_lossy(&wrong.stderr).contains("password authentication failed"),
            "a wrong password must be refused over TCP; psql said: {}",
            String::from_utf8_lossy(&wrong.stderr)
        );
        Ok(())
    }

    /// Migrations, twice: the second run must find nothing to do.
    fn migrate_twice(&self) -> Result<()> {
        for round in 1..=2 {
            let mut migrate = start(
                self.by_unit["migrate"],
                &self.rootfs("migrate")?,
                &[("DATABASE_URL", self.url("codex"))],
                &self.logs,
            )?;
            let status = wait_exit(&mut migrate, Duration::from_secs(90))?;
            let log = fs::read_to_string(self.logs.join("migrate.log")).unwrap_or_default();
            ensure!(status, "migrate run {round} failed:\n{log}");
            if round == 2 {
                ensure!(log.contains("0 applied now"), "second migrate run applied something:\n{log}");
            }
        }
        let counts = self
            .psql("codex", "SELECT (SELECT count(*) FROM items) || ' ' || (SELECT text FROM greetings WHERE id = 1)")?;
        let counts_text = String::from_utf8_lossy(&counts.stdout).trim().to_string();
        ensure!(
            counts.status.success() && counts_text == "3 hello from the database",
            "unexpected data after migrating: {counts_text:?} {}",
            String::from_utf8_lossy(&counts.stderr)
        );
        crate::say!("[verify] migrate from its image applied the migrations once (items: 3, greeting row present)");
        Ok(())
    }

    /// The services, each from its own image, wired over loopback, until all are ready.
    fn start_services(&mut self) -> Result<BTreeMap<&'static str, u16>> {
        let ports: BTreeMap<&str, u16> = ["greeter", "catalog", "gateway", "web"]
            .into_iter()
            .map(|u| Ok((u, free_port()?)))
            .collect::<Result<_>>()?;
        let base = |unit: &str| format!("http://127.0.0.1:{}", ports[unit]);
        for (unit, env) in [
            ("greeter", vec![("DATABASE_URL", self.url("codex"))]),
            ("catalog", vec![("DATABASE_URL", self.url("codex"))]),
            ("gateway", vec![("GREETER_URL", base("greeter")), ("CATALOG_URL", base("catalog"))]),
            ("web", vec![("GATEWAY_URL", base("gateway"))]),
        ] {
            let mut env: Vec<(&str, String)> = env;
            env.push(("PORT", ports[unit].to_string()));
            let child = start(self.by_unit[unit], &self.rootfs(unit)?, &env, &self.logs)?;
            self.procs.children.push((unit.to_string(), child));
        }
        for unit in ["greeter", "catalog", "gateway", "web"] {
            let port = ports[unit];
            wait_until(&mut self.procs, &self.logs, unit, Duration::from_secs(30), || {
                Ok(http_get(port, "/readyz").map(|(status, _)| status == 200).unwrap_or(false))
            })?;
        }
        crate::say!("[verify] greeter, catalog, gateway and web are ready");
        Ok(ports)
    }

    /// The API through web → gateway → greeter/catalog, the page, and the gateway's access log.
    fn answer_through_web(&self, ports: &BTreeMap<&str, u16>) -> Result<()> {
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
        ensure!(
            status == 200 && upstreams.starts_with(r#"{"ready":true"#),
            "gateway /api/status: {status} {upstreams}"
        );
        crate::say!("[verify] GET /api/greeting → {}", greeting.trim());
        crate::say!("[verify] GET /api/items → {}", items.trim());

        // Every request above left one access-log line.
        let gateway_log = fs::read_to_string(self.logs.join("gateway.log")).unwrap_or_default();
        ensure!(
            gateway_log.contains("gateway GET /api/greeting 200"),
            "gateway logged no line for /api/greeting:\n{gateway_log}"
        );
        Ok(())
    }

    /// Graceful stop: SIGTERM everywhere; pg-entrypoint turns it into PostgreSQL's fast
    /// shutdown, so the server must finish cleanly and fast.
    fn stop_cleanly(&mut self) -> Result<()> {
        for (unit, child) in self.procs.children.iter_mut().rev() {
            signal(child, "TERM")?;
            ensure!(
                wait_exit(child, Duration::from_secs(20))?,
                "{unit} did not exit cleanly after SIGTERM:\n{}",
                tail(&self.logs.join(format!("{unit}.log")))
            );
        }
        let pg_log = fs::read_to_string(self.logs.join("postgres.log")).unwrap_or_default();
        ensure!(pg_log.contains("database system is shut down"), "postgres did not shut down cleanly:\n{pg_log}");
        self.procs.children.clear();
        crate::say!("[verify] everything stopped cleanly on SIGTERM");
        Ok(())
    }
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
    exec::logged(&mut export)?;
    exec::logged(
        Command::new("tar").args(["--same-owner", "--same-permissions", "-xf"]).arg(&tar_path).arg("-C").arg(dir),
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
    Ok(exec::logged(Command::new("kill").arg(format!("-{name}")).arg(child.id().to_string()))?)
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
        exec::logged(Command::new("mknod").arg(path).args(["c", "1", "3"]))?;
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
