//! `cargo xtask dev-images`: the images of the example stack's `dev` runtime, assembled
//! from this host's files like the prod images (`images/example/`): no Docker engine,
//! no base image, nothing downloaded inside a pod.
//!
//! | repository                         | tag          | contents |
//! |------------------------------------|--------------|----------|
//! | codex-example/{greeter,catalog,gateway} | `<app>-dev` | the host's Go toolchain at /usr/local/go (what `go build` needs), /app/devwatch, a build cache pre-filled for the example module at /tmp/gocache (owned by UID 10001) |
//! | codex-example/web                  | `<app>-dev`  | the host's `node` and the shared libraries it and node_modules' native addons need |
//! | codex-example/agent                | `<app>`      | busybox (sh, sed, cat, …) for agent commands |
//! | codex-example/workspace-seed       | `<app>-dev`  | example/services (with vendor/), example/web (with node_modules/), busybox and `example/dev/seed-workspace.sh` |
//!
//! Sources are not in any image but the seed: in the dev runtime services read them from the
//! shared workspace PVC, where the agent edits them. Every image runs as UID/GID 10001.
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::exec;
use anyhow::{ensure, Context, Result};

use crate::images::elf::{is_elf, shared_libraries};
use crate::images::example::{app_user, path_str, write_user_db, APP_UID, DEFAULT_TAG};
use crate::images::oci::{self, assemble_and_push, ImageSpec};
use crate::repo::repo_root;

const REPOSITORY_PREFIX: &str = "codex-example";
/// The Go services whose dev image is the toolchain plus devwatch (one image, three names).
const GO_DEV_SERVICES: [&str; 3] = ["greeter", "catalog", "gateway"];
/// Where the toolchain lives in the Go dev image: the same path as on Debian's golang
/// packages and the upstream tarball, so `go` finds its GOROOT next to itself.
const GOROOT_IN_IMAGE: &str = "/usr/local/go";
/// The build cache inside the Go dev image; the image's user owns it.
const GOCACHE_IN_IMAGE: &str = "/tmp/gocache";
/// Build flags of every `go build` in a dev pod and of the cache warm-up here. -trimpath
/// keeps absolute directories out of the cache keys, so packages compiled here from
/// example/services are cache hits when a pod builds them from /workspace/services.
const GO_FLAGS: &str = "-mod=vendor -trimpath";

/// The `dev` runtime's tag for an app version: `0.1.0` → `0.1.0-dev`.
pub fn dev_tag(app_version: &str) -> String {
    format!("{app_version}-dev")
}

/// `cargo xtask dev-images`
#[derive(clap::Args, Debug)]
pub struct DevImagesArgs {
    /// `versions.app` of services.yaml: dev images are tagged `<version>-dev`, the agent
    /// image `<version>`.
    #[arg(long, default_value = DEFAULT_TAG)]
    app_version: String,
}

/// Prints one `name<TAB>reference` line per image on stdout; progress goes to stderr.
pub fn run_cli(args: DevImagesArgs) -> Result<()> {
    for (name, reference) in build_dev_images(&args.app_version)? {
        println!("{name}\t{reference}");
    }
    Ok(())
}

/// Builds and pushes every dev image; returns `(name, reference)` pairs.
pub fn build_dev_images(app_version: &str) -> Result<Vec<(String, String)>> {
    let root = repo_root();
    let out = root.join("target").join("dev-images");
    fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let etc = out.join("etc");
    write_user_db(&etc, "app", "/tmp")?;
    let build = DevBuild {
        services: root.join("example").join("services"),
        web: root.join("example").join("web"),
        tag: dev_tag(app_version),
        user_db: [(etc.join("passwd"), "/etc/passwd".to_string()), (etc.join("group"), "/etc/group".to_string())],
        busybox: busybox_files(&out)?,
        out,
        root,
    };
    let mut built = build.go_images()?;
    built.push(("web".to_string(), build.web_image()?));
    built.push(("agent".to_string(), build.agent_image(app_version)?));
    built.push(("workspace-seed".to_string(), build.seed_image()?));
    Ok(built)
}

/// What every dev image is assembled from.
struct DevBuild {
    root: PathBuf,
    /// target/dev-images: the build outputs that go into the images.
    out: PathBuf,
    services: PathBuf,
    web: PathBuf,
    /// The dev tag (`<app>-dev`).
    tag: String,
    /// /etc/passwd and /etc/group with the app user, in every image.
    user_db: [(PathBuf, String); 2],
    busybox: Vec<(PathBuf, String)>,
}

