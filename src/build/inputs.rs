//! The input digest of one image build: what the builder will see, in a canonical form, so
//! that the same inputs give the same digest whatever the files' mtimes or creation order.
//!
//! Encoding (sha256 over it): a version line, then one line per context entry sorted by path
//! (`F path exec|plain sha256`, `D path`, `L path target`), honouring the ignore file (as
//! BuildKit: `<Dockerfile>.dockerignore` beside the Dockerfile when it exists, else the
//! context's `.dockerignore`); then
//! the Dockerfile's sha256, the target, each build arg (sorted), and the platform; then, for
//! each named extra context (sorted by name), a `context NAME` line and its entries, filtered by
//! that context's own `.dockerignore`.

use super::dockerignore::DockerIgnore;
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Bumped when the encoding changes, so old content tags are not taken for new ones.
const ENCODING: &str = "kubectl-codex build inputs v1";

/// Everything a build reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildInputs {
    pub context: PathBuf,
    pub dockerfile: PathBuf,
    pub target: Option<String>,
    pub args: BTreeMap<String, String>,
    pub platform: String,
    /// Named extra build contexts (`build.contexts`): name → directory.
    pub contexts: BTreeMap<String, PathBuf>,
}

/// The platform images are built for: the host's, as `os/arch`.
pub fn host_platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("linux/{arch}")
}

/// sha256 (hex) of the build inputs.
pub fn digest(inputs: &BuildInputs) -> Result<String> {
    let mut hasher = Sha256::new();
    let mut line = |text: String| {
        hasher.update(text.as_bytes());
        hasher.update(b"\n");
    };
    line(ENCODING.to_string());
    for entry in context_entries(&inputs.context, &ignore_file(inputs))? {
        line(entry);
    }
    let dockerfile = std::fs::read(&inputs.dockerfile)
        .with_context(|| format!("reading the Dockerfile {}", inputs.dockerfile.display()))?;
    line(format!("dockerfile {}", sha256_hex(&dockerfile)));
    line(format!("target {}", inputs.target.as_deref().unwrap_or("")));
    for (key, value) in &inputs.args {
        line(format!("arg {}={}", escape(key), escape(value)));
    }
    line(format!("platform {}", inputs.platform));
    // Named contexts after everything else, so a build without them keeps its digest. Each is
    // filtered by its own .dockerignore, as BuildKit's Dockerfile frontend does.
    for (name, dir) in &inputs.contexts {
        line(format!("context {}", escape(name)));
        for entry in
            context_entries(dir, &dir.join(".dockerignore")).with_context(|| format!("the build context \"{name}\""))?
        {
            line(entry);
        }
    }
    Ok(crate::config::resolve::hex(&hasher.finalize()))
}

/// The ignore file the builder will use: `<Dockerfile>.dockerignore` wins over the context's.
fn ignore_file(inputs: &BuildInputs) -> PathBuf {
    let mut beside = inputs.dockerfile.clone().into_os_string();
    beside.push(".dockerignore");
    let beside = PathBuf::from(beside);
    if beside.is_file() {
        beside
    } else {
        inputs.context.join(".dockerignore")
    }
}

