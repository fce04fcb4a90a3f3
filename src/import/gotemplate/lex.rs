//! The lexer: Go template text → tokens, with Go's whitespace trimming already applied to the
//! text around `{{- ` and ` -}}` (the translation then never depends on how tera trims).

use super::{Position, TemplateError, TemplateErrorKind};

/// What one token is.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// Text outside actions, already trimmed as Go trims it.
    Text(String),
    /// `{{` or `{{- `.
    Open {
        trim: bool,
    },
    /// `}}` or ` -}}`.
    Close {
        trim: bool,
    },
    /// A whole `{{/* … */}}` action.
    Comment {
        text: String,
        trim_left: bool,
        trim_right: bool,
    },
    Ident(String),
    /// `.Name` (the name without the dot).
    Field(String),
    /// `$name`, or `$` alone (an empty name).
    Var(String),
    Dot,
    /// A string literal, unquoted (interpreted or raw).
    Str(String),
    /// A character literal: its code point, as Go treats it.
    Char(char),
    Number(String),
    Pipe,
    LParen,
    RParen,
    Declare,
    Assign,
    Comma,
    /// Spaces between operands (they separate arguments; no space chains fields).
    Space,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub pos: Position,
    /// Byte range in the source (for splicing the text again).
    pub start: usize,
    pub end: usize,
}

/// Whitespace as Go's template lexer defines it (for trim markers and argument separation).
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

struct Lexer<'a> {
    src: &'a str,
    /// Byte offset of the next character.
    at: usize,
    line: usize,
    column: usize,
    tokens: Vec<Token>,
    /// Whether leading whitespace of the next text is trimmed (after ` -}}`).
    trim_next_text: bool,
}

impl<'a> Lexer<'a> {
    fn pos(&self) -> Position {
        Position { line: self.line, column: self.column }
    }

