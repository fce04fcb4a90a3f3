//! Tera expressions, built so that each one parses where it is put.
//!
//! Tera's grammar is not compositional: a filtered value cannot be an operand of `~`, a
//! comparison cannot be filtered, brackets only take names. Every expression therefore carries
//! its [`Level`], and a combinator that needs a simpler one wraps it in the `value(of=…)`
//! function (registered in config::template), which is an atom everywhere.

/// How an expression may be combined, from the most to the least flexible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `project`, `inputs.x`, `versions["a-b"]`: may be indexed as well.
    Path,
    /// A literal or a function call.
    Atom,
    /// `x | f(…) | g`.
    Filtered,
    /// `a ~ b ~ c`.
    Concat,
    /// `a == b`.
    Compare,
    /// `not a`: an operand of `and`/`or` as it is, but not of another `not`.
    Negation,
    /// `a and b`, `not a`, `(…)`.
    Logic,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub text: String,
    pub level: Level,
    /// A map of the context (`versions`, `inputs`): ranged over with key and value.
    pub is_map: bool,
}

impl Expr {
    pub fn new(text: impl Into<String>, level: Level) -> Expr {
        Expr { text: text.into(), level, is_map: false }
    }

    pub fn path(text: impl Into<String>) -> Expr {
        Expr::new(text, Level::Path)
    }

    /// An expression given as text (a file variable, a known variable): a path when it is
    /// one, else grouped in parentheses.
    pub fn given(text: &str) -> Expr {
        if is_path(text) {
            Expr::path(text)
        } else {
            Expr::new(format!("({text})"), Level::Logic)
        }
    }

    /// Usable as an operand of `~`, as a filter's input and as a function argument.
    pub fn atom(self) -> Expr {
        if self.level <= Level::Atom {
            self
        } else {
            Expr { text: format!("value(of={})", self.text), level: Level::Atom, is_map: self.is_map }
        }
    }

    /// Usable before `| filter`.
    pub fn filterable(self) -> Expr {
        if self.level <= Level::Filtered {
            self
        } else {
            self.atom()
        }
    }

    /// Usable as an operand of `==`, `<`….
    pub fn comparable(self) -> Expr {
        self.filterable()
    }

    /// Usable as an operand of `and` / `or`.
    pub fn logical(self) -> Expr {
        match self.level {
            Level::Concat => self.atom(),
            Level::Negation => self,
            Level::Logic if !self.text.starts_with('(') || !self.text.ends_with(')') => {
                Expr::new(format!("({})", self.text), Level::Logic)
            }
            _ => self,
        }
    }

    /// Usable after `not`.
    pub fn negatable(self) -> Expr {
        if self.level <= Level::Compare {
            self
        } else {
            self.atom()
        }
    }

    pub fn filter(self, call: &str) -> Expr {
        let input = self.filterable();
        Expr::new(format!("{} | {call}", input.text), Level::Filtered)
    }
}

/// Whether `text` is a tera name path (`a`, `a.b`, `a["x"]`, `a[b.c]`).
pub fn is_path(text: &str) -> bool {
    let mut chars = text.chars().peekable();
    if !chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') {
        return false;
    }
    let mut in_brackets: Option<char> = None;
    let mut depth = 0usize;
    for c in chars {
        match in_brackets {
            Some(quote) => {
                if c == quote {
                    in_brackets = None;
                }
            }
            None => match c {
                '"' | '\'' | '`' if depth > 0 => in_brackets = Some(c),
                '[' => depth += 1,
                ']' if depth > 0 => depth -= 1,
                c if c.is_ascii_alphanumeric() || c == '_' || c == '.' => {}
                _ => return false,
            },
        }
    }
    depth == 0 && in_brackets.is_none()
}

/// Whether `name` is a tera identifier (usable after `.` and in `set`).
pub fn is_identifier(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `key` may follow a `.` in a tera path (tera allows digits there too).
fn is_dot_key(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A tera string literal for `value`: tera has no escapes, so the quote is one the value does
/// not contain; a value with all three quotes becomes a concatenation of pieces.
pub fn string_literal(value: &str) -> Expr {
    if let Some(quoted) = quote_without_escapes(value) {
        return Expr::new(quoted, Level::Atom);
    }
    // Each piece lacks at least one of the quotes: a quote that would complete all three
    // starts the next piece.
    let mut pieces = vec![];
    let mut current = String::new();
    for c in value.chars() {
        let quotes = ['"', '\'', '`'];
        if quotes.contains(&c) && quotes.iter().all(|q| *q == c || current.contains(*q)) {
            pieces.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    pieces.push(current);
    let quoted: Vec<String> = pieces.iter().map(|p| quote_without_escapes(p).unwrap_or_default()).collect();
    Expr::new(quoted.join(" ~ "), Level::Concat)
}

fn quote_without_escapes(value: &str) -> Option<String> {
    ['"', '\'', '`'].into_iter().find(|q| !value.contains(*q)).map(|q| format!("{q}{value}{q}"))
}

/// `base.key` or `base["key"]` for a literal key; None when no tera form exists.
pub fn member(base: &str, key: &str) -> Option<String> {
    if is_dot_key(key) {
        return Some(format!("{base}.{key}"));
    }
    quote_without_escapes(key).map(|quoted| format!("{base}[{quoted}]"))
}

/// A tera name for the Go name `name` of an input: non-alphanumerics become `_`.
pub fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_literals() {
        assert!(is_path("inputs.a"));
        assert!(is_path("versions[\"a-b\"].c"));
        assert!(!is_path("a | b"));
        assert!(!is_path("(a)"));
        assert_eq!(string_literal("a\"b").text, "'a\"b'");
        assert_eq!(string_literal("\"'`").text, "`\"'` ~ \"`\"");
        assert_eq!(member("m", "a-b").as_deref(), Some("m[\"a-b\"]"));
        assert_eq!(member("m", "0").as_deref(), Some("m.0"));
        assert_eq!(sanitize("a.b-c"), "a_b_c");
    }
}
