//! The image builder: BuildKit's `buildctl` or `docker buildx`, found with `which` (or given
//! by flag / environment), and the command lines we run, as pure functions.

use crate::exit::{self, coded};
use anyhow::{anyhow, Result};
use std::path::{Path, PathBuf};

/// The BuildKit our tests run against; `cargo xtask tools buildkit` builds its buildctl, found
/// after `PATH` (must match xtask's `versions::BUILDKIT`, checked by an xtask test).
pub const TESTED_BUILDKIT_VERSION: &str = "v0.34.2";

/// Environment variable that chooses the builder (`auto`, `buildctl`, `buildx`).
pub const BUILDER_ENV: &str = "CODEX_BUILDER";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum BuilderChoice {
    /// `buildctl` on PATH first, else `docker` with a working `docker buildx`.
    #[default]
    Auto,
    Buildctl,
    Buildx,
}

/// A builder that was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Builder {
    Buildctl { program: PathBuf, addr: Option<String> },
    Buildx { docker: PathBuf },
}

impl Builder {
    pub fn name(&self) -> &'static str {
        match self {
            Builder::Buildctl { .. } => "buildctl",
            Builder::Buildx { .. } => "buildx",
        }
    }
}

/// What the command line says about the builder.
#[derive(Debug, Clone, Default)]
pub struct BuilderRequest {
    pub choice: BuilderChoice,
    pub buildctl: Option<PathBuf>,
    pub docker: Option<PathBuf>,
    pub buildkit_addr: Option<String>,
}

/// Finds the builder; exit code 3 with what to do when there is none.
pub fn locate(request: &BuilderRequest) -> Result<Builder> {
    let buildctl = || find("buildctl", request.buildctl.as_deref(), "--buildctl");
    let docker = || find("docker", request.docker.as_deref(), "--docker");
    match request.choice {
        BuilderChoice::Buildctl => Ok(Builder::Buildctl { program: buildctl()?, addr: request.buildkit_addr.clone() }),
        BuilderChoice::Buildx => {
            let docker = docker()?;
            check_buildx(&docker)?;
            Ok(Builder::Buildx { docker })
        }
        BuilderChoice::Auto => {
            if request.buildctl.is_some() || which::which("buildctl").is_ok() || cached_buildctl().is_some() {
                return Ok(Builder::Buildctl { program: buildctl()?, addr: request.buildkit_addr.clone() });
            }
            if let Ok(docker) = docker() {
                if check_buildx(&docker).is_ok() {
                    return Ok(Builder::Buildx { docker });
                }
            }
            Err(coded(exit::TOOL_MISSING, anyhow!("{}", no_builder_message(super::buildkitd::find_running()))))
        }
    }
}

/// The builder to show in a dry run: the one that would be found, else buildctl by name.
pub fn for_display(request: &BuilderRequest) -> Builder {
    locate(request).unwrap_or_else(|_| match request.choice {
        BuilderChoice::Buildx => Builder::Buildx { docker: request.docker.clone().unwrap_or_else(|| "docker".into()) },
        _ => Builder::Buildctl {
            program: request.buildctl.clone().unwrap_or_else(|| "buildctl".into()),
            addr: request.buildkit_addr.clone(),
        },
    })
}

/// The "no builder" error: with a buildkitd running, the exports that make it usable.
fn no_builder_message(running: Option<super::buildkitd::Running>) -> String {
    let head = "no image builder found: neither buildctl (BuildKit) nor docker with the buildx plugin is on PATH.";
    match running {
        Some(daemon) => format!(
            "{head} buildkitd runs (pid {}, {}) and listens on {}: {}, then run this command again.",
            daemon.pid,
            daemon.program.display(),
            daemon.addr,
            daemon.exports()
        ),
        None => format!(
            "{head} Install BuildKit (buildctl, with a running buildkitd; point at it with --buildkit-addr or \
             $BUILDKIT_HOST) or Docker with buildx, pass --buildctl PATH / --docker PATH, or skip building with \
             `up --skip-build`. In this repository `cargo xtask buildkit up` builds and starts BuildKit."
        ),
    }
}

/// The buildctl `cargo xtask tools buildkit` built, if any.
fn cached_buildctl() -> Option<PathBuf> {
    crate::tool_cache::built(&format!("buildkit-{TESTED_BUILDKIT_VERSION}"), "buildctl")
}

fn find(program: &str, explicit: Option<&Path>, flag: &str) -> Result<PathBuf> {
    let cached = || if program == "buildctl" { cached_buildctl() } else { None };
    match explicit {
        Some(path) if path.is_file() => Ok(path.to_path_buf()),
        Some(path) => Err(coded(exit::TOOL_MISSING, anyhow!("{flag} {}: no such file", path.display()))),
        None => which::which(program).or_else(|e| cached().ok_or(e)).map_err(|_| {
            coded(
                exit::TOOL_MISSING,
                anyhow!("{program} not found on PATH (pass {flag} PATH); in this repository `cargo xtask buildkit up` provides BuildKit"),
            )
        }),
    }
}

