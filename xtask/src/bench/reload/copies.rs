//! The edited copies of the example bench reload rebuilds from, so the repository itself is
//! never edited: services.yaml and example/ for the BuildKit baseline, the sources for the
//! host-build baseline.

use super::{Bench, BUILD_NAMESPACE, BUILD_REPOSITORY_PREFIX};
use crate::bench::harness::{replace_line, retarget};
use crate::exec;
use crate::images::example::write_user_db;
use crate::images::oci::ImageSpec;
use anyhow::{ensure, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The BuildKit baseline's copy of services.yaml and example/ (build contexts are relative
/// to services.yaml; example/web/.npm-cache, which web/Dockerfile installs from, comes along).
pub(super) struct BuildCopy {
    pub(super) dir: PathBuf,
}

impl BuildCopy {
    pub(super) fn prepare(bench: &Bench, services_yaml: &str) -> Result<BuildCopy> {
        let services_yaml = retarget(services_yaml, "prod", BUILD_NAMESPACE)?;
        ensure!(
            services_yaml.contains("repository: codex-example/"),
            "services.yaml no longer names repositories `codex-example/…`"
        );
        let dir = bench.work.join("buildkit");
        fs::create_dir_all(&dir)?;
        exec::output(Command::new("cp").arg("-a").arg(bench.root.join("example")).arg(&dir))?;
        let yaml =
            services_yaml.replace("repository: codex-example/", &format!("repository: {BUILD_REPOSITORY_PREFIX}"));
        fs::write(dir.join("services.yaml"), yaml)?;
        Ok(BuildCopy { dir })
    }

    pub(super) fn edit_go(&self, line: &str) -> Result<()> {
        replace_line(&self.dir.join("example/services/cmd/greeter/message.go"), "const Message = ", line)
    }

    pub(super) fn edit_vite(&self, line: &str) -> Result<()> {
        replace_line(&self.dir.join("example/web/src/title.js"), "export const title = ", line)
    }
}

/// The baseline's own copy of the sources, so the repository is never edited.
pub(super) struct Sources {
    services: PathBuf,
    web: PathBuf,
    bin: PathBuf,
    etc: PathBuf,
}

impl Sources {
    pub(super) fn prepare(bench: &Bench) -> Result<Sources> {
        let services = bench.work.join("services");
        let web = bench.work.join("web");
        let bin = bench.work.join("bin");
        let etc = bench.work.join("etc");
        copy_tree(&bench.root.join("example/services"), &services, &[])?;
        copy_tree(&bench.root.join("example/web"), &web, &["node_modules", "dist"])?;
        // Dependencies as a pipeline's cache would have them: installed once, not per edit.
        std::os::unix::fs::symlink(bench.root.join("example/web/node_modules"), web.join("node_modules"))?;
        write_user_db(&etc, "app", "/app")?;
        fs::create_dir_all(&bin)?;
        // webserve does not change with the frontend's sources: built once, like a cached layer.
        exec::output(
            go(&services)
                .args(["build", "-mod=vendor", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o"])
                .arg(bin.join("webserve"))
                .arg("./cmd/webserve"),
        )?;
        Ok(Sources { services, web, bin, etc })
    }

    pub(super) fn edit_go(&self, line: &str) -> Result<()> {
        replace_line(&self.services.join("cmd/greeter/message.go"), "const Message = ", line)
    }

    pub(super) fn edit_vite(&self, line: &str) -> Result<()> {
        replace_line(&self.web.join("src/title.js"), "export const title = ", line)
    }

    /// The prod build of images/example/ for one command, with the host's warm cache.
    pub(super) fn build_greeter(&self) -> Result<PathBuf> {
        let out = self.bin.join("greeter");
        exec::output(
            go(&self.services)
                .args(["build", "-mod=vendor", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o"])
                .arg(&out)
                .arg("./cmd/greeter"),
        )?;
        Ok(out)
    }

    pub(super) fn vite_build(&self) -> Result<PathBuf> {
        exec::output(Command::new("node").current_dir(&self.web).args([
            "node_modules/vite/bin/vite.js",
            "build",
            "--logLevel",
            "warn",
        ]))?;
        Ok(self.web.join("dist"))
    }

    pub(super) fn user_db(&self) -> Vec<(PathBuf, String)> {
        vec![(self.etc.join("passwd"), "/etc/passwd".into()), (self.etc.join("group"), "/etc/group".into())]
    }

    /// The same image `cargo xtask images` makes for the greeter, under a new tag.
    pub(super) fn greeter_image(&self, binary: &Path, tag: &str) -> ImageSpec {
        let mut files = vec![(binary.to_path_buf(), "/app/greeter".to_string())];
        files.extend(self.user_db());
        ImageSpec {
            repository: "codex-example/greeter".into(),
            tag: tag.into(),
            files,
            entrypoint: vec!["/app/greeter".into()],
            user: Some(crate::images::example::app_user()),
            ..ImageSpec::default()
        }
    }

    pub(super) fn web_image(&self, dist: &Path, tag: &str) -> ImageSpec {
        let mut files = vec![
            (self.bin.join("webserve"), "/app/webserve".to_string()),
            (dist.to_path_buf(), "/srv/www".to_string()),
        ];
        files.extend(self.user_db());
        ImageSpec {
            repository: "codex-example/web".into(),
            tag: tag.into(),
            files,
            entrypoint: vec!["/app/webserve".into()],
            env: vec![("WEB_ROOT".into(), "/srv/www".into())],
            user: Some(crate::images::example::app_user()),
            ..ImageSpec::default()
        }
    }
}

fn go(module: &Path) -> Command {
    let mut go = crate::images::go_linux_static(module);
    go.env("GOFLAGS", "");
    go
}

/// Copies a directory tree (files, directories, symlinks), leaving out top-level `skip` names.
fn copy_tree(from: &Path, to: &Path, skip: &[&str]) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from).with_context(|| format!("listing {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        let (source, dest) = (entry.path(), to.join(&name));
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&source)?, &dest)?;
        } else if kind.is_dir() {
            copy_tree(&source, &dest, &[])?;
        } else {
            fs::copy(&source, &dest).with_context(|| format!("copying {}", source.display()))?;
        }
    }
    Ok(())
}

/// services.yaml with the `tag:` right after `repository: <repository>` set to `tag`.
pub(super) fn set_tag(yaml: &str, repository: &str, tag: &str) -> Result<String> {
    let anchor = format!("repository: {repository}\n");
    let at = yaml.find(&anchor).with_context(|| format!("services.yaml has no `{anchor}`"))? + anchor.len();
    let rest = &yaml[at..];
    let line_end = rest.find('\n').unwrap_or(rest.len());
    let line = &rest[..line_end];
    let indent = line.len() - line.trim_start().len();
    ensure!(line.trim_start().starts_with("tag: "), "the line after `{}` is not its tag: {line:?}", anchor.trim());
    Ok(format!("{}{}tag: \"{tag}\"{}", &yaml[..at], &line[..indent], &rest[line_end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_set_right_after_their_repository() {
        let yaml = "images:\n  greeter:\n    repository: codex-example/greeter\n    tag: \"{{ versions.app }}\"\n  web:\n    repository: codex-example/web\n    tag: \"x\"\n";
        let changed = set_tag(yaml, "codex-example/greeter", "reload-1").unwrap();
        assert_eq!(changed, yaml.replace("tag: \"{{ versions.app }}\"", "tag: \"reload-1\""));
        assert!(set_tag(yaml, "codex-example/nothing", "t").is_err());
    }
}
