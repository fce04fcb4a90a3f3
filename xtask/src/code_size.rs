//! The size limits of the codebase (issue 15), checked by a test over the tree so they hold
//! after the next change too: no Rust source file over [`MAX_FILE_LINES`] lines, and no
//! function over [`MAX_FUNCTION_LINES`] lines outside tests.
//!
//! A text scan, not a parser: comments, strings and character literals are blanked first, so
//! braces inside them do not count; then each `fn name` is measured from its line to the line
//! of the brace that closes its body. Everything after a file's `#[cfg(test)] mod` line, files
//! named `tests.rs` and the `tests/` tree count as tests.

use std::path::{Path, PathBuf};

/// The longest a Rust source file may be, tests included.
pub const MAX_FILE_LINES: usize = 600;
/// The longest a function outside tests may be, from its `fn` line to its closing brace.
pub const MAX_FUNCTION_LINES: usize = 80;

/// A function found by [`long_functions`].
#[derive(Debug, PartialEq, Eq)]
pub struct FunctionSpan {
    pub name: String,
    /// 1-based line of the `fn` keyword.
    pub line: usize,
    pub lines: usize,
}

/// The source with comments, string and character literals replaced by spaces (newlines kept,
/// so line numbers stay).
fn blank_literals(source: &str) -> Vec<u8> {
    let bytes = source.as_bytes();
    let mut out = bytes.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for b in &mut out[from..to.min(bytes.len())] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        let after_ident = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if rest.starts_with(b"//") {
            let end = rest.iter().position(|&b| b == b'\n').map_or(bytes.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if rest.starts_with(b"/*") {
            let end = find(rest, b"*/").map_or(bytes.len(), |p| i + p + 2);
            blank(&mut out, i, end);
            i = end;
        } else if let Some(open) = raw_string_opening(rest).filter(|_| !after_ident) {
            let hashes = rest[..open].iter().filter(|&&b| b == b'#').count();
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat_n(b'#', hashes));
            let end = find(&rest[open..], &close).map_or(bytes.len(), |p| i + open + p + close.len());
            blank(&mut out, i, end);
            i = end;
        } else if rest[0] == b'"' {
            let mut j = 1;
            while j < rest.len() && rest[j] != b'"' {
                j += if rest[j] == b'\\' { 2 } else { 1 };
            }
            let end = (i + j + 1).min(bytes.len());
            blank(&mut out, i, end);
            i = end;
        } else if rest[0] == b'\'' {
            // A character literal ('x', '\n', '\u{1F600}'), not a lifetime ('a).
            let len = char_literal_len(rest);
            blank(&mut out, i, i + len);
            i += len.max(1);
        } else {
            i += 1;
        }
    }
    out
}

/// The length of `r"`, `r#"`, `br##"` … at the start of `rest`, if it opens a raw string.
fn raw_string_opening(rest: &[u8]) -> Option<usize> {
    let start = usize::from(rest.first() == Some(&b'b'));
    if rest.get(start) != Some(&b'r') {
        return None;
    }
    let hashes = rest[start + 1..].iter().take_while(|&&b| b == b'#').count();
    (rest.get(start + 1 + hashes) == Some(&b'"')).then_some(start + hashes + 2)
}

/// The length of the character literal at the start of `rest`, or 0 when it is a lifetime.
fn char_literal_len(rest: &[u8]) -> usize {
    let body = if rest.get(1) == Some(&b'\\') {
        // The escaped character itself may be a quote ('\''): the search starts after it.
        rest.get(3..).and_then(|r| r.iter().position(|&b| b == b'\'')).map(|p| p + 3)
    } else {
        // One UTF-8 character, then the closing quote.
        let width = rest.get(1).map_or(1, |&b| utf8_width(b));
        (rest.get(1 + width) == Some(&b'\'')).then_some(1 + width)
    };
    body.filter(|&close| close <= 12).map_or(0, |close| close + 1)
}

