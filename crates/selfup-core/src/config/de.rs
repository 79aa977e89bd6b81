//! A serde `Deserializer` over the located tree: turns it into the typed configuration
//! and says precisely what does not fit.
//!
//! - Unknown keys are recorded (with the allowed keys and a suggestion) and skipped, so
//!   one pass finds them all.
//! - A value of the wrong type, or a missing required key, stops serde. The driver then
//!   records the error, drops that node (so the field takes its default, or the list
//!   item is left out) and runs again, until everything else fits. Every type error is
//!   thus reported in one go; the paths dropped are returned so that the semantic checks
//!   can leave the affected parts alone.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::de::value::StrDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};

use super::error::ConfigErrorKind;
use super::path::KeyPath;
use super::suggest::nearest;
use super::tree::{Entry, Kind, Node, Pos};

/// A problem with its position and path, before the source name is attached.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Located {
    /// Where to point.
    pub(crate) pos: Pos,
    /// The dotted path.
    pub(crate) path: KeyPath,
    /// What is wrong.
    pub(crate) kind: ConfigErrorKind,
}

/// The result of [`deserialize`].
#[derive(Debug)]
pub(crate) struct Outcome<T> {
    /// The value, unless the document could not be made to fit at all.
    pub(crate) value: Option<T>,
    /// Every problem found.
    pub(crate) errors: Vec<Located>,
    /// Paths (with the file's list indices) whose values were dropped as they did not fit.
    pub(crate) dropped: Vec<KeyPath>,
    /// The ids of the dropped nodes.
    pub(crate) skipped: HashSet<usize>,
}

/// After this many values that do not fit, stop looking for more (each costs a pass).
const MAX_DROPPED: usize = 100;

/// Deserialises `tree` into `T`, collecting every unknown key and type error.
pub(crate) fn deserialize<T: DeserializeOwned>(tree: &Node) -> Outcome<T> {
    let mut poisoned = HashSet::new();
    let mut errors = Vec::new();
    let mut dropped = Vec::new();
    let mut unknown = BTreeMap::new();
    loop {
        let session = Session {
            poisoned: &poisoned,
            unknown: RefCell::new(Vec::new()),
        };
        let result = T::deserialize(NodeDe {
            node: tree,
            path: KeyPath::root(),
            report: tree.pos,
            session: &session,
        });
        for found in session.unknown.into_inner() {
            unknown
                .entry((found.pos, found.path.to_string()))
                .or_insert(found);
        }
        let error = match result {
            Ok(value) => {
                errors.extend(unknown.into_values());
                return Outcome {
                    value: Some(value),
                    errors,
                    dropped,
                    skipped: poisoned,
                };
            }
            Err(error) => error,
        };
        let error = *error.0;
        let at = error.at.unwrap_or(At {
            pos: tree.pos,
            path: KeyPath::root(),
            node: tree.id,
        });
        let can_drop =
            at.node != tree.id && dropped.len() < MAX_DROPPED && poisoned.insert(at.node);
        if !error.silent || !can_drop {
            errors.push(Located {
                pos: at.pos,
                path: at.path.clone(),
                kind: error.kind,
            });
        }
        if !can_drop {
            errors.extend(unknown.into_values());
            return Outcome {
                value: None,
                errors,
                dropped,
                skipped: poisoned,
            };
        }
        dropped.push(at.path);
    }
}

/// State shared by all deserialisers of one pass.
struct Session<'s> {
    /// Ids of nodes to treat as absent.
    poisoned: &'s HashSet<usize>,
    /// Unknown keys met so far.
    unknown: RefCell<Vec<Located>>,
}

/// Where an error happened.
#[derive(Debug)]
struct At {
    pos: Pos,
    path: KeyPath,
    node: usize,
}

/// The error serde sees; located by the innermost deserialiser that knows the node.
/// Boxed: it travels up through every level of the configuration.
#[derive(Debug)]
struct DeError(Box<Failure>);

/// What a [`DeError`] holds.
#[derive(Debug)]
struct Failure {
    kind: ConfigErrorKind,
    at: Option<At>,
    /// A consequence of an error already reported (a required key that was dropped).
    silent: bool,
}

impl DeError {
    fn new(kind: ConfigErrorKind) -> Self {
        Self(Box::new(Failure {
            kind,
            at: None,
            silent: false,
        }))
    }
}