    fn rest(&self) -> &'a str {
        self.src.get(self.at..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek_second(&self) -> Option<char> {
        self.rest().chars().nth(1)
    }

    /// Moves over `bytes` bytes of the source, keeping line and column right.
    fn advance(&mut self, bytes: usize) {
        let end = (self.at + bytes).min(self.src.len());
        for c in self.src.get(self.at..end).unwrap_or("").chars() {
            if c == '\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
        }
        self.at = end;
    }

    fn next_char(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.advance(c.len_utf8());
        Some(c)
    }

    fn push(&mut self, tok: Tok, pos: Position, start: usize) {
        self.tokens.push(Token { tok, pos, start, end: self.at });
    }

    fn error(&self, pos: Position, message: impl Into<String>) -> TemplateError {
        TemplateError { position: pos, kind: TemplateErrorKind::Parse, message: message.into() }
    }

    fn run(mut self) -> Result<Vec<Token>, TemplateError> {
        while self.at < self.src.len() {
            match self.rest().find("{{") {
                Some(offset) => {
                    let (text_start, text_pos) = (self.at, self.pos());
                    let raw = &self.rest()[..offset];
                    self.advance(offset);
                    let action_pos = self.pos();
                    let trim_left = self.rest().starts_with("{{-") && self.rest()[3..].starts_with(is_space);
                    let text = if trim_left { raw.trim_end_matches(is_space) } else { raw };
                    self.push_text(text, text_pos, text_start);
                    self.lex_action(trim_left, action_pos)?;
                }
                None => {
                    let (start, pos) = (self.at, self.pos());
                    let raw = self.rest();
                    self.advance(raw.len());
                    self.push_text(raw, pos, start);
                }
            }
        }
        Ok(self.tokens)
    }

    fn push_text(&mut self, text: &str, pos: Position, start: usize) {
        let text = if std::mem::take(&mut self.trim_next_text) { text.trim_start_matches(is_space) } else { text };
        // Kept even when trimmed to nothing: its span still covers the source it replaces.
        if start < self.at {
            self.tokens.push(Token { tok: Tok::Text(text.to_string()), pos, start, end: self.at });
        }
    }

    /// From `{{` to the matching `}}`.
    fn lex_action(&mut self, trim_left: bool, pos: Position) -> Result<(), TemplateError> {
        let start = self.at;
        self.advance(if trim_left { 4 } else { 2 });
        // A comment must follow the delimiter directly (after the trim marker and its space).
        if self.rest().starts_with("/*") {
            return self.lex_comment(trim_left, pos, start);
        }
        self.push(Tok::Open { trim: trim_left }, pos, start);
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error(pos, "unclosed action: `{{` without `}}`"));
            };
            let token_pos = self.pos();
            let token_start = self.at;
            if self.rest().starts_with("}}") {
                self.advance(2);
                self.push(Tok::Close { trim: false }, token_pos, token_start);
                return Ok(());
            }
            if is_space(c) {
                let spaces = self.rest().len() - self.rest().trim_start_matches(is_space).len();
                if self.rest()[spaces..].starts_with("-}}") {
                    self.advance(spaces + 3);
                    self.push(Tok::Close { trim: true }, token_pos, token_start);
                    self.trim_next_text = true;
                    return Ok(());
                }
                self.advance(spaces);
                self.push(Tok::Space, token_pos, token_start);
                continue;
            }
            let tok = match c {
                '|' => self.single(Tok::Pipe),
                '(' => self.single(Tok::LParen),
                ')' => self.single(Tok::RParen),
                ',' => self.single(Tok::Comma),
                '=' => self.single(Tok::Assign),
                ':' if self.peek_second() == Some('=') => {
                    self.advance(2);
                    Tok::Declare
                }
                '"' => Tok::Str(self.interpreted_string(token_pos)?),
                '`' => Tok::Str(self.raw_string(token_pos)?),
                '\'' => Tok::Char(self.char_literal(token_pos)?),
                '$' => {
                    self.advance(1);
                    Tok::Var(self.identifier())
                }
                '.' if self.peek_second().is_some_and(|d| d.is_ascii_digit()) => Tok::Number(self.number()),
                '.' => {
                    self.advance(1);
                    let name = self.identifier();
                    if name.is_empty() {
                        Tok::Dot
                    } else {
                        Tok::Field(name)
                    }
                }
                '+' | '-' | '0'..='9' => Tok::Number(self.number()),
                c if c == '_' || c.is_alphabetic() => Tok::Ident(self.identifier()),
                other => return Err(self.error(token_pos, format!("unexpected {other:?} in action"))),
            };
            self.push(tok, token_pos, token_start);
        }
    }

    fn single(&mut self, tok: Tok) -> Tok {
        self.advance(1);
        tok
    }

    fn identifier(&mut self) -> String {
        let length = self.rest().find(|c: char| !(c == '_' || c.is_alphanumeric())).unwrap_or(self.rest().len());
        let name = self.rest()[..length].to_string();
        self.advance(length);
        name
    }

    /// A number as Go scans it: sign, digits, letters (hex, exponents), dots; the parser checks it.
    fn number(&mut self) -> String {
        let mut text = String::new();
        if let Some(sign @ ('+' | '-')) = self.peek() {
            text.push(sign);
            self.advance(1);
        }
        while let Some(c) = self.peek() {
            let exponent_sign =
                matches!(c, '+' | '-') && text.ends_with(['e', 'E', 'p', 'P']) && !text.starts_with("0x");
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' || exponent_sign {
                text.push(c);
                self.advance(1);
            } else {
                break;
            }
        }
        text
    }

    fn interpreted_string(&mut self, pos: Position) -> Result<String, TemplateError> {
        self.advance(1);
        let mut value = String::new();
        loop {
            match self.next_char() {
                None | Some('\n') => return Err(self.error(pos, "unterminated quoted string")),
                Some('"') => return Ok(value),
                Some('\\') => value.push(self.escape(pos, '"')?),
                Some(c) => value.push(c),
            }
        }
    }

    fn raw_string(&mut self, pos: Position) -> Result<String, TemplateError> {
        self.advance(1);
        match self.rest().find('`') {
            Some(length) => {
                let value = self.rest()[..length].to_string();
                self.advance(length + 1);
                Ok(value)
            }
            None => Err(self.error(pos, "unterminated raw quoted string")),
        }
    }

    fn char_literal(&mut self, pos: Position) -> Result<char, TemplateError> {
        self.advance(1);
        let value = match self.next_char() {
            None | Some('\n') | Some('\'') => return Err(self.error(pos, "unterminated or empty character constant")),
            Some('\\') => self.escape(pos, '\'')?,
            Some(c) => c,
        };
        if self.next_char() != Some('\'') {
            return Err(self.error(pos, "unterminated character constant"));
        }
        Ok(value)
    }

    /// One escape after `\`, as Go's strconv.Unquote reads it.
    fn escape(&mut self, pos: Position, quote: char) -> Result<char, TemplateError> {
        let bad = |lexer: &Self| lexer.error(pos, "invalid escape in quoted string");
        let c = self.next_char().ok_or_else(|| bad(self))?;
        let hex = |lexer: &mut Self, digits: usize| -> Result<char, TemplateError> {
            let text: String = lexer.rest().chars().take(digits).collect();
            if text.len() != digits || !text.chars().all(|d| d.is_ascii_hexdigit()) {
                return Err(bad(lexer));
            }
            lexer.advance(digits);
            u32::from_str_radix(&text, 16).ok().and_then(char::from_u32).ok_or_else(|| bad(lexer))
        };
        Ok(match c {
            'a' => '\u{7}',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\u{b}',
            '\\' => '\\',
            q if q == quote => q,
            'x' => hex(self, 2)?,
            'u' => hex(self, 4)?,
            'U' => hex(self, 8)?,
            '0'..='7' => {
                let rest: String = self.rest().chars().take(2).collect();
                if rest.len() != 2 || !rest.chars().all(|d| ('0'..='7').contains(&d)) {
                    return Err(bad(self));
                }
                self.advance(2);
                let code = u32::from_str_radix(&format!("{c}{rest}"), 8).map_err(|_| bad(self))?;
                if code > 255 {
                    return Err(bad(self));
                }
                char::from_u32(code).ok_or_else(|| bad(self))?
            }
            _ => return Err(bad(self)),
        })
    }

    fn lex_comment(&mut self, trim_left: bool, pos: Position, start: usize) -> Result<(), TemplateError> {
        self.advance(2);
        let Some(length) = self.rest().find("*/") else {
            return Err(self.error(pos, "unclosed comment"));
        };
        let text = self.rest()[..length].to_string();
        self.advance(length + 2);
        let trim_right = if self.rest().starts_with("}}") {
            self.advance(2);
            false
        } else if self.rest().starts_with(is_space) && self.rest()[1..].starts_with("-}}") {
            self.advance(4);
            true
        } else {
            return Err(self.error(pos, "comment ends before closing delimiter"));
        };
        self.trim_next_text = trim_right;
        self.push(Tok::Comment { text, trim_left, trim_right }, pos, start);
        Ok(())
    }
}

