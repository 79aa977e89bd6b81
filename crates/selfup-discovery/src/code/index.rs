//! The type-1/2 index: hash buckets of normalised fragments, never a
//! comparison of all pairs.
//!
//! **Functions.** Every eligible function is keyed by the hash of its
//! normalised tokens; the keys are sorted and each run of two or more equal
//! keys (verified token by token) is a group.
//!
//! **Blocks.** For every statement `p` of every block inside a function,
//! the *window* is the shortest run of statements from `p` with at least
//! the block minimum of tokens, keyed by the hashes of its statements. Equal
//! windows are seeds. A seed whose copies are all preceded by equal
//! statements is not left-maximal and is skipped (the seed one statement
//! earlier covers it). Otherwise the copies grow to the right one statement
//! at a time while their next statements agree; where they disagree, the
//! group so far is reported and each subset that still agrees grows on as
//! its own group. So every reported run is maximal on both sides for its
//! set of copies, and no sub-block of it is reported. Runs that repeat a
//! single statement shape (`self.a = a; self.b = b; …`) are not clones worth
//! extracting and are not reported.

use rayon::prelude::*;
use rustc_hash::FxHashSet;

use super::groups::{CloneGroup, Instance, Unit};
use super::hash;
use super::tokens::{FileUnits, Function};

/// Whether a function is big enough to count as a clone unit: at least
/// `min_tokens` tokens and at least two statements in its body, nested ones
/// included (one-line
/// accessors and delegations are trivia), or three times `min_tokens` for
/// functions with an expression body; a body repeating one statement shape
/// (`self.a = a; self.b = b; …`) is trivia too.
pub fn eligible_function(f: &Function, min_tokens: u32) -> bool {
    !f.has_error
        && !f.repetitive_body
        && f.len() >= min_tokens
        && (f.body_statements >= 2 || f.len() >= 3 * min_tokens)
}

fn function_instance(file: u32, index: u32, f: &Function) -> Instance {
    Instance {
        file,
        tokens: f.tokens,
        lines: f.lines,
        function: Some(index),
        exact_hash: f.exact_hash,
        similarity: 1.0,
        statements: 0,
    }
}

fn norm<'a>(files: &'a [FileUnits], inst: &Instance) -> &'a [u16] {
    &files[inst.file as usize].norm[inst.tokens.0 as usize..inst.tokens.1 as usize]
}

/// Keeps the instances whose normalised tokens equal the first's (a hash
/// collision is never reported as a clone).
fn verified(files: &[FileUnits], mut instances: Vec<Instance>) -> Vec<Instance> {
    let Some(first) = instances.first().cloned() else {
        return instances;
    };
    let reference = norm(files, &first);
    instances.retain(|i| norm(files, i) == reference);
    instances
}

/// Groups of identical (after normalisation) eligible functions.
pub fn function_groups(files: &[FileUnits], min_tokens: u32) -> Vec<CloneGroup> {
    let mut keys: Vec<(u64, u32, u32)> = files
        .par_iter()
        .enumerate()
        .flat_map_iter(|(fi, units)| {
            units
                .functions
                .iter()
                .enumerate()
                .filter(|(_, f)| eligible_function(f, min_tokens))
                .map(move |(i, f)| (f.norm_hash, fi as u32, i as u32))
        })
        .collect();
    keys.par_sort_unstable();
    let mut groups = Vec::new();
    for run in keys.chunk_by(|a, b| a.0 == b.0) {
        if run.len() < 2 {
            continue;
        }
        let instances: Vec<Instance> = run
            .iter()
            .map(|&(_, fi, i)| function_instance(fi, i, &files[fi as usize].functions[i as usize]))
            .collect();
        let instances = verified(files, instances);
        if instances.len() >= 2 {
            groups.push(CloneGroup::identical(Unit::Function, instances));
        }
    }
    groups
}

/// A run of statements `[p, q]` (inclusive, indices into the file's
/// statement list) in one block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Occ {
    file: u32,
    block: u32,
    p: u32,
    q: u32,
}

struct Blocks<'a> {
    files: &'a [FileUnits],
    min_tokens: u32,
}

