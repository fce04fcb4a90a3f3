//! `imports:` — a services.yaml split over several files.
//!
//! ```yaml
//! imports: [images.yaml, "units/*.yaml"]
//! ```
//!
//! Each entry is a path or a glob, relative to the directory of the file that holds it. Globs
//! (`*`, `?`, `[…]`, `{a,b}`, `**`) are expanded and their matches sorted; a glob never matches
//! the file that holds it, and one that matches nothing is an error, like a missing file. The
//! files are deep-merged in that order (see [`merge::deep_merge`]: maps merge, lists and
//! scalars replace), and the importing file is merged last, so it wins over what it imports.
//! Imported files may import further files; a cycle is an error that names the whole chain.
//!
//! services.yaml may come from anyone (a pull request), so every imported file must lie inside
//! the directory tree of the main services.yaml: no absolute path, no `..` above it, no symlink
//! leading out, regular files of bounded size only, at most [`MAX_FILES`] files.
//!
//! Only the values are merged; each file keeps its own [`SourceMap`], listed in [`Origins`], so
//! an error about a field names the file that wrote it, at its own line and column.
//! Other relative paths (`manifests`, build contexts) stay relative to the main services.yaml,
//! whichever file they are written in.

use super::diagnostics::{excerpt, Diagnostics};
use super::merge::deep_merge;
use super::origin::{OriginFile, Origins};
use super::path::FieldPath;
use super::source::{self, SourceDocument, MAX_FILE_BYTES};
use serde_json::{Map, Value};
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// Most files one services.yaml may import, directly or not (each import of a file counts).
pub const MAX_FILES: usize = 256;
/// Most bytes of all imported files together (the main file has its own limit besides).
pub const MAX_TOTAL_BYTES: usize = MAX_FILE_BYTES;
/// Longest chain of files importing each other.
pub const MAX_DEPTH: usize = 32;
/// Most directory entries a glob may look at.
const MAX_GLOB_ENTRIES: usize = 20_000;

/// The document of `main` with its imports merged in. A document without `imports` is returned
/// as it is, at no cost. `base_dir` is the directory of the main file: imported files must lie
/// inside it.
pub fn expand(main: SourceDocument, base_dir: &Path) -> Result<SourceDocument, Diagnostics> {
    if main.value.get("imports").is_none() {
        return Ok(main);
    }
    let root = match base_dir.canonicalize() {
        Ok(root) => root,
        Err(e) => {
            let message = format!("cannot read the directory {} to import from: {e}", base_dir.display());
            return Err(Diagnostics(vec![main.error_at("imports", message)]));
        }
    };
    let main_name = Path::new(&main.file).file_name().map_or_else(|| PathBuf::from("services.yaml"), PathBuf::from);
    let identity = root.join(&main_name).canonicalize().unwrap_or_else(|_| root.join(&main_name));
    let mut expander = Expander {
        root,
        shown_dir: Path::new(&main.file).parent().map(Path::to_path_buf).unwrap_or_default(),
        loaded: 0,
        bytes: 0,
        stopped: false,
        errors: Diagnostics::default(),
    };
    let file = main.file.clone();
    let main_map = main.map.clone();
    let mut chain = vec![Link { identity, shown: main_name.display().to_string() }];
    let (value, files) = expander.merge_file(main, &main_name, &mut chain);
    if !expander.errors.is_empty() {
        return Err(expander.errors.sorted());
    }
    Ok(SourceDocument { file, value, map: main_map, origins: Some(Arc::new(Origins { files })) })
}

/// One file of the chain of imports being followed.
struct Link {
    /// Its canonical path: the same file under another name is still the same file.
    identity: PathBuf,
    /// Its path relative to the main file's directory, as the cycle message shows it.
    shown: String,
}

/// A file an import entry names.
struct Found {
    /// Relative to the main file's directory, as written (symlinks not resolved).
    relative: PathBuf,
    identity: PathBuf,
}

