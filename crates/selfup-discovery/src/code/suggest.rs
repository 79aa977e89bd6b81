//! Words for a clone group: its name, how the copies differ, and the
//! abstraction that would remove them.
//!
//! For exact and renamed groups the copies have the same normalised tokens,
//! so they are compared position by position: every identifier or literal
//! whose text differs between copies is a *difference*; the same tuple of
//! texts at several positions (a consistent renaming `x→y`) counts once.
//! Literal differences and renamed identifiers become the parameters of the
//! suggested function. Only the files of reported groups are read again.

use std::path::PathBuf;

use rustc_hash::FxHashMap;

use super::groups::{CloneGroup, CloneKind, Unit};
use super::lang::{SYM_IDENT, SYM_LITERAL};
use super::tokens::FileUnits;

/// Source texts of the files that reports quote, read on demand.
pub struct Texts<'a> {
    paths: &'a [PathBuf],
    cache: FxHashMap<u32, Option<Vec<u8>>>,
}

impl<'a> Texts<'a> {
    /// Texts of the scanned files (`paths[i]` is file `i`).
    pub fn new(paths: &'a [PathBuf]) -> Self {
        Self {
            paths,
            cache: FxHashMap::default(),
        }
    }

    fn slice(&mut self, file: u32, range: (u32, u32)) -> Option<String> {
        let text = self
            .cache
            .entry(file)
            .or_insert_with(|| {
                self.paths
                    .get(file as usize)
                    .and_then(|p| std::fs::read(p).ok())
            })
            .as_ref()?;
        let bytes = text.get(range.0 as usize..range.1 as usize)?;
        Some(String::from_utf8_lossy(bytes).into_owned())
    }
}

/// How the copies of a type-1/2 group differ.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Differences {
    /// Identifier tuples (one text per copy) that differ.
    pub identifiers: Vec<Vec<String>>,
    /// Literal tuples that differ.
    pub literals: Vec<Vec<String>>,
}

/// Compares the copies of an exact or renamed group.
pub fn differences(group: &CloneGroup, files: &[FileUnits], texts: &mut Texts<'_>) -> Differences {
    let mut out = Differences::default();
    if group.kind == CloneKind::NearMiss || group.instances.len() < 2 {
        return out;
    }
    let first = &group.instances[0];
    let units = &files[first.file as usize];
    let len = first.len() as usize;
    let mut seen: FxHashMap<Vec<String>, ()> = FxHashMap::default();
    for k in 0..len {
        let sym = units.norm[first.tokens.0 as usize + k];
        if sym != SYM_IDENT && sym != SYM_LITERAL {
            continue;
        }
        let mut tuple = Vec::with_capacity(group.instances.len());
        for inst in &group.instances {
            let u = &files[inst.file as usize];
            let Some(span) = u.spans.get(inst.tokens.0 as usize + k) else {
                return out;
            };
            tuple.push(texts.slice(inst.file, *span).unwrap_or_default());
        }
        if tuple.windows(2).all(|w| w[0] == w[1]) || seen.contains_key(&tuple) {
            continue;
        }
        seen.insert(tuple.clone(), ());
        if sym == SYM_IDENT {
            out.identifiers.push(tuple);
        } else {
            out.literals.push(tuple);
        }
    }
    out
}

/// The name of the function a copy is or is in.
pub fn function_name(
    files: &[FileUnits],
    texts: &mut Texts<'_>,
    file: u32,
    function: Option<u32>,
) -> Option<String> {
    let f = files[file as usize].functions.get(function? as usize)?;
    let name = texts.slice(file, f.name?)?;
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$');
    ok.then_some(name)
}