impl DevBuild {
    /// Go: one image, published under each Go service's repository.
    fn go_images(&self) -> Result<Vec<(String, String)>> {
        let devwatch = self.out.join("bin").join("devwatch");
        go_build_devwatch(&self.services, &devwatch)?;
        let gocache = self.out.join("gocache");
        warm_go_cache(&self.services, &gocache)?;
        let goroot = host_goroot()?;
        let mut files = toolchain_files(&goroot)?;
        files.push((devwatch, "/app/devwatch".to_string()));
        files.push((gocache, GOCACHE_IN_IMAGE.to_string()));
        files.extend(self.user_db.iter().cloned());
        let go_env = [
            ("PATH", format!("{GOROOT_IN_IMAGE}/bin:/app:/usr/bin:/bin")),
            ("HOME", "/tmp".to_string()),
            // Set, not derived: `go` finds its GOROOT through /proc/self/exe otherwise.
            ("GOROOT", GOROOT_IN_IMAGE.to_string()),
            ("GOCACHE", GOCACHE_IN_IMAGE.to_string()),
            ("GOFLAGS", GO_FLAGS.to_string()),
            ("CGO_ENABLED", "0".to_string()),
            ("GOTOOLCHAIN", "local".to_string()),
            // Dependencies are vendored: a module download from a pod is a bug, so make it fail.
            ("GOPROXY", "off".to_string()),
        ];
        let (first, rest) = GO_DEV_SERVICES.split_first().expect("at least one Go service");
        let first_ref = assemble_and_push(&ImageSpec {
            repository: format!("{REPOSITORY_PREFIX}/{first}"),
            tag: self.tag.clone(),
            files,
            entrypoint: vec!["/app/devwatch".to_string()],
            env: go_env.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            workdir: None,
            user: Some(app_user()),
            owners: vec![(GOCACHE_IN_IMAGE.to_string(), APP_UID, APP_UID)],
        })
        .context("the Go dev image")?;
        let mut built = vec![(first.to_string(), first_ref.clone())];
        for service in rest {
            let reference = format!("{}/{REPOSITORY_PREFIX}/{service}:{}", oci::registry_address(), self.tag);
            oci::copy(&first_ref, &reference)?;
            built.push((service.to_string(), reference));
        }
        Ok(built)
    }

    /// Web: node and its libraries; vite and the sources come from the workspace.
    fn web_image(&self) -> Result<String> {
        npm_ci(&self.web)?;
        let node = fs::canonicalize(crate::tools::on_path("node")?)?;
        let mut elves = vec![node.clone()];
        elves.extend(native_addons(&self.web.join("node_modules"))?);
        let mut files: Vec<(PathBuf, String)> = vec![(node, "/usr/bin/node".to_string())];
        for (dest, source) in shared_libraries(&elves)? {
            files.push((source, dest));
        }
        files.extend(self.user_db.iter().cloned());
        assemble_and_push(&ImageSpec {
            repository: format!("{REPOSITORY_PREFIX}/web"),
            tag: self.tag.clone(),
            files,
            entrypoint: vec!["/usr/bin/node".to_string()],
            env: vec![("HOME".into(), "/tmp".into()), ("PATH".into(), "/usr/bin:/bin".into())],
            workdir: None,
            user: Some(app_user()),
            owners: Vec::new(),
        })
        .context("the web dev image")
    }

    /// Agent: a shell and the usual tools, for commands such as `sed -i … message.go`; tagged
    /// with the app version itself, since agents run in every runtime.
    fn agent_image(&self, app_version: &str) -> Result<String> {
        let mut files = self.busybox.clone();
        files.extend(self.user_db.iter().cloned());
        assemble_and_push(&ImageSpec {
            repository: format!("{REPOSITORY_PREFIX}/agent"),
            tag: app_version.to_string(),
            files,
            entrypoint: vec!["/bin/sh".to_string()],
            env: vec![("HOME".into(), "/tmp".into()), ("PATH".into(), "/bin".into())],
            workdir: Some("/workspace".to_string()),
            user: Some(app_user()),
            owners: Vec::new(),
        })
        .context("the agent image")
    }

