//! Clone groups: what the index and the near-miss pass find, how groups
//! that are part of a bigger clone are dropped, and how a group is rated.
//!
//! **Maximality.** A group is dropped when every one of its instances lies
//! inside a different instance of one other group with at least as many
//! instances (a block inside cloned functions, a nested function, a
//! renamed pair swallowed by a near-miss group of three). What remains is
//! the maximal clone.
//!
//! **Severity** follows the duplicated volume, `tokens × (instances − 1)`
//! (what extracting one function would remove): under 100 Low, under 400
//! Medium, under 1500 High, else Critical. **Confidence** is 0.95 for exact
//! clones, 0.85 for renamed ones, and for near-miss clones 0.6 plus up to
//! 0.25 as the similarity goes from the threshold to 1; it is multiplied by
//! 0.8 when the clone is smaller than twice its unit's minimum (small
//! clones are more often coincidence or boilerplate).

use rustc_hash::FxHashMap;
use selfup_core::pattern::Severity;

/// What a clone is a copy of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unit {
    /// A whole function or method.
    Function,
    /// A run of consecutive statements inside a function.
    Block,
}

impl Unit {
    /// `"function"` or `"block"`.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Function => "function",
            Unit::Block => "block",
        }
    }
}

/// How alike the instances are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CloneKind {
    /// Identical token for token (type 1).
    Exact,
    /// Identical once identifiers and literals are abstracted (type 2).
    Renamed,
    /// Alike within the similarity threshold (type 3).
    NearMiss,
}

impl CloneKind {
    /// The pattern signal (`"renamed_clone"`).
    pub fn signal(self) -> &'static str {
        match self {
            CloneKind::Exact => "exact_clone",
            CloneKind::Renamed => "renamed_clone",
            CloneKind::NearMiss => "near_miss_clone",
        }
    }
}

/// One copy.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// Index of the file in the scan.
    pub file: u32,
    /// Token range `[start, end)` in that file.
    pub tokens: (u32, u32),
    /// First and last line (1-based).
    pub lines: (u32, u32),
    /// The function it is (a function unit) or is in (a block unit).
    pub function: Option<u32>,
    /// Hash of its exact tokens.
    pub exact_hash: u64,
    /// Similarity to the group's first instance (1 for types 1 and 2).
    pub similarity: f64,
    /// Statements in it (a block unit; 0 for a function).
    pub statements: u32,
}

impl Instance {
    /// Size in tokens.
    pub fn len(&self) -> u32 {
        self.tokens.1 - self.tokens.0
    }

    /// Whether it has no tokens.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn contains(&self, other: &Instance) -> bool {
        self.file == other.file
            && self.tokens.0 <= other.tokens.0
            && other.tokens.1 <= self.tokens.1
    }

    /// Whether two instances share tokens.
    pub fn overlaps(&self, other: &Instance) -> bool {
        self.file == other.file && self.tokens.0 < other.tokens.1 && other.tokens.0 < self.tokens.1
    }
}

/// A clone group: every instance of one fragment.
#[derive(Debug, Clone, PartialEq)]
pub struct CloneGroup {
    /// Function or block.
    pub unit: Unit,
    /// Exact, renamed or near-miss.
    pub kind: CloneKind,
    /// The copies; the first is the representative.
    pub instances: Vec<Instance>,
    /// The lowest similarity of an instance to the representative.
    pub similarity: f64,
}

impl CloneGroup {
    /// A type-1/2 group: exact if every copy's exact tokens are equal.
    pub fn identical(unit: Unit, mut instances: Vec<Instance>) -> Self {
        instances.sort_by_key(|a| (a.file, a.tokens));
        let exact = instances
            .windows(2)
            .all(|w| w[0].exact_hash == w[1].exact_hash);
        Self {
            unit,
            kind: if exact {
                CloneKind::Exact
            } else {
                CloneKind::Renamed
            },
            instances,
            similarity: 1.0,
        }
    }

    /// The representative's size in tokens.
    pub fn tokens(&self) -> u32 {
        self.instances.first().map_or(0, Instance::len)
    }

    /// Severity from the duplicated volume (see the module doc).
    pub fn severity(&self) -> Severity {
        let copies = self.instances.len().saturating_sub(1) as u64;
        match u64::from(self.tokens()) * copies {
            0..100 => Severity::Low,
            100..400 => Severity::Medium,
            400..1500 => Severity::High,
            _ => Severity::Critical,
        }
    }

    /// Confidence (see the module doc); `min_tokens` is the unit's minimum
    /// and `threshold` the near-miss similarity threshold.
    pub fn confidence(&self, min_tokens: u32, threshold: f64) -> f64 {
        let base = match self.kind {
            CloneKind::Exact => 0.95,
            CloneKind::Renamed => 0.85,
            CloneKind::NearMiss => {
                let span = (1.0 - threshold).max(1e-9);
                0.6 + 0.25 * ((self.similarity - threshold) / span).clamp(0.0, 1.0)
            }
        };
        if self.tokens() < 2 * min_tokens {
            base * 0.8
        } else {
            base
        }
    }
}

