//! What is wrong with a configuration file, and where.

use std::fmt;

/// One problem in a configuration file.
///
/// Displays as `config.yaml:42:9: self_upgrading_loop.rollout.stages[1].traffic_percentage:
/// 150 is outside 0–100 (a percentage of live traffic)` (one line).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// The name of the source, usually its file path.
    pub source_name: String,
    /// 1-based line of the key or value at fault.
    pub line: u64,
    /// 1-based column (in characters) of the key or value at fault.
    pub column: u64,
    /// The dotted path of the key, e.g. `self_upgrading_loop.cycle.interval_minutes`;
    /// empty for a problem with the file as a whole (such as invalid YAML).
    pub path: String,
    /// What is wrong.
    pub kind: ConfigErrorKind,
}

impl ConfigError {
    /// The offending key or value as written in the message, if there is one.
    pub fn offending(&self) -> Option<&str> {
        use ConfigErrorKind::*;
        match &self.kind {
            UnknownKey { key, .. } | MissingKey { key, .. } => Some(key),
            WrongType { found, .. } => Some(found),
            BadEnum { value, .. }
            | InvalidValue { value, .. }
            | OutOfRange { value, .. }
            | Rule { value, .. } => Some(value),
            Syntax { .. } | Custom { .. } => None,
        }
    }

    /// What would be allowed instead, if the message says it.
    pub fn allowed(&self) -> Option<String> {
        use ConfigErrorKind::*;
        match &self.kind {
            UnknownKey { allowed, .. } | BadEnum { allowed, .. } => Some(allowed.join(", ")),
            MissingKey { needed_by, .. } => Some(needed_by.clone()),
            WrongType { expected, .. } | InvalidValue { expected, .. } => Some(expected.clone()),
            OutOfRange { bound, .. } => Some(bound.to_string()),
            Rule { allowed, .. } => Some(allowed.clone()),
            Syntax { .. } | Custom { .. } => None,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.source_name, self.line, self.column)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for ConfigError {}

/// The kinds of problems, each with the pieces its message is made of.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigErrorKind {
    /// The text is not YAML (or not one YAML document).
    #[error("invalid YAML: {message}")]
    Syntax {
        /// The YAML parser's description.
        message: String,
    },
    /// A key this section does not have.
    #[error(
        "unknown key \"{key}\"{} (allowed keys: {})",
        suggestion.as_ref().map(|s| format!(", did you mean \"{s}\"?")).unwrap_or_default(),
        allowed.join(", ")
    )]
    UnknownKey {
        /// The key as written.
        key: String,
        /// The keys of this section.
        allowed: Vec<String>,
        /// The allowed key nearest to `key`, if it is close.
        suggestion: Option<String>,
    },
    /// A key that must be present is not.
    #[error("missing key \"{key}\" ({needed_by})")]
    MissingKey {
        /// The missing key.
        key: String,
        /// Why it is needed, or which keys belong here.
        needed_by: String,
    },
    /// A value of the wrong kind (a string where a number belongs, ...).
    #[error("expected {expected}, found {found}")]
    WrongType {
        /// What was found, e.g. `the string "sixty"`.
        found: String,
        /// What belongs here, e.g. `a whole number`.
        expected: String,
    },
    /// A value that is not one of a fixed set of words.
    #[error(
        "\"{value}\" is not one of: {}{}",
        allowed.join(", "),
        did_you_mean(suggestion)
    )]
    BadEnum {
        /// The value as written.
        value: String,
        /// The allowed words.
        allowed: Vec<String>,
        /// The allowed word nearest to `value`, if it is close.
        suggestion: Option<String>,
    },
    /// A value of the right kind whose text does not parse (an address, a version).
    #[error("\"{value}\" is not {expected}")]
    InvalidValue {
        /// The value as written.
        value: String,
        /// What it should look like.
        expected: String,
    },
    /// A number outside its range.
    #[error("{}", out_of_range(value, bound, meaning))]
    OutOfRange {
        /// The number.
        value: String,
        /// Its range.
        bound: Bound,
        /// What the number means, to say why the range is what it is.
        meaning: String,
    },
    /// A rule between values (stage order, unique names, required-when) is broken.
    #[error("{message}: {allowed}")]
    Rule {
        /// The offending value.
        value: String,
        /// What is wrong.
        message: String,
        /// What the rule is.
        allowed: String,
    },
    /// Any other message (from a custom deserializer).
    #[error("{message}")]
    Custom {
        /// The message.
        message: String,
    },
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!("; did you mean \"{s}\"?"),
        None => String::new(),
    }
}