fn check_buildx(docker: &Path) -> Result<()> {
    let output =
        std::process::Command::new(docker).args(["buildx", "version"]).stdin(std::process::Stdio::null()).output();
    match output {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(coded(
            exit::TOOL_MISSING,
            anyhow!("`{} buildx version` failed: {}", docker.display(), String::from_utf8_lossy(&out.stderr).trim()),
        )),
        Err(e) => Err(coded(exit::TOOL_MISSING, anyhow!("running {}: {e}", docker.display()))),
    }
}

/// One build as the builder sees it.
#[derive(Debug, Clone)]
pub struct BuildRequest<'a> {
    pub context: &'a Path,
    pub dockerfile: &'a Path,
    pub target: Option<&'a str>,
    pub args: &'a [(String, String)],
    /// Named extra contexts: name → directory.
    pub contexts: &'a [(String, PathBuf)],
    /// Every reference the image is pushed under.
    pub tags: &'a [String],
    /// Push over plain HTTP.
    pub insecure: bool,
    pub metadata_file: &'a Path,
}

/// The program and its arguments.
pub fn command_line(builder: &Builder, build: &BuildRequest<'_>) -> (PathBuf, Vec<String>) {
    match builder {
        Builder::Buildctl { program, addr } => (program.clone(), buildctl_args(addr.as_deref(), build)),
        Builder::Buildx { docker } => (docker.clone(), buildx_args(build)),
    }
}

fn buildctl_args(addr: Option<&str>, build: &BuildRequest<'_>) -> Vec<String> {
    let mut args = Vec::new();
    if let Some(addr) = addr {
        args.extend(["--addr".to_string(), addr.to_string()]);
    }
    let dockerfile_dir = build.dockerfile.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let dockerfile_name =
        build.dockerfile.file_name().map_or_else(|| "Dockerfile".into(), |n| n.to_string_lossy().into_owned());
    args.extend(["build".into(), "--frontend".into(), "dockerfile.v0".into()]);
    args.extend(["--local".into(), format!("context={}", build.context.display())]);
    args.extend(["--local".into(), format!("dockerfile={}", dockerfile_dir.display())]);
    for (name, dir) in build.contexts {
        args.extend(["--local".into(), format!("{name}={}", dir.display())]);
    }
    args.extend(["--opt".into(), format!("filename={dockerfile_name}")]);
    for (name, _) in build.contexts {
        args.extend(["--opt".into(), format!("context:{name}=local:{name}")]);
    }
    if let Some(target) = build.target {
        args.extend(["--opt".into(), format!("target={target}")]);
    }
    for (key, value) in build.args {
        args.extend(["--opt".into(), format!("build-arg:{key}={value}")]);
    }
    // buildctl reads --output as CSV: the quotes keep the comma-separated names one field.
    let mut output = format!("type=image,\"name={}\",push=true", build.tags.join(","));
    if build.insecure {
        output.push_str(",registry.insecure=true");
    }
    args.extend(["--output".into(), output]);
    args.extend(["--metadata-file".into(), build.metadata_file.display().to_string()]);
    args
}

fn buildx_args(build: &BuildRequest<'_>) -> Vec<String> {
    let mut args: Vec<String> =
        vec!["buildx".into(), "build".into(), "--file".into(), build.dockerfile.display().to_string()];
    if let Some(target) = build.target {
        args.extend(["--target".into(), target.to_string()]);
    }
    for (key, value) in build.args {
        args.extend(["--build-arg".into(), format!("{key}={value}")]);
    }
    for (name, dir) in build.contexts {
        args.extend(["--build-context".into(), format!("{name}={}", dir.display())]);
    }
    for tag in build.tags {
        args.extend(["--tag".into(), tag.clone()]);
    }
    args.extend(["--push".into(), "--metadata-file".into(), build.metadata_file.display().to_string()]);
    args.push(build.context.display().to_string());
    args
}

