//! Pipelines and their operands: `.` and its fields, variables, literals, and the context's
//! fields with the inputs they stand for.

use super::functions::Arg;
use super::{error, not_translatable, Dot, Translator, Want};
use crate::import::gotemplate::ast::{Operand, Pipeline, Term};
use crate::import::gotemplate::expr::{self, Expr, Level};
use crate::import::gotemplate::{InputKind, InputUse, Position, TemplateError, TemplateErrorKind};

impl Translator<'_> {
    pub(super) fn pipeline(&mut self, pipe: &Pipeline, want: Want) -> Result<Expr, TemplateError> {
        let mut value: Option<(Expr, Position)> = None;
        let last = pipe.commands.len().saturating_sub(1);
        for (i, command) in pipe.commands.iter().enumerate() {
            let want = if i == last { want } else { Want::Value };
            let piped = value.take().map(|(expr, pos)| Arg::Piped(expr, pos));
            let Some(first) = command.args.first() else {
                return Err(error(TemplateErrorKind::Parse, command.pos, "empty command"));
            };
            let expr = match &first.term {
                Term::Function(name) if first.fields.is_empty() => {
                    let mut args: Vec<Arg> = command.args[1..].iter().map(Arg::Written).collect();
                    args.extend(piped);
                    self.call(name, first.pos, args, want)?
                }
                _ => {
                    if command.args.len() > 1 || piped.is_some() {
                        let message = "can't give argument to non-function";
                        return Err(error(TemplateErrorKind::Parse, first.pos, message));
                    }
                    self.operand(first, want)?
                }
            };
            value = Some((expr, command.pos));
        }
        value.map(|(expr, _)| expr).ok_or_else(|| error(TemplateErrorKind::Parse, pipe.pos, "missing value"))
    }

    pub(super) fn operand(&mut self, operand: &Operand, want: Want) -> Result<Expr, TemplateError> {
        let pos = operand.pos;
        let no_fields = |what: &str| -> Result<(), TemplateError> {
            if operand.fields.is_empty() {
                Ok(())
            } else {
                Err(error(TemplateErrorKind::Parse, pos, format!("{what} has no fields")))
            }
        };
        let base = match &operand.term {
            Term::Dot => return self.dot_fields(&operand.fields, pos),
            Term::Var(name) if name.is_empty() => return self.root(&operand.fields, pos),
            Term::Var(name) => self.variable(name, pos)?,
            Term::Function(name) => self.call(name, pos, vec![], want)?,
            Term::Str(value) => {
                no_fields("a string")?;
                expr::string_literal(value)
            }
            Term::Number(text) => {
                no_fields("a number")?;
                number(text, pos)?
            }
            Term::Char(c) => {
                no_fields("a character")?;
                Expr::new((*c as u32).to_string(), Level::Atom)
            }
            // A boolean cannot be an operand of `~`; as "filtered" it is grouped there.
            Term::Bool(b) => Expr::new(b.to_string(), Level::Filtered),
            Term::Nil => return Err(not_translatable(pos, "nil has no tera equivalent")),
            Term::Pipe(inner) => self.pipeline(inner, want)?,
        };
        fields(base, &operand.fields, pos)
    }

    fn variable(&mut self, name: &str, pos: Position) -> Result<Expr, TemplateError> {
        if let Some(binding) = self.variables.iter().rev().find(|b| b.go == name) {
            return Ok(binding.expr.clone());
        }
        if let Some(text) = self.scope.variables.get(name) {
            return Ok(Expr::given(text));
        }
        Err(error(TemplateErrorKind::Parse, pos, format!("undefined variable ${name}")))
    }

    /// `.` followed by `fields`.
    fn dot_fields(&mut self, names: &[String], pos: Position) -> Result<Expr, TemplateError> {
        match self.dot.clone() {
            Dot::Root => self.root(names, pos),
            Dot::Value(value) => fields(value, names, pos),
        }
    }

    /// A field of the template's context.
    pub(super) fn root(&mut self, names: &[String], pos: Position) -> Result<Expr, TemplateError> {
        let Some((first, rest)) = names.split_first() else {
            return Err(not_translatable(
                pos,
                "the whole context (`.` or `$`) has no tera equivalent; name a field of it",
            ));
        };
        let simple = |name: &str| -> Result<Expr, TemplateError> {
            match rest.first() {
                None => Ok(Expr::path(name)),
                Some(field) => Err(not_translatable(pos, format!(".{first} is a string: it has no field {field}"))),
            }
        };
        match first.as_str() {
            "Project" => simple("project"),
            "Env" => simple("env"),
            "Namespace" => simple("namespace"),
            "Slot" => simple("slot"),
            "Versions" => fields(Expr { is_map: true, ..Expr::path("versions") }, rest, pos),
            "Vars" | "EnvMap" | "UserVars" => match rest.split_first() {
                None => Err(not_translatable(
                    pos,
                    format!(".{first} as a whole is not translated: name the variable, as in .{first}.NAME, so the import knows which input it reads"),
                )),
                Some((key, more)) => {
                    let value = self.variable_input(key, None, pos)?;
                    fields(value, more, pos)
                }
            },
            "BaseDomain" => match rest {
                [key] => Ok(self.keyed_input("baseDomain", &[key], InputKind::BaseDomain, pos)),
                [] => Err(not_translatable(
                    pos,
                    ".BaseDomain as a whole map is not translated: name the environment, as in .BaseDomain.ai",
                )),
                _ => Err(not_translatable(pos, "a base domain is a string: it has no fields")),
            },
            "Storage" => match rest {
                [a, b] => Ok(self.keyed_input("storage", &[a, b], InputKind::Storage, pos)),
                _ => Err(not_translatable(pos, ".Storage is translated as .Storage.<name>.<field> only")),
            },
            other => Err(not_translatable(pos, unavailable(other))),
        }
    }

    /// `.Vars.X` and the like: a known context value, else the input X.
    pub(super) fn variable_input(
        &mut self,
        key: &str,
        default: Option<String>,
        pos: Position,
    ) -> Result<Expr, TemplateError> {
        if let Some(known) = self.scope.known_vars.get(key) {
            return Ok(Expr::given(known));
        }
        let path = expr::member("inputs", key)
            .ok_or_else(|| not_translatable(pos, format!("the variable name {key:?} cannot be written in tera")))?;
        self.inputs.push(InputUse {
            name: key.to_string(),
            kind: InputKind::Variable,
            literal_default: default,
            position: pos,
        });
        Ok(Expr::path(path))
    }

    fn keyed_input(&mut self, prefix: &str, keys: &[&String], kind: InputKind, pos: Position) -> Expr {
        let mut name = prefix.to_string();
        for key in keys {
            name.push('_');
            name.push_str(&expr::sanitize(key));
        }
        self.inputs.push(InputUse { name: name.clone(), kind, literal_default: None, position: pos });
        Expr::path(format!("inputs.{name}"))
    }
}

