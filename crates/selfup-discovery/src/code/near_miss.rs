//! Near-miss (type-3) clones: fragments alike within the similarity
//! threshold although a statement was inserted, deleted or changed.
//!
//! The method is SourcererCC's (Sajnani et al., ICSE 2016), on normalised
//! tokens so that renaming does not hide a near-miss:
//!
//! 1. Fragments (eligible functions, and blocks inside functions that are
//!    not a function's body) with identical normalised tokens are one
//!    *class*; only classes are compared.
//! 2. Each class becomes a set of *features*: its normalised token 3-grams,
//!    each numbered by occurrence (so the set overlap is the bag overlap).
//! 3. Features are sorted by global rarity. By the prefix-filtering lemma, two
//!    sets with overlap ≥ ⌈t·max(|A|,|B|)⌉ share a feature among the first
//!    |A| − ⌈t·|A|⌉ + 1 of each; only those prefixes are indexed, and only
//!    classes sharing an indexed feature (and of compatible sizes) become
//!    candidates. The filter threshold `t` is the similarity threshold less
//!    0.1, because a changed statement costs a few more 3-grams than tokens.
//! 4. Candidates whose full feature overlap reaches `t` are verified on the
//!    token sequences: similarity = LCS / max(length), by Myers' O(ND) diff
//!    bounded by the edit distance the threshold allows.
//! 5. Classes are clustered around leaders (largest first): each leader
//!    takes the unassigned classes verified similar to it. A group's
//!    similarity is its lowest similarity to the leader.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::groups::{CloneGroup, CloneKind, Instance, Unit};
use super::hash;
use super::index::eligible_function;
use super::tokens::FileUnits;

/// Marks a candidate ruled out by the positional filter.
const DEAD: u32 = u32::MAX;

/// One fragment class.
struct Class {
    unit: Unit,
    instances: Vec<Instance>,
    /// Features, sorted by (rarity, value).
    features: (usize, usize),
}

impl Class {
    fn tokens(&self) -> u32 {
        self.instances[0].len()
    }
}

