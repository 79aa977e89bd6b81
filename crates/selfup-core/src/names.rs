//! Validated names: capabilities (`text.summarize`) and plugins (`text-summarize`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest accepted capability or plugin name, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} name {name:?} is not valid: {reason}")]
pub struct NameError {
    /// "capability" or "plugin".
    pub kind: &'static str,
    /// The refused input.
    pub name: String,
    /// What is wrong and what is allowed.
    pub reason: String,
}

/// The name of a capability: dot-separated segments of lowercase letters,
/// digits, `-` and `_`, each starting with a letter (`text.summarize`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct CapabilityName(String);

/// The name of a plugin: lowercase letters, digits and `-`, starting with a
/// letter (`text-summarize`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PluginName(String);

impl CapabilityName {
    /// Validates `name` as a capability name.
    pub fn new(name: &str) -> Result<Self, NameError> {
        let err = |reason: &str| NameError {
            kind: "capability",
            name: name.to_owned(),
            reason: reason.to_owned(),
        };
        check_length(name).map_err(|r| err(&r))?;
        for segment in name.split('.') {
            let mut chars = segment.chars();
            match chars.next() {
                None => {
                    return Err(err(
                        "it has an empty segment; write segments separated by single dots, e.g. \"text.summarize\"",
                    ));
                }
                Some(c) if !c.is_ascii_lowercase() => {
                    return Err(err(
                        "each dot-separated segment must start with a lowercase letter a-z",
                    ));
                }
                Some(_) => {}
            }
            if !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            {
                return Err(err(
                    "only lowercase letters a-z, digits, '-', '_' and '.' are allowed",
                ));
            }
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PluginName {
    /// Validates `name` as a plugin name.
    pub fn new(name: &str) -> Result<Self, NameError> {
        let err = |reason: &str| NameError {
            kind: "plugin",
            name: name.to_owned(),
            reason: reason.to_owned(),
        };
        check_length(name).map_err(|r| err(&r))?;
        if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(err("it must start with a lowercase letter a-z"));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(err(
                "only lowercase letters a-z, digits and '-' are allowed, e.g. \"text-summarize\"",
            ));
        }
        if name.ends_with('-') || name.contains("--") {
            return Err(err("'-' must separate words: no trailing or doubled '-'"));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_length(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("it is empty".into());
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!(
            "it is {} bytes long; the limit is {MAX_NAME_LEN}",
            name.len()
        ));
    }
    Ok(())
}

macro_rules! name_impls {
    ($ty:ident) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $ty {
            type Err = NameError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::new(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}
name_impls!(CapabilityName);
name_impls!(PluginName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_names() {
        for ok in [
            "text.summarize",
            "json.query",
            "a",
            "test.read-file",
            "x1.y_2",
        ] {
            assert!(CapabilityName::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Text.summarize",
            "text..x",
            ".text",
            "text.",
            "1x",
            "a b",
            "ü",
        ] {
            assert!(CapabilityName::new(bad).is_err(), "{bad}");
        }
        assert!(CapabilityName::new(&"a".repeat(65)).is_err());
    }

    #[test]
    fn plugin_names() {
        for ok in ["text-summarize", "a", "json-query2"] {
            assert!(PluginName::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a-", "a--b", "A", "a_b", "a.b", "../x"] {
            assert!(PluginName::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn messages_name_the_input_and_the_rule() {
        let e = PluginName::new("Bad_Name").unwrap_err();
        assert_eq!(
            e.to_string(),
            "plugin name \"Bad_Name\" is not valid: it must start with a lowercase letter a-z"
        );
    }
}