/// Fields read from a translated value.
fn fields(base: Expr, names: &[String], pos: Position) -> Result<Expr, TemplateError> {
    if names.is_empty() {
        return Ok(base);
    }
    if base.level != Level::Path {
        return Err(not_translatable(pos, "a field of a computed value is not translated"));
    }
    let mut text = base.text;
    for name in names {
        text = expr::member(&text, name).ok_or_else(|| not_translatable(pos, format!("field {name}")))?;
    }
    Ok(Expr::path(text))
}

/// A Go number literal as a tera literal.
pub(super) fn number(text: &str, pos: Position) -> Result<Expr, TemplateError> {
    let bad = || error(TemplateErrorKind::Parse, pos, format!("bad number syntax: {text:?}"));
    let digits = text.replace('_', "");
    let (negative, unsigned) = match digits.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, digits.strip_prefix('+').unwrap_or(&digits)),
    };
    let radix = |prefixes: [&str; 2]| prefixes.iter().find_map(|p| unsigned.strip_prefix(p));
    let integer = if let Some(hex) = radix(["0x", "0X"]) {
        i64::from_str_radix(hex, 16).ok()
    } else if let Some(binary) = radix(["0b", "0B"]) {
        i64::from_str_radix(binary, 2).ok()
    } else if let Some(octal) = radix(["0o", "0O"]) {
        i64::from_str_radix(octal, 8).ok()
    } else if unsigned.len() > 1 && unsigned.starts_with('0') && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        i64::from_str_radix(&unsigned[1..], 8).ok()
    } else {
        unsigned.parse::<i64>().ok()
    };
    if let Some(value) = integer {
        let value = if negative { -value } else { value };
        return Ok(Expr::new(value.to_string(), Level::Atom));
    }
    if unsigned.starts_with("0x") || unsigned.ends_with('i') {
        return Err(not_translatable(pos, format!("the number {text} has no tera equivalent")));
    }
    let value: f64 = unsigned.parse().map_err(|_| bad())?;
    if !value.is_finite() || !unsigned.bytes().next().is_some_and(|b| b.is_ascii_digit() || b == b'.') {
        return Err(bad());
    }
    let value = if negative { -value } else { value };
    // Go prints a float with an exponent (`1e+06`) from 1e6 up and below 1e-4, and without a
    // fraction when it is whole (`1`); tera has neither form, so those are written as
    // integers or refused.
    let magnitude = value.abs();
    if magnitude >= 1e6 || (magnitude != 0.0 && magnitude < 1e-4) {
        return Err(not_translatable(pos, format!("the number {text}: Go prints it with an exponent, tera cannot")));
    }
    let written = if value.fract() == 0.0 { format!("{}", value as i64) } else { format!("{value}") };
    Ok(Expr::new(written, Level::Atom))
}

/// Why a field of Go's context has no translation.
fn unavailable(field: &str) -> String {
    let why = match field {
        "ProjectRoot" => "it is a directory on the machine that runs codexctl",
        "Now" => "it is the clock, which changes from run to run",
        f if f.starts_with("Codex") => "it is the state of a codexctl run",
        "IssueComments" | "ReviewComments" => "it is read from the issue tracker while codexctl runs",
        _ => "it is not one of the fields this import translates (Project, Env, Namespace, Slot, Versions, Vars, EnvMap, UserVars, BaseDomain, Storage)",
    };
    format!(".{field} is not translated: {why}; kubectl-codex templates depend on the file and its inputs only")
}