/// Shell-quoted, for messages and dry runs.
pub fn display(program: &Path, args: &[String]) -> String {
    std::iter::once(program.display().to_string())
        .chain(args.iter().cloned())
        .map(|a| shell_quote(&a))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_quote(text: &str) -> String {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=,@+".contains(c)) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(args: &'a [(String, String)], tags: &'a [String], insecure: bool) -> BuildRequest<'a> {
        BuildRequest {
            context: Path::new("example/services"),
            dockerfile: Path::new("example/services/Dockerfile"),
            target: Some("dev"),
            args,
            contexts: &[],
            tags,
            insecure,
            metadata_file: Path::new("/tmp/meta.json"),
        }
    }

    #[test]
    fn named_contexts_are_passed_as_locals_and_context_options_or_build_contexts() {
        let tags = ["r/g:1".to_string()];
        let contexts =
            [("shared".to_string(), PathBuf::from("example/shared")), ("protos".to_string(), PathBuf::from("p"))];
        let mut build = request(&[], &tags, false);
        build.contexts = &contexts;
        let buildctl = Builder::Buildctl { program: "buildctl".into(), addr: None };
        let (_, line) = command_line(&buildctl, &build);
        let shown = line.join(" ");
        assert!(
            shown.contains(
                "--local context=example/services --local dockerfile=example/services --local shared=example/shared \
                 --local protos=p --opt filename=Dockerfile --opt context:shared=local:shared --opt context:protos=local:protos"
            ),
            "{shown}"
        );
        let (_, line) = command_line(&Builder::Buildx { docker: "docker".into() }, &build);
        let shown = line.join(" ");
        assert!(
            shown.contains("--build-context shared=example/shared --build-context protos=p --tag r/g:1"),
            "{shown}"
        );
    }

    #[test]
    fn buildctl_builds_the_target_and_pushes_both_tags() {
        let args = [("SERVICE".to_string(), "greeter".to_string())];
        let tags = ["r:5000/g:1".to_string(), "r:5000/g:build-0123".to_string()];
        let builder = Builder::Buildctl { program: "buildctl".into(), addr: Some("tcp://127.0.0.1:1234".into()) };
        let (program, line) = command_line(&builder, &request(&args, &tags, true));
        assert_eq!(program, Path::new("buildctl"));
        assert_eq!(
            line,
            [
                "--addr",
                "tcp://127.0.0.1:1234",
                "build",
                "--frontend",
                "dockerfile.v0",
                "--local",
                "context=example/services",
                "--local",
                "dockerfile=example/services",
                "--opt",
                "filename=Dockerfile",
                "--opt",
                "target=dev",
                "--opt",
                "build-arg:SERVICE=greeter",
                "--output",
                "type=image,\"name=r:5000/g:1,r:5000/g:build-0123\",push=true,registry.insecure=true",
                "--metadata-file",
                "/tmp/meta.json",
            ]
        );
    }

    #[test]
    fn buildctl_without_address_target_or_insecure_registry() {
        let tags = ["r/g:1".to_string()];
        let mut build = request(&[], &tags, false);
        build.target = None;
        build.dockerfile = Path::new("Dockerfile");
        let builder = Builder::Buildctl { program: "buildctl".into(), addr: None };
        let (_, line) = command_line(&builder, &build);
        assert_eq!(line[0], "build");
        assert!(line.contains(&"dockerfile=.".to_string()));
        assert!(!line.iter().any(|a| a.starts_with("target=")));
        assert!(line.contains(&"type=image,\"name=r/g:1\",push=true".to_string()));
    }

    #[test]
    fn buildx_builds_the_target_and_pushes_both_tags() {
        let args = [("SERVICE".to_string(), "greeter".to_string())];
        let tags = ["r/g:1".to_string(), "r/g:build-0123".to_string()];
        let builder = Builder::Buildx { docker: "/usr/bin/docker".into() };
        let (program, line) = command_line(&builder, &request(&args, &tags, false));
        assert_eq!(program, Path::new("/usr/bin/docker"));
        assert_eq!(
            line,
            [
                "buildx",
                "build",
                "--file",
                "example/services/Dockerfile",
                "--target",
                "dev",
                "--build-arg",
                "SERVICE=greeter",
                "--tag",
                "r/g:1",
                "--tag",
                "r/g:build-0123",
                "--push",
                "--metadata-file",
                "/tmp/meta.json",
                "example/services",
            ]
        );
    }

    #[test]
    fn command_lines_display_shell_quoted() {
        let shown =
            display(Path::new("buildctl"), &["--output".into(), "type=image,\"name=a,b\"".into(), "it's".into()]);
        assert_eq!(shown, "buildctl --output 'type=image,\"name=a,b\"' 'it'\\''s'");
    }

    #[test]
    fn an_explicit_builder_path_that_does_not_exist_is_a_missing_tool() {
        let request = BuilderRequest {
            choice: BuilderChoice::Buildctl,
            buildctl: Some("/nonexistent/buildctl".into()),
            ..Default::default()
        };
        let error = locate(&request).unwrap_err();
        assert_eq!(crate::exit::code_of(&error), crate::exit::TOOL_MISSING);
        assert!(error.to_string().contains("--buildctl /nonexistent/buildctl: no such file"));
    }
    #[test]
    fn without_a_builder_a_running_buildkitd_is_named_with_its_exports() {
        let daemon = crate::build::buildkitd::Running {
            pid: 42,
            program: "/opt/bk/buildkitd".into(),
            addr: "unix:///r/buildkitd.sock".into(),
        };
        let message = no_builder_message(Some(daemon));
        assert!(message.contains("buildkitd runs (pid 42"), "{message}");
        assert!(message.contains("export BUILDKIT_HOST=unix:///r/buildkitd.sock"), "{message}");
        assert!(!message.contains("cargo xtask buildkit up"), "{message}");
        assert!(no_builder_message(None).contains("cargo xtask buildkit up"));
    }
}
