//! The syntax tree of a Go template, as far as the translator needs it.

use super::Position;

/// The trim markers of one action: `{{-` (left) and `-}}` (right).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Trim {
    pub left: bool,
    pub right: bool,
}

/// Where a leaf node is in the source: its position and byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub pos: Position,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// Text, already trimmed as Go trims it.
    Text {
        text: String,
        span: Span,
    },
    /// `{{ pipeline }}`: prints the value, or declares/assigns a variable (prints nothing).
    Action {
        trim: Trim,
        pipe: Pipeline,
        span: Span,
    },
    Comment {
        trim: Trim,
        text: String,
    },
    /// `if`, then each `else if`, each with its condition and body.
    If {
        branches: Vec<Branch>,
        otherwise: Option<Else>,
        end: Trim,
    },
    Range {
        head: Branch,
        otherwise: Option<Else>,
        end: Trim,
    },
    With {
        head: Branch,
        otherwise: Option<Else>,
        end: Trim,
    },
    Break {
        trim: Trim,
        pos: Position,
    },
    Continue {
        trim: Trim,
        pos: Position,
    },
}

/// The action opening a block (`{{ if p }}`, `{{ else if p }}`, `{{ range p }}`…) and its body.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    pub trim: Trim,
    pub pipe: Pipeline,
    pub body: Vec<Node>,
}

/// `{{ else }}` and the body after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Else {
    pub trim: Trim,
    pub body: Vec<Node>,
}

/// A variable declared or assigned by a pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Declared {
    pub name: String,
    pub pos: Position,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub pos: Position,
    /// `$x :=` / `$x =` / (range only) `$i, $v :=`.
    pub declared: Vec<Declared>,
    /// `=` rather than `:=`.
    pub assigns: bool,
    pub commands: Vec<Command>,
}

/// One stage of a pipeline: a value, or a function and its arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub pos: Position,
    pub args: Vec<Operand>,
}

/// A term and the fields read from it (`.A.B`, `$x.A`, `(p).A`).
#[derive(Debug, Clone, PartialEq)]
pub struct Operand {
    pub pos: Position,
    pub term: Term,
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    /// `.` (with `fields`, `.A.B`).
    Dot,
    /// `$name`; `$` is the empty name.
    Var(String),
    /// A function name.
    Function(String),
    Str(String),
    Number(String),
    Char(char),
    Bool(bool),
    Nil,
    Pipe(Box<Pipeline>),
}

impl Operand {
    /// The string, when the operand is a string literal.
    pub fn as_str(&self) -> Option<&str> {
        match &self.term {
            Term::Str(s) if self.fields.is_empty() => Some(s),
            _ => None,
        }
    }
}

impl Pipeline {
    /// The string, when the pipeline is only a string literal (`{{ "{{" }}`).
    pub fn as_literal(&self) -> Option<&str> {
        match (self.declared.is_empty(), self.commands.as_slice()) {
            (true, [command]) => match command.args.as_slice() {
                [operand] => operand.as_str(),
                _ => None,
            },
            _ => None,
        }
    }
}