struct Expander {
    /// The main file's directory, canonical: nothing is read outside it.
    root: PathBuf,
    /// The main file's directory as messages name it.
    shown_dir: PathBuf,
    loaded: usize,
    /// Bytes of the files imported so far.
    bytes: usize,
    /// Set once a limit on the whole is reached (and reported): nothing more is read.
    stopped: bool,
    errors: Diagnostics,
}

impl Expander {
    /// `document` (at `relative`, the last link of `chain`) with everything it imports merged
    /// under it, and its files, highest priority first (see [`Origins`]).
    fn merge_file(
        &mut self,
        mut document: SourceDocument,
        relative: &Path,
        chain: &mut Vec<Link>,
    ) -> (Value, Vec<OriginFile>) {
        let imports = match &mut document.value {
            Value::Object(map) => map.shift_remove("imports"),
            _ => None,
        };
        let mut merged = Value::Object(Map::new());
        let mut below: Vec<Vec<OriginFile>> = Vec::new();
        match imports {
            None | Some(Value::Null) => {}
            Some(Value::Array(entries)) => {
                let dir = relative.parent().unwrap_or(Path::new(""));
                for (j, entry) in entries.iter().enumerate() {
                    let at = FieldPath::index("imports", j);
                    let Some(pattern) = entry.as_str() else {
                        let message = format!("an import is a path or a glob (a string), not {}", kind_of(entry));
                        self.errors.push(document.error_at(&at, message));
                        continue;
                    };
                    let found = match self.find(dir, pattern, chain.last().map(|l| l.identity.as_path())) {
                        Ok(found) => found,
                        Err(message) => {
                            self.errors.push(document.error_at(&at, message));
                            continue;
                        }
                    };
                    for found in found {
                        if let Some((value, files)) = self.import(&document, &at, found, chain) {
                            deep_merge(&mut merged, value);
                            below.push(files);
                        }
                    }
                }
            }
            Some(other) => {
                let message = format!("\"imports\" is a list of paths or globs, not {}", kind_of(&other));
                self.errors.push(document.error_at("imports", message));
            }
        }
        deep_merge(&mut merged, document.value);
        let mut files = vec![OriginFile { name: document.file, map: document.map }];
        files.extend(below.into_iter().rev().flatten());
        (merged, files)
    }

    /// Reads and merges the file `found` that entry `at` of `importer` names.
    fn import(
        &mut self,
        importer: &SourceDocument,
        at: &str,
        found: Found,
        chain: &mut Vec<Link>,
    ) -> Option<(Value, Vec<OriginFile>)> {
        let shown = found.relative.display().to_string();
        if let Some(start) = chain.iter().position(|link| link.identity == found.identity) {
            let names: Vec<&str> = chain[start..].iter().map(|l| l.shown.as_str()).chain([shown.as_str()]).collect();
            let message =
                format!("imports cycle: {}; a file cannot import itself, even through others", names.join(" → "));
            self.errors.push(importer.error_at(at, message));
            return None;
        }
        if chain.len() > MAX_DEPTH {
            self.errors.push(importer.error_at(at, format!("imports nest deeper than {MAX_DEPTH} files")));
            return None;
        }
        if self.stopped {
            return None;
        }
        if self.loaded >= MAX_FILES {
            self.errors.push(importer.error_at(at, format!("more than {MAX_FILES} imported files")));
            self.stopped = true;
            return None;
        }
        self.loaded += 1;
        let name = self.shown_dir.join(&found.relative).display().to_string();
        let bytes = match read_bounded(&found.identity) {
            Ok(bytes) => bytes,
            Err(e) => {
                self.errors.push(importer.error_at(at, format!("cannot read {name}: {e}")));
                return None;
            }
        };
        self.bytes += bytes.len();
        if self.bytes > MAX_TOTAL_BYTES {
            let message = format!("the imported files add up to more than {MAX_TOTAL_BYTES} bytes");
            self.errors.push(importer.error_at(at, message));
            self.stopped = true;
            return None;
        }
        let imported = match source::read(&name, &bytes) {
            Ok(imported) => imported,
            Err(errors) => {
                self.errors.extend(errors);
                return None;
            }
        };
        if !imported.value.is_object() {
            let message =
                format!("an imported file holds a mapping of services.yaml fields, not {}", kind_of(&imported.value));
            self.errors.push(imported.error_at("", message));
            return None;
        }
        chain.push(Link { identity: found.identity, shown });
        let merged = self.merge_file(imported, &found.relative, chain);
        chain.pop();
        Some(merged)
    }

