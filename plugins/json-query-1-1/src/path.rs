//! The path language of json-query 1.1.0: 1.0.0's syntax plus wildcards.
//!
//! A path starts with `$` followed by segments: `.key`, `["key"]` or
//! `['key']`, `[index]` (negative counts from the end), and the wildcards
//! `.*` and `[*]` (every member of an object or element of an array).

use pluginkit::PluginError;
use serde_json::Value;

use crate::lexer::{Lexed, Token, lex};

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// An object member.
    Key(String),
    /// An array element; negative counts from the end.
    Index(i64),
    /// Every member value or element.
    Wildcard,
}

/// Why a path could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// The path is malformed at a character position (`invalid-input`).
    Syntax {
        /// Where, in characters from the start of the path.
        position: usize,
        /// What was expected there.
        message: String,
    },
    /// The parser met a state it assumes cannot happen (`internal`).
    Internal(String),
}

impl PathError {
    /// A syntax error at `position`.
    pub fn syntax(position: usize, message: String) -> Self {
        Self::Syntax { position, message }
    }

    /// The plugin error for this path error.
    pub fn into_plugin_error(self, path: &str) -> PluginError {
        match self {
            Self::Syntax { position, message } => PluginError::invalid_input(format!(
                "invalid path {path:?} at position {position}: {message}"
            )),
            Self::Internal(message) => PluginError::internal(format!("path {path:?}: {message}")),
        }
    }
}

/// Parse a path into segments.
pub fn parse(path: &str) -> Result<Vec<Segment>, PathError> {
    let tokens = lex(path)?;
    let end = path.chars().count();
    let mut tokens = tokens.into_iter().peekable();
    match tokens.next() {
        Some(Lexed {
            token: Token::Dollar,
            ..
        }) => {}
        _ => {
            return Err(PathError::syntax(
                0,
                "a path must start with '$' (the whole document)".into(),
            ));
        }
    }
    let mut segments = Vec::new();
    while let Some(Lexed { token, position }) = tokens.next() {
        let segment = match token {
            Token::Dot => match tokens.next() {
                Some(Lexed {
                    token: Token::Name(name) | Token::Int(name),
                    ..
                }) => Segment::Key(name),
                Some(Lexed {
                    token: Token::Star, ..
                }) => Segment::Wildcard,
                other => {
                    return Err(PathError::syntax(
                        other.map_or(end, |l| l.position),
                        "expected a key (letters, digits or '_') or '*' after '.'; use [\"...\"] for other keys".into(),
                    ));
                }
            },
            Token::Open => {
                let segment = bracket(&mut tokens, position + 1, end)?;
                match tokens.next() {
                    Some(Lexed {
                        token: Token::Close,
                        ..
                    }) => segment,
                    other => {
                        return Err(PathError::syntax(
                            other.map_or(end, |l| l.position),
                            "expected ']'".into(),
                        ));
                    }
                }
            }
            // '-' only starts a negative index, and the `Open` arm consumes
            // it there, so the parser never expects to see one here.
            Token::Minus => {
                return Err(PathError::Internal(format!(
                    "parser reached an impossible state: stray '-' token at position {position}"
                )));
            }
            other => {
                return Err(PathError::syntax(
                    position,
                    format!("unexpected {}; expected '.' or '['", describe(&other)),
                ));
            }
        };
        segments.push(segment);
    }
    Ok(segments)
}

/// Parse the inside of `[...]`; `start` is the position after `[`.
fn bracket(
    tokens: &mut impl Iterator<Item = Lexed>,
    start: usize,
    end: usize,
) -> Result<Segment, PathError> {
    let expected =
        "expected an index (e.g. [0], [-1]), a quoted key (e.g. [\"a b\"]) or '*' after '['";
    let Some(Lexed { token, position }) = tokens.next() else {
        return Err(PathError::syntax(end, expected.into()));
    };
    match token {
        Token::Str(key) => Ok(Segment::Key(key)),
        Token::Star => Ok(Segment::Wildcard),
        Token::Int(digits) => index(&digits, position),
        Token::Minus => match tokens.next() {
            Some(Lexed {
                token: Token::Int(digits),
                ..
            }) => index(&format!("-{digits}"), position),
            other => Err(PathError::syntax(
                other.map_or(end, |l| l.position),
                "expected digits after '-' in an index such as [-1]".into(),
            )),
        },
        _ => Err(PathError::syntax(start.max(position), expected.into())),
    }
}