/// One canonical line per entry of the context that the ignore file keeps, sorted by path.
fn context_entries(context: &Path, ignore_file: &Path) -> Result<Vec<String>> {
    let meta =
        std::fs::metadata(context).with_context(|| format!("reading the build context {}", context.display()))?;
    anyhow::ensure!(meta.is_dir(), "the build context {} is not a directory", context.display());
    let ignore = match std::fs::read_to_string(ignore_file) {
        Ok(text) => DockerIgnore::parse(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => DockerIgnore::default(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", ignore_file.display())),
    };
    let mut entries = BTreeMap::new();
    walk(context, "", &ignore, &mut entries)?;
    Ok(entries.into_values().collect())
}

fn walk(dir: &Path, prefix: &str, ignore: &DockerIgnore, out: &mut BTreeMap<String, String>) -> Result<()> {
    let read = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in read {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let name = entry.file_name();
        let name =
            name.to_str().with_context(|| format!("{}: a file name that is not UTF-8", entry.path().display()))?;
        let relative = if prefix.is_empty() { name.to_string() } else { format!("{prefix}/{name}") };
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).with_context(|| format!("reading {}", path.display()))?;
        let ignored = ignore.is_ignored(&relative);
        if meta.is_dir() {
            // An ignored directory may still hold an exception's files, so walk it then.
            if ignored && !ignore.has_exceptions() {
                continue;
            }
            if !ignored {
                out.insert(relative.clone(), format!("D {}", escape(&relative)));
            }
            walk(&path, &relative, ignore, out)?;
        } else if ignored {
            continue;
        } else if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).with_context(|| format!("reading the link {}", path.display()))?;
            out.insert(relative.clone(), format!("L {} {}", escape(&relative), escape(&target.to_string_lossy())));
        } else if meta.is_file() {
            let content = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let exec = if meta.permissions().mode() & 0o111 != 0 { "exec" } else { "plain" };
            out.insert(relative.clone(), format!("F {} {exec} {}", escape(&relative), sha256_hex(&content)));
        }
        // Sockets, fifos and devices are not sent to a builder.
    }
    Ok(())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::config::resolve::hex(&Sha256::digest(bytes))
}

