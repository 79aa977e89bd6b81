//! Parsing a JSON request object with error messages that say what is
//! missing or wrong and what was expected.

use serde_json::{Map, Value};

use crate::PluginError;

/// A request parsed as a JSON object, remembering the expected shape for
/// error messages.
#[derive(Debug)]
pub struct Request {
    fields: Map<String, Value>,
    shape: &'static str,
}

impl Request {
    /// Parse `text` as a JSON object; `shape` describes the expected
    /// request (e.g. `{"text": string}`) and is quoted in every error.
    pub fn parse(text: &str, shape: &'static str) -> Result<Self, PluginError> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            PluginError::invalid_input(format!(
                "request is not valid JSON ({e}); expected an object {shape}"
            ))
        })?;
        match value {
            Value::Object(fields) => Ok(Self { fields, shape }),
            other => Err(PluginError::invalid_input(format!(
                "request must be a JSON object {shape}, got {}",
                kind(&other)
            ))),
        }
    }

    /// The expected shape given to [`Request::parse`].
    pub fn shape(&self) -> &'static str {
        self.shape
    }

    /// A required field of any type; `what` says what it is for.
    pub fn value(&self, name: &str, what: &str) -> Result<&Value, PluginError> {
        self.fields.get(name).ok_or_else(|| {
            PluginError::invalid_input(format!(
                "missing field `{name}`: expected {what}; the request should look like {}",
                self.shape
            ))
        })
    }

    /// A required string field.
    pub fn str(&self, name: &str, what: &str) -> Result<&str, PluginError> {
        let value = self.value(name, &format!("a string ({what})"))?;
        value
            .as_str()
            .ok_or_else(|| self.wrong_type(name, &format!("a string ({what})"), value))
    }

    /// A required boolean field.
    pub fn bool(&self, name: &str, what: &str) -> Result<bool, PluginError> {
        let value = self.value(name, &format!("a boolean ({what})"))?;
        value
            .as_bool()
            .ok_or_else(|| self.wrong_type(name, &format!("a boolean ({what})"), value))
    }

    /// An optional integer field that must be at least 1 when present.
    pub fn positive_int_or(
        &self,
        name: &str,
        what: &str,
        default: u64,
    ) -> Result<u64, PluginError> {
        let expected = format!("a positive integer ({what}, default {default})");
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(default),
            Some(value) => match value.as_u64() {
                Some(n) if n >= 1 => Ok(n),
                _ => Err(self.wrong_type(name, &expected, value)),
            },
        }
    }

    fn wrong_type(&self, name: &str, expected: &str, got: &Value) -> PluginError {
        PluginError::invalid_input(format!(
            "field `{name}` must be {expected}, got {}; the request should look like {}",
            describe(got),
            self.shape
        ))
    }
}

/// The JSON kind of a value, for messages: "a string", "an array", ...
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A short description of a value: scalars are shown, containers named.
fn describe(value: &Value) -> String {
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) => value.to_string(),
        Value::String(s) if s.chars().count() <= 20 => format!("the string {value}"),
        _ => kind(value).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    const SHAPE: &str = r#"{"text": string, "n": int}"#;

    #[test]
    fn malformed_json_is_invalid_input() {
        let err = Request::parse("{", SHAPE).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput);
        assert!(err.message.contains("not valid JSON"), "{}", err.message);
        assert!(err.message.contains(SHAPE));
    }

    #[test]
    fn non_object_is_invalid_input() {
        let err = Request::parse("[1]", SHAPE).unwrap_err();
        assert!(err.message.contains("got an array"), "{}", err.message);
    }

    #[test]
    fn missing_and_wrong_fields_are_named() {
        let req = Request::parse(r#"{"n": "three"}"#, SHAPE).unwrap();
        let err = req.str("text", "the text").unwrap_err();
        assert!(
            err.message.contains("missing field `text`"),
            "{}",
            err.message
        );
        let err = req.positive_int_or("n", "how many", 3).unwrap_err();
        assert!(err.message.contains("field `n` must be a positive integer"));
        assert!(err.message.contains("\"three\""), "{}", err.message);
    }

    #[test]
    fn optional_int_defaults_and_rejects_zero() {
        let req = Request::parse(r#"{"a": 0, "b": 2, "c": null}"#, SHAPE).unwrap();
        assert!(req.positive_int_or("a", "x", 3).is_err());
        assert_eq!(req.positive_int_or("b", "x", 3).unwrap(), 2);
        assert_eq!(req.positive_int_or("c", "x", 3).unwrap(), 3);
        assert_eq!(req.positive_int_or("d", "x", 3).unwrap(), 3);
    }
}