/// Drops every group whose instances all lie inside distinct instances of
/// one other group with at least as many instances (see the module doc),
/// and groups left with fewer than two instances.
pub fn keep_maximal(mut groups: Vec<CloneGroup>) -> Vec<CloneGroup> {
    groups.retain(|g| g.instances.len() >= 2);
    // Bigger groups first, so that of two groups with the same instances
    // the first (exact over renamed over near-miss, function over block)
    // survives.
    groups.sort_by(|a, b| {
        b.instances
            .len()
            .cmp(&a.instances.len())
            .then(b.tokens().cmp(&a.tokens()))
            .then(a.kind.cmp(&b.kind))
            .then(a.unit.cmp(&b.unit))
            .then_with(|| {
                let key = |g: &CloneGroup| g.instances.first().map(|i| (i.file, i.tokens));
                key(a).cmp(&key(b))
            })
    });
    // Instances of every group, per file, sorted by start.
    let mut by_file: FxHashMap<u32, Vec<(u32, u32, usize, usize)>> = FxHashMap::default();
    for (g, group) in groups.iter().enumerate() {
        for (i, inst) in group.instances.iter().enumerate() {
            by_file
                .entry(inst.file)
                .or_default()
                .push((inst.tokens.0, inst.tokens.1, g, i));
        }
    }
    for list in by_file.values_mut() {
        list.sort_unstable();
    }
    let mut dropped = vec![false; groups.len()];
    let mut hits: FxHashMap<usize, Vec<usize>> = FxHashMap::default();
    for (g, group) in groups.iter().enumerate() {
        hits.clear();
        for inst in &group.instances {
            let Some(list) = by_file.get(&inst.file) else {
                continue;
            };
            // Candidates start at or before this instance.
            let upto = list.partition_point(|e| e.0 <= inst.tokens.0);
            for &(s, e, og, oi) in &list[..upto] {
                if og == g || dropped[og] || e < inst.tokens.1 || s > inst.tokens.0 {
                    continue;
                }
                let other = &groups[og];
                if other.instances.len() < group.instances.len() {
                    continue;
                }
                // Same extent and same size: only the earlier one survives.
                if other.instances[oi].tokens == inst.tokens && og > g {
                    continue;
                }
                if other.instances[oi].contains(inst) {
                    hits.entry(og).or_default().push(oi);
                }
            }
        }
        let n = group.instances.len();
        if hits.values_mut().any(|v| {
            v.sort_unstable();
            v.dedup();
            v.len() >= n
        }) {
            dropped[g] = true;
        }
    }
    groups
        .into_iter()
        .zip(dropped)
        .filter_map(|(g, d)| (!d).then_some(g))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(file: u32, s: u32, e: u32) -> Instance {
        Instance {
            file,
            tokens: (s, e),
            lines: (s, e),
            function: None,
            exact_hash: 7,
            similarity: 1.0,
            statements: 0,
        }
    }

    #[test]
    fn a_block_inside_cloned_functions_is_dropped() {
        let f = CloneGroup::identical(Unit::Function, vec![inst(0, 0, 100), inst(1, 0, 100)]);
        let b = CloneGroup::identical(Unit::Block, vec![inst(0, 10, 60), inst(1, 10, 60)]);
        let kept = keep_maximal(vec![b, f.clone()]);
        assert_eq!(kept, vec![f]);
    }

    #[test]
    fn a_longer_clone_with_fewer_copies_is_kept_beside_a_shorter_one_with_more() {
        let three = CloneGroup::identical(
            Unit::Block,
            vec![inst(0, 10, 60), inst(1, 10, 60), inst(2, 10, 60)],
        );
        let two = CloneGroup::identical(Unit::Block, vec![inst(0, 0, 90), inst(1, 0, 90)]);
        assert_eq!(keep_maximal(vec![three, two]).len(), 2);
    }

    #[test]
    fn both_instances_must_fall_in_distinct_copies() {
        let big = CloneGroup::identical(Unit::Function, vec![inst(0, 0, 100), inst(1, 0, 100)]);
        // Two copies inside the same instance of `big`: not covered.
        let inner = CloneGroup::identical(Unit::Block, vec![inst(0, 10, 30), inst(0, 50, 70)]);
        assert_eq!(keep_maximal(vec![big, inner]).len(), 2);
    }

    #[test]
    fn severity_and_confidence_follow_the_documented_rule() {
        let g = CloneGroup::identical(Unit::Function, vec![inst(0, 0, 60), inst(1, 0, 60)]);
        assert_eq!(g.kind, CloneKind::Exact);
        assert_eq!(g.severity(), Severity::Low);
        assert!((g.confidence(15, 0.85) - 0.95).abs() < 1e-12);
        assert!((g.confidence(45, 0.85) - 0.76).abs() < 1e-12);
        let big = CloneGroup::identical(
            Unit::Function,
            vec![inst(0, 0, 300), inst(1, 0, 300), inst(2, 0, 300)],
        );
        assert_eq!(big.severity(), Severity::High);
    }
}
