//! Reads YAML bytes into a JSON value while remembering where every node came from.
//!
//! serde_yaml forgets positions once a document is parsed, yet every error we report must name
//! a line and a column. So the document is read through yaml-rust2's event stream, which marks
//! each event, and built into a `serde_json::Value` plus a map from field path to position.
//! Typed deserialisation then works on the value, and any error about a path can be located.
//!
//! Positions are only needed to report an error, and building that map (a path string for
//! every node) cost as much as the parse itself. So a successful load builds only the value;
//! the map is built on the first question about a position, by reading the text once more.
//!
//! The reader is defensive: input of any bytes must end in a value or diagnostics, never a
//! panic. Nesting depth, node count (alias bombs) and file size are bounded.

use super::diagnostics::{excerpt, Diagnostic, Diagnostics, Position};
use super::origin::{self, Origins};
use super::path::FieldPath;
use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Largest services.yaml we read; far above any real inventory, small enough to stay fast.
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;
/// Deepest nesting we accept; real files use fewer than ten levels.
pub const MAX_DEPTH: usize = 64;
/// Most nodes a document may expand to, aliases included (stops "billion laughs").
pub const MAX_NODES: usize = 500_000;

/// A UTF-8 byte order mark, which some editors put at the start of a file.
const BOM: &str = "\u{feff}";

/// Where each field of a loaded document starts.
#[derive(Clone, Default)]
pub struct SourceMap {
    /// The text the document was read from, BOM removed: positions are counted in it.
    text: Arc<str>,
    positions: OnceLock<Positions>,
}

#[derive(Debug, Default, Clone)]
struct Positions {
    values: HashMap<String, Position>,
    keys: HashMap<String, Position>,
}

impl std::fmt::Debug for SourceMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceMap")
            .field("text_bytes", &self.text.len())
            .field("built", &self.positions.get().is_some())
            .finish()
    }
}

impl SourceMap {
    fn positions(&self) -> &Positions {
        self.positions.get_or_init(|| {
            let mut builder = Builder::new("", true);
            // The text was read without an error before, so it reads the same way again.
            match build(&self.text, &mut builder) {
                Ok(_) => builder.positions,
                Err(_) => Positions::default(),
            }
        })
    }

    /// Position of the value at `path`, falling back to its closest known ancestor.
    pub fn value_position(&self, path: &str) -> Position {
        let values = &self.positions().values;
        let mut current = path.to_string();
        loop {
            if let Some(p) = values.get(&current) {
                return *p;
            }
            match FieldPath::parent_of(&current) {
                Some(parent) => current = parent,
                None => return Position { line: 1, column: 1 },
            }
        }
    }

    /// Position of the key that introduces `path` (its value's when there is no key).
    pub fn key_position(&self, path: &str) -> Position {
        self.positions().keys.get(path).copied().unwrap_or_else(|| self.value_position(path))
    }

    pub fn contains(&self, path: &str) -> bool {
        self.positions().values.contains_key(path)
    }

    /// The character at `position` (1-based line and column, in characters), if any.
    pub fn char_at(&self, position: Position) -> Option<char> {
        let line = self.text.lines().nth(position.line.checked_sub(1)?)?;
        line.chars().nth(position.column.checked_sub(1)?)
    }
}

/// A document read from one file: its value and where each part of it came from.
#[derive(Debug, Clone)]
pub struct SourceDocument {
    /// The main file, as messages name it.
    pub file: String,
    pub value: Value,
    /// Positions in the main file.
    pub map: SourceMap,
    /// The files merged into `value` by `imports`, when there are any (see [`origin`]).
    pub origins: Option<Arc<Origins>>,
}

impl SourceDocument {
    /// Whether fields of `value` may have been written elsewhere than at their own path of
    /// the main file: in an imported file, or in a component a unit uses.
    fn is_merged(&self) -> bool {
        self.origins.is_some() || self.value.get("components").is_some()
    }

    pub fn error_at(&self, path: &str, message: impl Into<String>) -> Diagnostic {
        if self.is_merged() {
            if let Some(found) = origin::locate(self, path, false) {
                return Diagnostic::new(found.file, found.map.value_position(&found.path), path, message);
            }
        }
        Diagnostic::new(&self.file, self.map.value_position(path), path, message)
    }

    pub fn error_at_key(&self, path: &str, message: impl Into<String>) -> Diagnostic {
        if self.is_merged() {
            if let Some(found) = origin::locate(self, path, true) {
                return Diagnostic::new(found.file, found.map.key_position(&found.path), path, message);
            }
            return self.error_at(path, message);
        }
        Diagnostic::new(&self.file, self.map.key_position(path), path, message)
    }

