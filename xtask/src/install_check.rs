//! The ways users install kubectl-codex, run for real (a step of `cargo xtask test`): the
//! release archive from `cargo xtask dist`, the committed krew-manifest.yaml and plugin.yaml
//! checked against it, `kubectl krew install --manifest --archive` then `kubectl codex version`,
//! krew's validate-krew-manifest, and `helm plugin install` of the checkout and of the archive
//! then `helm codex version`, with Helm 4 (plugin.yaml, the versioned format) and Helm 3
//! (helm3/plugin.yaml). Tools are the pinned builds (`cargo xtask tools kubectl krew helm helm3`);
//! every command runs with a cleared environment, a temporary HOME, KREW_ROOT and HELM_* dirs,
//! and talks to nothing but a file server on 127.0.0.1.

use crate::dist::{self, Dist};
use crate::tools;
use anyhow::{bail, ensure, Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::{fs, thread};

/// The system directories on PATH: a shell and coreutils for the Helm plugin's wrapper,
/// nothing of ours (`helm_from_archive` checks that no kubectl-codex is there).
const SYSTEM_PATH: &[&str] = &["/usr/bin", "/bin"];

pub fn run() -> Result<()> {
    let root = crate::repo::repo_root();
    let kubectl = tools::tool_path("kubectl")?;
    let krew = tools::tool_path("krew")?;
    let validator = tools::tool_path("validate-krew-manifest")?;
    let helms = [
        HelmUnderTest { label: "helm 4", dir_name: "helm4", path: tools::tool_path("helm")?, major: 4 },
        HelmUnderTest { label: "helm 3", dir_name: "helm3", path: tools::tool_path("helm3")?, major: 3 },
    ];
    let dist = dist::build()?;
    let archive = dist.host_archive()?;
    let expected = format!("kubectl-codex {} (commit {})", dist.version, head_commit(&root)?);
    eprintln!(
        "[install] {} ({} bytes, sha256 {}), expecting `{expected}`",
        archive.path.display(),
        archive.bytes,
        archive.sha256
    );

    let tmp = tempfile::tempdir().context("creating a temporary directory")?;
    let sandbox = Sandbox::new(tmp.path(), &kubectl, &krew)?;
    let server = FileServer::start(archive.path.parent().context("archive has no directory")?)?;
    let archive_name = file_name(&archive.path)?;
    let archive_url = server.url(&archive_name);

    let mut failures: Vec<String> = Vec::new();
    let mut check = |name: &str, result: Result<()>| match result {
        Ok(()) => eprintln!("[install] ok: {name}"),
        Err(e) => {
            eprintln!("[install] FAILED: {name}: {e:#}");
            failures.push(format!("{name}: {e:#}"));
        }
    };
    check("krew-manifest.yaml matches this build apart from sha256", committed_manifest(&root, &dist));
    check("plugin.yaml and helm3/plugin.yaml name codex and the crate version", plugin_yaml(&root, &dist.version));
    check(
        "kubectl krew install --manifest --archive, then kubectl codex version",
        krew_install(&sandbox, &dist, &archive.path, &expected),
    );
    check(
        "validate-krew-manifest (install from 127.0.0.1, and the committed manifest)",
        validate_manifest(&sandbox, &validator, &root, &dist, &archive_url),
    );
    for helm in &helms {
        check(
            &format!("{}: helm plugin install <checkout>, then helm codex version runs krew's binary", helm.label),
            helm_from_checkout(&sandbox, helm, &root, &dist.version, &expected),
        );
        let source = ArchiveSource { path: &archive.path, url: &archive_url, name: &archive_name };
        check(
            &format!("{}: helm plugin install <archive>, then helm codex version and render", helm.label),
            helm_from_archive(&sandbox, helm, &root, &source, &expected),
        );
    }
    drop(server);
    if !failures.is_empty() {
        bail!("{} install check(s) failed:\n  {}", failures.len(), failures.join("\n  "));
    }
    Ok(())
}

/// One Helm major, and where it finds our plugin: Helm 3 refuses the versioned plugin.yaml
/// that Helm 4 reads, so it installs the legacy one in `helm3/`.
struct HelmUnderTest {
    label: &'static str,
    /// Prefix of this Helm's sandbox directories.
    dir_name: &'static str,
    path: PathBuf,
    major: u8,
}

impl HelmUnderTest {
    /// The directory to `helm plugin install` in a checkout or an extracted archive.
    fn plugin_dir(&self, root: &Path) -> PathBuf {
        if self.major >= 4 {
            root.to_path_buf()
        } else {
            root.join(dist::HELM3_PLUGIN_DIR)
        }
    }

    fn sandbox_name(&self, what: &str) -> String {
        format!("{}-{what}", self.dir_name)
    }
}

/// The host's release archive, as a file and as served on 127.0.0.1.
struct ArchiveSource<'a> {
    path: &'a Path,
    url: &'a str,
    name: &'a str,
}

