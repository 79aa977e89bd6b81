//! Patterns in source code: clones (exact, renamed, near-miss; whole
//! functions and statement blocks) and abstraction gaps, in Python, Rust,
//! JavaScript and TypeScript, parsed with tree-sitter.
//!
//! The pipeline: [`walk`] lists the files (`.gitignore` and exclude
//! patterns honoured); [`parse`] reads and parses each file on every core,
//! and [`tokens`] normalises it in one walk of its tree; [`index`] groups
//! identical functions and maximal identical statement runs by hash;
//! [`near_miss`] finds type-3 clones by SourcererCC-style filtering and
//! verifies only candidates; [`groups`] keeps the maximal clones and rates
//! them; [`abstraction`] finds direct calls to external APIs from many
//! modules; [`report`] turns it all into ranked [`Pattern`]s.
//!
//! **Scan depth.** `shallow`: whole functions, exact and renamed clones.
//! `medium`: also blocks (runs of statements inside functions). `deep`
//! (the default): also near-miss clones of functions and blocks. Abstraction
//! gaps are looked for at every depth.
//!
//! **Sizes.** A function counts from `min_clone_tokens` tokens (15 by
//! default, so the specification's three-statement functions count) when
//! its body has at least two statements (one-line accessors are trivia), or
//! from three times that with an expression body; a block counts from three
//! times `min_clone_tokens` (45 by default, near jscpd's 50), because a
//! short run of statements inside larger functions is usually idiom, not a
//! missing function.

pub mod abstraction;
pub mod groups;
pub mod hash;
pub mod index;
pub mod lang;
pub mod near_miss;
pub mod parse;
pub mod report;
pub mod suggest;
pub mod tokens;
pub mod walk;

use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;
use selfup_core::config::{PatternRecognitionConfig, ScanDepth};
use selfup_core::pattern::{Pattern, rank};

pub use report::ScanReport;
pub use walk::Skipped;

/// Why a scan could not run.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A root does not exist or cannot be read.
    #[error("{}: {reason}", path.display())]
    PathNotFound {
        /// The root as given.
        path: PathBuf,
        /// What the system said.
        reason: String,
    },
    /// An exclude pattern is not a valid glob.
    #[error("exclude pattern {pattern:?} is not a valid glob: {reason}")]
    BadExclude {
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// What to look for and where not to look.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanOptions {
    /// How thorough (see the module doc).
    pub depth: ScanDepth,
    /// The function-level minimum size in tokens; blocks need three times it.
    pub min_clone_tokens: u32,
    /// Near-miss clones must be at least this alike (0.5–1).
    pub similarity_threshold: f64,
    /// Modules that must call one API family directly for an abstraction gap.
    pub min_pattern_frequency: u32,
    /// Glob patterns of paths never scanned.
    pub exclude_patterns: Vec<String>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self::from_config(&PatternRecognitionConfig::default())
    }
}

impl ScanOptions {
    /// The options of `discovery.pattern_recognition`.
    pub fn from_config(config: &PatternRecognitionConfig) -> Self {
        Self {
            depth: config.scan_depth,
            min_clone_tokens: config.min_clone_tokens.max(1),
            similarity_threshold: config.similarity_threshold,
            min_pattern_frequency: config.min_pattern_frequency.max(1),
            exclude_patterns: config.exclude_patterns.clone(),
        }
    }

    /// Smallest function reported, in tokens.
    pub fn min_function_tokens(&self) -> u32 {
        self.min_clone_tokens
    }

    /// Smallest block reported, in tokens.
    pub fn min_block_tokens(&self) -> u32 {
        self.min_clone_tokens.saturating_mul(3)
    }
}

/// Told how a scan advances (a progress bar, or nothing).
pub trait Progress: Sync {
    /// The files to parse are known.
    fn start(&self, _files: u64) {}
    /// `n` more files are parsed.
    fn advance(&self, _n: u64) {}
    /// Parsing is over; grouping and reporting remain.
    fn finish(&self) {}
}

