//! Go `printf` format strings, as far as they translate to a concatenation: `%s`, `%d`, `%v`,
//! `%q` (a double-quoted string, which manifests use to write a value as a YAML string) and
//! `%%`. Flags, widths and other verbs change the text in ways `~` cannot.

/// One piece of a format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Literal(String),
    /// The next argument, printed as it is.
    Argument,
    /// The next argument, double-quoted with escapes (`%q`).
    Quoted,
}

impl Piece {
    /// Whether the piece takes an argument.
    pub fn takes_argument(&self) -> bool {
        matches!(self, Piece::Argument | Piece::Quoted)
    }
}

/// The pieces of `format`, or the first verb that has no translation.
pub fn pieces(format: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = vec![];
    let mut literal = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            literal.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => literal.push('%'),
            Some(verb @ ('s' | 'd' | 'v' | 'q')) => {
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(if verb == 'q' { Piece::Quoted } else { Piece::Argument });
            }
            Some(other) => return Err(format!("%{other}")),
            None => return Err("a lone % at the end".into()),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_and_literals() {
        assert_eq!(
            pieces("%s-%d%%x%v").unwrap(),
            vec![
                Piece::Argument,
                Piece::Literal("-".into()),
                Piece::Argument,
                Piece::Literal("%x".into()),
                Piece::Argument
            ]
        );
        assert_eq!(pieces("%5s").unwrap_err(), "%5");
        assert_eq!(pieces("%q").unwrap(), vec![Piece::Quoted]);
        assert_eq!(pieces("%x").unwrap_err(), "%x");
        assert!(pieces("50%").is_err());
        assert_eq!(pieces("").unwrap(), vec![]);
    }
}
