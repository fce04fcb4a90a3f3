//! RFC 6902 JSON patches: add, remove, replace, move, copy, test, all or nothing.

use super::{type_name, EditError};
use serde_json::Value;

/// Applies an RFC 6902 JSON patch: operations add, remove, replace, move, copy, test; JSON-pointer
/// paths with `~0`/`~1` escapes and `-` for array append. All or nothing: on error `target` is
/// unchanged, and the error names the failing operation (index from 0) and path.
pub fn apply_json_patch(target: &mut Value, operations: &Value) -> Result<(), EditError> {
    let Some(operations) = operations.as_array() else {
        return Err(EditError::JsonPatchNotAList { found: type_name(operations).to_string() });
    };
    let mut work = target.clone();
    for (index, operation) in operations.iter().enumerate() {
        apply_operation(&mut work, operation).map_err(|reason| EditError::JsonPatch {
            index,
            op: operation.get("op").and_then(Value::as_str).unwrap_or("?").to_string(),
            path: operation.get("path").and_then(Value::as_str).unwrap_or_default().to_string(),
            reason,
        })?;
    }
    *target = work;
    Ok(())
}

fn apply_operation(doc: &mut Value, operation: &Value) -> Result<(), String> {
    let fields =
        operation.as_object().ok_or_else(|| format!("an operation must be a map, not {}", type_name(operation)))?;
    let text = |key: &str| match fields.get(key) {
        Some(Value::String(s)) => Ok(s.as_str()),
        Some(other) => Err(format!("\"{key}\" must be a string, not {}", type_name(other))),
        None => Err(format!("the operation has no \"{key}\"")),
    };
    let value = || fields.get("value").ok_or_else(|| "the operation has no \"value\"".to_string());
    let op = text("op")?;
    let path = parse_pointer(text("path")?)?;
    match op {
        "add" => add(doc, &path, value()?.clone()),
        "remove" => remove(doc, &path).map(drop),
        "replace" => {
            let new = value()?.clone();
            *get_mut(doc, &path)? = new;
            Ok(())
        }
        "move" => {
            let from = parse_pointer(text("from")?)?;
            if path.len() > from.len() && path.starts_with(&from) {
                return Err(format!("cannot move \"{}\" into itself", pointer_text(&from)));
            }
            let moved = remove(doc, &from)?;
            add(doc, &path, moved)
        }
        "copy" => {
            let copied = get(doc, &parse_pointer(text("from")?)?)?.clone();
            add(doc, &path, copied)
        }
        "test" => {
            let (actual, expected) = (get(doc, &path)?, value()?);
            if actual == expected {
                Ok(())
            } else {
                Err(format!("test failed: the value is {actual}, not {expected}"))
            }
        }
        other => Err(format!("unknown operation \"{other}\" (expected add, remove, replace, move, copy or test)")),
    }
}

/// The reference tokens of a JSON pointer, unescaped (`~1` is `/`, `~0` is `~`).
fn parse_pointer(pointer: &str) -> Result<Vec<String>, String> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(format!("\"{pointer}\" is not a JSON pointer (it must be empty or start with '/')"));
    };
    rest.split('/')
        .map(|token| {
            let mut out = String::with_capacity(token.len());
            let mut chars = token.chars();
            while let Some(c) = chars.next() {
                if c != '~' {
                    out.push(c);
                    continue;
                }
                match chars.next() {
                    Some('0') => out.push('~'),
                    Some('1') => out.push('/'),
                    _ => return Err(format!("\"{pointer}\" has a '~' not followed by 0 or 1")),
                }
            }
            Ok(out)
        })
        .collect()
}

/// Tokens back to a JSON pointer, for messages.
fn pointer_text(tokens: &[String]) -> String {
    tokens.iter().map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1"))).collect()
}

/// An array index token: digits, no leading zero.
fn parse_index(token: &str, tokens: &[String]) -> Result<usize, String> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    if !digits || (token.len() > 1 && token.starts_with('0')) {
        return Err(format!("\"{}\": \"{token}\" is not a list index", pointer_text(tokens)));
    }
    token.parse().map_err(|_| format!("\"{}\": index {token} is too large", pointer_text(tokens)))
}

fn get<'a>(doc: &'a Value, tokens: &[String]) -> Result<&'a Value, String> {
    let mut current = doc;
    for (depth, token) in tokens.iter().enumerate() {
        let next = match current {
            Value::Object(map) => map.get(token),
            Value::Array(list) => list.get(parse_index(token, &tokens[..=depth])?),
            _ => None,
        };
        current = next.ok_or_else(|| format!("nothing at \"{}\"", pointer_text(&tokens[..=depth])))?;
    }
    Ok(current)
}

fn get_mut<'a>(doc: &'a mut Value, tokens: &[String]) -> Result<&'a mut Value, String> {
    let mut current = doc;
    for (depth, token) in tokens.iter().enumerate() {
        let next = match current {
            Value::Object(map) => map.get_mut(token),
            Value::Array(list) => list.get_mut(parse_index(token, &tokens[..=depth])?),
            _ => None,
        };
        current = next.ok_or_else(|| format!("nothing at \"{}\"", pointer_text(&tokens[..=depth])))?;
    }
    Ok(current)
}