impl Blocks<'_> {
    fn units(&self, o: &Occ) -> &FileUnits {
        &self.files[o.file as usize]
    }

    fn bounds(&self, o: &Occ) -> (u32, u32) {
        self.units(o).blocks[o.block as usize].statements
    }

    fn stmt_hash(&self, o: &Occ, i: u32) -> Option<u64> {
        let s = self.units(o).statements.get(i as usize)?;
        (!s.has_error).then_some(s.norm_hash)
    }

    /// Whether the copies cannot all grow one statement to the left.
    fn left_maximal(&self, members: &[Occ], starts: &FxHashSet<(u32, u32, u32)>) -> bool {
        let mut previous = None;
        for o in members {
            if o.p == self.bounds(o).0 {
                return true;
            }
            let Some(h) = self.stmt_hash(o, o.p - 1) else {
                return true;
            };
            // Growing left would run into another copy.
            if starts.contains(&(o.file, o.block, o.p - 1)) || ends_at(members, o, o.p - 1) {
                return true;
            }
            match previous {
                None => previous = Some(h),
                Some(prev) if prev != h => return true,
                Some(_) => {}
            }
        }
        false
    }

    fn grow(&self, seed: Vec<Occ>, out: &mut Vec<Vec<Occ>>) {
        let mut stack = vec![seed];
        while let Some(mut members) = stack.pop() {
            loop {
                let starts: FxHashSet<(u32, u32, u32)> =
                    members.iter().map(|o| (o.file, o.block, o.p)).collect();
                let keys: Vec<Option<u64>> = members
                    .iter()
                    .map(|o| {
                        let next = o.q + 1;
                        if next >= self.bounds(o).1 || starts.contains(&(o.file, o.block, next)) {
                            None
                        } else {
                            self.stmt_hash(o, next)
                        }
                    })
                    .collect();
                let first = keys[0];
                if first.is_some() && keys.iter().all(|k| *k == first) {
                    for o in &mut members {
                        o.q += 1;
                    }
                    continue;
                }
                if self.left_maximal(&members, &starts) {
                    out.push(members.clone());
                }
                let mut keyed: Vec<(u64, Occ)> = keys
                    .iter()
                    .zip(&members)
                    .filter_map(|(k, o)| k.map(|k| (k, *o)))
                    .collect();
                keyed.sort_unstable();
                for run in keyed.chunk_by(|a, b| a.0 == b.0) {
                    if run.len() >= 2 {
                        stack.push(run.iter().map(|(_, o)| Occ { q: o.q + 1, ..*o }).collect());
                    }
                }
                break;
            }
        }
    }

    fn instance(&self, o: &Occ) -> Instance {
        let units = self.units(o);
        let (first, last) = (
            &units.statements[o.p as usize],
            &units.statements[o.q as usize],
        );
        let exact: Vec<u64> = units.statements[o.p as usize..=o.q as usize]
            .iter()
            .map(|s| s.exact_hash)
            .collect();
        Instance {
            file: o.file,
            tokens: (first.tokens.0, last.tokens.1),
            lines: (first.lines.0, last.lines.1),
            function: Some(units.blocks[o.block as usize].function),
            exact_hash: hash::values(&exact),
            similarity: 1.0,
            statements: o.q - o.p + 1,
        }
    }

    /// Whether the run repeats one statement shape.
    fn repetitive(&self, o: &Occ) -> bool {
        let s = &self.units(o).statements[o.p as usize..=o.q as usize];
        s.len() >= 2 && s.windows(2).all(|w| w[0].norm_hash == w[1].norm_hash)
    }
}

fn ends_at(members: &[Occ], o: &Occ, i: u32) -> bool {
    members
        .iter()
        .any(|m| m.file == o.file && m.block == o.block && m.q == i && m.p != o.p)
}