fn head_commit(root: &Path) -> Result<String> {
    let output = Command::new("git").current_dir(root).args(["rev-parse", "--short=12", "HEAD"]).output()?;
    ensure!(output.status.success(), "git rev-parse HEAD failed");
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

fn file_name(path: &Path) -> Result<String> {
    Ok(path.file_name().context("path without a file name")?.to_string_lossy().into_owned())
}

/// Temporary HOME, KREW_ROOT and a bin directory with kubectl and `kubectl-krew` (how krew
/// is installed, and what validate-krew-manifest calls).
struct Sandbox {
    home: PathBuf,
    krew_root: PathBuf,
    bin: PathBuf,
    root: PathBuf,
}

impl Sandbox {
    fn new(root: &Path, kubectl: &Path, krew: &Path) -> Result<Sandbox> {
        let sandbox = Sandbox {
            home: root.join("home"),
            krew_root: root.join("krew"),
            bin: root.join("bin"),
            root: root.to_path_buf(),
        };
        for dir in [&sandbox.home, &sandbox.krew_root, &sandbox.bin] {
            fs::create_dir_all(dir)?;
        }
        std::os::unix::fs::symlink(kubectl, sandbox.bin.join("kubectl"))?;
        std::os::unix::fs::symlink(krew, sandbox.bin.join("kubectl-krew"))?;
        Ok(sandbox)
    }

    /// PATH: `dirs`, then the system directories.
    fn path(dirs: &[&Path]) -> String {
        let mut parts: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        parts.extend(SYSTEM_PATH.iter().map(|d| d.to_string()));
        parts.join(":")
    }

    /// A command with only the variables we set: the developer's KUBECONFIG, XDG dirs,
    /// CODEX_HELM or a krew in ~/.krew must not make a check pass.
    fn command(&self, program: &Path, path: &[&Path]) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("HOME", &self.home)
            .env("PATH", Self::path(path))
            .env("KREW_ROOT", &self.krew_root)
            .env("KREW_NO_UPGRADE_CHECK", "1")
            .current_dir(&self.home);
        command
    }

    /// Isolated Helm directories under `name`.
    fn helm(&self, helm: &Path, name: &str, path: &[&Path]) -> Result<Command> {
        let base = self.root.join(name);
        let mut command = self.command(helm, path);
        // HELM_PLUGINS is Helm's default, under HELM_DATA_HOME: Helm's installers (Helm 3's
        // archive installer, and every installer of Helm 4, local directories included) write
        // to HELM_DATA_HOME/plugins whatever HELM_PLUGINS says, while plugins are loaded from
        // HELM_PLUGINS: with the two apart, Helm 4 reports "Installed plugin" and lists nothing.
        for (var, dir) in [
            ("HELM_PLUGINS", "data/plugins"),
            ("HELM_DATA_HOME", "data"),
            ("HELM_CONFIG_HOME", "config"),
            ("HELM_CACHE_HOME", "cache"),
        ] {
            fs::create_dir_all(base.join(dir))?;
            command.env(var, base.join(dir));
        }
        Ok(command)
    }

    fn krew_bin(&self) -> PathBuf {
        self.krew_root.join("bin")
    }
}

/// Runs `command`, shows its output, and returns stdout and stderr together; fails on a non-zero exit.
fn run_shown(command: &mut Command) -> Result<String> {
    let shown = crate::exec::line(command);
    let output = command.output().with_context(|| format!("starting {shown}"))?;
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    eprintln!("[install] $ {shown}");
    for line in text.lines() {
        eprintln!("[install]   {line}");
    }
    ensure!(output.status.success(), "{shown} exited with {}:\n{text}", output.status);
    Ok(text)
}