/// No progress reporting.
pub struct NoProgress;

impl Progress for NoProgress {}

/// Scans `roots` (files or directories) and returns the ranked findings.
pub fn scan(
    roots: &[PathBuf],
    options: &ScanOptions,
    progress: &dyn Progress,
) -> Result<ScanReport, ScanError> {
    let started = Instant::now();
    let excludes = walk::Excludes::new(&options.exclude_patterns)?;
    let (files, mut skipped) = walk::source_files(roots, &excludes)?;
    progress.start(files.len() as u64);
    let parsed: Vec<Result<parse::Parsed, String>> = files
        .par_iter()
        .map_init(parse::Worker::default, |worker, f| {
            let r = worker.parse_file(&f.path, f.lang);
            progress.advance(1);
            r
        })
        .collect();
    progress.finish();
    let parsed_at = started.elapsed();

    let mut units = Vec::with_capacity(parsed.len());
    let mut paths = Vec::with_capacity(parsed.len());
    let mut langs = Vec::with_capacity(parsed.len());
    let mut calls = Vec::with_capacity(parsed.len());
    let (mut lines, mut tokens) = (0u64, 0u64);
    for (file, result) in files.into_iter().zip(parsed) {
        match result {
            Ok(p) => {
                lines += p.lines;
                tokens += p.units.token_count() as u64;
                units.push(p.units);
                calls.push(p.calls);
                paths.push(file.path);
                langs.push(file.lang);
            }
            Err(reason) => skipped.push(Skipped {
                file: file.path.display().to_string(),
                reason,
            }),
        }
    }

    let min_fn = options.min_function_tokens();
    let min_block = options.min_block_tokens();
    let depth = options.depth;
    let ((functions, blocks), near) = rayon::join(
        || {
            rayon::join(
                || index::function_groups(&units, min_fn),
                || {
                    if depth == ScanDepth::Shallow {
                        Vec::new()
                    } else {
                        index::block_groups(&units, min_block)
                    }
                },
            )
        },
        || {
            if depth == ScanDepth::Deep {
                near_miss::near_miss_groups(&units, min_fn, min_block, options.similarity_threshold)
            } else {
                Vec::new()
            }
        },
    );
    let grouped_at = started.elapsed();
    let mut all = functions;
    all.extend(blocks);
    all.extend(near);
    let groups = groups::keep_maximal(all);

    let ctx = report::Context {
        files: &units,
        paths: &paths,
        langs: &langs,
        min_function_tokens: min_fn,
        min_block_tokens: min_block,
        threshold: options.similarity_threshold,
    };
    let mut texts = suggest::Texts::new(&paths);
    let mut patterns: Vec<Pattern> = groups
        .iter()
        .map(|g| report::clone_pattern(g, &ctx, &mut texts))
        .collect();
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let file_calls: Vec<abstraction::FileCalls<'_>> = names
        .iter()
        .zip(&langs)
        .zip(&calls)
        .map(|((file, lang), calls)| abstraction::FileCalls {
            file,
            lang: *lang,
            calls,
        })
        .collect();
    patterns.extend(abstraction::gaps(
        &file_calls,
        options.min_pattern_frequency,
    ));
    rank(&mut patterns);
    skipped.sort_by(|a, b| a.file.cmp(&b.file));
    tracing::debug!(
        parse_ms = parsed_at.as_secs_f64() * 1000.0,
        group_ms = (grouped_at - parsed_at).as_secs_f64() * 1000.0,
        report_ms = (started.elapsed() - grouped_at).as_secs_f64() * 1000.0,
        "code scan stages"
    );

    Ok(ScanReport {
        roots: roots.iter().map(|r| r.display().to_string()).collect(),
        files_scanned: units.len() as u64,
        lines,
        tokens,
        elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        skipped,
        patterns,
    })
}