    /// Whether the document was written with a field at `path` (in whichever file or
    /// component it came from).
    pub fn contains(&self, path: &str) -> bool {
        if self.is_merged() {
            origin::locate(self, path, true).is_some()
        } else {
            self.map.contains(path)
        }
    }
}

fn position(marker: &Marker) -> Position {
    Position { line: marker.line().max(1), column: marker.col() + 1 }
}

/// Reads `bytes` (named `file` in messages) into one document.
pub fn read(file: &str, bytes: &[u8]) -> Result<SourceDocument, Diagnostics> {
    let fail = |position: Position, message: String| Diagnostics(vec![Diagnostic::new(file, position, "", message)]);
    if bytes.len() > MAX_FILE_BYTES {
        return Err(fail(
            Position { line: 1, column: 1 },
            format!("file is {} bytes; the limit is {MAX_FILE_BYTES}", bytes.len()),
        ));
    }
    // Dropped before anything counts columns, so line 1 is not shifted by it.
    let bytes = bytes.strip_prefix(BOM.as_bytes()).unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
            let column = valid.iter().rev().take_while(|b| **b != b'\n').count() + 1;
            return Err(fail(Position { line, column }, "the file is not valid UTF-8 text".to_string()));
        }
    };
    if text.contains('\0') {
        let offset = text.find('\0').unwrap_or(0);
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        return Err(fail(Position { line, column }, "the file contains a NUL byte; is it binary?".into()));
    }
    let value = match build(text, &mut Builder::new(file, false)) {
        Ok(value) => value,
        Err(error) => {
            // Read again with paths tracked: the same problem, now with its field path.
            let located = build(text, &mut Builder::new(file, true)).err().unwrap_or(error);
            return Err(Diagnostics(vec![located]));
        }
    };
    match value {
        Some(value) => Ok(SourceDocument {
            file: file.to_string(),
            value,
            map: SourceMap { text: Arc::from(text), positions: OnceLock::new() },
            origins: None,
        }),
        None => Err(fail(Position { line: 1, column: 1 }, "the file is empty".into())),
    }
}

/// Reads one YAML document of a text that is already UTF-8 (a rendered manifest), with the
/// same bounds as services.yaml; None when it holds no node. Faster than serde_yaml, and
/// bounded, which matters for manifests that come with a pull request.
pub fn read_value(file: &str, text: &str) -> Result<Option<Value>, Diagnostic> {
    build(text, &mut Builder::new(file, false))
}

/// Feeds the YAML events of `text` to `builder`; the document's value, or None when empty.
fn build(text: &str, builder: &mut Builder<'_>) -> Result<Option<Value>, Diagnostic> {
    let fail = |position: Position, message: String| Diagnostic::new(builder.file, position, "", message);
    let mut parser = Parser::new_from_str(text);
    let mut documents = 0usize;
    loop {
        let (event, marker) = match parser.next_token() {
            Ok(item) => item,
            Err(e) => {
                return Err(fail(position(e.marker()), format!("YAML syntax error: {}", e.info())));
            }
        };
        match event {
            Event::StreamEnd => break,
            Event::StreamStart | Event::Nothing | Event::DocumentEnd => {}
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    return Err(fail(
                        position(&marker),
                        "services.yaml holds one YAML document; found a second one".into(),
                    ));
                }
            }
            other => builder.event(other, &marker)?,
        }
    }
    Ok(builder.finish())
}

/// A collection under construction.
enum Frame {
    Sequence { path: String, items: Vec<Value>, anchor: usize },
    Mapping { path: String, entries: Map<String, Value>, pending_key: Option<(String, Position)>, anchor: usize },
}

struct Builder<'f> {
    file: &'f str,
    /// Whether to record field paths and positions; without, paths are left empty.
    track: bool,
    stack: Vec<Frame>,
    root: Option<Value>,
    positions: Positions,
    /// Anchored nodes and their sizes, so aliases can be expanded within the node budget.
    anchors: HashMap<usize, (Value, usize)>,
    nodes: usize,
    /// Nodes counted since each open frame started, to know an anchored collection's size.
    frame_start_nodes: Vec<usize>,
}

impl<'f> Builder<'f> {
    fn new(file: &'f str, track: bool) -> Self {
        Builder {
            file,
            track,
            stack: Vec::new(),
            root: None,
            positions: Positions::default(),
            anchors: HashMap::new(),
            nodes: 0,
            frame_start_nodes: Vec::new(),
        }
    }

