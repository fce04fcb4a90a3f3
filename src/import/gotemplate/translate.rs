//! The translator: a Go template's syntax tree → tera text, and the inputs it reads.
//!
//! Text reaches tera already trimmed as Go trims it (see lex), so the trim markers kept on the
//! tera tags change nothing and only keep the template readable as the original was.

use super::ast::{Branch, Else, Node, Operand, Pipeline, Term, Trim};
use super::expr::{self, Expr, Level};
use super::printf::{self, Piece};
use super::{Dialect, InputKind, InputUse, Position, Scope, TemplateError, TemplateErrorKind, Translation};
use std::collections::BTreeMap;

/// Names of the tera context: a Go variable of the same name is renamed.
const CONTEXT_NAMES: [&str; 10] =
    ["project", "env", "namespace", "slot", "issue", "runtime", "registry", "versions", "images", "inputs"];
/// Words tera reads as operators or literals rather than names.
const TERA_WORDS: [&str; 10] = ["loop", "true", "false", "True", "False", "and", "or", "not", "in", "is"];
/// Prefixes of the names the translator makes up (loop variables, with values).
const GENERATED: [&str; 3] = ["item", "key", "with"];

pub fn translate_nodes(nodes: &[Node], scope: &Scope) -> Result<Translation, TemplateError> {
    let mut translator = Translator::new(scope);
    translator.nodes(nodes)?;
    Ok(Translation { text: translator.out, inputs: translator.inputs })
}

/// The top-level `$x := p` declarations, each as one self-contained expression (a later one
/// that reads an earlier one gets the earlier expression inlined).
pub fn declarations(nodes: &[Node], scope: &Scope) -> Result<(BTreeMap<String, String>, Vec<InputUse>), TemplateError> {
    let mut translator = Translator::new(scope);
    let mut found = BTreeMap::new();
    for node in nodes {
        let Node::Action { pipe, .. } = node else { continue };
        let [declared] = pipe.declared.as_slice() else { continue };
        if pipe.assigns {
            continue;
        }
        let value = translator.pipeline(pipe, Want::Value)?;
        found.insert(declared.name.clone(), value.text.clone());
        translator.variables.push(Binding { go: declared.name.clone(), expr: value, tera: None });
    }
    Ok((found, translator.inputs))
}

/// Whether a value is wanted, or only its truth (in a condition `and`/`or` may be tera's).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    Value,
    Truth,
}

/// What `.` is.
#[derive(Clone)]
enum Dot {
    /// The template's context: `.Project`, `.Vars.X`…
    Root,
    /// An element of `range` or the value of `with`.
    Value(Expr),
}

/// A Go variable in scope.
struct Binding {
    go: String,
    expr: Expr,
    /// The tera variable holding it, and the loop depth it was set at (for `=`).
    tera: Option<(String, usize)>,
}

struct Translator<'s> {
    scope: &'s Scope,
    out: String,
    inputs: Vec<InputUse>,
    variables: Vec<Binding>,
    dot: Dot,
    loop_depth: usize,
    /// Blocks that made up a name so far (loop variables and with values are unique).
    generated: usize,
}

fn error(kind: TemplateErrorKind, position: Position, message: impl Into<String>) -> TemplateError {
    TemplateError { position, kind, message: message.into() }
}

fn not_translatable(position: Position, message: impl Into<String>) -> TemplateError {
    error(TemplateErrorKind::NotTranslatable, position, message)
}

/// One argument of a function: written in the template, or the value piped in.
enum Arg<'a> {
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