fn committed_manifest(root: &Path, dist: &Dist) -> Result<()> {
    let path = root.join("krew-manifest.yaml");
    let committed = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let generated = fs::read_to_string(&dist.manifest)?;
    dist::check_committed_manifest(&committed, &generated)?;
    let digests = |text: &str| -> Vec<String> {
        text.lines().filter_map(|l| l.trim_start().strip_prefix("sha256:")).map(|d| d.trim().to_string()).collect()
    };
    let built: Vec<String> = dist.archives.iter().map(|a| a.sha256.clone()).collect();
    ensure!(digests(&generated) == built, "dist/codex.yaml does not carry the sha256 of the archives just built");
    if digests(&committed) == built {
        eprintln!("[install] krew-manifest.yaml's sha256 is this build's");
    } else {
        eprintln!("[install] krew-manifest.yaml's sha256 is the last released build's, not this commit's (expected)");
    }
    Ok(())
}

fn plugin_yaml(root: &Path, version: &str) -> Result<()> {
    let versioned = manifest_fields(&root.join("plugin.yaml"), version)?;
    for (key, value) in [("apiVersion:", "v1"), ("type:", "cli/v1"), ("runtime:", "subprocess")] {
        ensure!(
            versioned(key).as_deref() == Some(value),
            "plugin.yaml: {key} must be {value} (Helm 4's versioned plugin format)"
        );
    }
    let legacy = manifest_fields(&root.join(dist::HELM3_PLUGIN_DIR).join("plugin.yaml"), version)?;
    ensure!(
        legacy("apiVersion:").is_none(),
        "helm3/plugin.yaml must stay in the legacy format: Helm 3 refuses apiVersion"
    );
    Ok(())
}

/// Reads a plugin manifest, checks its name and version, and gives its top-level fields.
fn manifest_fields(path: &Path, version: &str) -> Result<impl Fn(&str) -> Option<String>> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let field = move |key: &str| text.lines().find_map(|l| l.strip_prefix(key)).map(|v| v.trim().to_string());
    let shown = path.display();
    ensure!(field("name:").as_deref() == Some(dist::PLUGIN), "{shown}: name must be {}", dist::PLUGIN);
    ensure!(
        field("version:").as_deref() == Some(version),
        "{shown}: version is {:?}, the crate's is {version}; update it with Cargo.toml",
        field("version:")
    );
    Ok(field)
}

fn krew_install(sandbox: &Sandbox, dist: &Dist, archive: &Path, expected: &str) -> Result<()> {
    let path = [sandbox.bin.as_path(), &sandbox.krew_bin()];
    let kubectl = sandbox.bin.join("kubectl");
    let mut install = sandbox.command(&kubectl, &path);
    install
        .args(["krew", "install"])
        .arg(format!("--manifest={}", dist.manifest.display()))
        .arg(format!("--archive={}", archive.display()));
    let output = run_shown(&mut install)?;
    ensure!(output.contains("Installed plugin: codex"), "krew did not report the install");
    let installed = sandbox.krew_bin().join(dist::BINARY);
    ensure!(installed.exists(), "{} missing after krew install", installed.display());

    let listed = run_shown(sandbox.command(&kubectl, &path).args(["plugin", "list"]))?;
    ensure!(
        listed.contains(&installed.display().to_string()),
        "kubectl plugin list does not show {}",
        installed.display()
    );

    let version = run_shown(sandbox.command(&kubectl, &path).args(["codex", "version"]))?;
    ensure!(version.trim() == expected, "kubectl codex version printed {:?}, expected {expected:?}", version.trim());
    let json = run_shown(sandbox.command(&kubectl, &path).args(["codex", "version", "-o", "json"]))?;
    let json: serde_json::Value = serde_json::from_str(&json).context("kubectl codex version -o json is not JSON")?;
    ensure!(
        expected
            == format!(
                "kubectl-codex {} (commit {})",
                json["version"].as_str().unwrap_or(""),
                json["commit"].as_str().unwrap_or("")
            ),
        "kubectl codex version -o json disagrees: {json}"
    );
    Ok(())
}