/// Finds near-miss groups of at least `min_function` (functions) and
/// `min_block` (blocks) tokens, with similarity ≥ `threshold`.
pub fn near_miss_groups(
    files: &[FileUnits],
    min_function: u32,
    min_block: u32,
    threshold: f64,
) -> Vec<CloneGroup> {
    if threshold >= 1.0 {
        return Vec::new();
    }
    let classes = classes(files, min_function, min_block);
    if classes.len() < 2 {
        return Vec::new();
    }
    let filter = (threshold - 0.1).max(0.5);
    let per_class: Vec<Vec<u32>> = classes
        .par_iter()
        .map(|c| features(norm(files, &c.instances[0])))
        .collect();
    let ranked = rank_features(per_class);
    // Classes in order of size, so that the classes a query can match
    // (at least its own size, at most its size / t) are one index range.
    let mut sized: Vec<(Class, Vec<u32>)> = classes.into_iter().zip(ranked.sets).collect();
    sized.sort_by_key(|(c, fs)| (fs.len(), c.instances[0].file, c.instances[0].tokens));
    let mut flat: Vec<u32> = Vec::with_capacity(sized.iter().map(|(_, fs)| fs.len()).sum());
    let mut classes = Vec::with_capacity(sized.len());
    let mut sizes = Vec::with_capacity(sized.len());
    for (mut c, fs) in sized {
        let start = flat.len();
        flat.extend_from_slice(&fs);
        c.features = (start, flat.len());
        sizes.push(fs.len());
        classes.push(c);
    }
    let feats = |c: &Class| &flat[c.features.0..c.features.1];
    // The overlap a pair needs is set by its larger member, which is the
    // later class in size order.
    let needs: Vec<u32> = sizes
        .iter()
        .map(|&n| (filter * n as f64).ceil() as u32)
        .collect();
    let index = PrefixIndex::new(&classes, &flat, ranked.distinct, filter, &sizes, &needs);
    let pairs: Vec<(u32, u32, f64)> = (0..classes.len())
        .into_par_iter()
        .map_init(
            || Candidates::new(classes.len()),
            |cands, a| {
                let ca = &classes[a];
                let fa = feats(ca);
                // The largest class that can still reach the threshold.
                let largest = (fa.len() as f64 / filter).floor() as usize;
                let hi = sizes.partition_point(|&n| n <= largest) as u32;
                index.candidates(a as u32, fa, hi, cands);
                let mut found = Vec::new();
                for &b in &cands.touched {
                    let count = cands.count[b as usize];
                    if count == DEAD {
                        continue;
                    }
                    let cb = &classes[b as usize];
                    if ca.instances[0].overlaps(&cb.instances[0]) {
                        continue;
                    }
                    let (ta, tb) = (ca.tokens() as usize, cb.tokens() as usize);
                    if (ta.min(tb) as f64) < threshold * ta.max(tb) as f64 {
                        continue;
                    }
                    // Features up to the last prefix match can only match
                    // each other, and those matches are counted: the rest
                    // of the overlap is in the suffixes (PPJoin).
                    let (i, j) = cands.last[b as usize];
                    let fb = feats(cb);
                    let rest = (needs[b as usize] - count) as usize;
                    if !overlap_reaches(&fa[i as usize + 1..], &fb[j as usize + 1..], rest) {
                        continue;
                    }
                    let sa = norm(files, &ca.instances[0]);
                    let sb = norm(files, &cb.instances[0]);
                    if let Some(sim) = similarity(sa, sb, threshold) {
                        found.push((a as u32, b, sim));
                    }
                }
                cands.reset();
                found
            },
        )
        .flatten()
        .collect();
    tracing::debug!(
        classes = classes.len(),
        postings = index.postings.len(),
        pairs = pairs.len(),
        "near-miss verification"
    );
    cluster(classes, pairs)
}

fn norm<'a>(files: &'a [FileUnits], inst: &Instance) -> &'a [u16] {
    &files[inst.file as usize].norm[inst.tokens.0 as usize..inst.tokens.1 as usize]
}

fn classes(files: &[FileUnits], min_function: u32, min_block: u32) -> Vec<Class> {
    let mut keyed: Vec<(u64, Unit, Instance)> = files
        .par_iter()
        .enumerate()
        .flat_map_iter(|(fi, units)| {
            let fi = fi as u32;
            let functions = units
                .functions
                .iter()
                .enumerate()
                .filter(move |(_, f)| eligible_function(f, min_function))
                .map(move |(i, f)| {
                    (
                        f.norm_hash,
                        Unit::Function,
                        Instance {
                            file: fi,
                            tokens: f.tokens,
                            lines: f.lines,
                            function: Some(i as u32),
                            exact_hash: f.exact_hash,
                            similarity: 1.0,
                            statements: 0,
                        },
                    )
                });
            let blocks = units
                .blocks
                .iter()
                .filter(move |b| {
                    !b.is_body
                        && b.tokens.1 - b.tokens.0 >= min_block
                        && !units.statements[b.statements.0 as usize..b.statements.1 as usize]
                            .iter()
                            .any(|s| s.has_error)
                })
                .map(move |b| {
                    let slice = &units.norm[b.tokens.0 as usize..b.tokens.1 as usize];
                    (
                        hash::symbols(slice) ^ 0x5bd1_e995,
                        Unit::Block,
                        Instance {
                            file: fi,
                            tokens: b.tokens,
                            lines: b.lines,
                            function: Some(b.function),
                            exact_hash: 0,
                            similarity: 1.0,
                            statements: b.statements.1 - b.statements.0,
                        },
                    )
                });
            functions.chain(blocks)
        })
        .collect();
    keyed
        .par_sort_unstable_by(|a, b| (a.0, a.2.file, a.2.tokens).cmp(&(b.0, b.2.file, b.2.tokens)));
    let mut out = Vec::new();
    for run in keyed.chunk_by(|a, b| a.0 == b.0) {
        out.push(Class {
            unit: run[0].1,
            instances: run.iter().map(|(_, _, i)| i.clone()).collect(),
            features: (0, 0),
        });
    }
    out
}

