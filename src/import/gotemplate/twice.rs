//! Codexctl's two rendering passes, as one: an action that is only a string literal with `{{`
//! or `}}` (`{{"{{"}} .Tag {{"}}"}}`) writes template text that the second pass evaluates.

use super::ast::{Branch, Else, Node};
use super::{Position, TemplateError, TemplateErrorKind};

/// The source as the second pass reads it, or None when the first pass writes no actions.
/// Every other action stays as written: evaluating it in either pass gives the same text.
pub fn after_first_pass(source: &str, nodes: &[Node]) -> Option<String> {
    let mut edits = vec![];
    let mut writes_actions = false;
    collect(nodes, &mut edits, &mut writes_actions);
    if !writes_actions {
        return None;
    }
    edits.sort_by_key(|(start, _, _)| *start);
    let mut out = String::with_capacity(source.len());
    let mut at = 0;
    for (start, end, replacement) in edits {
        if start < at || end < start {
            continue;
        }
        out.push_str(source.get(at..start)?);
        out.push_str(&replacement);
        at = end;
    }
    out.push_str(source.get(at..)?);
    Some(out)
}

/// Text becomes what Go left of it after trimming (the markers of a replaced action go away
/// with it); a literal action that writes `{{`/`}}` becomes its value.
fn collect(nodes: &[Node], edits: &mut Vec<(usize, usize, String)>, writes_actions: &mut bool) {
    for node in nodes {
        match node {
            Node::Text { text, span } => edits.push((span.start, span.end, text.clone())),
            Node::Action { pipe, span, .. } => {
                if let Some(literal) = pipe.as_literal().filter(|l| l.contains("{{") || l.contains("}}")) {
                    *writes_actions = true;
                    edits.push((span.start, span.end, literal.to_string()));
                }
            }
            Node::If { branches, otherwise, .. } => {
                for Branch { body, .. } in branches {
                    collect(body, edits, writes_actions);
                }
                collect_else(otherwise.as_ref(), edits, writes_actions);
            }
            Node::Range { head, otherwise, .. } | Node::With { head, otherwise, .. } => {
                collect(&head.body, edits, writes_actions);
                collect_else(otherwise.as_ref(), edits, writes_actions);
            }
            Node::Comment { .. } | Node::Break { .. } | Node::Continue { .. } => {}
        }
    }
}

fn collect_else(otherwise: Option<&Else>, edits: &mut Vec<(usize, usize, String)>, writes_actions: &mut bool) {
    if let Some(Else { body, .. }) = otherwise {
        collect(body, edits, writes_actions);
    }
}

/// An error in the text of the second pass, told as such (its position is in that text).
pub fn explain(error: TemplateError, spliced: &str) -> TemplateError {
    let kind = match error.kind {
        TemplateErrorKind::Parse => TemplateErrorKind::NotTranslatable,
        other => other,
    };
    TemplateError {
        position: Position { line: 1, column: 1 },
        kind,
        message: format!(
            "after codexctl's first rendering pass the text is {spliced:?}, and at {} of it: {}",
            error.position, error.message
        ),
    }
}
