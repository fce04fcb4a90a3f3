//! `.dockerignore` with Docker's semantics (moby/patternmatcher): patterns are relative to the
//! context root, `*` and `?` never cross a `/`, `**` spans directories, a leading `!` makes an
//! exception, later patterns win, and a pattern that matches a directory covers what is in it.

/// The patterns of one `.dockerignore`, in file order.
#[derive(Debug, Clone, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
}

#[derive(Debug, Clone)]
struct Pattern {
    /// Path components of the cleaned pattern, e.g. `["**", "*_test.go"]`.
    parts: Vec<String>,
    exception: bool,
}

impl DockerIgnore {
    /// Parses the text of a `.dockerignore`: one pattern per line, `#` starts a comment line.
    pub fn parse(text: &str) -> Self {
        let mut patterns = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exception, pattern) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let cleaned = clean(pattern);
            if cleaned.is_empty() {
                continue;
            }
            patterns.push(Pattern { parts: cleaned.split('/').map(str::to_string).collect(), exception });
        }
        DockerIgnore { patterns }
    }

    /// True when the context-relative `path` (with `/` separators) is left out of the context.
    pub fn is_ignored(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let mut ignored = false;
        for pattern in &self.patterns {
            // An ignore pattern cannot change an ignored path, nor an exception a kept one.
            if pattern.exception != ignored {
                continue;
            }
            let matched = (1..=parts.len()).any(|n| match_parts(&pattern.parts, &parts[..n]));
            if matched {
                ignored = !pattern.exception;
            }
        }
        ignored
    }

    /// True when no exception pattern exists, so an ignored directory can be skipped whole.
    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|p| p.exception)
    }
}

/// Go's `filepath.Clean` on a slash path, minus a leading `/` (Docker strips it too).
fn clean(pattern: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in pattern.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out.join("/")
}

/// Whole-path match of pattern components against path components; `**` spans any number
/// of components (including none).
fn match_parts(pattern: &[String], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((first, rest)) if first == "**" => (0..=path.len()).any(|skip| match_parts(rest, &path[skip..])),
        Some((first, rest)) => match path.split_first() {
            Some((head, tail)) => match_component(first.as_bytes(), head.as_bytes()) && match_parts(rest, tail),
            None => false,
        },
    }
}

/// Shell-style match of one component: `*`, `?`, `[...]` classes (with `^`/`!` negation and
/// ranges) and `\` escapes.
fn match_component(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.first() {
        None => name.is_empty(),
        Some(b'*') => (0..=name.len()).any(|i| match_component(&pattern[1..], &name[i..])),
        Some(b'?') => !name.is_empty() && match_component(&pattern[1..], &name[1..]),
        Some(b'[') => {
            let Some((&c, rest)) = name.split_first() else { return false };
            match match_class(&pattern[1..], c) {
                Some((true, after)) => match_component(after, rest),
                _ => false,
            }
        }
        Some(b'\\') if pattern.len() > 1 => {
            name.first() == Some(&pattern[1]) && match_component(&pattern[2..], &name[1..])
        }
        Some(&p) => name.first() == Some(&p) && match_component(&pattern[1..], &name[1..]),
    }
}

/// Matches `c` against the class starting after `[`; returns (matched, the pattern after `]`).
/// A class without its closing `]` matches nothing.
fn match_class(pattern: &[u8], c: u8) -> Option<(bool, &[u8])> {
    let (negated, mut i) = match pattern.first() {
        Some(b'^') | Some(b'!') => (true, 1),
        _ => (false, 0),
    };
    let mut matched = false;
    let mut first = true;
    while i < pattern.len() {
        if pattern[i] == b']' && !first {
            return Some((matched != negated, &pattern[i + 1..]));
        }
        first = false;
        let mut low = pattern[i];
        if low == b'\\' && i + 1 < pattern.len() {
            i += 1;
            low = pattern[i];
        }
        let mut high = low;
        if i + 2 < pattern.len() && pattern[i + 1] == b'-' && pattern[i + 2] != b']' {
            high = pattern[i + 2];
            i += 2;
        }
        if low <= c && c <= high {
            matched = true;
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::DockerIgnore;

    fn ignores(rules: &str, path: &str) -> bool {
        DockerIgnore::parse(rules).is_ignored(path)
    }

    #[test]
    fn a_plain_pattern_is_anchored_at_the_context_root() {
        assert!(ignores("Dockerfile", "Dockerfile"));
        assert!(!ignores("Dockerfile", "web/Dockerfile"), "unlike .gitignore, no match at any depth");
        assert!(ignores("/Dockerfile", "Dockerfile"), "a leading slash is stripped");
        assert!(ignores("./tmp/../Dockerfile", "Dockerfile"), "patterns are cleaned");
    }

    #[test]
    fn star_and_question_mark_stay_inside_one_component() {
        assert!(ignores("*.md", "README.md"));
        assert!(!ignores("*.md", "docs/README.md"));
        assert!(ignores("*/*.md", "docs/README.md"));
        assert!(ignores("file?.txt", "file1.txt"));
        assert!(!ignores("file?.txt", "file10.txt"));
        assert!(!ignores("a?b", "a/b"));
    }

    #[test]
    fn double_star_spans_any_number_of_directories() {
        assert!(ignores("**/*_test.go", "main_test.go"), "zero directories");
        assert!(ignores("**/*_test.go", "cmd/greeter/main_test.go"));
        assert!(!ignores("**/*_test.go", "cmd/greeter/main.go"));
        assert!(ignores("vendor/**", "vendor/a/b/c.go"));
        assert!(ignores("a/**/z", "a/z"));
        assert!(ignores("a/**/z", "a/b/c/z"));
    }

    #[test]
    fn a_matched_directory_covers_its_contents() {
        assert!(ignores("node_modules", "node_modules/vite/package.json"));
        assert!(ignores("web/dist", "web/dist/assets/index.js"));
        assert!(!ignores("web/dist", "web/distribution.txt"));
    }

    #[test]
    fn exceptions_and_later_patterns_win() {
        let rules = "*.md\n!README.md";
        assert!(ignores(rules, "CHANGES.md"));
        assert!(!ignores(rules, "README.md"));
        let rules = "!README.md\n*.md";
        assert!(ignores(rules, "README.md"), "a later ignore overrides an earlier exception");
        let rules = "docs\n!docs/keep.txt";
        assert!(!ignores(rules, "docs/keep.txt"));
        assert!(ignores(rules, "docs/other.txt"));
        assert!(DockerIgnore::parse(rules).has_exceptions());
    }

    #[test]
    fn comments_blank_lines_and_classes() {
        let rules = "# comment\n\n  build  \n[a-c]*.log\n[!x]y\n\\*literal";
        assert!(ignores(rules, "build"));
        assert!(ignores(rules, "b1.log"));
        assert!(!ignores(rules, "d1.log"));
        assert!(ignores(rules, "ay"));
        assert!(!ignores(rules, "xy"));
        assert!(ignores(rules, "*literal"));
        assert!(!ignores(rules, "Xliteral"));
        assert!(!ignores(rules, "# comment"));
    }
}