/// The feature set of a token sequence: 3-gram hashes numbered by
/// occurrence.
fn features(tokens: &[u16]) -> Vec<u32> {
    if tokens.len() < 3 {
        return Vec::new();
    }
    let mut grams: Vec<u32> = tokens
        .windows(3)
        .map(|w| {
            let g = (u64::from(w[0]) << 32) | (u64::from(w[1]) << 16) | u64::from(w[2]);
            hash::push(hash::SEED, g) as u32
        })
        .collect();
    grams.sort_unstable();
    let mut out = Vec::with_capacity(grams.len());
    for run in grams.chunk_by(|a, b| a == b) {
        for (k, &g) in run.iter().enumerate() {
            out.push(if k == 0 {
                g
            } else {
                hash::push(u64::from(g), k as u64) as u32
            });
        }
    }
    out
}

/// Every class's features as ranks in one global order (rarest first, so
/// prefixes hold the most selective features), each set sorted ascending.
struct Ranked {
    sets: Vec<Vec<u32>>,
    distinct: usize,
}

fn rank_features(per_class: Vec<Vec<u32>>) -> Ranked {
    let mut all: Vec<u32> = per_class.iter().flatten().copied().collect();
    all.par_sort_unstable();
    let mut by_rarity: Vec<(u32, u32)> = all
        .chunk_by(|a, b| a == b)
        .map(|run| (run.len() as u32, run[0]))
        .collect();
    drop(all);
    by_rarity.par_sort_unstable();
    let rank: FxHashMap<u32, u32> = by_rarity
        .iter()
        .enumerate()
        .map(|(r, &(_, f))| (f, r as u32))
        .collect();
    let sets = per_class
        .into_par_iter()
        .map(|fs| {
            let mut rs: Vec<u32> = fs.iter().filter_map(|f| rank.get(f).copied()).collect();
            rs.sort_unstable();
            rs.dedup();
            rs
        })
        .collect();
    Ranked {
        sets,
        distinct: by_rarity.len(),
    }
}

/// The prefix index: for every feature rank, the (class, position) pairs of
/// the classes holding it in their prefix, in class order.
struct PrefixIndex<'a> {
    offsets: Vec<u32>,
    postings: Vec<(u32, u32)>,
    /// Feature-set size of every class.
    sizes: &'a [usize],
    /// Overlap every class needs with a smaller one.
    needs: &'a [u32],
    filter: f64,
}

/// How many features of a set of `n` form its prefix at filter `t`.
fn prefix_len(n: usize, t: f64) -> usize {
    (n - ((t * n as f64).ceil() as usize).min(n) + 1).min(n)
}

impl<'a> PrefixIndex<'a> {
    fn new(
        classes: &[Class],
        flat: &[u32],
        distinct: usize,
        filter: f64,
        sizes: &'a [usize],
        needs: &'a [u32],
    ) -> Self {
        let prefix = |c: &Class| {
            let fs = &flat[c.features.0..c.features.1];
            &fs[..prefix_len(fs.len(), filter)]
        };
        let mut offsets = vec![0u32; distinct + 1];
        for c in classes {
            for &r in prefix(c) {
                offsets[r as usize + 1] += 1;
            }
        }
        for i in 1..offsets.len() {
            offsets[i] += offsets[i - 1];
        }
        let mut fill = offsets.clone();
        let mut postings = vec![(0u32, 0u32); offsets[distinct] as usize];
        for (ci, c) in classes.iter().enumerate() {
            for (pos, &r) in prefix(c).iter().enumerate() {
                let at = &mut fill[r as usize];
                postings[*at as usize] = (ci as u32, pos as u32);
                *at += 1;
            }
        }
        Self {
            offsets,
            postings,
            sizes,
            needs,
            filter,
        }
    }