fn short(s: &str) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 24 {
        let cut: String = one_line.chars().take(21).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

fn tuple_text(t: &[String]) -> String {
    let first = short(&t[0]);
    let mut others: Vec<String> = t[1..].iter().map(|s| short(s)).collect();
    others.dedup();
    format!("{first}→{}", others.join("/"))
}

fn parameter_name(t: &[String], n: usize) -> String {
    let candidate = &t[0];
    if !candidate.is_empty()
        && candidate.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !candidate.starts_with(|c: char| c.is_ascii_digit())
    {
        candidate.clone()
    } else if n == 0 {
        "value".into()
    } else {
        format!("value{}", n + 1)
    }
}

/// The suggested abstraction for a group.
pub fn suggestion(
    group: &CloneGroup,
    name: &str,
    statements: Option<usize>,
    enclosing: &[String],
    diffs: &Differences,
) -> String {
    let n = group.instances.len();
    // Literals become `value`, `value2`, …; renamed identifiers keep the
    // first copy's name.
    let mut params: Vec<String> = Vec::new();
    for i in 0..diffs.literals.len() {
        params.push(parameter_name(&[String::new()], i));
    }
    for t in &diffs.identifiers {
        params.push(parameter_name(t, params.len()));
    }
    let shown = if params.len() > 5 {
        format!("{}, …", params[..5].join(", "))
    } else {
        params.join(", ")
    };
    let what = match (group.unit, statements) {
        (Unit::Function, _) => format!("these {n} copies"),
        (Unit::Block, Some(s)) => {
            let place = if enclosing.is_empty() {
                String::new()
            } else {
                format!(" (in {})", enclosing.join(", "))
            };
            format!("the {s}-statement block repeated in {n} places{place}")
        }
        (Unit::Block, None) => format!("the block repeated in {n} places"),
    };
    match group.kind {
        CloneKind::Exact => {
            format!(
                "extract function `{name}({shown})` from {what} and call it instead; the copies are identical"
            )
        }
        CloneKind::Renamed => {
            let mut parts = Vec::new();
            if !diffs.identifiers.is_empty() {
                let list: Vec<String> = diffs
                    .identifiers
                    .iter()
                    .take(4)
                    .map(|t| tuple_text(t))
                    .collect();
                let more = if diffs.identifiers.len() > 4 {
                    ", …"
                } else {
                    ""
                };
                parts.push(format!("identifiers {}{more}", list.join(", ")));
            }
            if !diffs.literals.is_empty() {
                let list: Vec<String> = diffs
                    .literals
                    .iter()
                    .take(4)
                    .map(|t| tuple_text(t))
                    .collect();
                let more = if diffs.literals.len() > 4 {
                    ", …"
                } else {
                    ""
                };
                parts.push(format!("literals {}{more}", list.join(", ")));
            }
            format!(
                "extract function `{name}({shown})` from {what}; they differ in {}",
                parts.join(" and ")
            )
        }
        CloneKind::NearMiss => format!(
            "extract function `{name}(…)` from {what} (similarity ≥ {:.2}); they differ by inserted, deleted or changed statements: pass the differing step as a parameter or callback",
            // Rounded down: "≥" must hold (0.928 is "≥ 0.92", not "≥ 0.93").
            ((group.similarity * 100.0 + 1e-9).floor() / 100.0)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::groups::Instance;

    fn group(kind: CloneKind, unit: Unit, n: usize) -> CloneGroup {
        CloneGroup {
            unit,
            kind,
            instances: (0..n)
                .map(|i| Instance {
                    file: i as u32,
                    tokens: (0, 10),
                    lines: (1, 3),
                    function: None,
                    exact_hash: 0,
                    similarity: 1.0,
                    statements: 0,
                })
                .collect(),
            similarity: 0.9,
        }
    }

    #[test]
    fn renamed_copies_name_their_differences_and_parameters() {
        let diffs = Differences {
            identifiers: vec![vec!["x".into(), "y".into(), "z".into()]],
            literals: vec![vec!["1".into(), "2".into(), "2".into()]],
        };
        let s = suggestion(
            &group(CloneKind::Renamed, Unit::Function, 3),
            "parse_header",
            None,
            &[],
            &diffs,
        );
        assert_eq!(
            s,
            "extract function `parse_header(value, x)` from these 3 copies; they differ in identifiers x→y/z and literals 1→2"
        );
    }

    #[test]
    fn blocks_say_where_they_are() {
        let s = suggestion(
            &group(CloneKind::Exact, Unit::Block, 2),
            "load_step",
            Some(4),
            &["load".into(), "reload".into()],
            &Differences::default(),
        );
        assert!(
            s.contains("4-statement block repeated in 2 places (in load, reload)"),
            "{s}"
        );
        assert!(s.contains("identical"), "{s}");
    }
}