    /// The files `pattern` (written in a file of directory `dir`, relative to the root) names.
    /// `importer`: that file, which a glob skips.
    fn find(&self, dir: &Path, pattern: &str, importer: Option<&Path>) -> Result<Vec<Found>, String> {
        if pattern.is_empty() {
            return Err("an import is a path or a glob; this one is empty".into());
        }
        if Path::new(pattern).has_root() {
            return Err(format!(
                "\"{}\" must be a relative path, from the directory of the file that imports it",
                excerpt(pattern)
            ));
        }
        let Some(relative) = normalized(&dir.join(pattern)) else {
            return Err(format!(
                "\"{}\" leads outside the directory of the main services.yaml ({})",
                excerpt(pattern),
                self.root.display()
            ));
        };
        if !is_glob(pattern) {
            return self.confined(&relative).map(|identity| vec![Found { relative, identity }]);
        }
        let text = relative.to_str().ok_or_else(|| format!("\"{}\" is not UTF-8", excerpt(pattern)))?;
        let glob = globset::GlobBuilder::new(text)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("\"{}\" is not a valid glob: {}", excerpt(pattern), e.kind()))?
            .compile_matcher();
        // Walk from the deepest directory the pattern names literally, no deeper than it can match.
        let literal: PathBuf =
            relative.components().take_while(|c| !is_glob(&c.as_os_str().to_string_lossy())).collect();
        let rest = relative.components().count() - literal.components().count();
        let depth = if text.contains("**") { MAX_DEPTH } else { rest };
        let hidden = relative.components().any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
        let mut walk = Walk { root: &self.root, glob: &glob, hidden, seen: 0, found: Vec::new() };
        walk.directory(&literal, depth)?;
        let mut matches = walk.found;
        matches.sort();
        let mut found = Vec::new();
        for relative in matches {
            let identity = self.confined(&relative)?;
            if Some(identity.as_path()) != importer {
                found.push(Found { relative, identity });
            }
        }
        if found.is_empty() {
            return Err(format!("\"{}\" matches no file", excerpt(pattern)));
        }
        Ok(found)
    }

    /// The canonical path of `relative`, a regular file inside the root.
    fn confined(&self, relative: &Path) -> Result<PathBuf, String> {
        let shown = self.shown_dir.join(relative);
        let resolved = self.root.join(relative).canonicalize().map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::NotFound {
                "; an import is relative to the directory of the file that holds it"
            } else {
                ""
            };
            format!("cannot read {}: {e}{hint}", shown.display())
        })?;
        if !resolved.starts_with(&self.root) {
            return Err(format!(
                "{} leads outside the directory of the main services.yaml (to {})",
                shown.display(),
                resolved.display()
            ));
        }
        let metadata = std::fs::metadata(&resolved).map_err(|e| format!("cannot read {}: {e}", shown.display()))?;
        if !metadata.is_file() {
            return Err(format!("{} is not a regular file", shown.display()));
        }
        Ok(resolved)
    }
}

/// A directory walk matching a glob.
struct Walk<'a> {
    root: &'a Path,
    glob: &'a globset::GlobMatcher,
    /// Whether names starting with `.` may match (only when the pattern names one).
    hidden: bool,
    seen: usize,
    found: Vec<PathBuf>,
}