    /// Collects in `out` the classes after `a` and before `hi` sharing a
    /// prefix feature with `a` that the positional filter (PPJoin, Xiao et
    /// al. 2008) does not rule out.
    fn candidates(&self, a: u32, fa: &[u32], hi: u32, out: &mut Candidates) {
        let (sizes, needs) = (self.sizes, self.needs);
        let na = fa.len();
        for (i, &r) in fa[..prefix_len(na, self.filter)].iter().enumerate() {
            let list = &self.postings
                [self.offsets[r as usize] as usize..self.offsets[r as usize + 1] as usize];
            let from = list.partition_point(|&(b, _)| b <= a);
            for &(b, j) in &list[from..] {
                if b >= hi {
                    break;
                }
                let count = &mut out.count[b as usize];
                if *count == DEAD {
                    continue;
                }
                let nb = sizes[b as usize];
                let bound = *count as usize + 1 + (na - i - 1).min(nb - j as usize - 1);
                if *count == 0 {
                    out.touched.push(b);
                }
                if bound < needs[b as usize] as usize {
                    *count = DEAD;
                } else {
                    *count += 1;
                    out.last[b as usize] = (i as u32, j);
                }
            }
        }
    }
}

/// Per-thread candidate counters, reset after each query.
struct Candidates {
    /// Prefix features shared with the query so far, or [`DEAD`].
    count: Vec<u32>,
    /// Positions (query, candidate) of the last shared prefix feature.
    last: Vec<(u32, u32)>,
    touched: Vec<u32>,
}

impl Candidates {
    fn new(n: usize) -> Self {
        Self {
            count: vec![0; n],
            last: vec![(0, 0); n],
            touched: Vec::new(),
        }
    }

    fn reset(&mut self) {
        for &b in &self.touched {
            self.count[b as usize] = 0;
        }
        self.touched.clear();
    }
}

/// Whether two ascending sets share at least `need` elements (stops as soon
/// as the answer is known).
fn overlap_reaches(a: &[u32], b: &[u32], need: usize) -> bool {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        if n + (a.len() - i).min(b.len() - j) < need {
            return false;
        }
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                if n >= need {
                    return true;
                }
                i += 1;
                j += 1;
            }
        }
    }
    n >= need
}

/// LCS(a, b) / max(|a|, |b|) if it is at least `threshold`, by Myers'
/// greedy O((N+M)·D) algorithm, giving up past the edit distance the
/// threshold allows.
pub fn similarity(a: &[u16], b: &[u16], threshold: f64) -> Option<f64> {
    let (n, m) = (a.len(), b.len());
    let longest = n.max(m);
    if longest == 0 {
        return Some(1.0);
    }
    let min_lcs = (threshold * longest as f64).ceil() as usize;
    if n.min(m) < min_lcs {
        return None;
    }
    let max_d = n + m - 2 * min_lcs;
    let offset = max_d + 1;
    let mut v = vec![0usize; 2 * max_d + 3];
    for d in 0..=max_d {
        let mut k = -(d as isize);
        while k <= d as isize {
            let idx = (k + offset as isize) as usize;
            let mut x = if k == -(d as isize) || (k != d as isize && v[idx - 1] < v[idx + 1]) {
                v[idx + 1]
            } else {
                v[idx - 1] + 1
            };
            let mut y = (x as isize - k) as usize;
            while x < n && y < m && a[x] == b[y] {
                x += 1;
                y += 1;
            }
            v[idx] = x;
            if x >= n && y >= m {
                let lcs = (n + m - d) / 2;
                return Some(lcs as f64 / longest as f64);
            }
            k += 2;
        }
    }
    None
}