    fn finish(&mut self) -> Option<Value> {
        self.root.take()
    }

    fn error(&self, marker: &Marker, path: &str, message: String) -> Diagnostic {
        Diagnostic::new(self.file, position(marker), path, message)
    }

    /// The path the next node will have, or an error when a mapping key is not a scalar.
    fn next_path(&self, marker: &Marker, is_scalar: bool) -> Result<String, Diagnostic> {
        match self.stack.last() {
            None => Ok(String::new()),
            Some(Frame::Sequence { path, items, .. }) => Ok(self.tracked(|| FieldPath::index(path, items.len()))),
            Some(Frame::Mapping { path, pending_key: Some((key, _)), .. }) => {
                Ok(self.tracked(|| FieldPath::key(path, key)))
            }
            Some(Frame::Mapping { path, pending_key: None, .. }) => {
                if is_scalar {
                    Ok(self.tracked(|| path.clone()))
                } else {
                    Err(self.error(marker, path, "mapping keys must be plain strings, not collections".into()))
                }
            }
        }
    }

    /// `path()` when tracking, else an empty path.
    fn tracked(&self, path: impl FnOnce() -> String) -> String {
        if self.track {
            path()
        } else {
            String::new()
        }
    }

    fn count(&mut self, n: usize, marker: &Marker) -> Result<(), Diagnostic> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            return Err(self.error(
                marker,
                "",
                format!("the document expands to more than {MAX_NODES} nodes (alias bomb?)"),
            ));
        }
        Ok(())
    }

    fn event(&mut self, event: Event, marker: &Marker) -> Result<(), Diagnostic> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                if matches!(self.stack.last(), Some(Frame::Mapping { pending_key: None, .. })) {
                    self.key(text, marker)
                } else {
                    self.scalar(&text, style, anchor, tag.as_ref().map(|t| t.suffix.as_str()), marker)
                }
            }
            Event::Alias(anchor) => self.alias(anchor, marker),
            Event::SequenceStart(anchor, _) => self.open(true, anchor, marker),
            Event::MappingStart(anchor, _) => self.open(false, anchor, marker),
            Event::SequenceEnd | Event::MappingEnd => {
                self.close();
                Ok(())
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentStart | Event::DocumentEnd | Event::Nothing => {
                Ok(())
            }
        }
    }

    /// A key of the innermost mapping: refused when repeated, remembered until its value comes.
    fn key(&mut self, text: String, marker: &Marker) -> Result<(), Diagnostic> {
        let Some(Frame::Mapping { path, entries, pending_key, .. }) = self.stack.last_mut() else {
            unreachable!("only called while a mapping awaits a key")
        };
        if entries.contains_key(&text) {
            let message = format!("duplicate key \"{}\"", excerpt(&text));
            return Err(Diagnostic::new(self.file, position(marker), &FieldPath::key(path, &text), message));
        }
        let first_key = entries.is_empty();
        if self.track {
            let child = FieldPath::key(path, &text);
            let mapping_path = path.clone();
            self.positions.keys.insert(child, position(marker));
            // yaml-rust2 marks a block mapping at its first ':'; users expect its first key.
            if first_key {
                let here = position(marker);
                let start = self.positions.values.entry(mapping_path).or_insert(here);
                if here < *start {
                    *start = here;
                }
            }
        }
        *pending_key = Some((text, position(marker)));
        Ok(())
    }

    /// A scalar value (not a key), anchored when `anchor` is set.
    fn scalar(
        &mut self,
        text: &str,
        style: TScalarStyle,
        anchor: usize,
        tag: Option<&str>,
        marker: &Marker,
    ) -> Result<(), Diagnostic> {
        let path = self.next_path(marker, true)?;
        self.count(1, marker)?;
        let value = scalar_value(text, style, tag);
        if anchor > 0 {
            self.anchors.insert(anchor, (value.clone(), 1));
        }
        if self.track {
            self.positions.values.insert(path, position(marker));
        }
        self.attach(value);
        Ok(())
    }

    /// A copy of an anchored value; it counts as many nodes as the anchored value has.
    fn alias(&mut self, anchor: usize, marker: &Marker) -> Result<(), Diagnostic> {
        let path = self
            .next_path(marker, false)
            .map_err(|_| self.error(marker, "", "an alias cannot be used as a mapping key".into()))?;
        let Some((value, size)) = self.anchors.get(&anchor).cloned() else {
            return Err(self.error(marker, &path, "alias to an unknown anchor".into()));
        };
        self.count(size, marker)?;
        if self.track {
            self.positions.values.insert(path, position(marker));
        }
        self.attach(value);
        Ok(())
    }

    /// The start of a sequence or mapping: a new frame, within the depth limit.
    fn open(&mut self, is_sequence: bool, anchor: usize, marker: &Marker) -> Result<(), Diagnostic> {
        let path = self.next_path(marker, false)?;
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.error(marker, &path, format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.count(1, marker)?;
        if self.track {
            self.positions.values.insert(path.clone(), position(marker));
        }
        self.frame_start_nodes.push(self.nodes);
        self.stack.push(if is_sequence {
            Frame::Sequence { path, items: Vec::new(), anchor }
        } else {
            Frame::Mapping { path, entries: Map::new(), pending_key: None, anchor }
        });
        Ok(())
    }

    /// The end of the innermost sequence or mapping: its value goes to its parent.
    fn close(&mut self) {
        let frame = self.stack.pop().expect("the parser balances start and end events");
        let started = self.frame_start_nodes.pop().unwrap_or(self.nodes);
        let (value, anchor) = match frame {
            Frame::Sequence { items, anchor, .. } => (Value::Array(items), anchor),
            Frame::Mapping { entries, anchor, .. } => (Value::Object(entries), anchor),
        };
        if anchor > 0 {
            let size = self.nodes - started + 1;
            self.anchors.insert(anchor, (value.clone(), size));
        }
        self.attach(value);
    }

    fn attach(&mut self, value: Value) {
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Sequence { items, .. }) => items.push(value),
            Some(Frame::Mapping { entries, pending_key, .. }) => {
                if let Some((key, _)) = pending_key.take() {
                    entries.insert(key, value);
                }
            }
        }
    }
}