    /// Workspace seed: the sources with their dependencies, copied into an empty workspace.
    fn seed_image(&self) -> Result<String> {
        let mut files = self.busybox.clone();
        files.extend(self.user_db.iter().cloned());
        files.push((self.services.clone(), "/seed/services".to_string()));
        files.extend(web_sources(&self.web)?);
        files.push((self.root.join("example/dev/seed-workspace.sh"), "/seed/seed-workspace.sh".to_string()));
        assemble_and_push(&ImageSpec {
            repository: format!("{REPOSITORY_PREFIX}/workspace-seed"),
            tag: self.tag.clone(),
            files,
            entrypoint: vec!["/bin/sh".to_string(), "/seed/seed-workspace.sh".to_string()],
            env: vec![
                ("HOME".into(), "/tmp".into()),
                ("PATH".into(), "/bin".into()),
                ("WORKSPACE".into(), "/workspace".into()),
            ],
            workdir: None,
            user: Some(app_user()),
            owners: Vec::new(),
        })
        .context("the workspace-seed image")
    }
}

/// Offline: the dev images build from vendored modules and the local build cache only.
fn go(module: &Path) -> Command {
    let mut go = super::go_linux_static(module);
    go.env("GOPROXY", "off");
    go
}

fn go_build_devwatch(module: &Path, out: &Path) -> Result<()> {
    eprintln!("[dev-images] go build ./cmd/devwatch");
    Ok(exec::logged(
        go(module)
            .env("GOFLAGS", "")
            .args(["build", "-mod=vendor", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o"])
            .arg(out)
            .arg("./cmd/devwatch"),
    )?)
}

/// Compiles every Go service into `cache` exactly as a dev pod will (same toolchain, flags
/// and environment), so a pod's first build only links instead of compiling the standard
/// library and pgx from scratch, which takes minutes on a small node.
fn warm_go_cache(module: &Path, cache: &Path) -> Result<()> {
    eprintln!("[dev-images] warming the Go build cache {}", cache.display());
    let packages: Vec<String> = GO_DEV_SERVICES.iter().map(|s| format!("./cmd/{s}")).collect();
    // Several packages and no -o: compile everything, keep only the cache.
    Ok(exec::logged(go(module).env("GOCACHE", cache).env("GOFLAGS", GO_FLAGS).arg("build").args(&packages))?)
}

fn host_goroot() -> Result<PathBuf> {
    Ok(PathBuf::from(exec::stdout(Command::new("go").args(["env", "GOROOT"]))?.trim()))
}

/// The parts of GOROOT that `go build` uses: the go command, the compiler, assembler and
/// linker, the standard library's sources and headers. Tests, test data, the sources of
/// the toolchain itself (src/cmd) and documentation stay out: half the size.
fn toolchain_files(goroot: &Path) -> Result<Vec<(PathBuf, String)>> {
    let mut files = Vec::new();
    for name in ["VERSION", "go.env", "bin/go", "pkg/include", "lib"] {
        let path = goroot.join(name);
        ensure!(path.exists(), "{} is missing from the Go toolchain", path.display());
        files.push((path, format!("{GOROOT_IN_IMAGE}/{name}")));
    }
    for tool in ["compile", "link", "asm", "cgo", "buildid"] {
        let path = goroot.join("pkg/tool/linux_amd64").join(tool);
        if path.exists() {
            files.push((path, format!("{GOROOT_IN_IMAGE}/pkg/tool/linux_amd64/{tool}")));
        }
    }
    let src = goroot.join("src");
    walk(&src, &mut |path, is_dir| {
        let relative = path.strip_prefix(&src).expect("walk stays below src");
        if is_dir {
            let name = relative.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            return Ok(!(name == "testdata" || relative == Path::new("cmd")));
        }
        if !path.to_string_lossy().ends_with("_test.go") {
            files.push((path.to_path_buf(), format!("{GOROOT_IN_IMAGE}/src/{}", path_str(relative)?)));
        }
        Ok(true)
    })?;
    Ok(files)
}

/// Visits every entry below `dir` in sorted order; `visit` returns whether to descend into
/// a directory. Symlinks are reported as files (not followed).
fn walk(dir: &Path, visit: &mut dyn FnMut(&Path, bool) -> Result<bool>) -> Result<()> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    entries.sort();
    for path in entries {
        let is_dir = fs::symlink_metadata(&path)?.is_dir();
        if visit(&path, is_dir)? && is_dir {
            walk(&path, visit)?;
        }
    }
    Ok(())
}

fn npm_ci(web: &Path) -> Result<()> {
    if web.join("node_modules/vite/bin/vite.js").is_file() {
        return Ok(());
    }
    eprintln!("[dev-images] npm ci in {}", web.display());
    Ok(exec::logged(Command::new("npm").current_dir(web).args(["ci", "--no-audit", "--no-fund", "--prefer-offline"]))?)
}

/// Native addons (`*.node`, e.g. rollup's) that node loads from node_modules: their shared
/// libraries must be in the web image too.
fn native_addons(node_modules: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    walk(node_modules, &mut |path, is_dir| {
        if !is_dir && path.extension().is_some_and(|e| e == "node") && is_elf(path)? {
            found.push(path.to_path_buf());
        }
        Ok(true)
    })?;
    Ok(found)
}

/// example/web for the seed: everything but the prod build output and Vite's caches.
fn web_sources(web: &Path) -> Result<Vec<(PathBuf, String)>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(web)? {
        let path = entry?.path();
        let name = path_str(Path::new(path.file_name().context("entry without a name")?))?;
        if name == "dist" {
            continue;
        }
        if name == "node_modules" {
            for module in fs::read_dir(&path)? {
                let module = module?.path();
                let module_name = path_str(Path::new(module.file_name().context("entry without a name")?))?;
                if !module_name.starts_with(".vite") {
                    files.push((module, format!("/seed/web/node_modules/{module_name}")));
                }
            }
            continue;
        }
        files.push((path, format!("/seed/web/{name}")));
    }
    files.sort();
    Ok(files)
}