impl Walk<'_> {
    fn directory(&mut self, relative: &Path, depth: usize) -> Result<(), String> {
        if depth == 0 {
            return Ok(());
        }
        // A directory that is not there matches nothing; the caller says so.
        let Ok(entries) = std::fs::read_dir(self.root.join(relative)) else { return Ok(()) };
        for entry in entries.flatten() {
            self.seen += 1;
            if self.seen > MAX_GLOB_ENTRIES {
                return Err(format!("the glob looks at more than {MAX_GLOB_ENTRIES} files; name a narrower directory"));
            }
            let name = entry.file_name();
            if !self.hidden && name.to_string_lossy().starts_with('.') {
                continue;
            }
            let path = relative.join(&name);
            // Symlinked directories are not followed (no loops); symlinked files are, and
            // must still lead inside the root.
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => self.directory(&path, depth - 1)?,
                Ok(_) if self.glob.is_match(&path) => self.found.push(path),
                _ => {}
            }
        }
        Ok(())
    }
}

fn is_glob(text: &str) -> bool {
    text.contains(['*', '?', '[', '{'])
}

/// `path` without `.` and with `..` applied; None when it climbs above its start.
fn normalized(path: &Path) -> Option<PathBuf> {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.iter().collect())
}

/// Reads a regular file of at most [`MAX_FILE_BYTES`] (a file growing meanwhile is cut there
/// and then refused by the reader).
fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(MAX_FILE_BYTES as u64 + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "a mapping",
        Value::Array(_) => "a list",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "an empty value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A directory holding `files`; the first is the main file.
    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        }
        dir
    }

    fn expanded(dir: &Path, main: &str) -> Result<SourceDocument, Diagnostics> {
        let text = std::fs::read(dir.join(main)).unwrap();
        expand(source::read(main, &text).unwrap(), dir)
    }

    fn messages(errors: &Diagnostics) -> Vec<String> {
        errors.0.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn imports_merge_in_order_under_the_importing_file() {
        let dir = tree(&[
            ("s.yaml", "imports: [a.yaml, b.yaml]\nversions: { go: '1.23' }\nlist: [main]\n"),
            ("a.yaml", "versions: { go: '1.21', node: '20' }\nlist: [a]\nimages: { x: { ref: a } }\n"),
            ("b.yaml", "images: { x: { tag: b }, y: { ref: b } }\nlist: [b, b]\n"),
        ]);
        let document = expanded(dir.path(), "s.yaml").unwrap();
        assert_eq!(
            document.value,
            json!({
                "versions": { "go": "1.23", "node": "20" },
                "list": ["main"],
                "images": { "x": { "ref": "a", "tag": "b" }, "y": { "ref": "b" } },
            })
        );
        let names: Vec<&str> = document.origins.as_ref().unwrap().files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["s.yaml", "b.yaml", "a.yaml"]);
    }

    #[test]
    fn without_imports_nothing_changes() {
        let dir = tree(&[("s.yaml", "a: 1\n")]);
        let document = expanded(dir.path(), "s.yaml").unwrap();
        assert!(document.origins.is_none());
        assert_eq!(document.value, json!({"a": 1}));
    }

    #[test]
    fn nested_imports_are_relative_to_the_importing_file_and_globs_are_sorted() {
        let dir = tree(&[
            ("s.yaml", "imports: ['parts/*.yaml']\n"),
            ("parts/b.yaml", "order: [b]\nb: 1\n"),
            ("parts/a.yaml", "order: [a]\nimports: [../shared/x.yaml, 'deep/**/*.yaml']\n"),
            ("parts/deep/one/two/z.yaml", "z: 1\n"),
            ("parts/notes.txt", "not: imported\n"),
            ("parts/.hidden.yaml", "hidden: 1\n"),
            ("shared/x.yaml", "x: 1\norder: [x]\n"),
        ]);
        let document = expanded(dir.path(), "s.yaml").unwrap();
        assert_eq!(document.value, json!({"x": 1, "order": ["b"], "z": 1, "b": 1}));
        let names: Vec<&str> = document.origins.as_ref().unwrap().files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["s.yaml", "parts/b.yaml", "parts/a.yaml", "parts/deep/one/two/z.yaml", "shared/x.yaml"]);
    }

    #[test]
    fn errors_name_the_file_line_and_column_that_wrote_the_field() {
        let dir = tree(&[
            ("s.yaml", "imports: [units.yaml]\nproject: { name: p }\nservices:\n  - { name: main }\n"),
            ("units.yaml", "# units\nservices:\n  - name: a\n    phase: x\ninfrastructure:\n  - name: db\n"),
        ]);
        let document = expanded(dir.path(), "s.yaml").unwrap();
        let at = |path: &str| document.error_at(path, "m").to_string();
        assert_eq!(at("project.name"), "s.yaml:2:18: project.name: m");
        assert_eq!(at("services[0].name"), "s.yaml:4:13: services[0].name: m", "the importing file's list won");
        assert_eq!(at("infrastructure[0].name"), "units.yaml:6:11: infrastructure[0].name: m");
        assert_eq!(at("infrastructure[0].phase"), "units.yaml:6:5: infrastructure[0].phase: m", "closest ancestor");
        assert_eq!(
            document.error_at_key("infrastructure[0].name", "m").to_string(),
            "units.yaml:6:5: infrastructure[0].name: m"
        );
        assert!(document.contains("infrastructure[0].name"));
        assert!(!document.contains("services[0].phase"));
    }

    #[test]
    fn a_cycle_is_reported_with_its_whole_chain() {
        let dir = tree(&[
            ("s.yaml", "imports: [a.yaml]\n"),
            ("a.yaml", "imports: [sub/b.yaml]\n"),
            ("sub/b.yaml", "x: 1\nimports:\n  - ../a.yaml\n"),
        ]);
        let errors = expanded(dir.path(), "s.yaml").unwrap_err();
        assert_eq!(
            messages(&errors),
            ["sub/b.yaml:3:5: imports[0]: imports cycle: a.yaml → sub/b.yaml → a.yaml; a file cannot import itself, even through others"]
        );
        let dir = tree(&[("s.yaml", "imports: [./s.yaml]\n")]);
        let errors = expanded(dir.path(), "s.yaml").unwrap_err();
        assert!(messages(&errors)[0].contains("imports cycle: s.yaml → s.yaml"), "{errors}");
    }

    #[test]
    fn a_glob_skips_the_file_that_holds_it_and_a_file_may_be_imported_twice() {
        let dir = tree(&[
            ("s.yaml", "imports: ['*.yaml']\nmain: 1\n"),
            ("a.yaml", "imports: [c.yaml]\na: 1\n"),
            ("b.yaml", "imports: [c.yaml]\nb: 1\n"),
            ("c.yaml", "c: 1\n"),
        ]);
        let document = expanded(dir.path(), "s.yaml").unwrap();
        assert_eq!(document.value, json!({"c": 1, "a": 1, "b": 1, "main": 1}));
    }

    #[test]
    fn bad_imports_are_errors_at_the_entry() {
        let dir = tree(&[
            (
                "s.yaml",
                "imports:\n  - missing.yaml\n  - ../out.yaml\n  - /etc/hostname\n  - 'none/*.yaml'\n  - 5\n  - dir\n  - '[x'\n",
            ),
            ("dir/x.yaml", "x: 1\n"),
        ]);
        let errors = expanded(dir.path(), "s.yaml").unwrap_err();
        let found = messages(&errors);
        assert_eq!(found.len(), 7, "{errors}");
        assert!(found[0].starts_with("s.yaml:2:5: imports[0]: cannot read missing.yaml: "), "{errors}");
        assert!(
            found[1].starts_with("s.yaml:3:5: imports[1]: \"../out.yaml\" leads outside the directory"),
            "{errors}"
        );
        assert!(found[2].starts_with("s.yaml:4:5: imports[2]: \"/etc/hostname\" must be a relative path"), "{errors}");
        assert_eq!(found[3], "s.yaml:5:5: imports[3]: \"none/*.yaml\" matches no file");
        assert_eq!(found[4], "s.yaml:6:5: imports[4]: an import is a path or a glob (a string), not a number");
        assert_eq!(found[5], "s.yaml:7:5: imports[5]: dir is not a regular file");
        assert!(found[6].starts_with("s.yaml:8:5: imports[6]: \"[x\" is not a valid glob"), "{errors}");
        let dir = tree(&[("s.yaml", "imports: a.yaml\n")]);
        let errors = expanded(dir.path(), "s.yaml").unwrap_err();
        assert_eq!(messages(&errors), ["s.yaml:1:10: imports: \"imports\" is a list of paths or globs, not a string"]);
    }

    #[test]
    fn symlinks_leading_out_are_refused() {
        let outside = tree(&[("secret.yaml", "x: 1\n")]);
        let dir = tree(&[("s.yaml", "imports: [link.yaml, '*.yaml', 'linkdir/*.yaml']\n")]);
        std::os::unix::fs::symlink(outside.path().join("secret.yaml"), dir.path().join("link.yaml")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("linkdir")).unwrap();
        let errors = expanded(dir.path(), "s.yaml").unwrap_err();
        let found = messages(&errors);
        assert!(found[0].contains("imports[0]: link.yaml leads outside the directory"), "{errors}");
        assert!(
            found[1].contains("imports[1]: link.yaml leads outside"),
            "a glob's matches are confined too: {errors}"
        );
        assert!(found[2].contains("imports[2]: linkdir/secret.yaml leads outside"), "{errors}");
    }

    #[test]
    fn an_imported_file_that_is_not_yaml_is_reported_at_its_own_line() {
        let dir = tree(&[
            ("s.yaml", "imports: [a.yaml, b.yaml, c.yaml]\n"),
            ("a.yaml", "ok: 1\nbad: [unclosed\n"),
            ("b.yaml", "- a list\n"),
        ]);
        std::fs::write(dir.path().join("c.yaml"), b"ok: 1\nbad: \xff\n").unwrap();
        let errors = expanded(dir.path(), "s.yaml").unwrap_err();
        let found = messages(&errors);
        assert_eq!(found.len(), 3, "{errors}");
        assert!(found.iter().any(|m| m.starts_with("a.yaml:3:1: YAML syntax error")), "{errors}");
        assert!(
            found
                .iter()
                .any(|m| m == "b.yaml:1:1: an imported file holds a mapping of services.yaml fields, not a list"),
            "{errors}"
        );
        assert!(found.iter().any(|m| m == "c.yaml:2:6: the file is not valid UTF-8 text"), "{errors}");
    }

    #[test]
    fn the_number_of_imported_files_is_bounded_and_reported_once() {
        // Each file imports the next one twice: 2^n imports of a short chain.
        let mut files: Vec<(String, String)> = (0..12)
            .map(|i| (format!("f{i}.yaml"), format!("imports: [f{0}.yaml, f{0}.yaml]\nk{i}: 1\n", i + 1)))
            .collect();
        files.push(("f12.yaml".into(), "end: 1\n".into()));
        files.push(("s.yaml".into(), "imports: [f0.yaml]\n".into()));
        let borrowed: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let dir = tree(&borrowed);
        let errors = expanded(dir.path(), "s.yaml").unwrap_err();
        assert_eq!(errors.len(), 1, "{errors}");
        assert!(errors.0[0].message.contains("more than 256 imported files"), "{errors}");
    }

    #[test]
    fn normalizing_never_climbs_above_the_root() {
        assert_eq!(normalized(Path::new("a/./b/../c.yaml")), Some(PathBuf::from("a/c.yaml")));
        assert_eq!(normalized(Path::new("a/../../c.yaml")), None);
        assert_eq!(normalized(Path::new("/etc")), None);
    }
}