/// Keeps one entry per line whatever the names hold.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n").replace(' ', "\\s")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn inputs(dir: &Path) -> BuildInputs {
        BuildInputs {
            context: dir.join("ctx"),
            dockerfile: dir.join("ctx/Dockerfile"),
            target: Some("prod".into()),
            args: BTreeMap::from([("SERVICE".to_string(), "greeter".to_string())]),
            platform: "linux/amd64".into(),
            contexts: BTreeMap::new(),
        }
    }

    fn context(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, content) in files {
            let full = dir.path().join("ctx").join(path);
            fs::create_dir_all(full.parent().unwrap()).unwrap();
            fs::write(full, content).unwrap();
        }
        dir
    }

    const FILES: &[(&str, &str)] = &[
        ("Dockerfile", "FROM scratch AS prod\nCOPY . /src\n"),
        (".dockerignore", "**/*_test.go\nnotes\n"),
        ("cmd/main.go", "package main\n"),
        ("go.mod", "module x\n"),
    ];

    #[test]
    fn the_same_inputs_give_the_same_digest_whatever_the_creation_order_and_mtimes() {
        let forward = context(FILES);
        let mut reversed_files = FILES.to_vec();
        reversed_files.reverse();
        let reversed = context(&reversed_files);
        let file = reversed.path().join("ctx/go.mod");
        fs::File::options().write(true).open(&file).unwrap().set_modified(std::time::SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(digest(&inputs(forward.path())).unwrap(), digest(&inputs(reversed.path())).unwrap());
    }

    #[test]
    fn the_digest_changes_with_a_file_an_arg_the_target_or_the_dockerfile() {
        let dir = context(FILES);
        let base = inputs(dir.path());
        let before = digest(&base).unwrap();

        let mut other_arg = base.clone();
        other_arg.args.insert("SERVICE".into(), "catalog".into());
        assert_ne!(digest(&other_arg).unwrap(), before, "arg");

        let mut other_target = base.clone();
        other_target.target = Some("dev".into());
        assert_ne!(digest(&other_target).unwrap(), before, "target");

        let mut other_platform = base.clone();
        other_platform.platform = "linux/arm64".into();
        assert_ne!(digest(&other_platform).unwrap(), before, "platform");

        fs::write(dir.path().join("ctx/cmd/main.go"), "package main // changed\n").unwrap();
        let after_file = digest(&base).unwrap();
        assert_ne!(after_file, before, "file content");

        fs::set_permissions(dir.path().join("ctx/cmd/main.go"), fs::Permissions::from_mode(0o755)).unwrap();
        let after_mode = digest(&base).unwrap();
        assert_ne!(after_mode, after_file, "executable bit");

        fs::write(dir.path().join("ctx/Dockerfile"), "FROM scratch AS prod\n").unwrap();
        assert_ne!(digest(&base).unwrap(), after_mode, "dockerfile");
    }

    #[test]
    fn a_dockerfile_outside_the_context_counts_too() {
        let dir = context(FILES);
        fs::write(dir.path().join("Dockerfile.outside"), "FROM scratch AS prod\n").unwrap();
        let mut outside = inputs(dir.path());
        outside.dockerfile = dir.path().join("Dockerfile.outside");
        let before = digest(&outside).unwrap();
        fs::write(dir.path().join("Dockerfile.outside"), "FROM scratch AS prod\nUSER 1000\n").unwrap();
        assert_ne!(digest(&outside).unwrap(), before);
    }

    #[test]
    fn an_ignored_file_does_not_count() {
        let dir = context(FILES);
        let base = inputs(dir.path());
        let before = digest(&base).unwrap();
        fs::write(dir.path().join("ctx/cmd/main_test.go"), "package main\n").unwrap();
        fs::create_dir_all(dir.path().join("ctx/notes/deep")).unwrap();
        fs::write(dir.path().join("ctx/notes/deep/todo.txt"), "later\n").unwrap();
        assert_eq!(digest(&base).unwrap(), before);
        fs::write(dir.path().join("ctx/cmd/extra.go"), "package main\n").unwrap();
        assert_ne!(digest(&base).unwrap(), before, "a new kept file counts");
    }

    #[test]
    fn a_dockerfile_specific_ignore_file_replaces_the_contexts() {
        let dir = context(FILES);
        let base = inputs(dir.path());
        fs::write(dir.path().join("ctx/Dockerfile.dockerignore"), "cmd\n").unwrap();
        let before = digest(&base).unwrap();
        fs::write(dir.path().join("ctx/cmd/main.go"), "package main // changed\n").unwrap();
        assert_eq!(digest(&base).unwrap(), before, "cmd/ is ignored by Dockerfile.dockerignore");
        fs::write(dir.path().join("ctx/cmd/main_test.go"), "package main\n").unwrap();
        fs::write(dir.path().join("ctx/notes"), "now counted\n").unwrap();
        assert_ne!(digest(&base).unwrap(), before, "the context's .dockerignore no longer applies");
    }

    #[test]
    fn symlinks_count_by_their_target() {
        let dir = context(FILES);
        let base = inputs(dir.path());
        std::os::unix::fs::symlink("go.mod", dir.path().join("ctx/link")).unwrap();
        let first = digest(&base).unwrap();
        fs::remove_file(dir.path().join("ctx/link")).unwrap();
        std::os::unix::fs::symlink("cmd/main.go", dir.path().join("ctx/link")).unwrap();
        assert_ne!(digest(&base).unwrap(), first);
    }

    #[test]
    fn a_file_in_a_named_context_counts_and_its_own_ignore_file_applies() {
        let dir = context(FILES);
        fs::create_dir_all(dir.path().join("shared/proto")).unwrap();
        fs::write(dir.path().join("shared/proto/api.proto"), "syntax = \"proto3\";\n").unwrap();
        fs::write(dir.path().join("shared/.dockerignore"), "*.tmp\n").unwrap();
        let base = inputs(dir.path());
        let without = digest(&base).unwrap();
        let mut with = base.clone();
        with.contexts.insert("shared".into(), dir.path().join("shared"));
        let before = digest(&with).unwrap();
        assert_ne!(before, without, "declaring a context counts");

        fs::write(dir.path().join("shared/scratch.tmp"), "ignored\n").unwrap();
        assert_eq!(digest(&with).unwrap(), before, "the context's .dockerignore applies");
        fs::write(dir.path().join("shared/proto/api.proto"), "syntax = \"proto3\"; // changed\n").unwrap();
        let changed = digest(&with).unwrap();
        assert_ne!(changed, before, "a changed file in the named context rebuilds");
        assert_eq!(digest(&base).unwrap(), without, "a build without it is untouched");

        let mut renamed = with.clone();
        renamed.contexts = BTreeMap::from([("protos".to_string(), dir.path().join("shared"))]);
        assert_ne!(digest(&renamed).unwrap(), changed, "the name counts: the Dockerfile refers to it");
        let mut missing = with.clone();
        missing.contexts.insert("gone".into(), dir.path().join("nope"));
        assert!(format!("{:#}", digest(&missing).unwrap_err()).contains("the build context \"gone\""));
    }
}
