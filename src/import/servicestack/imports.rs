//! `spec.imports`: the files a ServiceStack imports, read depth first in merge order, with
//! the loader's limits (relative paths or globs inside the project, no cycles, a bounded count).

use crate::config::diagnostics::Diagnostic;
use crate::config::path::FieldPath;
use crate::config::source::SourceDocument;
use crate::import::context::{Importer, Part};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Most files one stack may import (as our own `imports`).
const MAX_IMPORTED_FILES: usize = 256;

pub(super) fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// Reads `spec.imports` of `document` (at `path`) depth first, in the order merged: every
/// import before the file that imports it.
pub(super) fn collect_imports(
    imp: &mut Importer,
    name: &str,
    document: &SourceDocument,
    path: &Path,
    chain: &mut Vec<PathBuf>,
    parts: &mut Vec<Part>,
) {
    let Some(list) = document.value.pointer("/spec/imports").and_then(Value::as_array) else { return };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    for (index, entry) in list.iter().enumerate() {
        let at = FieldPath::index("spec.imports", index);
        let position = document.map.value_position(&at);
        let error =
            |imp: &mut Importer, message: String| imp.errors.push(Diagnostic::new(name, position, &at, message));
        let files = match entry_files(&dir, entry) {
            Ok(files) => files,
            Err(message) => {
                error(imp, message);
                continue;
            }
        };
        for file in files {
            let key = canonical(&file);
            if let Some(start) = chain.iter().position(|p| *p == key) {
                let names: Vec<String> =
                    chain[start..].iter().chain([&key]).map(|p| display_relative(&imp.source_root, p)).collect();
                error(imp, format!("imports cycle detected: {}", names.join(" -> ")));
                continue;
            }
            if parts.len() >= MAX_IMPORTED_FILES {
                error(imp, format!("more than {MAX_IMPORTED_FILES} imported files"));
                return;
            }
            let display = display_relative(&imp.source_root, &file);
            let bytes = match std::fs::read(&file) {
                Ok(bytes) => bytes,
                Err(e) => {
                    error(imp, format!("import \"{display}\" cannot be read: {e}"));
                    continue;
                }
            };
            for document in read_documents(imp, &display, &bytes) {
                chain.push(key.clone());
                collect_imports(imp, &display, &document, &file, chain, parts);
                chain.pop();
                parts.push(Part { name: display.clone(), document });
            }
        }
    }
}

/// The files one entry of `spec.imports` names (a path or `{path}`, a file or a glob), or why
/// it names none.
fn entry_files(dir: &Path, entry: &Value) -> Result<Vec<PathBuf>, String> {
    let not_a_path = || "an import is a path or `{path: …}`".to_string();
    let pattern = match entry {
        Value::String(text) => text.clone(),
        Value::Object(map) => map.get("path").and_then(Value::as_str).ok_or_else(not_a_path)?.to_string(),
        _ => return Err(not_a_path()),
    };
    match expand(dir, &pattern)? {
        files if files.is_empty() => Err(format!("import \"{pattern}\" names no file")),
        files => Ok(files),
    }
}

/// The documents of a file (a multi-document file is merged document by document).
fn read_documents(imp: &mut Importer, display: &str, bytes: &[u8]) -> Vec<SourceDocument> {
    let text = String::from_utf8_lossy(bytes);
    let mut documents = Vec::new();
    let mut offset = 0usize;
    for chunk in split_documents(&text) {
        let padded = format!("{}{}", "\n".repeat(offset), chunk);
        offset += chunk.lines().count() + 1;
        if chunk.trim().is_empty() {
            continue;
        }
        match crate::config::source::read(display, padded.as_bytes()) {
            Ok(document) => documents.push(document),
            Err(errors) => imp.errors.extend(errors),
        }
    }
    documents
}

/// Splits on `---` lines; padding each part with the lines before it keeps its positions.
fn split_documents(text: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    for line in text.lines() {
        if line.trim_end() == "---" {
            parts.push(String::new());
        } else if let Some(last) = parts.last_mut() {
            last.push_str(line);
            last.push('\n');
        }
    }
    parts
}

fn display_relative(root: &Path, path: &Path) -> String {
    let root = canonical(root);
    let path = canonical(path);
    path.strip_prefix(&root).map(|p| p.display().to_string()).unwrap_or_else(|_| path.display().to_string())
}

/// The files a path or glob names, sorted; relative to `dir`, inside the project.
fn expand(dir: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    if Path::new(pattern).is_absolute() {
        return Err(format!("import \"{pattern}\" is absolute: imports are relative to the importing file"));
    }
    if !pattern.contains(['*', '?', '[', '{']) {
        let file = dir.join(pattern);
        return if file.is_file() {
            Ok(vec![file])
        } else {
            Err(format!("import \"{pattern}\" names no file ({} is not there)", file.display()))
        };
    }
    let glob =
        globset::Glob::new(pattern).map_err(|e| format!("import \"{pattern}\" is not a glob: {e}"))?.compile_matcher();
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    let mut seen = 0usize;
    while let Some(current) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else { continue };
        for entry in entries.flatten() {
            seen += 1;
            if seen > 20_000 {
                return Err(format!("import \"{pattern}\" looks at more than 20000 directory entries"));
            }
            let path = entry.path();
            let Ok(relative) = path.strip_prefix(dir) else { continue };
            if path.is_dir() {
                stack.push(path.clone());
            } else if glob.is_match(relative) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}