/// Groups of identical (after normalisation) statement runs inside
/// functions, each maximal, of at least `min_tokens` tokens.
pub fn block_groups(files: &[FileUnits], min_tokens: u32) -> Vec<CloneGroup> {
    let blocks = Blocks { files, min_tokens };
    let mut windows: Vec<(u64, Occ)> = files
        .par_iter()
        .enumerate()
        .flat_map_iter(|(fi, units)| windows_of(fi as u32, units, blocks.min_tokens))
        .collect();
    windows.par_sort_unstable();
    let seeds: Vec<Vec<Occ>> = windows
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|run| run.len() >= 2)
        .map(|run| {
            // Copies in one block must not overlap: keep the first of each
            // overlapping chain.
            let mut members: Vec<Occ> = Vec::with_capacity(run.len());
            for &(_, o) in run {
                if let Some(last) = members.last()
                    && last.file == o.file
                    && last.block == o.block
                    && o.p <= last.q
                {
                    continue;
                }
                members.push(o);
            }
            members
        })
        .filter(|m| m.len() >= 2)
        .collect();
    let found: Vec<Vec<Occ>> = seeds
        .into_par_iter()
        .flat_map_iter(|seed| {
            let starts: FxHashSet<(u32, u32, u32)> =
                seed.iter().map(|o| (o.file, o.block, o.p)).collect();
            let mut out = Vec::new();
            if blocks.left_maximal(&seed, &starts) {
                blocks.grow(seed, &mut out);
            }
            out
        })
        .collect();
    let mut seen: FxHashSet<Vec<Occ>> = FxHashSet::default();
    let mut groups = Vec::new();
    for mut members in found {
        members.sort_unstable();
        if blocks.repetitive(&members[0]) || !seen.insert(members.clone()) {
            continue;
        }
        let instances = verified(files, members.iter().map(|o| blocks.instance(o)).collect());
        if instances.len() >= 2 {
            groups.push(CloneGroup::identical(Unit::Block, instances));
        }
    }
    groups
}

/// The windows of one file: `(hash of the statements' hashes, run)`.
fn windows_of(file: u32, units: &FileUnits, min_tokens: u32) -> Vec<(u64, Occ)> {
    let mut out = Vec::new();
    let stmts = &units.statements;
    for (bi, block) in units.blocks.iter().enumerate() {
        let (start, end) = (block.statements.0 as usize, block.statements.1 as usize);
        let mut q = start;
        let mut sum: u32 = 0; // tokens of stmts[p..q)
        for p in start..end {
            while q < end && sum < min_tokens {
                let s = &stmts[q];
                sum += s.tokens.1 - s.tokens.0;
                q += 1;
            }
            if sum < min_tokens {
                break;
            }
            let run = &stmts[p..q];
            let repetitive =
                run.len() >= 2 && run.windows(2).all(|w| w[0].norm_hash == w[1].norm_hash);
            if !repetitive && !run.iter().any(|s| s.has_error) {
                let mut h = hash::SEED ^ run.len() as u64;
                for s in run {
                    h = hash::push(h, s.norm_hash);
                }
                out.push((
                    h,
                    Occ {
                        file,
                        block: bi as u32,
                        p: p as u32,
                        q: (q - 1) as u32,
                    },
                ));
            }
            let s = &stmts[p];
            sum -= s.tokens.1 - s.tokens.0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::lang::Lang;
    use crate::code::parse::Worker;

    fn units(src: &str) -> FileUnits {
        Worker::default()
            .parse_bytes(src.as_bytes(), Lang::Python, false)
            .unwrap()
            .units
    }

    #[test]
    fn identical_functions_share_a_bucket_renamed_ones_too() {
        let a = units("def f(a):\n    x = a + 1\n    return x * 2\n");
        let b = units("def g(b):\n    y = b + 7\n    return y * 2\n");
        let c = units("def h(b):\n    y = b + 7\n    return y - 2\n");
        let groups = function_groups(&[a, b, c], 10);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].instances.len(), 2);
        assert_eq!(groups[0].kind, crate::code::groups::CloneKind::Renamed);
    }

    #[test]
    fn a_shared_run_of_statements_is_found_once_and_maximal() {
        let body = "    total = 0\n    for item in items:\n        total += item.price * item.count\n    \
                    tax = total * rate\n    log(total, tax)\n";
        let a = units(&format!(
            "def f(items, rate):\n    print('a')\n{body}    return 1\n"
        ));
        let b = units(&format!(
            "def g(items, rate):\n    other()\n{body}    return 2\n"
        ));
        let groups = block_groups(&[a, b], 20);
        assert_eq!(groups.len(), 1, "{groups:?}");
        let g = &groups[0];
        // Lines 3..=7 in both: the four shared statements, not the
        // differing first statement (the return differs only in a literal,
        // so it is part of the renamed run).
        assert_eq!(g.instances[0].lines, (3, 8));
        assert_eq!(g.instances[1].lines, (3, 8));
    }

    #[test]
    fn windows_skip_repetitive_runs() {
        let src = "def f(self, a, b, c, d, e, g):\n    self.a = a\n    self.b = b\n    self.c = c\n    \
                   self.d = d\n    self.e = e\n    self.g = g\n";
        let u = units(src);
        assert!(windows_of(0, &u, 20).is_empty());
    }
}