fn add(doc: &mut Value, tokens: &[String], value: Value) -> Result<(), String> {
    let Some((last, parent_tokens)) = tokens.split_last() else {
        *doc = value;
        return Ok(());
    };
    match get_mut(doc, parent_tokens)? {
        Value::Object(map) => {
            map.insert(last.clone(), value);
        }
        Value::Array(list) if last == "-" => list.push(value),
        Value::Array(list) => {
            let index = parse_index(last, tokens)?;
            if index > list.len() {
                return Err(format!("index {index} is past the end of the list (length {})", list.len()));
            }
            list.insert(index, value);
        }
        other => return Err(format!("\"{}\" is {}, not a map or list", pointer_text(parent_tokens), type_name(other))),
    }
    Ok(())
}

fn remove(doc: &mut Value, tokens: &[String]) -> Result<Value, String> {
    let Some((last, parent_tokens)) = tokens.split_last() else {
        return Err("cannot remove the whole document".to_string());
    };
    let removed = match get_mut(doc, parent_tokens)? {
        Value::Object(map) => map.shift_remove(last),
        Value::Array(list) => {
            let index = parse_index(last, tokens)?;
            (index < list.len()).then(|| list.remove(index))
        }
        _ => None,
    };
    removed.ok_or_else(|| format!("nothing at \"{}\"", pointer_text(tokens)))
}

#[cfg(test)]
mod tests {
    use super::super::yaml;
    use super::*;

    fn patched(doc: &str, patch: &str) -> Result<Value, EditError> {
        let mut target = yaml(doc);
        apply_json_patch(&mut target, &yaml(patch)).map(|()| target)
    }

    #[test]
    fn add_replace_remove() {
        let doc = "{metadata: {name: a}, spec: {replicas: 1, args: [x, z]}}";
        let result = patched(
            doc,
            "
- {op: add, path: /metadata/labels, value: {app: a}}
- {op: add, path: /spec/args/1, value: y}
- {op: add, path: /spec/args/-, value: end}
- {op: replace, path: /spec/replicas, value: 3}
- {op: remove, path: /metadata/name}
- {op: remove, path: /spec/args/0}
",
        );
        assert_eq!(result, Ok(yaml("{metadata: {labels: {app: a}}, spec: {replicas: 3, args: [y, z, end]}}")));
        assert_eq!(patched(doc, "[{op: add, path: '', value: 1}]"), Ok(Value::from(1)));
    }

    #[test]
    fn move_copy_test() {
        let doc = "{a: {b: 1}, list: [1, 2]}";
        let result = patched(
            doc,
            "
- {op: test, path: /a/b, value: 1}
- {op: copy, from: /a, path: /c}
- {op: move, from: /list/0, path: /list/-}
- {op: move, from: /a/b, path: /d}
",
        );
        assert_eq!(result, Ok(yaml("{a: {}, list: [2, 1], c: {b: 1}, d: 1}")));
        let error = patched(doc, "[{op: move, from: /a, path: /a/b/c}]").unwrap_err();
        assert!(error.to_string().contains("into itself"), "{error}");
    }

    #[test]
    fn escaped_pointers() {
        let doc = "{metadata: {annotations: {'example.com/a~b': old}}}";
        let result = patched(
            doc,
            "
- {op: test, path: /metadata/annotations/example.com~1a~0b, value: old}
- {op: replace, path: /metadata/annotations/example.com~1a~0b, value: new}
- {op: add, path: /metadata/annotations/x~1y, value: z}
",
        );
        assert_eq!(result, Ok(yaml("{metadata: {annotations: {'example.com/a~b': new, 'x/y': z}}}")));
        let error = patched(doc, "[{op: remove, path: /metadata/a~2}]").unwrap_err();
        assert!(error.to_string().contains("'~' not followed by 0 or 1"), "{error}");
    }

    #[test]
    fn failures_name_the_operation_and_change_nothing() {
        let doc = "{spec: {replicas: 1, list: [a]}}";
        let mut target = yaml(doc);
        let patch = yaml("[{op: replace, path: /spec/replicas, value: 5}, {op: test, path: /spec/replicas, value: 2}]");
        let error = apply_json_patch(&mut target, &patch).unwrap_err();
        assert_eq!(
            error.to_string(),
            "JSON patch operation 1 (test \"/spec/replicas\"): test failed: the value is 5, not 2"
        );
        assert_eq!(target, yaml(doc));
        let cases = [
            (
                "[{op: remove, path: /spec/missing}]",
                "operation 0 (remove \"/spec/missing\"): nothing at \"/spec/missing\"",
            ),
            ("[{op: replace, path: /x/y, value: 1}]", "nothing at \"/x\""),
            ("[{op: add, path: /spec/list/5, value: 1}]", "past the end"),
            ("[{op: add, path: /spec/list/01, value: 1}]", "not a list index"),
            ("[{op: add, path: /spec/replicas/x, value: 1}]", "is a number, not a map or list"),
            ("[{op: add, path: /spec/x}]", "no \"value\""),
            ("[{op: copy, path: /spec/x}]", "no \"from\""),
            ("[{op: frob, path: /spec}]", "unknown operation \"frob\""),
            ("[{op: add, path: spec, value: 1}]", "not a JSON pointer"),
            ("[{op: remove, path: ''}]", "whole document"),
            ("[{op: add, path: /spec/x, value: 1}, {op: test, path: /spec/x, value: 1}, 3]", "operation 2 (? \"\")"),
        ];
        for (patch, expected) in cases {
            let error = patched(doc, patch).unwrap_err().to_string();
            assert!(error.contains(expected), "{patch}: {error}");
        }
        assert_eq!(
            patched(doc, "{op: add}").unwrap_err().to_string(),
            "a JSON patch must be a list of operations, not a map"
        );
    }
}