fn validate_manifest(sandbox: &Sandbox, validator: &Path, root: &Path, dist: &Dist, archive_url: &str) -> Result<()> {
    // The validator installs every platform from its `uri` (with `kubectl krew install`, which
    // needs kubectl and kubectl-krew on PATH); the release URL is not reachable from a test, so
    // this copy points at the loopback server that serves dist/. The file must be <name>.yaml.
    let generated = fs::read_to_string(&dist.manifest)?;
    let release_prefix = format!("uri: {}/", dist::RELEASES);
    let local: String = generated
        .lines()
        .map(|line| match line.trim_start().strip_prefix(&release_prefix) {
            Some(_) => format!("{}uri: {archive_url}\n", &line[..line.len() - line.trim_start().len()]),
            None => format!("{line}\n"),
        })
        .collect();
    ensure!(local != generated, "found no `{release_prefix}` line to point at 127.0.0.1");
    let local_dir = sandbox.root.join("validate-local");
    fs::create_dir_all(&local_dir)?;
    let local_manifest = local_dir.join(format!("{}.yaml", dist::PLUGIN));
    fs::write(&local_manifest, local)?;
    let path = [sandbox.bin.as_path()];
    let output = run_shown(sandbox.command(validator, &path).arg("-manifest").arg(&local_manifest))?;
    ensure!(output.contains("spec.platforms installed fine"), "the validator did not report installing the platforms");

    // The committed file itself, structurally (its uri is the release's, so no install).
    let committed_dir = sandbox.root.join("validate-committed");
    fs::create_dir_all(&committed_dir)?;
    let committed = committed_dir.join(format!("{}.yaml", dist::PLUGIN));
    fs::copy(root.join("krew-manifest.yaml"), &committed)?;
    run_shown(sandbox.command(validator, &path).arg("-skip-install").arg("-manifest").arg(&committed))?;
    Ok(())
}

fn helm_from_checkout(
    sandbox: &Sandbox,
    helm: &HelmUnderTest,
    root: &Path,
    version: &str,
    expected: &str,
) -> Result<()> {
    // kubectl-codex comes from PATH here: the copy krew installed above.
    let krew_bin = sandbox.krew_bin();
    let path = [sandbox.bin.as_path(), &krew_bin];
    let name = helm.sandbox_name("checkout");
    let run = |args: &[&str]| -> Result<String> { run_shown(sandbox.helm(&helm.path, &name, &path)?.args(args)) };
    let plugin_dir = helm.plugin_dir(root);
    let output = run(&["plugin", "install", &plugin_dir.to_string_lossy()])?;
    ensure!(output.contains("Installed plugin: codex"), "helm did not report the install");
    let binary = krew_bin.join(dist::BINARY);
    ensure!(
        output.contains(&format!("helm codex runs {}", binary.display())),
        "the install hook did not find krew's {}",
        binary.display()
    );
    let listed = run(&["plugin", "list"])?;
    let row =
        listed.lines().map(|l| l.split_whitespace().collect::<Vec<_>>()).find(|cols| cols.first() == Some(&"codex"));
    let row = row.with_context(|| format!("helm plugin list does not show codex:\n{listed}"))?;
    ensure!(row.get(1) == Some(&version), "helm plugin list shows codex {:?}, expected {version}", row.get(1));
    if helm.major >= 4 {
        // NAME VERSION TYPE APIVERSION …: not `legacy`.
        ensure!(row.get(3) == Some(&"v1"), "Helm 4 lists the plugin with apiVersion {:?}, expected v1", row.get(3));
    }
    let printed = run(&["codex", "version"])?;
    ensure!(printed.trim() == expected, "helm codex version printed {:?}, expected {expected:?}", printed.trim());
    Ok(())
}

