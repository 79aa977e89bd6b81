//! The YAML document as a tree that remembers where every key and value was written.
//!
//! serde-saphyr parses the text (anchors, aliases and merge keys resolved) into
//! `Spanned` nodes; this module turns them into [`Node`]s with 1-based positions, the
//! source text of every non-string scalar, and an id per node.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, MessageFormatter, Spanned, UserMessageFormatter};

use super::path::{KeyPath, Step};

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Pos {
    /// 1-based line.
    pub(crate) line: u64,
    /// 1-based column, in characters.
    pub(crate) column: u64,
}

impl Pos {
    /// The start of the file.
    pub(crate) const START: Pos = Pos { line: 1, column: 1 };

    fn from_location(location: Location) -> Self {
        if location == Location::UNKNOWN || location.line() == 0 {
            Self::START
        } else {
            Self {
                line: location.line(),
                column: location.column().max(1),
            }
        }
    }
}

/// One value of the document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// Unique within its tree.
    pub(crate) id: usize,
    /// Where the value starts.
    pub(crate) pos: Pos,
    /// The value.
    pub(crate) kind: Kind,
}

/// What a node holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// `~`, `null` or nothing; `raw` is the text.
    Null { raw: String },
    /// A boolean; `raw` is the text (`true`, `yes`, ...).
    Bool { value: bool, raw: String },
    /// An integer; `raw` is the text (`0x1F`, `1_000`, ...).
    Int { value: i128, raw: String },
    /// A floating-point number; `raw` is the text.
    Float { value: f64, raw: String },
    /// A string (quoted, or plain text that is no other scalar).
    Str(String),
    /// A list.
    Seq(Vec<Node>),
    /// A mapping, in file order.
    Map(Vec<Entry>),
}

/// One `key: value` of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    /// The key's text.
    pub(crate) key: String,
    /// Where the key starts.
    pub(crate) key_pos: Pos,
    /// The value.
    pub(crate) value: Node,
}

/// The text is not one valid YAML document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyntaxError {
    /// Where the parser stopped.
    pub(crate) pos: Pos,
    /// The parser's description, on one line.
    pub(crate) message: String,
}

/// Parses `text` into a located tree.
pub(crate) fn parse(text: &str) -> Result<Node, SyntaxError> {
    let raw: Spanned<RawKind> = serde_saphyr::from_str(text).map_err(|e| SyntaxError {
        pos: e.location().map_or(Pos::START, Pos::from_location),
        message: one_line(&UserMessageFormatter.format_message(e.without_snippet())),
    })?;
    let mut next_id = 0;
    Ok(convert(text, raw, &mut next_id))
}

fn one_line(message: &str) -> String {
    message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The source text a span covers; for aliases, the text of the anchored definition.
fn source_text(text: &str, spanned: &Spanned<RawKind>) -> Option<String> {
    let span = spanned.defined.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    text.get(start..start.checked_add(len)?).map(str::to_owned)
}

fn convert(text: &str, raw: Spanned<RawKind>, next_id: &mut usize) -> Node {
    let id = *next_id;
    *next_id += 1;
    let pos = Pos::from_location(raw.referenced);
    let source = source_text(text, &raw).unwrap_or_default();
    let kind = match raw.value {
        RawKind::Null => Kind::Null { raw: source },
        RawKind::Bool(value) => Kind::Bool { value, raw: source },
        RawKind::Int(value) => Kind::Int { value, raw: source },
        RawKind::Float(value) => Kind::Float { value, raw: source },
        RawKind::Str(s) => Kind::Str(s),
        RawKind::Seq(items) => Kind::Seq(
            items
                .into_iter()
                .map(|item| convert(text, item, next_id))
                .collect(),
        ),
        RawKind::Map(entries) => Kind::Map(
            entries
                .into_iter()
                .map(|(key, value)| {
                    let key_pos = Pos::from_location(key.referenced);
                    let key_text = match &key.value {
                        RawKind::Str(s) => s.clone(),
                        _ => source_text(text, &key).unwrap_or_default(),
                    };
                    Entry {
                        key: key_text,
                        key_pos,
                        value: convert(text, value, next_id),
                    }
                })
                .collect(),
        ),
    };
    Node { id, pos, kind }
}

impl Node {
    /// The position to report for the value at `path`: the key's position for a mapping
    /// entry, the item's for a list item. A path that leaves the tree (a key the file
    /// does not have) stops at the deepest node it reached.
    pub(crate) fn locate(&self, path: &KeyPath) -> Pos {
        let mut node = self;
        let mut pos = self.pos;
        for step in path.steps() {
            let next = match (&node.kind, step) {
                (Kind::Map(entries), Step::Key(key)) => entries
                    .iter()
                    .find(|e| &e.key == key)
                    .map(|e| (e.key_pos, &e.value)),
                (Kind::Seq(items), Step::Index(i)) => items.get(*i).map(|n| (n.pos, n)),
                _ => None,
            };
            match next {
                Some((p, n)) => {
                    pos = p;
                    node = n;
                }
                None => break,
            }
        }
        pos
    }

    /// `path` with list indices counted among the items not in `skipped`, turned into
    /// indices of the file (items of a list may have been dropped while reading).
    pub(crate) fn file_path(&self, path: &KeyPath, skipped: &HashSet<usize>) -> KeyPath {
        let mut node = Some(self);
        let mut out = KeyPath::root();
        for step in path.steps() {
            match step {
                Step::Key(key) => {
                    out = out.key(key);
                    node = node.and_then(|n| match &n.kind {
                        Kind::Map(entries) => {
                            entries.iter().find(|e| &e.key == key).map(|e| &e.value)
                        }
                        _ => None,
                    });
                }
                Step::Index(i) => {
                    let found = node.and_then(|n| match &n.kind {
                        Kind::Seq(items) => items
                            .iter()
                            .enumerate()
                            .filter(|(_, item)| !skipped.contains(&item.id))
                            .nth(*i),
                        _ => None,
                    });
                    match found {
                        Some((index, item)) => {
                            out = out.index(index);
                            node = Some(item);
                        }
                        None => {
                            out = out.index(*i);
                            node = None;
                        }
                    }
                }
            }
        }
        out
    }

    /// A short description of the value for messages: `the string "x"`, `a list`, ...
    pub(crate) fn describe(&self) -> String {
        match &self.kind {
            Kind::Null { .. } => "an empty value".to_owned(),
            Kind::Bool { raw, .. } => format!("the boolean {raw}"),
            Kind::Int { raw, .. } => format!("the integer {raw}"),
            Kind::Float { raw, .. } => format!("the number {raw}"),
            Kind::Str(s) => format!("the string {s:?}"),
            Kind::Seq(_) => "a list".to_owned(),
            Kind::Map(_) => "a mapping".to_owned(),
        }
    }

    /// The scalar as text: strings as they are, other scalars as written.
    pub(crate) fn scalar_text(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            Kind::Bool { raw, .. } | Kind::Int { raw, .. } | Kind::Float { raw, .. } => Some(raw),
            Kind::Null { .. } | Kind::Seq(_) | Kind::Map(_) => None,
        }
    }
}

