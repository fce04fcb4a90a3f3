//! The parser: tokens → syntax tree, following Go's text/template grammar. Nesting (blocks and
//! parentheses together) is bounded so that no input can exhaust the stack.

use super::ast::{Branch, Command, Declared, Else, Node, Operand, Pipeline, Span, Term, Trim};
use super::lex::{lex, Tok, Token};
use super::{Position, TemplateError, TemplateErrorKind};

/// Deepest nesting of blocks and parentheses (the limit of tera templates as well).
pub const MAX_DEPTH: usize = 64;

/// Parses a whole template text.
pub fn parse(src: &str) -> Result<Vec<Node>, TemplateError> {
    let tokens = lex(src)?;
    let end = Position {
        line: src.matches('\n').count() + 1,
        column: src.rsplit('\n').next().unwrap_or("").chars().count() + 1,
    };
    let mut parser = Parser { tokens, at: 0, depth: 0, end };
    let (nodes, stop) = parser.list()?;
    match stop {
        Stop::Eof => Ok(nodes),
        Stop::End { pos, .. } => Err(error(TemplateErrorKind::Parse, pos, "unexpected {{end}}: no block to end")),
        Stop::Else { pos, .. } | Stop::ElseIf { pos, .. } => {
            Err(error(TemplateErrorKind::Parse, pos, "unexpected {{else}}: not inside if, range or with"))
        }
    }
}

fn error(kind: TemplateErrorKind, position: Position, message: impl Into<String>) -> TemplateError {
    TemplateError { position, kind, message: message.into() }
}

/// What ended a list of nodes.
enum Stop {
    Eof,
    End { trim: Trim, pos: Position },
    Else { trim: Trim, pos: Position },
    ElseIf { trim: Trim, pipe: Pipeline, pos: Position },
}

/// Which token ends a pipeline.
#[derive(Clone, Copy, PartialEq)]
enum Until {
    Close,
    RightParen,
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
    /// Where the text ends (for errors at the end of input).
    end: Position,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn peek_tok(&self) -> Option<&Tok> {
        self.peek().map(|t| &t.tok)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        if token.is_some() {
            self.at += 1;
        }
        token
    }

    fn pos(&self) -> Position {
        self.peek().map_or(self.end, |t| t.pos)
    }

    fn skip_spaces(&mut self) {
        while self.peek_tok() == Some(&Tok::Space) {
            self.at += 1;
        }
    }