fn utf8_width(first: u8) -> usize {
    match first {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Every function with a body before the file's test module, with its length in lines.
pub fn functions(source: &str) -> Vec<FunctionSpan> {
    let text = blank_literals(source);
    let test_module = test_module_line(&text);
    let line_of = |at: usize| text[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(p) = find(&text[i..], b"fn ") {
        let at = i + p;
        i = at + 3;
        let boundary = at == 0 || !(text[at - 1].is_ascii_alphanumeric() || text[at - 1] == b'_');
        let name: String = text[i..]
            .iter()
            .skip_while(|b| b.is_ascii_whitespace())
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .map(|&b| b as char)
            .collect();
        if !boundary || name.is_empty() || test_module.is_some_and(|t| line_of(at) > t) {
            continue;
        }
        let Some(open) = text[i..].iter().position(|&b| b == b'{' || b == b';').map(|p| i + p) else { break };
        if text[open] == b';' {
            continue; // a declaration without a body (trait method, extern)
        }
        let close = matching_brace(&text, open).unwrap_or(text.len() - 1);
        let line = line_of(at);
        found.push(FunctionSpan { name, line, lines: line_of(close) - line + 1 });
    }
    found
}

/// The 1-based line of `#[cfg(test)]` followed by a `mod` line, if any.
fn test_module_line(text: &[u8]) -> Option<usize> {
    let text = String::from_utf8_lossy(text);
    let lines: Vec<&str> = text.lines().collect();
    lines.windows(2).position(|w| w[0].trim() == "#[cfg(test)]" && w[1].trim_start().starts_with("mod ")).map(|i| i + 1)
}

fn matching_brace(text: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, &b) in text.iter().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
    }
    None
}

/// Functions over [`MAX_FUNCTION_LINES`].
pub fn long_functions(source: &str) -> Vec<FunctionSpan> {
    functions(source).into_iter().filter(|f| f.lines > MAX_FUNCTION_LINES).collect()
}

/// Every `.rs` file below `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// What breaks the limits in the repository at `root`, one line each (`path:line …`).
pub fn violations(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for tree in ["src", "xtask/src", "tests"] {
        for path in rust_files(&root.join(tree)) {
            let shown = path.strip_prefix(root).unwrap_or(&path).display().to_string();
            let Ok(source) = std::fs::read_to_string(&path) else { continue };
            let lines = source.lines().count();
            if lines > MAX_FILE_LINES {
                found.push(format!("{shown}: {lines} lines (at most {MAX_FILE_LINES})"));
            }
            let is_test = tree == "tests" || path.file_name().is_some_and(|n| n == "tests.rs");
            if !is_test {
                for f in long_functions(&source) {
                    found.push(format!(
                        "{shown}:{}: fn {} is {} lines (at most {MAX_FUNCTION_LINES})",
                        f.line, f.name, f.lines
                    ));
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_is_measured_from_fn_to_its_closing_brace() {
        let source = "fn a() {\n    let x = 1;\n}\n\nfn b(x: u8) -> u8 {\n    x\n}\n";
        let found = functions(source);
        assert_eq!(
            found,
            vec![
                FunctionSpan { name: "a".into(), line: 1, lines: 3 },
                FunctionSpan { name: "b".into(), line: 5, lines: 3 }
            ]
        );
    }

    #[test]
    fn braces_in_strings_chars_and_comments_do_not_count() {
        let source = concat!(
            "fn a() {\n",
            "    let s = \"}}}\"; // }\n",
            "    let r = r#\"}\"}\"#;\n",
            "    let c = '}';\n",
            "    /* } */\n",
            "    let l: &'static str = \"x\";\n",
            "}\n",
            "fn b() {}\n"
        );
        let found = functions(source);
        assert_eq!(found[0], FunctionSpan { name: "a".into(), line: 1, lines: 7 });
        assert_eq!(found[1], FunctionSpan { name: "b".into(), line: 8, lines: 1 });
    }

    #[test]
    fn declarations_function_pointer_types_and_test_modules_are_not_functions() {
        let source =
            "trait T { fn f(&self); }\nfn g(h: fn(u8) -> u8) {}\n#[cfg(test)]\nmod tests {\n    fn long() {}\n}\n";
        let names: Vec<String> = functions(source).into_iter().map(|f| f.name).collect();
        assert_eq!(names, ["g"]);
    }

    #[test]
    fn a_function_over_the_limit_is_reported() {
        let body = "    x += 1;\n".repeat(MAX_FUNCTION_LINES - 1);
        let source = format!("fn long(mut x: u8) {{\n{body}}}\nfn short() {{}}\n");
        let found = long_functions(&source);
        assert_eq!(found, vec![FunctionSpan { name: "long".into(), line: 1, lines: MAX_FUNCTION_LINES + 1 }]);
    }

    #[test]
    fn the_tree_keeps_its_size_limits() {
        let found = violations(&crate::repo::repo_root());
        assert!(found.is_empty(), "over the size limits of issue 15:\n{}", found.join("\n"));
    }
}