impl<'s> Translator<'s> {
    fn new(scope: &'s Scope) -> Translator<'s> {
        Translator {
            scope,
            out: String::new(),
            inputs: vec![],
            variables: vec![],
            dot: Dot::Root,
            loop_depth: 0,
            generated: 0,
        }
    }

    // ----- nodes -----

    fn nodes(&mut self, nodes: &[Node]) -> Result<(), TemplateError> {
        for node in nodes {
            self.node(node)?;
        }
        Ok(())
    }

    /// Translates a block body: variables declared in it end with it, as in Go.
    fn body(&mut self, nodes: &[Node]) -> Result<(), TemplateError> {
        let scope_start = self.variables.len();
        let result = self.nodes(nodes);
        self.variables.truncate(scope_start);
        result
    }

    fn node(&mut self, node: &Node) -> Result<(), TemplateError> {
        match node {
            Node::Text { text, .. } => self.text(text),
            Node::Comment { trim, text } => {
                // `#}` would end the tera comment early, and a `-` next to the delimiters would
                // be a trim marker that Go did not have.
                let mut text = text.replace("#}", "# }");
                if text.starts_with('-') {
                    text.insert(0, ' ');
                }
                if text.ends_with('-') {
                    text.push(' ');
                }
                let (left, right) = markers(*trim);
                self.out.push_str(&format!("{{#{left}{text}{right}#}}"));
            }
            Node::Action { trim, pipe, .. } => self.action(*trim, pipe)?,
            Node::If { branches, otherwise, end } => self.if_block(branches, otherwise.as_ref(), *end)?,
            Node::Range { head, otherwise, end } => self.range(head, otherwise.as_ref(), *end)?,
            Node::With { head, otherwise, end } => self.with(head, otherwise.as_ref(), *end)?,
            Node::Break { trim, pos } | Node::Continue { trim, pos } => {
                let keyword = if matches!(node, Node::Break { .. }) { "break" } else { "continue" };
                if self.loop_depth == 0 {
                    return Err(error(
                        TemplateErrorKind::Parse,
                        *pos,
                        format!("{{{{{keyword}}}}} outside {{{{range}}}}"),
                    ));
                }
                self.tag(*trim, keyword);
            }
        }
        Ok(())
    }

    /// Text that tera must output as it is: anything that tera would read as a tag (or that
    /// would join the next tag's `{{`) is wrapped in `{% raw %}`, in pieces that never contain
    /// `{%` (so no piece can hold an `{% endraw %}`).
    fn text(&mut self, text: &str) {
        let tera_would_read = text.contains("{{") || text.contains("{%") || text.contains("{#") || text.ends_with('{');
        // Go trimmed its own whitespace already; tera's trim markers also take other Unicode
        // spaces, which raw text keeps.
        let unusual_space =
            |c: Option<char>| c.is_some_and(|c| c.is_whitespace() && !matches!(c, ' ' | '\t' | '\r' | '\n'));
        if !tera_would_read && !unusual_space(text.chars().next()) && !unusual_space(text.chars().last()) {
            self.out.push_str(text);
            return;
        }
        let mut start = 0;
        for (at, _) in text.match_indices("{%") {
            self.out.push_str(&format!("{{% raw %}}{}{{% endraw %}}", &text[start..=at]));
            start = at + 1;
        }
        self.out.push_str(&format!("{{% raw %}}{}{{% endraw %}}", &text[start..]));
    }

    fn tag(&mut self, trim: Trim, body: &str) {
        let (left, right) = markers(trim);
        self.out.push_str(&format!("{{%{left} {body} {right}%}}"));
    }

    fn action(&mut self, trim: Trim, pipe: &Pipeline) -> Result<(), TemplateError> {
        if let Some(literal) = pipe.as_literal() {
            // `{{"{{"}}` is Go's way to write `{{`: it is text.
            self.text(literal);
            return Ok(());
        }
        match pipe.declared.as_slice() {
            [] => {
                let value = self.pipeline(pipe, Want::Value)?;
                let (left, right) = markers(trim);
                self.out.push_str(&format!("{{{{{left} {} {right}}}}}", value.text));
            }
            [declared] if pipe.assigns => {
                let value = self.pipeline(pipe, Want::Value)?;
                let Some(binding) = self.variables.iter().rev().find(|b| b.go == declared.name) else {
                    return Err(error(
                        TemplateErrorKind::Parse,
                        declared.pos,
                        format!("undefined variable ${}", declared.name),
                    ));
                };
                let Some((name, depth)) = binding.tera.clone() else {
                    return Err(not_translatable(
                        declared.pos,
                        format!("${} is not a variable of this template and cannot be assigned", declared.name),
                    ));
                };
                let keyword = if depth == self.loop_depth && depth > 0 {
                    "set"
                } else if depth == 0 {
                    "set_global"
                } else {
                    return Err(not_translatable(
                        declared.pos,
                        format!(
                            "${} is assigned in a nested range: tera cannot change a variable of an outer loop",
                            declared.name
                        ),
                    ));
                };
                self.tag(trim, &format!("{keyword} {name} = {}", value.text));
            }
            [declared] => {
                let value = self.pipeline(pipe, Want::Value)?;
                let name = self.declare(&declared.name, declared.pos)?;
                self.tag(trim, &format!("set {name} = {}", value.text));
            }
            _ => return Err(error(TemplateErrorKind::Parse, pipe.pos, "too many declarations in command")),
        }
        Ok(())
    }

    /// A new Go variable: its tera name, bound from now on.
    fn declare(&mut self, go: &str, pos: Position) -> Result<String, TemplateError> {
        let name = tera_name(go).ok_or_else(|| not_translatable(pos, format!("${go}: tera names are ASCII")))?;
        self.variables.push(Binding {
            go: go.to_string(),
            expr: Expr::path(&name),
            tera: Some((name.clone(), self.loop_depth)),
        });
        Ok(name)
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.generated += 1;
        if self.generated == 1 {
            prefix.to_string()
        } else {
            format!("{prefix}{}", self.generated)
        }
    }

    /// The condition of `if`/`with`: `{% set x = p %}` first when the pipeline declares `$x`.
    fn condition(&mut self, pipe: &Pipeline, want: Want, left: bool) -> Result<(Expr, bool), TemplateError> {
        match pipe.declared.as_slice() {
            [] => Ok((self.pipeline(pipe, want)?, left)),
            [declared] => {
                let value = self.pipeline(pipe, Want::Value)?;
                let name = self.declare(&declared.name, declared.pos)?;
                self.tag(Trim { left, right: false }, &format!("set {name} = {}", value.text));
                Ok((Expr::path(name), false))
            }
            _ => Err(error(TemplateErrorKind::Parse, pipe.pos, "too many declarations")),
        }
    }

    fn if_block(&mut self, branches: &[Branch], otherwise: Option<&Else>, end: Trim) -> Result<(), TemplateError> {
        let scope_start = self.variables.len();
        for (i, branch) in branches.iter().enumerate() {
            if i > 0 && !branch.pipe.declared.is_empty() {
                return Err(not_translatable(branch.pipe.pos, "a declaration in {{else if}} is not translated"));
            }
            let (condition, left) = self.condition(&branch.pipe, Want::Truth, branch.trim.left)?;
            let keyword = if i == 0 { "if" } else { "elif" };
            self.tag(Trim { left, right: branch.trim.right }, &format!("{keyword} {}", condition.text));
            self.body(&branch.body)?;
        }
        if let Some(otherwise) = otherwise {
            self.tag(otherwise.trim, "else");
            self.body(&otherwise.body)?;
        }
        self.variables.truncate(scope_start);
        self.tag(end, "endif");
        Ok(())
    }

    fn with(&mut self, head: &Branch, otherwise: Option<&Else>, end: Trim) -> Result<(), TemplateError> {
        let scope_start = self.variables.len();
        let (mut value, mut left) = self.condition(&head.pipe, Want::Value, head.trim.left)?;
        if value.level != Level::Path {
            // `.` is read again in the body: the value is computed once, into a name.
            let name = self.fresh("with");
            self.tag(Trim { left, right: false }, &format!("set {name} = {}", value.text));
            value = Expr { text: name, level: Level::Path, is_map: value.is_map };
            left = false;
        }
        self.tag(Trim { left, right: head.trim.right }, &format!("if {}", value.text));
        let outer = std::mem::replace(&mut self.dot, Dot::Value(value));
        let result = self.body(&head.body);
        self.dot = outer;
        result?;
        if let Some(otherwise) = otherwise {
            self.tag(otherwise.trim, "else");
            self.body(&otherwise.body)?;
        }
        self.variables.truncate(scope_start);
        self.tag(end, "endif");
        Ok(())
    }

    fn range(&mut self, head: &Branch, otherwise: Option<&Else>, end: Trim) -> Result<(), TemplateError> {
        let source = self.pipeline(&head.pipe, Want::Value)?;
        let is_map = source.is_map;
        let source = source.filterable();
        let scope_start = self.variables.len();
        self.loop_depth += 1;
        let (key, element, index) = match head.pipe.declared.as_slice() {
            [] => (is_map.then(|| self.fresh("key")), self.fresh("item"), None),
            [value] => (is_map.then(|| self.fresh("key")), self.declare(&value.name, value.pos)?, None),
            [first, value] => {
                let first_name = self.declare(&first.name, first.pos)?;
                let element = self.declare(&value.name, value.pos)?;
                if is_map {
                    (Some(first_name), element, None)
                } else {
                    (None, element, Some(first_name))
                }
            }
            _ => return Err(error(TemplateErrorKind::Parse, head.pipe.pos, "too many declarations in range")),
        };
        let names = match &key {
            Some(key) => format!("{key}, {element}"),
            None => element.clone(),
        };
        self.tag(head.trim, &format!("for {names} in {}", source.text));
        if let Some(index) = index {
            // A name rather than loop.index0 everywhere: an inner loop has its own `loop`.
            self.tag(Trim::default(), &format!("set {index} = loop.index0"));
        }
        let outer = std::mem::replace(&mut self.dot, Dot::Value(Expr::path(element)));
        let result = self.body(&head.body);
        self.dot = outer;
        self.loop_depth -= 1;
        self.variables.truncate(scope_start);
        result?;
        if let Some(otherwise) = otherwise {
            self.tag(otherwise.trim, "else");
            self.body(&otherwise.body)?;
        }
        self.tag(end, "endfor");
        Ok(())
    }

    // ----- pipelines and commands -----

    fn pipeline(&mut self, pipe: &Pipeline, want: Want) -> Result<Expr, TemplateError> {
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

    fn operand(&mut self, operand: &Operand, want: Want) -> Result<Expr, TemplateError> {
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
    fn root(&mut self, names: &[String], pos: Position) -> Result<Expr, TemplateError> {
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
    fn variable_input(&mut self, key: &str, default: Option<String>, pos: Position) -> Result<Expr, TemplateError> {
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

    fn call(&mut self, name: &str, pos: Position, args: Vec<Arg>, want: Want) -> Result<Expr, TemplateError> {
        match name {
            "default" => {
                let [fallback, value] = self.args(name, pos, args)?;
                Ok(value.filter(&format!("if_empty(value={})", fallback.text)))
            }
            "envOr" => self.env_or(pos, args),
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
            "printf" => self.printf(pos, args),
            "print" => {
                let [value] = self.args(name, pos, args)?;
                Ok(value)
            }
            "len" => {
                let [value] = self.args(name, pos, args)?;
                Ok(value.filter("length"))
            }
            "not" => {
                let [arg] = args.try_into().map_err(|_| not_translatable(pos, "not takes 1 argument"))?;
                let value = self.arg(arg, Want::Truth)?;
                Ok(Expr::new(format!("not {}", value.negatable().text), Level::Negation))
            }
            "and" | "or" => self.logic(name, pos, args, want),
            "eq" => {
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
            "ne" | "lt" | "le" | "gt" | "ge" => {
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
            "index" => self.index(pos, args),
            "now" => Err(not_translatable(
                pos,
                "now is not translated: it is the clock, which changes from run to run; kubectl-codex templates depend on the file and its inputs only",
            )),
            other => Err(error(
                TemplateErrorKind::UnknownFunction,
                pos,
                format!("function {other:?} is not translated (not one of the functions codexctl and ServiceStack templates use)"),
            )),
        }
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

/// A Go number literal as a tera literal.
fn number(text: &str, pos: Position) -> Result<Expr, TemplateError> {
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

/// The tera name for the Go variable `$go`: renamed when tera or the context would read it
/// otherwise; None when it has no ASCII form.
fn tera_name(go: &str) -> Option<String> {
    if !expr::is_identifier(go) {
        return None;
    }
    let mut name = go.to_string();
    while is_reserved(&name) {
        name.push('_');
    }
    Some(name)
}

fn is_reserved(name: &str) -> bool {
    CONTEXT_NAMES.contains(&name)
        || TERA_WORDS.contains(&name)
        || GENERATED
            .iter()
            .any(|prefix| name.strip_prefix(prefix).is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit())))
}

/// `-` inside a tera tag for each trim marker of the Go action.
fn markers(trim: Trim) -> (&'static str, &'static str) {
    (if trim.left { "-" } else { "" }, if trim.right { "-" } else { "" })
}