fn index(text: &str, position: usize) -> Result<Segment, PathError> {
    text.parse::<i64>().map(Segment::Index).map_err(|_| {
        PathError::syntax(
            position,
            format!("invalid index '{text}': expected an integer such as 0 or -1"),
        )
    })
}

fn describe(token: &Token) -> String {
    match token {
        Token::Dollar => "'$'".into(),
        Token::Dot => "'.'".into(),
        Token::Open => "'['".into(),
        Token::Close => "']'".into(),
        Token::Star => "'*'".into(),
        Token::Minus => "'-'".into(),
        Token::Name(n) | Token::Int(n) => format!("'{n}'"),
        Token::Str(s) => format!("the string {s:?}"),
    }
}

/// All values that `segments` select from `document`, in document order
/// (object members in key order).
pub fn select<'a>(document: &'a Value, segments: &[Segment]) -> Vec<&'a Value> {
    let mut current = vec![document];
    for segment in segments {
        current = current
            .into_iter()
            .flat_map(|value| step(value, segment))
            .collect();
        if current.is_empty() {
            break;
        }
    }
    current
}

/// The children of `value` that one segment selects.
fn step<'a>(value: &'a Value, segment: &Segment) -> Vec<&'a Value> {
    match (segment, value) {
        (Segment::Key(key), Value::Object(map)) => map.get(key).into_iter().collect(),
        (Segment::Index(index), Value::Array(items)) => {
            let position = if *index < 0 {
                usize::try_from(index.unsigned_abs())
                    .ok()
                    .and_then(|back| items.len().checked_sub(back))
            } else {
                usize::try_from(*index).ok()
            };
            position.and_then(|p| items.get(p)).into_iter().collect()
        }
        (Segment::Wildcard, Value::Object(map)) => map.values().collect(),
        (Segment::Wildcard, Value::Array(items)) => items.iter().collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn get(document: &Value, path: &str) -> Vec<Value> {
        select(document, &parse(path).unwrap())
            .into_iter()
            .cloned()
            .collect()
    }

    #[test]
    fn plain_paths_as_in_1_0() {
        let doc = json!({"a": {"b": [1, 2, {"c d": true}]}, "7": "seven"});
        assert_eq!(get(&doc, "$.a.b[-1][\"c d\"]"), [json!(true)]);
        assert_eq!(get(&doc, "$.a.b[0]"), [json!(1)]);
        assert_eq!(get(&doc, "$.7"), [json!("seven")]);
        assert!(get(&doc, "$.a.b[9]").is_empty());
        assert!(get(&doc, "$.a.b[-9]").is_empty());
        assert_eq!(get(&doc, "$"), std::slice::from_ref(&doc));
    }

    #[test]
    fn wildcards() {
        let doc = json!({"users": [{"name": "Ada", "age": 36}, {"name": "Lin"}]});
        assert_eq!(get(&doc, "$.users[*].name"), [json!("Ada"), json!("Lin")]);
        assert_eq!(get(&doc, "$.users[0].*"), [json!(36), json!("Ada")]);
        assert_eq!(get(&doc, "$.*[*].age"), [json!(36)]);
        assert!(get(&doc, "$.users[*].missing").is_empty());
    }

    #[test]
    fn syntax_errors_are_syntax() {
        for (path, at) in [
            ("a", 0),
            ("$.", 2),
            ("$[x]", 2),
            ("$[0", 3),
            ("$[-]", 3),
            ("$ .a", 1),
        ] {
            match parse(path) {
                Err(PathError::Syntax { position, .. }) => assert_eq!(position, at, "{path}"),
                other => panic!("{path}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_regression_hyphenated_dot_keys() {
        for path in ["$.headers.content-type", "$.x-request-id", "$.a[0]-b"] {
            assert!(matches!(parse(path), Err(PathError::Internal(_))), "{path}");
        }
        assert_eq!(
            parse(r#"$.headers["content-type"]"#).unwrap(),
            [
                Segment::Key("headers".into()),
                Segment::Key("content-type".into())
            ]
        );
    }
}
