//! What `discovery.pattern_recognition` changes in a code scan, on the
//! fixtures under `tests/data/code`: `scan_depth` (shallow: whole
//! functions; medium: blocks too; deep: near-miss clones too),
//! `min_clone_tokens`, `similarity_threshold`, `exclude_patterns`,
//! `.gitignore` and `.ignore` files, and files that cannot be scanned
//! (skipped with a reason while the scan goes on).

mod support;

use selfup_core::config::ScanDepth;
use selfup_discovery::code::{NoProgress, ScanError, ScanOptions, scan};
use support::*;

fn pair(signal: &str, unit: &str) -> (String, String) {
    (signal.to_string(), unit.to_string())
}

#[test]
fn shallow_depth_finds_only_whole_function_exact_and_renamed_clones() {
    let report = scan_root(&fixture("python"), &at_depth(ScanDepth::Shallow));
    assert_eq!(
        signals(&report),
        [
            pair("exact_clone", "function"),
            pair("renamed_clone", "function")
        ]
    );
}

#[test]
fn medium_depth_adds_blocks_but_no_near_miss_clones() {
    let root = fixture("python");
    let report = scan_root(&root, &at_depth(ScanDepth::Medium));
    assert_eq!(
        signals(&report),
        [
            pair("exact_clone", "block"),
            pair("exact_clone", "block"),
            pair("exact_clone", "function"),
            pair("renamed_clone", "function")
        ],
        "{}",
        summary(&report, &root)
    );
    // The block planted in two functions…
    group_at(
        &report,
        &root,
        &locs(&[("shop/inventory.py", 17, 25), ("shop/reports.py", 17, 25)]),
    );
    // …and, without near-miss detection, the identical tail of the two
    // near-miss functions.
    let tail = group_at(
        &report,
        &root,
        &locs(&[("shop/inventory.py", 11, 13), ("shop/reports.py", 9, 11)]),
    );
    assert!(
        suggestion(tail).contains(
            "3-statement block repeated in 2 places (in summarize_sales, summarize_stock)"
        ),
        "{}",
        suggestion(tail)
    );
}

#[test]
fn deep_depth_adds_near_miss_clones_which_swallow_the_blocks_inside_them() {
    let root = fixture("python");
    let report = scan_root(&root, &at_depth(ScanDepth::Deep));
    assert_eq!(
        signals(&report),
        [
            pair("exact_clone", "block"),
            pair("exact_clone", "function"),
            pair("near_miss_clone", "function"),
            pair("renamed_clone", "function")
        ],
        "{}",
        summary(&report, &root)
    );
    // The tail block is inside the near-miss copies: not reported again.
    assert!(
        !report.patterns.iter().any(|p| locations(&root, p)
            == locs(&[("shop/inventory.py", 11, 13), ("shop/reports.py", 9, 11)])),
        "{}",
        summary(&report, &root)
    );
    assert_eq!(
        ScanOptions::default().depth,
        ScanDepth::Deep,
        "deep by default"
    );
}

#[test]
fn every_language_follows_the_depth() {
    for dir in ["rust", "javascript", "typescript"] {
        let root = fixture(dir);
        let shallow = scan_root(&root, &at_depth(ScanDepth::Shallow));
        assert_eq!(
            signals(&shallow),
            [
                pair("exact_clone", "function"),
                pair("renamed_clone", "function")
            ],
            "{dir}"
        );
        let medium = scan_root(&root, &at_depth(ScanDepth::Medium));
        assert!(
            signals(&medium).contains(&pair("exact_clone", "block")),
            "{dir}"
        );
        assert!(
            !signals(&medium).iter().any(|s| s.0 == "near_miss_clone"),
            "{dir}"
        );
        let deep = scan_root(&root, &at_depth(ScanDepth::Deep));
        assert!(
            signals(&deep).contains(&pair("near_miss_clone", "function")),
            "{dir}"
        );
    }
}

#[test]
fn min_clone_tokens_sets_the_smallest_function_and_three_times_it_for_blocks() {
    let root = fixture("python");
    // The renamed clone is 48 tokens, the exact one 82, the near-miss 105
    // and the block 89.
    let options = ScanOptions {
        min_clone_tokens: 50,
        ..defaults()
    };
    assert_eq!(options.min_function_tokens(), 50);
    assert_eq!(options.min_block_tokens(), 150);
    let report = scan_root(&root, &options);
    assert_eq!(
        signals(&report),
        [
            pair("exact_clone", "function"),
            pair("near_miss_clone", "function")
        ],
        "{}",
        summary(&report, &root)
    );
    // At 29 the block (89 ≥ 87) is still in; at 30 (90) it is out.
    let at = |n: u32| {
        scan_root(
            &root,
            &ScanOptions {
                min_clone_tokens: n,
                ..defaults()
            },
        )
    };
    assert!(signals(&at(29)).contains(&pair("exact_clone", "block")));
    assert!(!signals(&at(30)).contains(&pair("exact_clone", "block")));
}