fn out_of_range(value: &str, bound: &Bound, meaning: &str) -> String {
    match bound {
        Bound::Between(..) => format!("{value} is outside {bound} ({meaning})"),
        _ => format!("{value} is out of range: must be {bound} ({meaning})"),
    }
}

/// The range a number must lie in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// `lo <= x <= hi`.
    Between(f64, f64),
    /// `x >= min`.
    AtLeast(f64),
    /// `x > min`.
    GreaterThan(f64),
    /// `lo < x <= hi`.
    AboveAndAtMost(f64, f64),
    /// `lo < x < hi`.
    StrictlyBetween(f64, f64),
}

impl Bound {
    /// Whether `x` lies in the range (NaN never does).
    pub fn contains(&self, x: f64) -> bool {
        match *self {
            Bound::Between(lo, hi) => lo <= x && x <= hi,
            Bound::AtLeast(min) => x >= min,
            Bound::GreaterThan(min) => x > min,
            Bound::AboveAndAtMost(lo, hi) => lo < x && x <= hi,
            Bound::StrictlyBetween(lo, hi) => lo < x && x < hi,
        }
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bound::Between(lo, hi) => write!(f, "{lo}–{hi}"),
            Bound::AtLeast(min) => write!(f, "at least {min}"),
            Bound::GreaterThan(min) => write!(f, "greater than {min}"),
            Bound::AboveAndAtMost(lo, hi) => write!(f, "greater than {lo} and at most {hi}"),
            Bound::StrictlyBetween(lo, hi) => write!(f, "strictly between {lo} and {hi}"),
        }
    }
}

/// All problems found in one configuration file, in file order; never empty.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigErrors {
    errors: Vec<ConfigError>,
}

impl ConfigErrors {
    /// Wraps `errors`, sorted by position; `None` if there are none.
    pub(crate) fn new(mut errors: Vec<ConfigError>) -> Option<Self> {
        if errors.is_empty() {
            return None;
        }
        errors.sort_by_key(|e| (e.line, e.column));
        Some(Self { errors })
    }

    /// Wraps a single error.
    pub(crate) fn one(error: ConfigError) -> Self {
        Self {
            errors: vec![error],
        }
    }

    /// The problems, in file order.
    pub fn errors(&self) -> &[ConfigError] {
        &self.errors
    }

    /// How many problems there are (at least 1).
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Always false: there is at least one problem.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Iterates over the problems in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.errors.iter()
    }
}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a ConfigError;
    type IntoIter = std::slice::Iter<'a, ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}

impl std::error::Error for ConfigErrors {}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

/// The configuration could not be written as YAML.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the configuration as YAML: {0}")]
pub struct EmitError(#[from] pub(crate) serde_saphyr::SerializeError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_in_the_documented_shape() {
        let error = ConfigError {
            source_name: "config.yaml".into(),
            line: 42,
            column: 9,
            path: "self_upgrading_loop.rollout.stages[1].traffic_percentage".into(),
            kind: ConfigErrorKind::OutOfRange {
                value: "150".into(),
                bound: Bound::Between(0.0, 100.0),
                meaning: "a percentage of live traffic".into(),
            },
        };
        assert_eq!(
            error.to_string(),
            "config.yaml:42:9: self_upgrading_loop.rollout.stages[1].traffic_percentage: \
             150 is outside 0–100 (a percentage of live traffic)"
        );
        assert_eq!(error.offending(), Some("150"));
        assert_eq!(error.allowed().as_deref(), Some("0–100"));
    }

    #[test]
    fn bounds() {
        assert!(Bound::AboveAndAtMost(0.0, 0.5).contains(0.5));
        assert!(!Bound::AboveAndAtMost(0.0, 0.5).contains(0.0));
        assert!(!Bound::Between(0.0, 1.0).contains(f64::NAN));
        assert_eq!(Bound::AtLeast(1.0).to_string(), "at least 1");
    }
}