/// Helm 4 installs the archive from its URL (`--verify=false`: the archives carry no
/// provenance file yet). Helm 3 cannot, since its plugin.yaml is in `helm3/` and its archive
/// installer wants one at the root: it installs that directory of the extracted archive.
fn helm_from_archive(
    sandbox: &Sandbox,
    helm: &HelmUnderTest,
    root: &Path,
    archive: &ArchiveSource,
    expected: &str,
) -> Result<()> {
    // Nothing of ours on PATH, and no helm either: the plugin must use its own binary and
    // hand the calling helm (HELM_BIN) to it.
    let empty = sandbox.root.join("empty-bin");
    fs::create_dir_all(&empty)?;
    for dir in SYSTEM_PATH {
        let found = Path::new(dir).join(dist::BINARY);
        ensure!(!found.exists(), "{} exists, so this check cannot tell which binary helm codex runs", found.display());
        if Path::new(dir).join("helm").exists() {
            eprintln!("[install] note: {dir}/helm exists, so render below does not prove the HELM_BIN hand-off");
        }
    }
    let path = [empty.as_path()];
    let name = helm.sandbox_name("archive");
    let (output, binary) = if helm.major >= 4 {
        let output = run_shown(sandbox.helm(&helm.path, &name, &path)?.args([
            "plugin",
            "install",
            archive.url,
            "--verify=false",
        ]))?;
        // Helm names the plugin directory after the archive.
        let plugin_dir = sandbox.root.join(&name).join("data/plugins").join(archive.name.trim_end_matches(".tar.gz"));
        (output, plugin_dir.join(dist::BINARY))
    } else {
        let extracted = sandbox.root.join(format!("{name}-extracted"));
        fs::create_dir_all(&extracted)?;
        run_shown(Command::new("tar").arg("-xzf").arg(archive.path).arg("-C").arg(&extracted))?;
        let plugin_dir = helm.plugin_dir(&extracted);
        let output = run_shown(sandbox.helm(&helm.path, &name, &path)?.arg("plugin").arg("install").arg(&plugin_dir))?;
        (output, extracted.canonicalize()?.join(dist::BINARY))
    };
    ensure!(output.contains("Installed plugin: codex"), "helm did not report the install");
    ensure!(
        output.contains(&format!("helm codex runs {}", binary.display())),
        "the install hook did not use the archive's {}",
        binary.display()
    );
    let printed = run_shown(sandbox.helm(&helm.path, &name, &path)?.args(["codex", "version"]))?;
    ensure!(printed.trim() == expected, "helm codex version printed {:?}, expected {expected:?}", printed.trim());

    let out = sandbox.root.join(format!("{name}-render"));
    run_shown(
        sandbox
            .helm(&helm.path, &name, &path)?
            .args(["codex", "render", "--env", "prod", "--out"])
            .arg(&out)
            .arg("-f")
            .arg(root.join("services.yaml"))
            // The example's password is a required secret input; render only shows placeholders.
            .env(crate::repo::DB_PASSWORD_ENV, "install-check-only"),
    )?;
    let rendered =
        fs::read_dir(&out)?.filter_map(|e| e.ok()).filter(|e| e.path().join("manifests.yaml").is_file()).count();
    ensure!(rendered > 0, "helm codex render wrote no manifests.yaml (did it find helm through HELM_BIN?)");

    // kubectl-codex's exit codes reach the caller through Helm (2: invalid input).
    let status = sandbox
        .helm(&helm.path, &name, &path)?
        .args(["codex", "validate", "-f", "/nonexistent/services.yaml"])
        .output()?
        .status;
    ensure!(status.code() == Some(2), "helm codex validate of a missing file exited with {status}, expected 2");
    Ok(())
}

/// Serves the files of one directory over HTTP on 127.0.0.1 (HEAD and GET), as the release
/// download would: Helm's installer wants a gzip content type, krew just the bytes.
struct FileServer {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FileServer {
    fn start(dir: &Path) -> Result<FileServer> {
        let listener = TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1")?;
        let address = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let (dir, stopped) = (dir.to_path_buf(), stop.clone());
        let thread = thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    if let Err(e) = serve(&dir, stream) {
                        eprintln!("[install] file server: {e}");
                    }
                }
            }
        });
        Ok(FileServer { address, stop, thread: Some(thread) })
    }

    fn url(&self, name: &str) -> String {
        format!("http://{}/{name}", self.address)
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the blocking accept so the thread sees the flag.
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(dir: &Path, mut stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let mut words = request.split_whitespace();
    let method = words.next().unwrap_or("");
    let name = words.next().unwrap_or("").trim_start_matches('/');
    // Plain file names only: nothing outside dir is reachable.
    let file = (!name.is_empty() && !name.contains('/') && !name.starts_with('.'))
        .then(|| dir.join(name))
        .filter(|p| p.is_file());
    eprintln!("[install] file server: {method} /{name} -> {}", if file.is_some() { 200 } else { 404 });
    match file {
        Some(path) => {
            let body = fs::read(path)?;
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            if method != "HEAD" {
                stream.write_all(&body)?;
            }
        }
        None => write!(stream, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?,
    }
    stream.flush()
}
