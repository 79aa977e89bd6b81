//! Helpers for the code scanner's fixture tests: where the fixtures are,
//! scanning them, and reading what a report says in root-relative terms.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use selfup_core::config::ScanDepth;
use selfup_core::pattern::{Pattern, PatternKind};
use selfup_discovery::code::{NoProgress, ScanOptions, ScanReport, scan};

/// `tests/data/code/<rel>`.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/code")
        .join(rel)
}

/// The default options (the configuration's defaults: deep, 15 tokens,
/// 0.85, frequency 5, `*/tests/*` and `*/__pycache__/*` excluded).
pub fn defaults() -> ScanOptions {
    ScanOptions::default()
}

/// The default options at another depth.
pub fn at_depth(depth: ScanDepth) -> ScanOptions {
    ScanOptions {
        depth,
        ..ScanOptions::default()
    }
}

/// Scans one root.
pub fn scan_root(root: &Path, options: &ScanOptions) -> ScanReport {
    scan(&[root.to_path_buf()], options, &NoProgress)
        .unwrap_or_else(|e| panic!("scan of {} failed: {e}", root.display()))
}

/// A path in a report, relative to `root`, with forward slashes.
pub fn relative(root: &Path, file: &str) -> String {
    let path = Path::new(file);
    let rel = path.strip_prefix(root).unwrap_or_else(|_| {
        panic!(
            "{} is not under the root {}",
            path.display(),
            root.display()
        )
    });
    rel.to_string_lossy().replace('\\', "/")
}

/// A location as `(relative file, first line, last line)`.
pub type Loc = (String, u32, u32);

/// The pattern's locations, root-relative, sorted.
pub fn locations(root: &Path, p: &Pattern) -> Vec<Loc> {
    let mut out: Vec<Loc> = p
        .locations
        .iter()
        .map(|l| (relative(root, &l.file), l.line_start, l.line_end))
        .collect();
    out.sort();
    out
}

/// `[("a.py", 1, 5), …]` as owned locations.
pub fn locs(list: &[(&str, u32, u32)]) -> Vec<Loc> {
    let mut out: Vec<Loc> = list
        .iter()
        .map(|&(f, a, b)| (f.to_string(), a, b))
        .collect();
    out.sort();
    out
}

/// The clone groups of a report.
pub fn clones(report: &ScanReport) -> Vec<&Pattern> {
    report
        .patterns
        .iter()
        .filter(|p| p.kind == PatternKind::CodeRepetition)
        .collect()
}

/// The abstraction gaps of a report.
pub fn gaps(report: &ScanReport) -> Vec<&Pattern> {
    report
        .patterns
        .iter()
        .filter(|p| p.kind == PatternKind::AbstractionGap)
        .collect()
}

/// The clone group whose locations are exactly `expected`, or a panic
/// listing what the report has.
pub fn group_at<'r>(report: &'r ScanReport, root: &Path, expected: &[Loc]) -> &'r Pattern {
    report
        .patterns
        .iter()
        .find(|p| p.kind == PatternKind::CodeRepetition && locations(root, p) == expected)
        .unwrap_or_else(|| {
            panic!(
                "no clone group at {expected:?}; the groups are:\n{}",
                summary(report, root)
            )
        })
}

/// One line per pattern: signal, unit and locations (for failure messages).
pub fn summary(report: &ScanReport, root: &Path) -> String {
    report
        .patterns
        .iter()
        .map(|p| {
            format!(
                "  {} {} {} {:?}",
                p.kind.label(),
                p.signal,
                p.evidence["unit"].as_str().unwrap_or("-"),
                locations(root, p)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `(signal, unit)` of every clone group, sorted.
pub fn signals(report: &ScanReport) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = clones(report)
        .iter()
        .map(|p| {
            (
                p.signal.clone(),
                p.evidence["unit"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Whether any pattern has a location in `file` overlapping `lines`.
pub fn touches(report: &ScanReport, root: &Path, file: &str, lines: (u32, u32)) -> bool {
    report.patterns.iter().any(|p| {
        locations(root, p)
            .iter()
            .any(|(f, a, b)| f == file && *a <= lines.1 && lines.0 <= *b)
    })
}

/// The suggested abstraction of a clone group.
pub fn suggestion(p: &Pattern) -> &str {
    p.evidence["suggested_abstraction"]
        .as_str()
        .unwrap_or_else(|| panic!("{} has no suggested abstraction: {:#}", p.id, p.evidence))
}

/// The group's similarity (evidence).
pub fn similarity(p: &Pattern) -> f64 {
    p.evidence["similarity"]
        .as_f64()
        .unwrap_or_else(|| panic!("{} has no similarity: {:#}", p.id, p.evidence))
}

/// Asserts the patterns are ranked by opportunity score, best first.
pub fn assert_ranked(report: &ScanReport) {
    for w in report.patterns.windows(2) {
        assert!(
            w[0].opportunity_score() >= w[1].opportunity_score(),
            "{} ({}) ranked above {} ({})",
            w[0].id,
            w[0].opportunity_score(),
            w[1].id,
            w[1].opportunity_score()
        );
    }
}

/// Copies a directory tree (the fixture) into `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy's directory");
    for entry in std::fs::read_dir(from).expect("read the fixture directory") {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a fixture file");
        }
    }
}
