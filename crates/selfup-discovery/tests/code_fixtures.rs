//! The code scanner on a small shop project per language (Python, Rust,
//! JavaScript, TypeScript) under `tests/data/code/<language>`: each has an
//! exact clone across files, a renamed clone (identifiers and literals
//! changed), a near-miss clone (one statement inserted), a block cloned
//! inside two different functions, and negative controls (look-alike but
//! different functions, and copied helpers below the minimum size) that
//! must not be reported. Also the seed's own test, a mixed-language tree
//! and the ranking.

mod support;

use selfup_core::pattern::{PatternKind, Severity};
use selfup_discovery::code::{NoProgress, scan};
use support::*;

/// Two copies: (file, first line, last line) each.
type Pair = [(&'static str, u32, u32); 2];

/// What one language's shop fixture must produce.
struct Shop {
    dir: &'static str,
    language: &'static str,
    exact: (&'static str, Pair, u64),
    renamed: (&'static str, Pair),
    /// One identifier and one literal difference, as (first copy, second).
    renamed_differences: ([&'static str; 2], [&'static str; 2]),
    near_miss: (&'static str, Pair),
    block: (Pair, u64, [&'static str; 2]),
    /// Functions that must not be in any group: (file, lines).
    negatives: &'static [(&'static str, (u32, u32))],
    /// Files that must not appear at all (the copied small helpers).
    helpers: [&'static str; 2],
}

const PYTHON: Shop = Shop {
    dir: "python",
    language: "python",
    exact: (
        "normalize_address",
        [("shop/invoices.py", 6, 11), ("shop/orders.py", 6, 11)],
        82,
    ),
    renamed: (
        "invoice_amount",
        [("shop/invoices.py", 14, 19), ("shop/orders.py", 14, 19)],
    ),
    renamed_differences: (["amount", "subtotal"], ["\"cost\"", "\"price\""]),
    near_miss: (
        "summarize_stock",
        [("shop/inventory.py", 4, 13), ("shop/reports.py", 4, 11)],
    ),
    block: (
        [("shop/inventory.py", 17, 25), ("shop/reports.py", 17, 25)],
        5,
        ["monthly_report", "restock_plan"],
    ),
    negatives: &[
        ("shop/orders.py", (22, 26)),   // average_price
        ("shop/invoices.py", (22, 29)), // median_price
        ("shop/orders.py", (29, 33)),   // shipping_label
        ("shop/invoices.py", (32, 35)), // invoice_number
    ],
    helpers: ["shop/util.py", "shop/helpers.py"],
};

const RUST: Shop = Shop {
    dir: "rust",
    language: "rust",
    exact: (
        "normalize_address",
        [("src/invoices.rs", 7, 13), ("src/orders.rs", 7, 13)],
        158,
    ),
    renamed: (
        "invoice_amount",
        [("src/invoices.rs", 15, 22), ("src/orders.rs", 15, 22)],
    ),
    renamed_differences: (["Invoice", "Order"], ["250.0", "100.0"]),
    near_miss: (
        "summarize_stock",
        [("src/inventory.rs", 5, 18), ("src/reports.rs", 5, 15)],
    ),
    block: (
        [("src/inventory.rs", 21, 30), ("src/reports.rs", 20, 29)],
        4,
        ["monthly_report", "restock_plan"],
    ),
    negatives: &[
        ("src/orders.rs", (24, 30)),   // average_price
        ("src/invoices.rs", (24, 35)), // median_price
        ("src/orders.rs", (32, 38)),   // shipping_label
        ("src/invoices.rs", (37, 42)), // invoice_number
    ],
    helpers: ["src/util.rs", "src/helpers.rs"],
};

const JAVASCRIPT: Shop = Shop {
    dir: "javascript",
    language: "javascript",
    exact: (
        "normalizeAddress",
        [("src/invoices.js", 4, 10), ("src/orders.js", 4, 10)],
        98,
    ),
    renamed: (
        "invoiceAmount",
        [("src/invoices.js", 12, 19), ("src/orders.js", 12, 19)],
    ),
    renamed_differences: (["item", "line"], ["0.1", "0.05"]),
    near_miss: (
        "summarizeStock",
        [("src/inventory.js", 3, 15), ("src/reports.js", 3, 12)],
    ),
    block: (
        [("src/inventory.js", 18, 28), ("src/reports.js", 17, 27)],
        5,
        ["monthlyReport", "restockPlan"],
    ),
    negatives: &[
        ("src/orders.js", (21, 27)),   // averagePrice
        ("src/invoices.js", (21, 32)), // medianPrice
        ("src/orders.js", (29, 35)),   // shippingLabel
        ("src/invoices.js", (34, 39)), // invoiceNumber
    ],
    helpers: ["src/util.js", "src/helpers.js"],
};

const TYPESCRIPT: Shop = Shop {
    dir: "typescript",
    language: "typescript",
    exact: (
        "normalizeAddress",
        [("src/invoices.ts", 5, 11), ("src/orders.ts", 5, 11)],
        114,
    ),
    // Methods of two classes.
    renamed: (
        "amount",
        [("src/invoices.ts", 14, 21), ("src/orders.ts", 16, 23)],
    ),
    renamed_differences: (["due", "subtotal"], ["250", "100"]),
    near_miss: (
        "summarizeStock",
        [("src/inventory.ts", 4, 14), ("src/reports.ts", 4, 13)],
    ),
    block: (
        [("src/inventory.ts", 17, 27), ("src/reports.ts", 18, 28)],
        5,
        ["monthlyReport", "restockPlan"],
    ),
    negatives: &[
        ("src/orders.ts", (34, 40)),   // averagePrice
        ("src/invoices.ts", (31, 42)), // medianPrice
        ("src/orders.ts", (25, 31)),   // OrderService.label
        ("src/invoices.ts", (23, 28)), // InvoiceService.number
    ],
    helpers: ["src/util.ts", "src/helpers.ts"],
};

fn check_shop(shop: &Shop) {
    let root = fixture(shop.dir);
    let report = scan_root(&root, &defaults());
    let all = summary(&report, &root);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert!(report.files_scanned >= 6, "{}", report.files_scanned);
    assert!(report.lines > 100 && report.tokens > 900, "{report:?}");
    assert!(gaps(&report).is_empty(), "no abstraction gap:\n{all}");
    assert_eq!(
        clones(&report).len(),
        4,
        "exactly the four planted clones:\n{all}"
    );

    // Exact clone of a whole function across two files.
    let (name, at, tokens) = &shop.exact;
    let exact = group_at(&report, &root, &locs(at));
    assert_eq!(exact.signal, "exact_clone", "{all}");
    assert_eq!(exact.evidence["unit"], "function");
    assert_eq!(exact.evidence["language"], shop.language);
    assert_eq!(exact.evidence["tokens"], *tokens);
    assert_eq!(exact.evidence["instances"], 2);
    assert_eq!(similarity(exact), 1.0);
    assert_eq!(exact.confidence, 0.95);
    assert_eq!(
        exact.description,
        format!("2 identical copies of a {tokens}-token function `{name}` in 2 files")
    );
    assert_eq!(exact.affected_components.len(), 2);
    assert!(exact.id.starts_with("clone:"), "{}", exact.id);
    let s = suggestion(exact);
    assert!(
        s.starts_with(&format!("extract function `{name}()` from these 2 copies")),
        "{s}"
    );
    assert!(s.contains("identical"), "{s}");
    let differences = &exact.evidence["differences"];
    assert_eq!(differences["identifiers"], serde_json::json!([]));
    assert_eq!(differences["literals"], serde_json::json!([]));

    // Renamed clone: identifiers and literals differ, the shape does not.
    let (name, at) = &shop.renamed;
    let renamed = group_at(&report, &root, &locs(at));
    assert_eq!(renamed.signal, "renamed_clone", "{all}");
    assert_eq!(renamed.evidence["unit"], "function");
    assert_eq!(similarity(renamed), 1.0);
    assert_eq!(renamed.confidence, 0.85);
    assert!(
        renamed.description.starts_with("2 renamed copies of a ")
            && renamed
                .description
                .ends_with(&format!("-token function `{name}` in 2 files")),
        "{}",
        renamed.description
    );
    let (ident, literal) = &shop.renamed_differences;
    let differences = &renamed.evidence["differences"];
    let has = |list: &serde_json::Value, pair: &[&str; 2]| {
        list.as_array()
            .is_some_and(|l| l.iter().any(|t| t == &serde_json::json!(pair)))
    };
    assert!(
        has(&differences["identifiers"], ident),
        "identifier difference {ident:?} in {differences:#}"
    );
    assert!(
        has(&differences["literals"], literal),
        "literal difference {literal:?} in {differences:#}"
    );
    let s = suggestion(renamed);
    assert!(s.starts_with(&format!("extract function `{name}(")), "{s}");
    assert!(
        s.contains("they differ in identifiers") && s.contains("and literals"),
        "{s}"
    );
    assert!(s.contains(&format!("{}→{}", literal[0], literal[1])), "{s}");
    // The literals become parameters.
    assert!(s.contains("(value, value2"), "{s}");

    // Near-miss clone: one statement inserted.
    let (name, at) = &shop.near_miss;
    let near = group_at(&report, &root, &locs(at));
    assert_eq!(near.signal, "near_miss_clone", "{all}");
    assert_eq!(near.evidence["unit"], "function");
    let sim = similarity(near);
    assert!((0.85..1.0).contains(&sim), "similarity {sim}");
    let copies = near.evidence["copies"].as_array().expect("copies");
    assert_eq!(copies.len(), 2);
    // The representative (the longer copy, with the extra statement) is
    // first and the other copy carries the group's similarity.
    assert_eq!(copies[0]["similarity"], 1.0);
    assert_eq!(copies[0]["function"], *name);
    assert_eq!(copies[1]["similarity"].as_f64(), Some(sim));
    assert!(
        copies[0]["tokens"].as_u64() > copies[1]["tokens"].as_u64(),
        "{copies:?}"
    );
    assert!(
        (0.6..0.85).contains(&near.confidence),
        "{}",
        near.confidence
    );
    assert!(
        near.description
            .starts_with("2 near-identical copies of a "),
        "{}",
        near.description
    );
    let s = suggestion(near);
    assert!(
        s.starts_with(&format!("extract function `{name}(…)`")),
        "{s}"
    );
    // "similarity ≥ x" holds, and x is the similarity to two decimals.
    let stated: f64 = s
        .split("similarity ≥ ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| panic!("no stated similarity in {s}"));
    assert!(
        stated <= sim && sim - stated < 0.011,
        "{stated} vs {sim}: {s}"
    );
    assert!(s.contains("parameter or callback"), "{s}");

    // A run of statements cloned inside two different functions.
    let (at, statements, enclosing) = &shop.block;
    let block = group_at(&report, &root, &locs(at));
    assert_eq!(block.signal, "exact_clone", "{all}");
    assert_eq!(block.evidence["unit"], "block");
    assert_eq!(similarity(block), 1.0);
    assert!(
        block
            .description
            .contains(&format!("-token {statements}-statement block in 2 files")),
        "{}",
        block.description
    );
    let functions: Vec<&str> = block.evidence["copies"]
        .as_array()
        .expect("copies")
        .iter()
        .filter_map(|c| c["function"].as_str())
        .collect();
    let mut sorted = functions.clone();
    sorted.sort();
    assert_eq!(sorted, enclosing.to_vec());
    let s = suggestion(block);
    assert!(
        s.contains(&format!(
            "the {statements}-statement block repeated in 2 places (in {}, {})",
            enclosing[0], enclosing[1]
        )),
        "{s}"
    );
    assert!(s.contains(&format!("`{}_step()`", functions[0])), "{s}");

    // Negative controls.
    for (file, lines) in shop.negatives {
        assert!(
            !touches(&report, &root, file, *lines),
            "{file}:{lines:?} is not a clone:\n{all}"
        );
    }
    for helper in shop.helpers {
        assert!(
            !report
                .patterns
                .iter()
                .any(|p| locations(&root, p).iter().any(|l| l.0 == helper)),
            "the helpers in {helper} are below the minimum size:\n{all}"
        );
    }
    assert_ranked(&report);
}

#[test]
fn python_clones_of_every_kind_are_found_and_negatives_are_not() {
    check_shop(&PYTHON);
}

#[test]
fn rust_clones_of_every_kind_are_found_and_negatives_are_not() {
    check_shop(&RUST);
}

#[test]
fn javascript_clones_of_every_kind_are_found_and_negatives_are_not() {
    check_shop(&JAVASCRIPT);
}

#[test]
fn typescript_clones_of_every_kind_are_found_and_negatives_are_not() {
    check_shop(&TYPESCRIPT);
}

/// The seed's `test_code_repetition_detection`, with the same file.
#[test]
fn the_seeds_code_repetition_test_passes_as_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let test_file = dir.path().join("test.py");
    std::fs::write(
        &test_file,
        "
def func1():
    x = 1
    y = 2
    return x + y

def func2():
    x = 1
    y = 2
    return x + y
",
    )
    .expect("write test.py");

    let report = scan(std::slice::from_ref(&test_file), &defaults(), &NoProgress).expect("scan");

    let repetition: Vec<_> = report
        .patterns
        .iter()
        .filter(|p| p.kind == PatternKind::CodeRepetition)
        .collect();
    assert!(!repetition.is_empty(), "{report:#?}");
    // And precisely: the two functions, as one exact clone.
    assert_eq!(repetition.len(), 1);
    let p = repetition[0];
    // The bodies are identical; the names differ, so the copies are
    // renamed clones whose one difference is the name.
    assert_eq!(p.signal, "renamed_clone");
    assert_eq!(
        p.evidence["differences"],
        serde_json::json!({"identifiers": [["func1", "func2"]], "literals": []})
    );
    assert_eq!(similarity(p), 1.0);
    assert_eq!(p.evidence["unit"], "function");
    let file = test_file.display().to_string();
    let at: Vec<(&str, u32, u32)> = p
        .locations
        .iter()
        .map(|l| (l.file.as_str(), l.line_start, l.line_end))
        .collect();
    assert_eq!(at, [(file.as_str(), 2, 5), (file.as_str(), 7, 10)]);
    assert_eq!(p.affected_components, std::slice::from_ref(&file));
    assert!(
        p.description.ends_with("function `func1` in 1 file"),
        "{}",
        p.description
    );
    assert_eq!(report.files_scanned, 1);
    assert_eq!(report.roots, [file]);
}

#[test]
fn a_function_copied_between_javascript_typescript_and_tsx_is_one_clone() {
    let root = fixture("mixed");
    let report = scan_root(&root, &defaults());
    let all = summary(&report, &root);
    assert_eq!(report.files_scanned, 5, "{all}");
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert_eq!(clones(&report).len(), 2, "{all}");

    let format = group_at(
        &report,
        &root,
        &locs(&[
            ("server/price.ts", 3, 8),
            ("ui/Price.tsx", 3, 8),
            ("web/price.js", 3, 8),
        ]),
    );
    assert_eq!(format.signal, "exact_clone");
    assert_eq!(format.evidence["instances"], 3);
    assert!(
        format
            .description
            .ends_with("function `formatPrice` in 3 files"),
        "{}",
        format.description
    );
    assert!(
        suggestion(format).starts_with("extract function `formatPrice()` from these 3 copies"),
        "{}",
        suggestion(format)
    );

    // The Python pair is a renamed clone of its own; the Python and Rust
    // versions of the formatter are never grouped with the JavaScript one.
    let python = group_at(
        &report,
        &root,
        &locs(&[("scripts/price.py", 4, 8), ("scripts/price.py", 11, 15)]),
    );
    assert_eq!(python.signal, "renamed_clone");
    assert_eq!(python.evidence["language"], "python");
    assert_eq!(python.affected_components.len(), 1);
    assert!(!touches(&report, &root, "native/price.rs", (1, 8)), "{all}");
    assert!(
        !touches(&report, &root, "server/price.ts", (10, 14)),
        "{all}"
    );
    assert_ranked(&report);
}

#[test]
fn findings_are_ranked_by_opportunity_score_with_the_specifications_formula() {
    let root = fixture("");
    let report = scan_root(&root, &defaults());
    assert!(report.patterns.len() >= 20, "{}", summary(&report, &root));
    assert_ranked(&report);
    for p in &report.patterns {
        let components = (p.affected_components.len() as f64 / 5.0).min(1.0);
        let expected =
            p.confidence * f64::from(p.severity.level()) / 4.0 * (0.7 + 0.3 * components);
        assert!(
            (p.opportunity_score() - expected).abs() < 1e-12,
            "{}: {} vs {expected}",
            p.id,
            p.opportunity_score()
        );
        assert!((0.0..=1.0).contains(&p.confidence), "{}", p.id);
    }
    // The three-copy formatter (duplicated volume 2 × 57 tokens: Medium)
    // outranks the two-copy renamed invoice amounts (48 tokens: Low).
    let rank = |needle: &str| {
        report
            .patterns
            .iter()
            .position(|p| p.description.contains(needle))
            .unwrap_or_else(|| panic!("no pattern mentions {needle}"))
    };
    let format = &report.patterns[rank("function `formatPrice` in 3 files")];
    assert_eq!(format.severity, Severity::Medium);
    assert!(rank("function `formatPrice` in 3 files") < rank("function `invoice_amount`"));
}

#[test]
fn the_same_findings_have_the_same_ids_wherever_the_tree_is() {
    let root = fixture("python");
    let first = scan_root(&root, &defaults());
    let copy = tempfile::tempdir().expect("tempdir");
    copy_tree(&root, copy.path());
    let second = scan_root(copy.path(), &defaults());
    let ids = |r: &selfup_discovery::code::ScanReport| {
        let mut v: Vec<String> = r.patterns.iter().map(|p| p.id.clone()).collect();
        v.sort();
        v
    };
    assert_eq!(ids(&first), ids(&second));
    assert_eq!(ids(&first).len(), 4);
    // Relative locations are the same too.
    for p in &first.patterns {
        let q = second
            .patterns
            .iter()
            .find(|q| q.id == p.id)
            .expect("same id");
        assert_eq!(locations(&root, p), locations(copy.path(), q));
    }
}

#[test]
fn a_file_given_directly_is_scanned_and_an_unsupported_one_is_skipped() {
    let root = fixture("python/shop");
    let files = [
        root.join("orders.py"),
        root.join("invoices.py"),
        fixture("../../../Cargo.toml"),
    ];
    let report = scan(&files, &defaults(), &NoProgress).expect("scan");
    assert_eq!(report.files_scanned, 2);
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
    assert!(report.skipped[0].file.ends_with("Cargo.toml"));
    assert_eq!(
        report.skipped[0].reason,
        "not a Python, Rust, JavaScript or TypeScript file"
    );
    let signals = signals(&report);
    assert_eq!(
        signals,
        [
            ("exact_clone".to_string(), "function".to_string()),
            ("renamed_clone".to_string(), "function".to_string())
        ]
    );
    // Reports show a file given directly as it was given (here the
    // fixture's absolute path on Linux; on Windows a build made on Linux
    // bakes in a drive-less `/work/...` path, so compare, not `is_absolute`).
    let shown = &report.patterns[0].locations[0].file;
    assert!(
        files[..2].iter().any(|f| f.display().to_string() == *shown),
        "{shown} is not one of the paths given"
    );
}
