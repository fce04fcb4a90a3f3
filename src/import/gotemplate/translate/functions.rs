//! Function calls: Go's template functions and codexctl's/ServiceStack's own, each as a tera
//! filter, operator or expression.

use super::operands::number;
use super::{error, not_translatable, Dot, Translator, Want};
use crate::import::gotemplate::ast::{Operand, Term};
use crate::import::gotemplate::expr::{self, Expr, Level};
use crate::import::gotemplate::printf::{self, Piece};
use crate::import::gotemplate::{Dialect, Position, TemplateError, TemplateErrorKind};

/// One argument of a function: written in the template, or the value piped in.
pub(super) enum Arg<'a> {
    Written(&'a Operand),
    Piped(Expr, Position),
}

impl Arg<'_> {
    fn pos(&self) -> Position {
        match self {
            Arg::Written(operand) => operand.pos,
            Arg::Piped(_, pos) => *pos,
        }
    }

    fn literal(&self) -> Option<&str> {
        match self {
            Arg::Written(operand) => operand.as_str(),
            Arg::Piped(..) => None,
        }
    }
}

impl Translator<'_> {
    fn arg(&mut self, arg: Arg, want: Want) -> Result<Expr, TemplateError> {
        match arg {
            Arg::Written(operand) => self.operand(operand, want),
            Arg::Piped(expr, _) => Ok(expr),
        }
    }

    /// The translated arguments, after checking their number.
    fn args<const N: usize>(&mut self, name: &str, pos: Position, args: Vec<Arg>) -> Result<[Expr; N], TemplateError> {
        if args.len() != N {
            let message = format!("{name} takes {N} argument{}, got {}", if N == 1 { "" } else { "s" }, args.len());
            return Err(not_translatable(pos, message));
        }
        let mut values = Vec::with_capacity(N);
        for arg in args {
            values.push(self.arg(arg, Want::Value)?);
        }
        values.try_into().map_err(|_| not_translatable(pos, format!("{name}: wrong number of arguments")))
    }

    pub(super) fn call(
        &mut self,
        name: &str,
        pos: Position,
        args: Vec<Arg>,
        want: Want,
    ) -> Result<Expr, TemplateError> {
        match name {
            "envOr" => self.env_or(pos, args),
            "printf" => self.printf(pos, args),
            "not" => self.not(pos, args),
            "and" | "or" => self.logic(name, pos, args, want),
            "eq" => self.eq(pos, args),
            "ne" | "lt" | "le" | "gt" | "ge" => self.compare(name, pos, args),
            "index" => self.index(pos, args),
            "now" => Err(not_translatable(
                pos,
                "now is not translated: it is the clock, which changes from run to run; kubectl-codex templates depend on the file and its inputs only",
            )),
            _ => self.value_function(name, pos, args),
        }
    }

    /// The functions that compute a value from their arguments: a tera filter (or `ternary`)
    /// each.
    fn value_function(&mut self, name: &str, pos: Position, args: Vec<Arg>) -> Result<Expr, TemplateError> {
        match name {
            "default" => {
                let [fallback, value] = self.args(name, pos, args)?;
                Ok(value.filter(&format!("if_empty(value={})", fallback.text)))
            }
            "toLower" => {
                let [value] = self.args(name, pos, args)?;
                Ok(value.filter("lower"))
            }
            "slug" => {
                let [value] = self.args(name, pos, args)?;
                Ok(value.filter("slug"))
            }
            "truncSHA" => {
                let [value] = self.args(name, pos, args)?;
                Ok(value.filter("truncate(length=12, end=\"\")"))
            }
            "ternary" => {
                let [condition, yes, no] = self.args(name, pos, args)?;
                Ok(ternary(condition, yes, no))
            }
            "join" => {
                let [list, separator] = self.args(name, pos, args)?;
                Ok(list.filter(&format!("join(sep={})", separator.text)))
            }
            "indent" => {
                let [width, value] = self.args(name, pos, args)?;
                Ok(value.filter(&format!("indent_lines(width={})", width.text)))
            }
            "trimPrefix" => {
                let [first, second] = self.args(name, pos, args)?;
                let (value, prefix) = match self.scope.dialect {
                    Dialect::Codexctl => (first, second),
                    Dialect::ServiceStack => (second, first),
                };
                Ok(value.filter(&format!("trim_prefix(prefix={})", prefix.text)))
            }
            "print" => {
                let [value] = self.args(name, pos, args)?;
                Ok(value)
            }
            "len" => {
                let [value] = self.args(name, pos, args)?;
                Ok(value.filter("length"))
            }
            other => Err(error(
                TemplateErrorKind::UnknownFunction,
                pos,
                format!("function {other:?} is not translated (not one of the functions codexctl and ServiceStack templates use)"),
            )),
        }
    }

    fn not(&mut self, pos: Position, args: Vec<Arg>) -> Result<Expr, TemplateError> {
        let [arg] = args.try_into().map_err(|_| not_translatable(pos, "not takes 1 argument"))?;
        let value = self.arg(arg, Want::Truth)?;
        Ok(Expr::new(format!("not {}", value.negatable().text), Level::Negation))
    }

    /// `eq a b c…`: true when `a` equals any of the others, as in Go.
    fn eq(&mut self, pos: Position, args: Vec<Arg>) -> Result<Expr, TemplateError> {
        if args.len() < 2 {
            return Err(not_translatable(pos, "eq takes at least 2 arguments"));
        }
        let mut values = vec![];
        for arg in args {
            values.push(self.arg(arg, Want::Value)?.comparable());
        }
        let first = values.remove(0);
        let tests: Vec<String> = values.iter().map(|v| format!("{} == {}", first.text, v.text)).collect();
        let level = if tests.len() == 1 { Level::Compare } else { Level::Logic };
        Ok(Expr::new(tests.join(" or "), level))
    }

    /// `ne`, `lt`, `le`, `gt`, `ge`: tera's comparison operators.
    fn compare(&mut self, name: &str, pos: Position, args: Vec<Arg>) -> Result<Expr, TemplateError> {
        let [a, b] = self.args(name, pos, args)?;
        let operator = match name {
            "ne" => "!=",
            "lt" => "<",
            "le" => "<=",
            "gt" => ">",
            _ => ">=",
        };
        Ok(Expr::new(format!("{} {operator} {}", a.comparable().text, b.comparable().text), Level::Compare))
    }

    fn env_or(&mut self, pos: Position, args: Vec<Arg>) -> Result<Expr, TemplateError> {
        let [key, fallback] = args.try_into().map_err(|_| not_translatable(pos, "envOr takes 2 arguments"))?;
        let Some(name) = key.literal().map(str::to_string) else {
            return Err(not_translatable(key.pos(), "envOr: the variable name must be a string literal"));
        };
        let literal_default = fallback.literal().map(str::to_string);
        let fallback = self.arg(fallback, Want::Value)?;
        let value = self.variable_input(&name, literal_default, pos)?;
        Ok(value.filter(&format!("if_empty(value={})", fallback.text)))
    }

    fn printf(&mut self, pos: Position, mut args: Vec<Arg>) -> Result<Expr, TemplateError> {
        if args.is_empty() {
            return Err(not_translatable(pos, "printf takes a format"));
        }
        let format_arg = args.remove(0);
        let Some(format) = format_arg.literal().map(str::to_string) else {
            return Err(not_translatable(format_arg.pos(), "printf: the format must be a string literal"));
        };
        let pieces = printf::pieces(&format).map_err(|verb| {
            not_translatable(format_arg.pos(), format!("printf: {verb} is not translated (only %s, %d, %v, %q and %%)"))
        })?;
        let wanted = pieces.iter().filter(|p| p.takes_argument()).count();
        if wanted != args.len() {
            let message = format!("printf: the format takes {wanted} arguments, {} given", args.len());
            return Err(not_translatable(pos, message));
        }
        let mut args = args.into_iter();
        let mut parts = vec![];
        for piece in &pieces {
            match piece {
                Piece::Literal(text) => parts.push(expr::string_literal(text)),
                Piece::Argument => match args.next() {
                    Some(arg) => parts.push(self.arg(arg, Want::Value)?),
                    None => return Err(not_translatable(pos, "printf: missing argument")),
                },
                // Go's strconv.Quote and JSON agree on printable text: quotes, backslashes and
                // control characters escaped, everything else as it is.
                Piece::Quoted => match args.next() {
                    Some(arg) => parts.push(self.arg(arg, Want::Value)?.filter("json_encode")),
                    None => return Err(not_translatable(pos, "printf: missing argument")),
                },
            }
        }
        Ok(match parts.len() {
            0 => expr::string_literal(""),
            1 => parts.remove(0),
            _ => {
                let texts: Vec<String> = parts.into_iter().map(|p| concat_operand(p).text).collect();
                Expr::new(texts.join(" ~ "), Level::Concat)
            }
        })
    }

    /// `and`/`or`: tera's operators in a condition; in a value, Go's result (the deciding
    /// argument itself) through `ternary`.
    fn logic(&mut self, name: &str, pos: Position, args: Vec<Arg>, want: Want) -> Result<Expr, TemplateError> {
        if args.is_empty() {
            return Err(not_translatable(pos, format!("{name} takes at least 1 argument")));
        }
        let mut values = vec![];
        for arg in args {
            values.push(self.arg(arg, want)?);
        }
        if values.len() == 1 {
            return Ok(values.remove(0));
        }
        if want == Want::Truth {
            let texts: Vec<String> = values.into_iter().map(|v| v.logical().text).collect();
            return Ok(Expr::new(texts.join(&format!(" {name} ")), Level::Logic));
        }
        let mut result = values.pop().unwrap_or_else(|| expr::string_literal(""));
        while let Some(value) = values.pop() {
            result = if name == "and" {
                ternary(value.clone(), result, value)
            } else {
                ternary(value.clone(), value, result)
            };
        }
        Ok(result)
    }

    fn index(&mut self, pos: Position, args: Vec<Arg>) -> Result<Expr, TemplateError> {
        let mut args = args.into_iter();
        let Some(base) = args.next() else {
            return Err(not_translatable(pos, "index takes a map or list"));
        };
        let keys: Vec<Arg> = args.collect();
        // `index .Vars "X"` is `.Vars.X`: the same input rules apply.
        if let Arg::Written(operand) = &base {
            let root_map = match (&operand.term, &self.dot) {
                (Term::Dot, Dot::Root) => true,
                (Term::Var(name), _) => name.is_empty(),
                _ => false,
            };
            let is_context_map = |f: &[String]| matches!(f, [name] if ["Vars", "EnvMap", "UserVars", "BaseDomain", "Storage"].contains(&name.as_str()));
            if root_map && is_context_map(&operand.fields) && !keys.is_empty() {
                let mut names = operand.fields.clone();
                for key in &keys {
                    match key.literal() {
                        Some(literal) => names.push(literal.to_string()),
                        None => {
                            return Err(not_translatable(
                                key.pos(),
                                format!(
                                    "index .{} with a computed key: the input it reads is only known when the template runs",
                                    operand.fields.join(".")
                                ),
                            ))
                        }
                    }
                }
                return self.root(&names, operand.pos);
            }
        }
        let mut value = self.arg(base, Want::Value)?;
        for key in keys {
            let key_pos = key.pos();
            if value.level != Level::Path {
                return Err(not_translatable(key_pos, "index of a computed value is not translated"));
            }
            let text = match &key {
                Arg::Written(Operand { term: Term::Str(s), fields, .. }) if fields.is_empty() => {
                    expr::member(&value.text, s)
                        .ok_or_else(|| not_translatable(key_pos, "index: the key cannot be written in tera"))?
                }
                Arg::Written(Operand { term: Term::Number(n), fields, .. }) if fields.is_empty() => {
                    let index = number(n, key_pos)?;
                    if index.text.starts_with('-') || index.text.contains('.') {
                        return Err(not_translatable(key_pos, "index: a list index is a non-negative integer"));
                    }
                    format!("{}[{}]", value.text, index.text)
                }
                _ => {
                    let key = self.arg(key, Want::Value)?;
                    if key.level != Level::Path {
                        return Err(not_translatable(key_pos, "index: a computed key must be a variable or a field"));
                    }
                    format!("{}[{}]", value.text, key.text)
                }
            };
            value = Expr::path(text);
        }
        Ok(value)
    }
}

fn ternary(condition: Expr, yes: Expr, no: Expr) -> Expr {
    Expr::new(format!("ternary(cond={}, yes={}, no={})", condition.text, yes.text, no.text), Level::Atom)
}

/// An operand of `~`: tera only takes names, literals and calls there, and refuses booleans
/// (Go prints them), so a comparison becomes its text; a concatenation joins the outer one as
/// it is (`~` is associative).
fn concat_operand(value: Expr) -> Expr {
    let is_boolean = matches!(value.level, Level::Compare | Level::Negation | Level::Logic)
        || value.text == "true"
        || value.text == "false";
    match value.level {
        Level::Concat => value,
        _ if is_boolean => value.atom().filter("as_str").atom(),
        _ => value.atom(),
    }
}