/// The tokens of a whole template text.
pub fn lex(src: &str) -> Result<Vec<Token>, TemplateError> {
    Lexer { src, at: 0, line: 1, column: 1, tokens: Vec::new(), trim_next_text: false }.run()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        lex(src).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn trim_markers_trim_the_text_around_them() {
        assert_eq!(
            kinds("a \n{{- .X -}}\n b"),
            vec![
                Tok::Text("a".into()),
                Tok::Open { trim: true },
                Tok::Field("X".into()),
                Tok::Close { trim: true },
                Tok::Text("b".into()),
            ]
        );
        // Without the space, `{{-3}}` is the number -3.
        assert_eq!(
            kinds("{{-3}}"),
            vec![Tok::Open { trim: false }, Tok::Number("-3".into()), Tok::Close { trim: false }]
        );
    }

    #[test]
    fn strings_escapes_and_chars() {
        assert_eq!(
            kinds(r#"{{"a\n\x41\u00e9\101\"" `r\n` 'x' '\n'}}"#),
            vec![
                Tok::Open { trim: false },
                Tok::Str("a\nAéA\"".into()),
                Tok::Space,
                Tok::Str("r\\n".into()),
                Tok::Space,
                Tok::Char('x'),
                Tok::Space,
                Tok::Char('\n'),
                Tok::Close { trim: false },
            ]
        );
    }

    #[test]
    fn comments_with_trim_markers() {
        assert_eq!(
            kinds("a {{- /* c */ -}} b"),
            vec![
                Tok::Text("a".into()),
                Tok::Comment { text: " c ".into(), trim_left: true, trim_right: true },
                Tok::Text("b".into()),
            ]
        );
        assert_eq!(lex("{{/* c */ x}}").unwrap_err().kind, TemplateErrorKind::Parse);
    }

    #[test]
    fn errors_name_the_position() {
        let err = lex("ab\n  {{ .X").unwrap_err();
        assert_eq!(err.position, Position { line: 2, column: 3 });
        let err = lex("{{ \"abc }}").unwrap_err();
        assert_eq!(
            (err.position, err.message.as_str()),
            (Position { line: 1, column: 4 }, "unterminated quoted string")
        );
        let err = lex("é{{/* x").unwrap_err();
        assert_eq!(err.position, Position { line: 1, column: 2 });
    }
}
