//! `selfup patterns scan`: clones and abstraction gaps in source trees.
//!
//! Exit 0 when the scan ran (findings are not an error); 2 when a path does
//! not exist or an exclude pattern is malformed. A scan of the configured
//! `code_paths` (no PATH given) is the agent's own code: it is recorded in
//! the pattern history, where `patterns list` and `patterns trends` read it.
//! A scan of paths given on the command line is not recorded.

use std::io::IsTerminal;
use std::path::PathBuf;

use selfup_core::clock::Clock;
use selfup_core::config::ScanDepth;
use selfup_core::pattern::Pattern;
use selfup_discovery::CODE_SOURCE;
use selfup_discovery::code::{self, Progress, ScanError, ScanOptions, ScanReport};
use selfup_store::system_clock::SystemClock;

use crate::cli::PatternsScanArgs;
use crate::context::Context;
use crate::exit::Exit;

/// Trees smaller than this get no progress bar.
const PROGRESS_MIN_FILES: u64 = 200;

/// A progress bar on stderr (only when stderr is a terminal).
struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn start(&self, files: u64) {
        if files >= PROGRESS_MIN_FILES {
            self.0.set_length(files);
            self.0
                .set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
    }

    fn advance(&self, n: u64) {
        self.0.inc(n);
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

fn progress() -> Option<Bar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::hidden();
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("parsing {bar:30} {pos}/{len} files {elapsed}")
    {
        bar.set_style(style);
    }
    Some(Bar(bar))
}

/// The roots: the arguments, or the configured code paths that exist.
fn roots(ctx: &Context, args: &PatternsScanArgs) -> anyhow::Result<Vec<PathBuf>> {
    if !args.paths.is_empty() {
        for path in &args.paths {
            if !path.exists() {
                return Err(Exit::new(
                    2,
                    format!(
                        "{} does not exist; pass the files or directories to scan (by default \
                         discovery.pattern_recognition.code_paths)",
                        path.display()
                    ),
                )
                .into());
            }
        }
        return Ok(args.paths.clone());
    }
    let configured = &ctx
        .config
        .self_upgrading_loop
        .discovery
        .pattern_recognition
        .code_paths;
    let (present, missing): (Vec<PathBuf>, Vec<PathBuf>) = configured
        .iter()
        .map(PathBuf::from)
        .partition(|p| p.exists());
    if present.is_empty() {
        return Err(Exit::new(
            2,
            format!(
                "none of discovery.pattern_recognition.code_paths exists here ({}); pass the \
                 directories to scan, or set code_paths in the configuration",
                missing
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .into());
    }
    for p in &missing {
        eprintln!(
            "note: {} (discovery.pattern_recognition.code_paths) does not exist; skipped",
            p.display()
        );
    }
    Ok(present)
}

fn options(ctx: &Context, args: &PatternsScanArgs) -> ScanOptions {
    let mut options =
        ScanOptions::from_config(&ctx.config.self_upgrading_loop.discovery.pattern_recognition);
    options.depth = match args.depth.as_deref() {
        Some("shallow") => ScanDepth::Shallow,
        Some("medium") => ScanDepth::Medium,
        Some("deep") => ScanDepth::Deep,
        _ => options.depth,
    };
    if args.no_config_excludes {
        options.exclude_patterns.clear();
    }
    options
        .exclude_patterns
        .extend(args.exclude.iter().cloned());
    options
}

/// Scans the given paths (or the configured code paths) and prints the report.
pub fn run(ctx: &Context, args: &PatternsScanArgs) -> anyhow::Result<()> {
    let roots = roots(ctx, args)?;
    let options = options(ctx, args);
    let bar = progress();
    let no_progress = code::NoProgress;
    let progress: &dyn Progress = match &bar {
        Some(b) => b,
        None => &no_progress,
    };
    let report = code::scan(&roots, &options, progress).map_err(|e| match e {
        ScanError::PathNotFound { .. } => {
            Exit::new(2, format!("{e}; pass the files or directories to scan"))
        }
        ScanError::BadExclude { .. } => Exit::new(2, e.to_string()),
    })?;
    if args.paths.is_empty() {
        record(ctx, &report)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report, args.limit));
    }
    Ok(())
}

/// Records a scan of the configured code paths in the pattern history.
fn record(ctx: &Context, report: &ScanReport) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    store.record_patterns(
        CODE_SOURCE,
        SystemClock.now_ms(),
        &report.summary(),
        &report.patterns,
    )?;
    Ok(())
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn render_pattern(p: &Pattern, out: &mut String) {
    use std::fmt::Write;
    let _ = writeln!(
        out,
        "{} {} {} (score {:.2}, confidence {:.2})  {}",
        p.kind.label(),
        p.signal,
        p.severity.label(),
        p.opportunity_score(),
        p.confidence,
        p.id
    );
    let _ = writeln!(out, "  {}", p.description);
    const SHOWN: usize = 8;
    for loc in p.locations.iter().take(SHOWN) {
        let _ = writeln!(out, "    {}:{}-{}", loc.file, loc.line_start, loc.line_end);
    }
    if p.locations.len() > SHOWN {
        let _ = writeln!(out, "    … and {} more", p.locations.len() - SHOWN);
    }
    let suggestion = p
        .evidence
        .get("suggested_abstraction")
        .or_else(|| p.evidence.get("suggested_interface"))
        .and_then(|v| v.as_str());
    if let Some(s) = suggestion {
        let _ = writeln!(out, "  → {s}");
    }
}

/// The readable report.
fn render(report: &ScanReport, limit: usize) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let shown = if limit == 0 {
        report.patterns.len()
    } else {
        limit.min(report.patterns.len())
    };
    for p in &report.patterns[..shown] {
        render_pattern(p, &mut out);
        out.push('\n');
    }
    if shown < report.patterns.len() {
        let _ = writeln!(
            out,
            "… and {} more not shown (--limit 0 shows all, --json gives everything)\n",
            plural(report.patterns.len() - shown, "pattern", "patterns")
        );
    }
    if !report.skipped.is_empty() {
        let _ = writeln!(
            out,
            "skipped {}:",
            plural(report.skipped.len(), "file", "files")
        );
        for s in &report.skipped {
            let _ = writeln!(out, "  {}: {}", s.file, s.reason);
        }
        out.push('\n');
    }
    let clones = report
        .patterns
        .iter()
        .filter(|p| p.kind == selfup_core::pattern::PatternKind::CodeRepetition)
        .count();
    let gaps = report.patterns.len() - clones;
    let _ = writeln!(
        out,
        "scanned {} ({} lines, {} tokens) in {:.2} s: {}, {}{}",
        plural(report.files_scanned as usize, "file", "files"),
        thousands(report.lines),
        thousands(report.tokens),
        report.elapsed_ms / 1000.0,
        plural(clones, "clone group", "clone groups"),
        plural(gaps, "abstraction gap", "abstraction gaps"),
        if report.skipped.is_empty() {
            String::new()
        } else {
            format!(
                ", {} skipped",
                plural(report.skipped.len(), "file", "files")
            )
        }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_get_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(474596), "474,596");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