#[test]
fn a_lower_minimum_reports_the_small_helpers_the_default_leaves_out() {
    let root = fixture("javascript");
    // `identity` is a two-statement, 14-token arrow function copied into
    // util.js and helpers.js: below the default 15, reported at 14.
    let report = scan_root(
        &root,
        &ScanOptions {
            min_clone_tokens: 14,
            ..defaults()
        },
    );
    let helper = group_at(
        &report,
        &root,
        &locs(&[("src/helpers.js", 7, 10), ("src/util.js", 7, 10)]),
    );
    assert_eq!(helper.evidence["tokens"], 14);
    assert_eq!(helper.signal, "exact_clone");
    // A one-statement accessor (`getId`) is trivia at any size.
    assert!(!touches(&report, &root, "src/util.js", (3, 5)));
}

#[test]
fn the_similarity_threshold_decides_which_near_misses_count() {
    let root = fixture("python");
    let near = |threshold: f64| {
        let report = scan_root(
            &root,
            &ScanOptions {
                similarity_threshold: threshold,
                ..defaults()
            },
        );
        report
            .patterns
            .iter()
            .filter(|p| p.signal == "near_miss_clone")
            .map(similarity)
            .collect::<Vec<f64>>()
    };
    let found = near(0.85);
    assert_eq!(found.len(), 1);
    let sim = found[0];
    assert!((0.9..0.95).contains(&sim), "{sim}");
    assert!(near(0.95).is_empty(), "above the pair's similarity {sim}");
    assert_eq!(near(0.9), found);
    assert_eq!(ScanOptions::default().similarity_threshold, 0.85);
}

#[test]
fn default_exclude_patterns_leave_out_tests_even_under_a_tests_directory() {
    // The fixture itself lives under `tests/`; `*/tests/*` must not exclude
    // the root given, only `app/tests` below it.
    let root = fixture("excludes");
    let report = scan_root(&root, &defaults());
    assert_eq!(report.files_scanned, 2);
    let all = clones(&report);
    assert_eq!(all.len(), 1, "{}", summary(&report, &root));
    assert_eq!(
        locations(&root, all[0]),
        locs(&[("app/handlers.py", 4, 9), ("vendor/retry/pager.py", 4, 9)])
    );
}

#[test]
fn exclude_patterns_prune_directories_and_files() {
    let root = fixture("excludes");
    let with = |patterns: &[&str]| {
        scan_root(
            &root,
            &ScanOptions {
                exclude_patterns: patterns.iter().map(|s| s.to_string()).collect(),
                ..defaults()
            },
        )
    };
    let none = with(&[]);
    assert_eq!(none.files_scanned, 3);
    assert_eq!(none.patterns.len(), 1);
    assert_eq!(none.patterns[0].evidence["instances"], 3);

    let vendor = with(&["*/tests/*", "vendor/*"]);
    assert_eq!(vendor.files_scanned, 1);
    assert!(vendor.patterns.is_empty(), "{}", summary(&vendor, &root));

    // A file pattern, and a pattern on the absolute path.
    let file = with(&["**/pager.py"]);
    assert_eq!(file.files_scanned, 2);
    assert_eq!(
        locations(&root, &file.patterns[0]),
        locs(&[
            ("app/handlers.py", 4, 9),
            ("app/tests/test_handlers.py", 4, 9)
        ])
    );
}

#[test]
fn a_malformed_exclude_pattern_is_an_error_naming_it() {
    let options = ScanOptions {
        exclude_patterns: vec!["src/[oops".into()],
        ..defaults()
    };
    let err = scan(&[fixture("python")], &options, &NoProgress).expect_err("a bad glob");
    assert!(matches!(err, ScanError::BadExclude { .. }), "{err:?}");
    assert!(err.to_string().contains("src/[oops"), "{err}");
}

#[test]
fn a_missing_root_is_an_error_naming_it() {
    let missing = fixture("no-such-dir");
    let err = scan(std::slice::from_ref(&missing), &defaults(), &NoProgress).expect_err("missing");
    assert!(matches!(err, ScanError::PathNotFound { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&missing.display().to_string()),
        "{err}"
    );
}

/// The Python shop copied into a fresh directory (no `.git`, no ignore files
/// above it), so ignore files can be written without touching the fixture.
fn python_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_tree(&fixture("python"), dir.path());
    dir
}

#[test]
fn a_clone_in_a_gitignored_file_is_not_reported() {
    let dir = python_copy();
    let root = dir.path();
    let before = scan_root(root, &defaults());
    assert_eq!(clones(&before).len(), 4);
    // `invoices.py` holds one copy of the exact and of the renamed clone.
    std::fs::write(root.join(".gitignore"), "shop/invoices.py\n").expect(".gitignore");
    let after = scan_root(root, &defaults());
    assert_eq!(after.files_scanned, before.files_scanned - 1);
    assert_eq!(
        signals(&after),
        [
            pair("exact_clone", "block"),
            pair("near_miss_clone", "function")
        ],
        "{}",
        summary(&after, root)
    );
    assert!(
        !after
            .patterns
            .iter()
            .any(|p| { locations(root, p).iter().any(|l| l.0 == "shop/invoices.py") })
    );
}

