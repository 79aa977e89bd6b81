//! Dotted names and what local names stand for, shared by the Python and
//! JavaScript scanners.
//!
//! Binding is not flow-sensitive: a local name stands for everything it was
//! ever bound to in the file, so rebinding it later cannot hide an earlier
//! import.

use std::collections::HashMap;

/// Most meanings kept for one local name, and most candidates a resolved
/// expression yields.
pub(crate) const MAX_CANDIDATES: usize = 16;

/// Local name → the dotted names it was bound to.
#[derive(Debug, Default)]
pub(crate) struct Aliases {
    map: HashMap<String, Vec<String>>,
}

impl Aliases {
    /// Records that `local` may stand for `target`.
    pub(crate) fn bind(&mut self, local: &str, target: &str) {
        let targets = self.map.entry(local.to_owned()).or_default();
        if targets.len() < MAX_CANDIDATES && !targets.iter().any(|t| t == target) {
            targets.push(target.to_owned());
        }
    }

    /// What `local` may stand for: its bindings, or itself when unbound.
    pub(crate) fn lookup(&self, local: &str) -> Vec<String> {
        match self.map.get(local) {
            Some(targets) if !targets.is_empty() => targets.clone(),
            _ => vec![local.to_owned()],
        }
    }
}

/// Appends `.member` to every candidate.
pub(crate) fn member(candidates: Vec<String>, member: &str) -> Vec<String> {
    candidates
        .into_iter()
        .take(MAX_CANDIDATES)
        .map(|c| format!("{c}.{member}"))
        .collect()
}

/// The entry of `forbidden` that names `qualified` or a module holding it:
/// `os.system` matches `os.system` and `os`, never `os.path`.
pub(crate) fn forbidden_match<'f>(qualified: &str, forbidden: &'f [String]) -> Option<&'f str> {
    forbidden.iter().map(String::as_str).find(|entry| {
        !entry.is_empty()
            && (qualified == *entry
                || qualified
                    .strip_prefix(*entry)
                    .is_some_and(|rest| rest.starts_with('.')))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_names_match_whole_components() {
        let forbidden = vec!["os.system".to_owned(), "subprocess".to_owned()];
        assert_eq!(forbidden_match("os.system", &forbidden), Some("os.system"));
        assert_eq!(
            forbidden_match("subprocess.run", &forbidden),
            Some("subprocess")
        );
        assert_eq!(forbidden_match("os", &forbidden), None);
        assert_eq!(forbidden_match("os.systemd", &forbidden), None);
        assert_eq!(forbidden_match("subprocessing", &forbidden), None);
    }

    #[test]
    fn a_rebound_name_keeps_its_first_meaning() {
        let mut aliases = Aliases::default();
        assert_eq!(aliases.lookup("o"), ["o"]);
        aliases.bind("o", "os");
        aliases.bind("o", "five");
        assert_eq!(aliases.lookup("o"), ["os", "five"]);
        assert_eq!(
            member(aliases.lookup("o"), "system"),
            ["os.system", "five.system"]
        );
    }
}
