//! The code scan's hot path, depth by depth: `cargo bench -p selfup-discovery
//! --bench code_scan [-- PATH...]`. Without paths it scans this workspace's
//! `crates/` (Rust, plus the scanner's fixtures in every language), which is
//! always there; `bench/clones/run.sh` compares with jscpd on Django and a
//! million-line corpus. Median of five runs per depth; every finding is
//! computed, nothing is cached between runs.

use std::path::PathBuf;
use std::time::Instant;

use selfup_core::config::ScanDepth;
use selfup_discovery::code::{NoProgress, ScanOptions, scan};

const RUNS: usize = 5;

fn main() {
    let mut roots: Vec<PathBuf> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .collect();
    if roots.is_empty() {
        roots.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."));
    }
    println!(
        "roots: {}",
        roots
            .iter()
            .map(|r| r.display().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
    for depth in [ScanDepth::Shallow, ScanDepth::Medium, ScanDepth::Deep] {
        let options = ScanOptions {
            depth,
            exclude_patterns: Vec::new(),
            ..ScanOptions::default()
        };
        let mut times = Vec::with_capacity(RUNS);
        let mut last = None;
        for _ in 0..RUNS {
            let started = Instant::now();
            let report = match scan(&roots, &options, &NoProgress) {
                Ok(report) => report,
                Err(e) => {
                    eprintln!("scan failed: {e}");
                    std::process::exit(2);
                }
            };
            times.push(started.elapsed().as_secs_f64());
            last = Some(report);
        }
        times.sort_by(f64::total_cmp);
        let median = times[RUNS / 2];
        if let Some(report) = last {
            println!(
                "{:<8} {:>6} files {:>9} lines {:>10} tokens {:>5} patterns  {:>8.1} ms  {:>6.2} M lines/s",
                format!("{depth:?}").to_lowercase(),
                report.files_scanned,
                report.lines,
                report.tokens,
                report.patterns.len(),
                median * 1000.0,
                report.lines as f64 / median / 1e6
            );
        }
    }
}