/// Interprets a scalar with the YAML 1.2 core schema; quoted scalars are always strings.
fn scalar_value(text: &str, style: TScalarStyle, tag: Option<&str>) -> Value {
    if style != TScalarStyle::Plain || tag == Some("str") {
        return Value::String(text.to_string());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return Value::Number(i.into());
    }
    let looks_numeric = text.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        && text.chars().any(|c| c.is_ascii_digit());
    if looks_numeric {
        if let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(n);
        }
    }
    Value::String(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_point_at_the_value() {
        let doc = read("s.yaml", b"a:\n  b: [1, 2]\n  c: x\n").unwrap();
        assert_eq!(doc.map.value_position("a.c"), Position { line: 3, column: 6 });
        assert_eq!(doc.map.key_position("a.c"), Position { line: 3, column: 3 });
        assert_eq!(doc.map.value_position("a.b[1]"), Position { line: 2, column: 10 });
    }

    #[test]
    fn a_byte_order_mark_is_skipped_without_shifting_line_one() {
        let doc = read("s.yaml", "\u{feff}a: x\nb: y\n".as_bytes()).unwrap();
        assert_eq!(doc.value, serde_json::json!({"a": "x", "b": "y"}));
        assert_eq!(doc.map.value_position("a"), Position { line: 1, column: 4 });
        assert_eq!(doc.map.key_position("a"), Position { line: 1, column: 1 });
        assert_eq!(doc.map.value_position("b"), Position { line: 2, column: 4 });
    }

    #[test]
    fn errors_found_without_paths_are_reported_with_them() {
        let err = read("s.yaml", b"a:\n  b: 1\n  b: 2\n").unwrap_err();
        assert_eq!(err.0[0].path, "a.b");
        assert_eq!((err.0[0].line, err.0[0].column), (3, 3));
        let err = read("s.yaml", b"a:\n  - x\n  - [[1, {? [k] : v}]]\n").unwrap_err();
        assert_eq!(err.0[0].path, "a[1][0][1]", "{err}");
    }

    #[test]
    fn core_schema_scalars() {
        let doc = read("s.yaml", b"a: 1\nb: '1'\nc: true\nd: ~\ne: 1.5\nf: 8h\n").unwrap();
        assert_eq!(doc.value, serde_json::json!({"a":1,"b":"1","c":true,"d":null,"e":1.5,"f":"8h"}));
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let err = read("s.yaml", text.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("alias bomb"), "{err}");
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let text = "[".repeat(20_000) + &"]".repeat(20_000);
        let err = read("s.yaml", text.as_bytes()).unwrap_err().to_string();
        // Either our depth limit or the parser's own recursion limit stops it first.
        assert!(err.contains("nesting deeper") || err.contains("recursion limit"), "{err}");
        let block: String = (0..200).map(|i| format!("{}a{i}:\n", "  ".repeat(i))).collect();
        let err = read("s.yaml", block.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("nesting deeper"), "{err}");
    }
}