fn cluster(classes: Vec<Class>, pairs: Vec<(u32, u32, f64)>) -> Vec<CloneGroup> {
    let n = classes.len();
    let mut adjacency: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
    for &(a, b, s) in &pairs {
        adjacency[a as usize].push((b, s));
        adjacency[b as usize].push((a, s));
    }
    let mut order: Vec<usize> = (0..n).filter(|&i| !adjacency[i].is_empty()).collect();
    order.sort_by(|&a, &b| {
        let key = |c: &Class| {
            (
                std::cmp::Reverse(c.tokens()),
                c.instances[0].file,
                c.instances[0].tokens,
            )
        };
        key(&classes[a]).cmp(&key(&classes[b]))
    });
    let mut assigned = vec![false; n];
    let mut groups = Vec::new();
    for leader in order {
        if assigned[leader] {
            continue;
        }
        let mut members: Vec<(u32, f64)> = adjacency[leader]
            .iter()
            .filter(|(c, _)| !assigned[*c as usize])
            .copied()
            .collect();
        if members.is_empty() {
            continue;
        }
        members.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        assigned[leader] = true;
        let mut instances: Vec<Instance> = classes[leader].instances.clone();
        let mut lowest: f64 = 1.0;
        for (c, sim) in members {
            assigned[c as usize] = true;
            for inst in &classes[c as usize].instances {
                if instances.iter().any(|i| i.overlaps(inst)) {
                    continue;
                }
                lowest = lowest.min(sim);
                instances.push(Instance {
                    similarity: sim,
                    ..inst.clone()
                });
            }
        }
        if instances.len() >= 2 && lowest < 1.0 {
            groups.push(CloneGroup {
                unit: classes[leader].unit,
                kind: CloneKind::NearMiss,
                instances,
                similarity: lowest,
            });
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_is_lcs_over_the_longer() {
        let a = [1u16, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        assert_eq!(similarity(&a, &a, 0.85), Some(1.0));
        // One token inserted: LCS 10 of 11.
        let b = [1u16, 2, 3, 4, 5, 99, 6, 7, 8, 9, 10];
        let s = similarity(&a, &b, 0.85).unwrap();
        assert!((s - 10.0 / 11.0).abs() < 1e-12, "{s}");
        // One changed: LCS 9 of 10.
        let c = [1u16, 2, 3, 4, 5, 99, 7, 8, 9, 10];
        assert!((similarity(&a, &c, 0.85).unwrap() - 0.9).abs() < 1e-12);
        // Too different.
        let d = [1u16, 99, 3, 98, 5, 97, 7, 96, 9, 95];
        assert_eq!(similarity(&a, &d, 0.85), None);
        assert_eq!(similarity(&a, &d[..2], 0.5), None);
    }

    #[test]
    fn features_count_repeated_grams_separately() {
        let f = features(&[1, 2, 3, 1, 2, 3, 1, 2, 3]);
        assert_eq!(f.len(), 7);
        let mut d = f.clone();
        d.sort_unstable();
        d.dedup();
        assert_eq!(d.len(), 7);
    }

    #[test]
    fn the_overlap_of_sorted_sets() {
        assert!(overlap_reaches(&[1, 3, 5, 7], &[3, 4, 5, 8], 2));
        assert!(!overlap_reaches(&[1, 3, 5, 7], &[3, 4, 5, 8], 3));
        assert!(overlap_reaches(&[], &[3], 0));
        assert!(!overlap_reaches(&[], &[3], 1));
    }

    #[test]
    fn ranks_put_rare_features_first() {
        let ranked = rank_features(vec![vec![10, 20, 30], vec![20, 30], vec![30]]);
        assert_eq!(ranked.distinct, 3);
        // 10 occurs once, 20 twice, 30 three times.
        assert_eq!(ranked.sets, vec![vec![0, 1, 2], vec![1, 2], vec![2]]);
    }
}
