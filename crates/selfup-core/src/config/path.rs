//! Dotted key paths such as `self_upgrading_loop.rollout.stages[1].traffic_percentage`.

use std::fmt;

/// One step of a [`KeyPath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Step {
    /// A mapping key.
    Key(String),
    /// A list index, 0-based.
    Index(usize),
}

/// The path from the top of the file to a value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct KeyPath(Vec<Step>);

impl KeyPath {
    /// The top of the file.
    pub(crate) fn root() -> Self {
        Self(Vec::new())
    }

    /// This path followed by a mapping key.
    pub(crate) fn key(&self, key: &str) -> Self {
        let mut steps = self.0.clone();
        steps.push(Step::Key(key.to_owned()));
        Self(steps)
    }

    /// This path followed by a list index.
    pub(crate) fn index(&self, index: usize) -> Self {
        let mut steps = self.0.clone();
        steps.push(Step::Index(index));
        Self(steps)
    }

    /// The steps, from the top.
    pub(crate) fn steps(&self) -> &[Step] {
        &self.0
    }

    /// The last mapping key of the path, if any.
    pub(crate) fn last_key(&self) -> Option<&str> {
        self.0.iter().rev().find_map(|step| match step {
            Step::Key(key) => Some(key.as_str()),
            Step::Index(_) => None,
        })
    }

    /// Whether `self` is `other` or lies inside it.
    pub(crate) fn starts_with(&self, other: &KeyPath) -> bool {
        self.0.starts_with(&other.0)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                Step::Key(key) if i == 0 => f.write_str(key)?,
                Step::Key(key) => write!(f, ".{key}")?,
                Step::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_dotted_with_indices() {
        let path = KeyPath::root()
            .key("self_upgrading_loop")
            .key("rollout")
            .key("stages")
            .index(1)
            .key("traffic_percentage");
        assert_eq!(
            path.to_string(),
            "self_upgrading_loop.rollout.stages[1].traffic_percentage"
        );
        assert_eq!(KeyPath::root().to_string(), "");
    }

    #[test]
    fn prefixes() {
        let list = KeyPath::root().key("a").key("stages");
        assert!(list.index(3).key("name").starts_with(&list));
        assert!(!list.starts_with(&list.index(3)));
        assert_eq!(list.index(3).last_key(), Some("stages"));
        assert_eq!(KeyPath::root().last_key(), None);
    }
}