    fn enter(&mut self, pos: Position) -> Result<(), TemplateError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(error(
                TemplateErrorKind::TooDeep,
                pos,
                format!("blocks and parentheses nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Nodes until end of input, `{{end}}` or `{{else…}}`.
    fn list(&mut self) -> Result<(Vec<Node>, Stop), TemplateError> {
        let mut nodes = Vec::new();
        while let Some(token) = self.next() {
            match token.tok {
                Tok::Text(text) => {
                    nodes.push(Node::Text { text, span: Span { pos: token.pos, start: token.start, end: token.end } })
                }
                Tok::Comment { text, trim_left, trim_right } => {
                    nodes.push(Node::Comment { trim: Trim { left: trim_left, right: trim_right }, text })
                }
                Tok::Open { trim } => {
                    if let Some(stop) = self.action(trim, &token, &mut nodes)? {
                        return Ok((nodes, stop));
                    }
                }
                other => return Err(error(TemplateErrorKind::Parse, token.pos, format!("unexpected {other:?}"))),
            }
        }
        Ok((nodes, Stop::Eof))
    }

    /// One action after `{{`: a node is pushed, or the list ends.
    fn action(&mut self, left: bool, open: &Token, nodes: &mut Vec<Node>) -> Result<Option<Stop>, TemplateError> {
        self.skip_spaces();
        let keyword_pos = self.pos();
        let keyword = match self.peek_tok() {
            Some(Tok::Ident(name)) => Some(name.clone()),
            _ => None,
        };
        match keyword.as_deref() {
            Some("if") => {
                self.at += 1;
                let node = self.if_block(left, open.pos)?;
                nodes.push(node);
            }
            Some(kind @ ("range" | "with")) => {
                self.at += 1;
                let node = self.range_or_with(kind == "range", left, open.pos)?;
                nodes.push(node);
            }
            Some("end") => {
                self.at += 1;
                let right = self.close()?;
                return Ok(Some(Stop::End { trim: Trim { left, right }, pos: keyword_pos }));
            }
            Some("else") => {
                self.at += 1;
                self.skip_spaces();
                match self.peek_tok() {
                    Some(Tok::Ident(name)) if name == "if" => {
                        self.at += 1;
                        let pipe = self.pipeline(Until::Close, false, keyword_pos, "if")?;
                        let right = self.close()?;
                        return Ok(Some(Stop::ElseIf { trim: Trim { left, right }, pipe, pos: keyword_pos }));
                    }
                    Some(Tok::Ident(name)) if name == "with" => {
                        return Err(error(
                            TemplateErrorKind::NotTranslatable,
                            keyword_pos,
                            "{{else with}} is not translated: write it as {{else}}{{with …}}…{{end}}",
                        ));
                    }
                    _ => {
                        let right = self.close()?;
                        return Ok(Some(Stop::Else { trim: Trim { left, right }, pos: keyword_pos }));
                    }
                }
            }
            Some(name @ ("break" | "continue")) => {
                let is_break = name == "break";
                self.at += 1;
                let trim = Trim { left, right: self.close()? };
                let pos = keyword_pos;
                nodes.push(if is_break { Node::Break { trim, pos } } else { Node::Continue { trim, pos } });
            }
            Some(name @ ("define" | "template" | "block")) => {
                return Err(error(
                    TemplateErrorKind::NotTranslatable,
                    keyword_pos,
                    format!("{{{{{name}}}}} is not translated: named templates have no equivalent in one tera string"),
                ));
            }
            _ => {
                let pipe = self.pipeline(Until::Close, true, open.pos, "command")?;
                let right = self.close()?;
                let close_end = self.at.checked_sub(1).and_then(|i| self.tokens.get(i)).map_or(open.end, |t| t.end);
                let span = Span { pos: open.pos, start: open.start, end: close_end };
                nodes.push(Node::Action { trim: Trim { left, right }, pipe, span });
            }
        }
        Ok(None)
    }

    /// Expects `}}` (after spaces); returns its trim marker.
    fn close(&mut self) -> Result<bool, TemplateError> {
        self.skip_spaces();
        let pos = self.pos();
        match self.next().map(|t| t.tok) {
            Some(Tok::Close { trim }) => Ok(trim),
            Some(other) => {
                Err(error(TemplateErrorKind::Parse, pos, format!("unexpected {} in action", describe(&other))))
            }
            None => Err(error(TemplateErrorKind::Parse, pos, "unclosed action")),
        }
    }

    fn if_block(&mut self, left: bool, pos: Position) -> Result<Node, TemplateError> {
        self.enter(pos)?;
        let pipe = self.pipeline(Until::Close, true, pos, "if")?;
        let right = self.close()?;
        let mut branches = vec![];
        let mut trim = Trim { left, right };
        let mut pipe = pipe;
        loop {
            let (body, stop) = self.list()?;
            branches.push(Branch { trim, pipe, body });
            match stop {
                Stop::Eof => return Err(missing_end(pos, "if")),
                Stop::End { trim: end, .. } => {
                    self.leave();
                    return Ok(Node::If { branches, otherwise: None, end });
                }
                Stop::ElseIf { trim: t, pipe: p, .. } => {
                    trim = t;
                    pipe = p;
                }
                Stop::Else { trim: t, .. } => {
                    let (body, end) = self.else_body(pos, "if")?;
                    self.leave();
                    return Ok(Node::If { branches, otherwise: Some(Else { trim: t, body }), end });
                }
            }
        }
    }

    /// The body after `{{else}}`, up to `{{end}}`.
    fn else_body(&mut self, pos: Position, block: &str) -> Result<(Vec<Node>, Trim), TemplateError> {
        let (body, stop) = self.list()?;
        match stop {
            Stop::End { trim, .. } => Ok((body, trim)),
            Stop::Eof => Err(missing_end(pos, block)),
            Stop::Else { pos, .. } | Stop::ElseIf { pos, .. } => {
                Err(error(TemplateErrorKind::Parse, pos, format!("a second {{{{else}}}} in {block}")))
            }
        }
    }

    fn range_or_with(&mut self, is_range: bool, left: bool, pos: Position) -> Result<Node, TemplateError> {
        let block = if is_range { "range" } else { "with" };
        self.enter(pos)?;
        let pipe = self.pipeline(Until::Close, true, pos, block)?;
        if pipe.assigns || (!is_range && pipe.declared.len() > 1) {
            return Err(error(TemplateErrorKind::Parse, pipe.pos, format!("bad declaration in {block}")));
        }
        let right = self.close()?;
        let (body, stop) = self.list()?;
        let head = Branch { trim: Trim { left, right }, pipe, body };
        let (otherwise, end) = match stop {
            Stop::Eof => return Err(missing_end(pos, block)),
            Stop::End { trim, .. } => (None, trim),
            Stop::ElseIf { pos, .. } => {
                return Err(error(
                    TemplateErrorKind::NotTranslatable,
                    pos,
                    format!("{{{{else if}}}} in {block} is not translated"),
                ))
            }
            Stop::Else { trim, .. } => {
                let (body, end) = self.else_body(pos, block)?;
                (Some(Else { trim, body }), end)
            }
        };
        self.leave();
        let node = if is_range { Node::Range { head, otherwise, end } } else { Node::With { head, otherwise, end } };
        Ok(node)
    }

    /// `$x :=`, `$x =` or `$i, $v :=` at the start of a pipeline, if there.
    fn declaration(&mut self) -> (Vec<Declared>, bool) {
        let save = self.at;
        let mut declared = vec![];
        loop {
            self.skip_spaces();
            let Some(Token { tok: Tok::Var(name), pos, .. }) = self.peek().cloned() else { break };
            self.at += 1;
            self.skip_spaces();
            declared.push(Declared { name, pos });
            match self.peek_tok() {
                Some(Tok::Declare) => {
                    self.at += 1;
                    return (declared, false);
                }
                Some(Tok::Assign) => {
                    self.at += 1;
                    return (declared, true);
                }
                Some(Tok::Comma) if declared.len() == 1 => self.at += 1,
                _ => break,
            }
        }
        self.at = save;
        (vec![], false)
    }

    fn pipeline(
        &mut self,
        until: Until,
        declarations: bool,
        pos: Position,
        what: &str,
    ) -> Result<Pipeline, TemplateError> {
        let (declared, assigns) = if declarations { self.declaration() } else { (vec![], false) };
        self.skip_spaces();
        let pos = if declared.is_empty() { self.peek().map_or(pos, |t| t.pos) } else { pos };
        let mut commands = vec![];
        loop {
            let command = self.command(until)?;
            if command.args.is_empty() {
                return Err(error(TemplateErrorKind::Parse, self.pos(), format!("missing value for {what}")));
            }
            commands.push(command);
            match self.peek_tok() {
                Some(Tok::Pipe) => self.at += 1,
                _ => break,
            }
        }
        Ok(Pipeline { pos, declared, assigns, commands })
    }

    /// Operands up to `|` or the end of the pipeline (not consumed).
    fn command(&mut self, until: Until) -> Result<Command, TemplateError> {
        self.skip_spaces();
        let pos = self.pos();
        let mut args = vec![];
        loop {
            self.skip_spaces();
            match self.peek_tok() {
                None | Some(Tok::Pipe) | Some(Tok::Close { .. }) => break,
                Some(Tok::RParen) if until == Until::RightParen => break,
                _ => {}
            }
            args.push(self.operand(until)?);
            match self.peek_tok() {
                Some(Tok::Space) | Some(Tok::Pipe) | Some(Tok::Close { .. }) | None => {}
                Some(Tok::RParen) if until == Until::RightParen => {}
                Some(other) => {
                    let message = format!("unexpected {} in operand", describe(other));
                    return Err(error(TemplateErrorKind::Parse, self.pos(), message));
                }
            }
        }
        Ok(Command { pos, args })
    }

    fn operand(&mut self, until: Until) -> Result<Operand, TemplateError> {
        let pos = self.pos();
        let Some(token) = self.next() else {
            return Err(error(TemplateErrorKind::Parse, pos, "unexpected end of action"));
        };
        let mut fields = vec![];
        let term = match token.tok {
            Tok::Dot => Term::Dot,
            Tok::Field(name) => {
                fields.push(name);
                Term::Dot
            }
            Tok::Var(name) => Term::Var(name),
            Tok::Ident(name) => match name.as_str() {
                "true" => Term::Bool(true),
                "false" => Term::Bool(false),
                "nil" => Term::Nil,
                _ => Term::Function(name),
            },
            Tok::Str(value) => Term::Str(value),
            Tok::Char(c) => Term::Char(c),
            Tok::Number(text) => Term::Number(text),
            Tok::LParen => {
                self.enter(pos)?;
                let inner = self.pipeline(Until::RightParen, false, pos, "parenthesized pipeline")?;
                match self.next().map(|t| t.tok) {
                    Some(Tok::RParen) => {}
                    _ => return Err(error(TemplateErrorKind::Parse, pos, "unclosed left paren")),
                }
                self.leave();
                Term::Pipe(Box::new(inner))
            }
            Tok::RParen => return Err(error(TemplateErrorKind::Parse, pos, "unexpected right paren")),
            other => {
                let _ = until;
                return Err(error(
                    TemplateErrorKind::Parse,
                    pos,
                    format!("unexpected {} in operand", describe(&other)),
                ));
            }
        };
        while let Some(Tok::Field(name)) = self.peek_tok() {
            fields.push(name.clone());
            self.at += 1;
        }
        Ok(Operand { pos, term, fields })
    }
}

fn missing_end(pos: Position, block: &str) -> TemplateError {
    error(TemplateErrorKind::Parse, pos, format!("missing {{{{end}}}} for the {{{{{block}}}}} that starts here"))
}

/// A token as a message names it.
fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Text(_) => "text".into(),
        Tok::Open { .. } => "\"{{\"".into(),
        Tok::Close { .. } => "\"}}\"".into(),
        Tok::Comment { .. } => "comment".into(),
        Tok::Ident(name) => format!("{name:?}"),
        Tok::Field(name) => format!("\".{name}\""),
        Tok::Var(name) => format!("\"${name}\""),
        Tok::Dot => "\".\"".into(),
        Tok::Str(s) => format!("string {s:?}"),
        Tok::Char(c) => format!("character {c:?}"),
        Tok::Number(n) => format!("number {n}"),
        Tok::Pipe => "\"|\"".into(),
        Tok::LParen => "\"(\"".into(),
        Tok::RParen => "\")\"".into(),
        Tok::Declare => "\":=\"".into(),
        Tok::Assign => "\"=\"".into(),
        Tok::Comma => "\",\"".into(),
        Tok::Space => "space".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only_pipeline(src: &str) -> Pipeline {
        match parse(src).unwrap().as_slice() {
            [Node::Action { pipe, .. }] => pipe.clone(),
            other => panic!("{src:?}: {other:?}"),
        }
    }

    fn operand(term: Term, fields: &[&str], column: usize) -> Operand {
        Operand { pos: Position { line: 1, column }, term, fields: fields.iter().map(|f| f.to_string()).collect() }
    }

    #[test]
    fn field_chains_variables_and_parentheses() {
        let pipe = only_pipeline("{{ .A.B $x.C $.D (.E).F $ . }}");
        let args = &pipe.commands[0].args;
        assert_eq!(args[0], operand(Term::Dot, &["A", "B"], 4));
        assert_eq!(args[1], operand(Term::Var("x".into()), &["C"], 9));
        assert_eq!(args[2], operand(Term::Var(String::new()), &["D"], 14));
        assert_eq!(args[3].fields, vec!["F".to_string()]);
        assert!(
            matches!(&args[3].term, Term::Pipe(inner) if inner.commands[0].args[0] == operand(Term::Dot, &["E"], 19))
        );
        assert_eq!(args[4], operand(Term::Var(String::new()), &[], 25));
        assert_eq!(args[5], operand(Term::Dot, &[], 27));
    }

    #[test]
    fn pipelines_literals_and_declarations() {
        let pipe = only_pipeline("{{ $v := f 1 -2.5 0x1F 'c' \"s\" `r` true false nil | g (h (i)) }}");
        assert_eq!(pipe.declared, vec![Declared { name: "v".into(), pos: Position { line: 1, column: 4 } }]);
        assert!(!pipe.assigns);
        assert_eq!(pipe.commands.len(), 2);
        let terms: Vec<&Term> = pipe.commands[0].args.iter().map(|a| &a.term).collect();
        assert_eq!(
            terms,
            vec![
                &Term::Function("f".into()),
                &Term::Number("1".into()),
                &Term::Number("-2.5".into()),
                &Term::Number("0x1F".into()),
                &Term::Char('c'),
                &Term::Str("s".into()),
                &Term::Str("r".into()),
                &Term::Bool(true),
                &Term::Bool(false),
                &Term::Nil,
            ]
        );
        assert!(only_pipeline("{{ $v = 1 }}").assigns);
    }

    #[test]
    fn control_structures() {
        let nodes = parse("{{ if .A }}a{{ else if .B }}b{{ else }}c{{ end }}").unwrap();
        let [Node::If { branches, otherwise: Some(otherwise), .. }] = nodes.as_slice() else { panic!("{nodes:?}") };
        assert_eq!(branches.len(), 2);
        assert!(matches!(otherwise.body.as_slice(), [Node::Text { text, .. }] if text == "c"));
        let nodes = parse("{{ range $i, $v := .L }}{{ break }}{{ continue }}{{ else }}e{{ end }}").unwrap();
        let [Node::Range { head, otherwise: Some(_), .. }] = nodes.as_slice() else { panic!("{nodes:?}") };
        assert_eq!(head.pipe.declared.len(), 2);
        assert!(matches!(head.body.as_slice(), [Node::Break { .. }, Node::Continue { .. }]));
        let nodes = parse("{{- with $x := .A -}}{{ . }}{{- end -}}").unwrap();
        let [Node::With { head, end, .. }] = nodes.as_slice() else { panic!("{nodes:?}") };
        assert_eq!((head.trim, *end), (Trim { left: true, right: true }, Trim { left: true, right: true }));
        assert!(parse("{{ with $a, $b := .A }}{{ end }}").is_err());
        assert!(parse("{{ if .A }}{{ else }}{{ else }}{{ end }}").is_err());
    }

    #[test]
    fn comments_are_nodes() {
        let nodes = parse("a{{/* x */}}b").unwrap();
        assert!(matches!(&nodes[1], Node::Comment { text, .. } if text == " x "));
    }
}