/// The shape serde-saphyr delivers through `deserialize_any`.
#[derive(Debug)]
enum RawKind {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<RawKind>>),
    Map(Vec<(Spanned<RawKind>, Spanned<RawKind>)>),
}

impl<'de> Deserialize<'de> for RawKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawKind;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<RawKind, E> {
        Ok(RawKind::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<RawKind, E> {
        Ok(RawKind::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawKind, D::Error> {
        d.deserialize_any(RawVisitor)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawKind, E> {
        Ok(RawKind::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawKind, E> {
        Ok(RawKind::Int(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawKind, E> {
        Ok(RawKind::Int(v.into()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawKind, E> {
        Ok(RawKind::Int(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawKind, E> {
        // Beyond i128 only as a float: no configuration value is that large anyway.
        Ok(i128::try_from(v).map_or(RawKind::Float(v as f64), RawKind::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawKind, E> {
        Ok(RawKind::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawKind, E> {
        Ok(RawKind::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<RawKind, E> {
        Ok(RawKind::Str(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<RawKind, E> {
        Ok(RawKind::Str(String::from_utf8_lossy(v).into_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawKind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(RawKind::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawKind, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key()? {
            let value = map.next_value()?;
            entries.push((key, value));
        }
        Ok(RawKind::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(node: &Node) -> &[Entry] {
        match &node.kind {
            Kind::Map(entries) => entries,
            other => panic!("not a map: {other:?}"),
        }
    }

    #[test]
    fn keeps_positions_and_raw_text() {
        let tree = parse("a: 0x1F\nb:\n  - 'x'\n  - 1.50\ny: n\n").expect("valid YAML");
        let top = entries(&tree);
        assert_eq!(top[0].key, "a");
        assert_eq!(top[0].key_pos, Pos { line: 1, column: 1 });
        assert!(matches!(&top[0].value.kind, Kind::Int { value: 31, raw } if raw == "0x1F"));
        let Kind::Seq(items) = &top[1].value.kind else {
            panic!("b is a list")
        };
        assert_eq!(items[0].kind, Kind::Str("x".into()));
        assert_eq!(items[1].pos, Pos { line: 4, column: 5 });
        assert_eq!(items[1].scalar_text(), Some("1.50"));
        // YAML 1.1 reads a plain `y` key as a boolean; keys keep their text.
        assert_eq!(top[2].key, "y");
    }

    #[test]
    fn locates_paths() {
        let tree = parse("a:\n  b:\n    - c: 1\n").expect("valid YAML");
        let path = KeyPath::root().key("a").key("b").index(0).key("c");
        assert_eq!(tree.locate(&path), Pos { line: 3, column: 7 });
        let missing = KeyPath::root().key("a").key("zzz");
        assert_eq!(tree.locate(&missing), Pos { line: 1, column: 1 });
    }

    #[test]
    fn maps_indices_past_skipped_items() {
        let tree = parse("l:\n  - 1\n  - 2\n  - 3\n").expect("valid YAML");
        let Kind::Map(entries) = &tree.kind else {
            panic!("a map")
        };
        let Kind::Seq(items) = &entries[0].value.kind else {
            panic!("a list")
        };
        let skipped = HashSet::from([items[0].id]);
        let path = KeyPath::root().key("l").index(1);
        assert_eq!(
            tree.file_path(&path, &skipped),
            KeyPath::root().key("l").index(2)
        );
        assert_eq!(tree.file_path(&path, &HashSet::new()), path);
    }

    #[test]
    fn reports_syntax_errors_on_one_line() {
        let error = parse("a: [1, 2\nb: 3\n").expect_err("unclosed list");
        assert_eq!(error.pos.line, 2);
        assert!(!error.message.contains('\n'));
    }
}