#[test]
fn gitignore_works_inside_a_git_repository_and_in_subdirectories() {
    let dir = python_copy();
    let root = dir.path();
    std::fs::create_dir(root.join(".git")).expect(".git");
    // A directory's own .gitignore, with a glob.
    std::fs::write(root.join("shop/.gitignore"), "inv*.py\n").expect(".gitignore");
    let report = scan_root(root, &defaults());
    assert_eq!(report.files_scanned, 4, "{}", summary(&report, root));
    // invoices.py and inventory.py are out: only the renamed pair's other
    // half and the exact pair's other half remain, so nothing is a clone.
    assert!(clones(&report).is_empty(), "{}", summary(&report, root));
}

#[test]
fn an_ignore_file_is_honoured_too() {
    let dir = python_copy();
    let root = dir.path();
    std::fs::write(root.join(".ignore"), "reports.py\n").expect(".ignore");
    let report = scan_root(root, &defaults());
    assert_eq!(report.files_scanned, 5);
    assert_eq!(
        signals(&report),
        [
            pair("exact_clone", "function"),
            pair("renamed_clone", "function")
        ],
        "{}",
        summary(&report, root)
    );
}

#[test]
fn a_file_that_does_not_parse_is_skipped_with_a_reason_and_the_scan_goes_on() {
    let root = fixture("broken");
    let report = scan_root(&root, &defaults());
    assert_eq!(report.files_scanned, 2);
    let skipped: Vec<(String, &str)> = report
        .skipped
        .iter()
        .map(|s| (relative(&root, &s.file), s.reason.as_str()))
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert_eq!(skipped[0].0, "half_merged.py");
    assert_eq!(skipped[1].0, "unfinished.ts");
    for (file, reason) in &skipped {
        assert!(reason.starts_with("syntax errors: "), "{file}: {reason}");
        assert!(reason.contains("first at line "), "{file}: {reason}");
    }
    // The two good copies are still found.
    let group = group_at(
        &report,
        &root,
        &locs(&[("retry_a.py", 5, 13), ("retry_b.py", 5, 13)]),
    );
    assert_eq!(group.signal, "exact_clone");
}

#[test]
fn the_unparsable_share_of_a_skipped_file_is_at_most_the_whole_file() {
    let root = fixture("broken");
    let report = scan_root(&root, &defaults());
    for s in &report.skipped {
        let percent: f64 = s
            .reason
            .split(", ")
            .nth(1)
            .and_then(|rest| rest.split('%').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no share in {:?}", s.reason));
        assert!(percent <= 100.0, "{}: {}", s.file, s.reason);
    }
}

#[test]
fn binary_and_non_utf8_files_are_skipped_with_a_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    copy_tree(&fixture("broken"), root);
    std::fs::write(root.join("blob.py"), b"x = 1\0\0\0").expect("blob.py");
    std::fs::write(root.join("latin1.js"), b"const s = '\xe9t\xe9';\n").expect("latin1.js");
    std::fs::write(root.join("notes.txt"), "not source").expect("notes.txt");
    let report = scan_root(root, &defaults());
    let reasons: Vec<(String, &str)> = report
        .skipped
        .iter()
        .map(|s| (relative(root, &s.file), s.reason.as_str()))
        .collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert_eq!(reasons[0].0, "blob.py");
    assert!(reasons[0].1.starts_with("binary file"), "{reasons:?}");
    assert_eq!(reasons[2].0, "latin1.js");
    assert!(reasons[2].1.starts_with("not valid UTF-8"), "{reasons:?}");
    // Files of other languages are not listed at all.
    assert!(!reasons.iter().any(|r| r.0 == "notes.txt"));
    assert_eq!(report.files_scanned, 2);
    assert_eq!(clones(&report).len(), 1);
}

#[test]
fn progress_is_told_the_file_count_every_parsed_file_and_the_end() {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};

    use selfup_discovery::code::Progress;

    #[derive(Default)]
    struct Recorder {
        started: Mutex<Vec<u64>>,
        advanced: AtomicU64,
        finished: AtomicU64,
    }
    impl Progress for Recorder {
        fn start(&self, files: u64) {
            self.started.lock().expect("lock").push(files);
        }
        fn advance(&self, n: u64) {
            self.advanced.fetch_add(n, Ordering::SeqCst);
        }
        fn finish(&self) {
            self.finished.fetch_add(1, Ordering::SeqCst);
        }
    }

    let recorder = Recorder::default();
    // Seven files parse (two in broken/, five in mixed/), two do not: all
    // nine are parsed.
    let report = scan(
        &[fixture("broken"), fixture("mixed")],
        &defaults(),
        &recorder,
    )
    .expect("scan");
    assert_eq!(report.files_scanned, 7);
    assert_eq!(*recorder.started.lock().expect("lock"), [9]);
    assert_eq!(recorder.advanced.load(Ordering::SeqCst), 9);
    assert_eq!(recorder.finished.load(Ordering::SeqCst), 1);
}