/// Debian's static busybox at /bin/busybox and one symlink per applet beside it.
fn busybox_files(out: &Path) -> Result<Vec<(PathBuf, String)>> {
    let busybox = Path::new("/bin/busybox");
    if !busybox.is_file() {
        eprintln!("[dev-images] installing busybox-static from Debian's packages");
        exec::logged(Command::new("apt-get").env("DEBIAN_FRONTEND", "noninteractive").args([
            "install",
            "-y",
            "--no-install-recommends",
            "busybox-static",
        ]))?;
    }
    let list = exec::output(Command::new(busybox).arg("--list"))?;
    let applets = out.join("busybox-applets");
    if applets.exists() {
        fs::remove_dir_all(&applets)?;
    }
    fs::create_dir_all(&applets)?;
    for applet in
        String::from_utf8_lossy(&list.stdout).lines().map(str::trim).filter(|a| !a.is_empty() && *a != "busybox")
    {
        std::os::unix::fs::symlink("busybox", applets.join(applet))?;
    }
    Ok(vec![(applets, "/bin".to_string()), (busybox.to_path_buf(), "/bin/busybox".to_string())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_tags_extend_the_app_version() {
        assert_eq!(dev_tag("0.1.0"), "0.1.0-dev");
    }

    #[test]
    fn the_toolchain_leaves_out_tests_and_its_own_sources() {
        let goroot = tempfile::tempdir().unwrap();
        let g = goroot.path();
        for dir in ["bin", "pkg/include", "pkg/tool/linux_amd64", "lib", "src/net/http/testdata", "src/cmd/go"] {
            fs::create_dir_all(g.join(dir)).unwrap();
        }
        for file in [
            "VERSION",
            "go.env",
            "bin/go",
            "pkg/tool/linux_amd64/compile",
            "src/net/http/server.go",
            "src/net/http/server_test.go",
            "src/net/http/testdata/x.txt",
            "src/cmd/go/main.go",
        ] {
            fs::write(g.join(file), "x").unwrap();
        }
        let dests: Vec<String> = toolchain_files(g).unwrap().into_iter().map(|(_, d)| d).collect();
        assert!(dests.contains(&"/usr/local/go/src/net/http/server.go".to_string()), "{dests:?}");
        assert!(dests.contains(&"/usr/local/go/pkg/tool/linux_amd64/compile".to_string()), "{dests:?}");
        assert!(
            !dests.iter().any(|d| d.ends_with("_test.go") || d.contains("testdata") || d.contains("/src/cmd")),
            "{dests:?}"
        );
    }
}
