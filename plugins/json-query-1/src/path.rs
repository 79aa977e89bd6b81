//! The path language of json-query 1.0.0 and its evaluation.
//!
//! A path starts with `$` (the whole document) followed by any number of
//! segments:
//!
//! * `.key` — an object member; the key is letters, digits, `_` or `-`;
//! * `["key"]` or `['key']` — an object member with any key (JSON string
//!   escapes inside double quotes; `\'` and `\\` inside single quotes);
//! * `[index]` — an array element, counting from 0; `[-1]` is the last.
//!
//! A member or element that does not exist is "not found", not an error.

use serde_json::Value;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// An object member.
    Key(String),
    /// An array element; negative counts from the end.
    Index(i64),
}

/// A syntax error in a path, at a character position (0-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    /// Where in the path (in characters) the problem is.
    pub position: usize,
    /// What was expected there.
    pub message: String,
}

/// Parse a path into segments.
pub fn parse(path: &str) -> Result<Vec<Segment>, PathError> {
    let chars: Vec<char> = path.chars().collect();
    let error = |position: usize, message: String| Err(PathError { position, message });
    if chars.first() != Some(&'$') {
        return error(0, "a path must start with '$' (the whole document)".into());
    }
    let mut segments = Vec::new();
    let mut i = 1;
    while i < chars.len() {
        match chars[i] {
            '.' => {
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && is_key_char(chars[end]) {
                    end += 1;
                }
                if end == start {
                    return error(
                        start,
                        "expected a key (letters, digits, '_' or '-') after '.'; use [\"...\"] for other keys".into(),
                    );
                }
                segments.push(Segment::Key(chars[start..end].iter().collect()));
                i = end;
            }
            '[' => {
                let (segment, next) = bracket(&chars, i + 1)?;
                segments.push(segment);
                i = next;
            }
            c => return error(i, format!("unexpected '{c}'; expected '.' or '['")),
        }
    }
    Ok(segments)
}

/// Whether `c` may appear in a `.key` segment.
fn is_key_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// Parse the inside of `[...]` starting at `start`; returns the segment and
/// the position after `]`.
fn bracket(chars: &[char], start: usize) -> Result<(Segment, usize), PathError> {
    let (segment, end) = match chars.get(start) {
        Some(&quote @ ('"' | '\'')) => quoted(chars, start, quote)?,
        Some(c) if c.is_ascii_digit() || *c == '-' => index(chars, start)?,
        _ => {
            return Err(PathError {
                position: start,
                message:
                    "expected an index (e.g. [0], [-1]) or a quoted key (e.g. [\"a b\"]) after '['"
                        .into(),
            });
        }
    };
    if chars.get(end) != Some(&']') {
        return Err(PathError {
            position: end,
            message: "expected ']'".into(),
        });
    }
    Ok((segment, end + 1))
}

/// Parse a quoted key starting at the opening quote.
fn quoted(chars: &[char], start: usize, quote: char) -> Result<(Segment, usize), PathError> {
    let mut key = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => {
                return Err(PathError {
                    position: start,
                    message: format!("unterminated key: no closing {quote}"),
                });
            }
            Some(&c) if c == quote => break,
            Some('\\') => {
                let escaped = chars.get(i + 1).copied();
                match (quote, escaped) {
                    ('"', Some(_)) => {
                        // Collect the escape and let the JSON decoder judge it below.
                        key.push('\\');
                        key.extend(escaped);
                    }
                    (_, Some(e @ ('\'' | '\\'))) => key.push(e),
                    _ => {
                        return Err(PathError {
                            position: i,
                            message: "invalid escape: inside '...' only \\' and \\\\ are allowed"
                                .into(),
                        });
                    }
                }
                i += 2;
            }
            Some(&c) => {
                key.push(c);
                i += 1;
            }
        }
    }
    if quote == '"' {
        key = serde_json::from_str(&format!("\"{key}\"")).map_err(|e| PathError {
            position: start,
            message: format!("invalid key string: {e}"),
        })?;
    }
    Ok((Segment::Key(key), i + 1))
}

/// Parse an optionally negative integer index.
fn index(chars: &[char], start: usize) -> Result<(Segment, usize), PathError> {
    let mut end = start + usize::from(chars[start] == '-');
    while end < chars.len() && chars[end].is_ascii_digit() {
        end += 1;
    }
    let text: String = chars[start..end].iter().collect();
    let value = text.parse::<i64>().map_err(|_| PathError {
        position: start,
        message: format!("invalid index '{text}': expected an integer such as 0 or -1"),
    })?;
    Ok((Segment::Index(value), end))
}

/// Follow `segments` from `document`; `None` when some step is missing.
pub fn lookup<'a>(document: &'a Value, segments: &[Segment]) -> Option<&'a Value> {
    segments
        .iter()
        .try_fold(document, |value, segment| match segment {
            Segment::Key(key) => value.as_object()?.get(key),
            Segment::Index(index) => {
                let items = value.as_array()?;
                let position = if *index < 0 {
                    items
                        .len()
                        .checked_sub(usize::try_from(index.unsigned_abs()).ok()?)?
                } else {
                    usize::try_from(*index).ok()?
                };
                items.get(position)
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn get(document: &Value, path: &str) -> Option<Value> {
        lookup(document, &parse(path).unwrap()).cloned()
    }

    #[test]
    fn parses_all_segment_kinds() {
        assert_eq!(
            parse(r#"$.a_b-c["x y"]['it\'s'][0][-1]"#).unwrap(),
            [
                Segment::Key("a_b-c".into()),
                Segment::Key("x y".into()),
                Segment::Key("it's".into()),
                Segment::Index(0),
                Segment::Index(-1)
            ]
        );
        assert_eq!(parse("$").unwrap(), []);
        assert_eq!(
            parse(r#"$["a\"b\u00e9"]"#).unwrap(),
            [Segment::Key("a\"bé".into())]
        );
    }

    #[test]
    fn looks_up_values() {
        let doc = json!({"a": {"b": [1, 2, {"c d": true}]}, "n": null});
        assert_eq!(get(&doc, "$"), Some(doc.clone()));
        assert_eq!(get(&doc, "$.a.b[1]"), Some(json!(2)));
        assert_eq!(get(&doc, "$.a.b[-1][\"c d\"]"), Some(json!(true)));
        assert_eq!(get(&doc, "$.n"), Some(Value::Null));
        assert_eq!(get(&doc, "$.a.b[3]"), None);
        assert_eq!(get(&doc, "$.a.b[-4]"), None);
        assert_eq!(get(&doc, "$.a[0]"), None);
        assert_eq!(get(&doc, "$.a.b.c"), None);
        assert_eq!(get(&doc, "$.missing"), None);
    }

    #[test]
    fn syntax_errors_have_positions() {
        let cases = [
            ("a.b", 0),
            ("$.", 2),
            ("$..a", 2),
            ("$a", 1),
            ("$[x]", 2),
            ("$[0", 3),
            ("$[\"abc]", 2),
            ("$[99999999999999999999]", 2),
            ("$.é.[", 4),
            ("$['a\\x']", 4),
            ("$[\"\\q\"]", 2),
        ];
        for (path, position) in cases {
            let err = parse(path).unwrap_err();
            assert_eq!(err.position, position, "{path}: {}", err.message);
        }
    }
}