impl std::ops::Deref for DeError {
    type Target = Failure;

    fn deref(&self) -> &Failure {
        &self.0
    }
}

impl std::ops::DerefMut for DeError {
    fn deref_mut(&mut self) -> &mut Failure {
        &mut self.0
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self::new(ConfigErrorKind::Custom {
            message: msg.to_string(),
        })
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self::new(ConfigErrorKind::WrongType {
            found: unexp.to_string(),
            expected: exp.to_string(),
        })
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        let value = match unexp {
            de::Unexpected::Str(s) => s.to_owned(),
            other => other.to_string(),
        };
        Self::new(ConfigErrorKind::InvalidValue {
            value,
            expected: exp.to_string(),
        })
    }

    fn missing_field(field: &'static str) -> Self {
        Self::new(ConfigErrorKind::MissingKey {
            key: field.to_owned(),
            needed_by: String::new(),
        })
    }
}

/// Deserialises one node.
struct NodeDe<'a> {
    node: &'a Node,
    path: KeyPath,
    /// The position errors point at: the key for a mapping value, else the node.
    report: Pos,
    session: &'a Session<'a>,
}

impl NodeDe<'_> {
    fn at(&self) -> At {
        At {
            pos: self.report,
            path: self.path.clone(),
            node: self.node.id,
        }
    }

    fn fail(&self, kind: ConfigErrorKind) -> DeError {
        let mut error = DeError::new(kind);
        error.at = Some(self.at());
        error
    }

    fn wrong_type(&self, expected: impl Into<String>) -> DeError {
        self.fail(ConfigErrorKind::WrongType {
            found: self.node.describe(),
            expected: expected.into(),
        })
    }

    /// Gives errors raised by visitors at this level this node's position.
    fn locate<T>(&self, result: Result<T, DeError>) -> Result<T, DeError> {
        result.map_err(|mut e| {
            if e.at.is_none() {
                e.at = Some(self.at());
            }
            e
        })
    }

    fn integer(&self, min: i128, max: i128) -> Result<i128, DeError> {
        match self.node.kind {
            Kind::Int { value, .. } if (min..=max).contains(&value) => Ok(value),
            Kind::Int { value, .. } if value < min && min == 0 => {
                Err(self.wrong_type("a whole number (0 or more)"))
            }
            Kind::Int { value, .. } if value < min => {
                Err(self.wrong_type(format!("a whole number (at least {min})")))
            }
            Kind::Int { .. } => Err(self.wrong_type(format!("a whole number (at most {max})"))),
            _ => Err(self.wrong_type("a whole number")),
        }
    }

    fn float(&self) -> Result<f64, DeError> {
        match self.node.kind {
            Kind::Int { value, .. } => Ok(value as f64),
            Kind::Float { value, .. } => Ok(value),
            _ => Err(self.wrong_type("a number")),
        }
    }

    /// Runs `seed` on this node; an error its `Deserialize` raises after reading the
    /// value (as `deserialize_with` functions do) is placed here too.
    fn deserialize_located<'de, T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, DeError> {
        let at = self.at();
        seed.deserialize(self).map_err(|mut e| {
            if e.at.is_none() {
                e.at = Some(at);
            }
            e
        })
    }

    fn child<'b>(&'b self, node: &'b Node, path: KeyPath, report: Pos) -> NodeDe<'b> {
        NodeDe {
            node,
            path,
            report,
            session: self.session,
        }
    }
}

macro_rules! integer_methods {
    ($($method:ident $visit:ident $ty:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let n = self.integer(i128::from(<$ty>::MIN), i128::from(<$ty>::MAX))?;
            let n = <$ty>::try_from(n).map_err(|_| self.wrong_type("a whole number"))?;
            self.locate(visitor.$visit(n))
        }
    )*};
}

