//! Nodes and control flow: text, comments, actions, `if`, `with`, `range`, `break` and
//! `continue`, each as its tera tag.

use super::{error, markers, not_translatable, Dot, Translator, Want};
use crate::import::gotemplate::ast::{Branch, Else, Node, Pipeline, Trim};
use crate::import::gotemplate::expr::{Expr, Level};
use crate::import::gotemplate::{TemplateError, TemplateErrorKind};

impl Translator<'_> {
    pub(super) fn nodes(&mut self, nodes: &[Node]) -> Result<(), TemplateError> {
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
        self.end_if(otherwise, scope_start, end)
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
        self.end_if(otherwise, scope_start, end)
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
        self.otherwise(otherwise)?;
        self.tag(end, "endfor");
        Ok(())
    }

    /// The end of an `if` or `with`: its `{{else}}` branch, then its variables go out of scope.
    fn end_if(&mut self, otherwise: Option<&Else>, scope_start: usize, end: Trim) -> Result<(), TemplateError> {
        self.otherwise(otherwise)?;
        self.variables.truncate(scope_start);
        self.tag(end, "endif");
        Ok(())
    }

    fn otherwise(&mut self, otherwise: Option<&Else>) -> Result<(), TemplateError> {
        if let Some(otherwise) = otherwise {
            self.tag(otherwise.trim, "else");
            self.body(&otherwise.body)?;
        }
        Ok(())
    }
}