/// Booleans as YAML 1.2 writes them; YAML 1.1's `yes`, `on`, ... are refused.
fn is_plain_bool(raw: &str) -> bool {
    matches!(raw, "true" | "True" | "TRUE" | "false" | "False" | "FALSE")
}

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match &self.node.kind {
            Kind::Null { .. } => visitor.visit_unit(),
            Kind::Bool { value, .. } => visitor.visit_bool(*value),
            Kind::Int { value, .. } => match i64::try_from(*value) {
                Ok(v) => visitor.visit_i64(v),
                Err(_) => visitor.visit_i128(*value),
            },
            Kind::Float { value, .. } => visitor.visit_f64(*value),
            Kind::Str(s) => visitor.visit_str(s),
            Kind::Seq(_) => return self.deserialize_seq(visitor),
            Kind::Map(_) => return self.deserialize_map(visitor),
        };
        self.locate(result)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            Kind::Bool { value, raw } if is_plain_bool(raw) => {
                self.locate(visitor.visit_bool(*value))
            }
            Kind::Bool { raw, .. } => Err(self.fail(ConfigErrorKind::WrongType {
                found: format!("{raw:?}"),
                expected: "true or false".to_owned(),
            })),
            _ => Err(self.wrong_type("true or false")),
        }
    }

    integer_methods! {
        deserialize_i8 visit_i8 i8,
        deserialize_i16 visit_i16 i16,
        deserialize_i32 visit_i32 i32,
        deserialize_i64 visit_i64 i64,
        deserialize_u8 visit_u8 u8,
        deserialize_u16 visit_u16 u16,
        deserialize_u32 visit_u32 u32,
        deserialize_u64 visit_u64 u64,
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let x = self.float()?;
        self.locate(visitor.visit_f64(x))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.scalar_text() {
            Some(text) => self.locate(visitor.visit_str(text)),
            None => Err(self.wrong_type("a string")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.kind {
            Kind::Null { .. } => self.locate(visitor.visit_none()),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.kind {
            Kind::Null { .. } => self.locate(visitor.visit_unit()),
            _ => Err(self.wrong_type("an empty value")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let items: &[Node] = match &self.node.kind {
            Kind::Seq(items) => items,
            // `key:` with nothing after it: an empty list.
            Kind::Null { .. } => &[],
            _ => return Err(self.wrong_type("a list")),
        };
        let access = SeqDe {
            parent: &self,
            items: items.iter().enumerate(),
        };
        self.locate(visitor.visit_seq(access))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let entries: &[Entry] = match &self.node.kind {
            Kind::Map(entries) => entries,
            Kind::Null { .. } => &[],
            _ => return Err(self.wrong_type("a mapping")),
        };
        let access = MapDe {
            parent: &self,
            entries: entries.iter(),
            fields: None,
            value: None,
        };
        self.locate(visitor.visit_map(access))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let entries: &[Entry] = match &self.node.kind {
            Kind::Map(entries) => entries,
            // `section:` with nothing after it: every key takes its default.
            Kind::Null { .. } => &[],
            _ => {
                return Err(
                    self.wrong_type(format!("a mapping with the keys {}", fields.join(", ")))
                );
            }
        };
        let access = MapDe {
            parent: &self,
            entries: entries.iter(),
            fields: Some(fields),
            value: None,
        };
        let result = visitor.visit_map(access);
        let result = result.map_err(|mut error| {
            let e = &mut *error.0;
            if e.at.is_none()
                && let ConfigErrorKind::MissingKey { key, needed_by } = &mut e.kind
            {
                let poisoned = self.session.poisoned;
                e.silent = entries
                    .iter()
                    .any(|entry| &entry.key == key && poisoned.contains(&entry.value.id));
                *needed_by = format!("required; the keys here are {}", fields.join(", "));
            }
            error
        });
        self.locate(result)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let Some(text) = self.node.scalar_text() else {
            return Err(self.wrong_type(format!("one of: {}", variants.join(", "))));
        };
        if !variants.contains(&text) {
            return Err(self.fail(ConfigErrorKind::BadEnum {
                value: text.to_owned(),
                allowed: variants.iter().map(|v| (*v).to_owned()).collect(),
                suggestion: nearest(text, variants).map(str::to_owned),
            }));
        }
        let access: StrDeserializer<'_, DeError> = text.into_deserializer();
        self.locate(visitor.visit_enum(access))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

/// The items of a list, skipping dropped ones; paths keep the items' places in the file.
struct SeqDe<'a, 'b> {
    parent: &'b NodeDe<'a>,
    items: std::iter::Enumerate<std::slice::Iter<'b, Node>>,
}

impl<'de> de::SeqAccess<'de> for SeqDe<'_, '_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let poisoned = self.parent.session.poisoned;
        let Some((index, item)) = self.items.find(|(_, n)| !poisoned.contains(&n.id)) else {
            return Ok(None);
        };
        let child = self
            .parent
            .child(item, self.parent.path.index(index), item.pos);
        child.deserialize_located(seed).map(Some)
    }
}

/// The entries of a mapping, skipping dropped ones and (for structs) unknown keys.
struct MapDe<'a, 'b> {
    parent: &'b NodeDe<'a>,
    entries: std::slice::Iter<'b, Entry>,
    /// The allowed keys, when the mapping is a struct.
    fields: Option<&'static [&'static str]>,
    /// The entry whose key was just handed out.
    value: Option<&'b Entry>,
}

impl<'de> de::MapAccess<'de> for MapDe<'_, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let session = self.parent.session;
        for entry in self.entries.by_ref() {
            if session.poisoned.contains(&entry.value.id) {
                continue;
            }
            if let Some(fields) = self.fields
                && !fields.contains(&entry.key.as_str())
            {
                session.unknown.borrow_mut().push(Located {
                    pos: entry.key_pos,
                    path: self.parent.path.key(&entry.key),
                    kind: ConfigErrorKind::UnknownKey {
                        key: entry.key.clone(),
                        allowed: fields.iter().map(|f| (*f).to_owned()).collect(),
                        suggestion: nearest(&entry.key, fields).map(str::to_owned),
                    },
                });
                continue;
            }
            self.value = Some(entry);
            let key: StrDeserializer<'_, DeError> = entry.key.as_str().into_deserializer();
            return seed.deserialize(key).map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some(entry) = self.value.take() else {
            return Err(de::Error::custom("a value was asked for before its key"));
        };
        let child = self.parent.child(
            &entry.value,
            self.parent.path.key(&entry.key),
            entry.key_pos,
        );
        child.deserialize_located(seed)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::config::tree;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Item {
        name: String,
        #[serde(default)]
        weight: u32,
    }

    #[derive(Debug, Deserialize, PartialEq, Default)]
    #[serde(default, deny_unknown_fields)]
    struct Doc {
        count: u32,
        ratio: f64,
        on: bool,
        items: Vec<Item>,
    }

    fn run(text: &str) -> Outcome<Doc> {
        deserialize(&tree::parse(text).expect("valid YAML"))
    }

    fn messages(outcome: &Outcome<Doc>) -> Vec<String> {
        outcome
            .errors
            .iter()
            .map(|e| format!("{}:{} {}: {}", e.pos.line, e.pos.column, e.path, e.kind))
            .collect()
    }

    #[test]
    fn fits_a_good_document() {
        let outcome = run("count: 3\nratio: 1\nitems:\n  - name: 5\n");
        assert!(outcome.errors.is_empty());
        let doc = outcome.value.expect("fits");
        assert_eq!(doc.ratio, 1.0);
        assert_eq!(doc.items[0].name, "5");
    }

    #[test]
    fn reports_every_type_error_and_unknown_key() {
        let outcome = run(
            "count: sixty\nratio: '0.5'\non: yes\nitems:\n  - name: a\n    weigth: 2\n  - weight: 1\n",
        );
        assert_eq!(
            messages(&outcome),
            [
                "1:1 count: expected a whole number, found the string \"sixty\"",
                "2:1 ratio: expected a number, found the string \"0.5\"",
                "3:1 on: expected true or false, found \"yes\"",
                "7:5 items[1]: missing key \"name\" (required; the keys here are name, weight)",
                "6:5 items[0].weigth: unknown key \"weigth\", did you mean \"weight\"? (allowed keys: name, weight)",
            ]
        );
        let doc = outcome.value.expect("the rest fits");
        assert_eq!(doc.items.len(), 1);
        assert_eq!(outcome.dropped.len(), 4);
    }

    #[test]
    fn a_dropped_required_key_is_not_reported_twice() {
        let outcome = run("items:\n  - name: [1]\n");
        assert_eq!(
            messages(&outcome),
            ["2:5 items[0].name: expected a string, found a list"]
        );
        assert_eq!(
            outcome.dropped,
            [
                KeyPath::root().key("items").index(0).key("name"),
                KeyPath::root().key("items").index(0)
            ]
        );
    }

    #[test]
    fn a_document_of_the_wrong_shape_fails_once() {
        let outcome = run("- 1\n");
        assert!(outcome.value.is_none());
        assert_eq!(
            messages(&outcome),
            ["1:1 : expected a mapping with the keys count, ratio, on, items, found a list"]
        );
    }
}
