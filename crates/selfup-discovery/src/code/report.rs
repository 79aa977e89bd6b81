//! The scan's result as `selfup patterns scan --json` prints it, and clone
//! groups turned into [`Pattern`]s.

use std::path::PathBuf;

use selfup_core::pattern::{CodeLocation, Pattern, PatternKind};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::groups::{CloneGroup, Unit};
use super::lang::{Lang, tables};
use super::suggest::{self, Texts};
use super::tokens::FileUnits;
use super::walk::Skipped;

/// What a scan found: the JSON contract of `selfup patterns scan --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    /// The roots scanned, as given.
    pub roots: Vec<String>,
    /// Files parsed and scanned.
    pub files_scanned: u64,
    /// Lines in those files.
    pub lines: u64,
    /// Tokens in those files (comments excluded).
    pub tokens: u64,
    /// Wall time of the scan in milliseconds.
    pub elapsed_ms: f64,
    /// Files left out, with the reason.
    pub skipped: Vec<Skipped>,
    /// Findings, best opportunity first.
    pub patterns: Vec<Pattern>,
}

impl ScanReport {
    /// The numbers about the scan kept with it in the pattern history.
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({
            "roots": self.roots,
            "files_scanned": self.files_scanned,
            "lines": self.lines,
            "tokens": self.tokens,
            "elapsed_ms": self.elapsed_ms,
            "skipped": self.skipped.len(),
        })
    }
}

/// What turning groups into patterns needs to know about the scan.
pub struct Context<'a> {
    /// Each scanned file's tokens and fragments.
    pub files: &'a [FileUnits],
    /// Each scanned file's path as reports show it.
    pub paths: &'a [PathBuf],
    /// Each scanned file's language.
    pub langs: &'a [Lang],
    /// The function-level minimum size in tokens.
    pub min_function_tokens: u32,
    /// The block-level minimum size in tokens.
    pub min_block_tokens: u32,
    /// The near-miss similarity threshold.
    pub threshold: f64,
}

/// A stable id: a hash of the unit and the representative's normalised
/// tokens, spelled by node-kind name (not by grammar-specific numbers).
fn stable_id(group: &CloneGroup, files: &[FileUnits]) -> String {
    let t = tables();
    let mut h = Sha256::new();
    h.update(group.unit.name().as_bytes());
    if let Some(first) = group.instances.first() {
        let norm =
            &files[first.file as usize].norm[first.tokens.0 as usize..first.tokens.1 as usize];
        for &s in norm {
            h.update(b" ");
            h.update(t.symbol_name(s).as_bytes());
        }
    }
    let digest = h.finalize();
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("clone:{hex}")
}

/// Turns a clone group into a pattern.
pub fn clone_pattern(group: &CloneGroup, ctx: &Context<'_>, texts: &mut Texts<'_>) -> Pattern {
    let path = |file: u32| ctx.paths[file as usize].display().to_string();
    let names: Vec<Option<String>> = group
        .instances
        .iter()
        .map(|i| suggest::function_name(ctx.files, texts, i.file, i.function))
        .collect();
    let mut enclosing: Vec<String> = names.iter().flatten().cloned().collect();
    enclosing.sort();
    enclosing.dedup();
    let first_name = names.iter().flatten().next().cloned();
    let name = match group.unit {
        Unit::Function => first_name.unwrap_or_else(|| "shared_logic".into()),
        Unit::Block => first_name.map_or_else(|| "shared_step".into(), |n| format!("{n}_step")),
    };
    let statements = match group.unit {
        Unit::Function => None,
        Unit::Block => group.instances.first().map(|i| i.statements as usize),
    };
    let diffs = suggest::differences(group, ctx.files, texts);
    let suggestion = suggest::suggestion(group, &name, statements, &enclosing, &diffs);
    let min = match group.unit {
        Unit::Function => ctx.min_function_tokens,
        Unit::Block => ctx.min_block_tokens,
    };
    let mut files: Vec<String> = group.instances.iter().map(|i| path(i.file)).collect();
    files.sort();
    files.dedup();
    let locations: Vec<CodeLocation> = group
        .instances
        .iter()
        .map(|i| CodeLocation {
            file: path(i.file),
            line_start: i.lines.0,
            line_end: i.lines.1,
        })
        .collect();
    let copies: Vec<serde_json::Value> = group
        .instances
        .iter()
        .zip(&names)
        .map(|(i, n)| {
            serde_json::json!({
                "file": path(i.file),
                "line_start": i.lines.0,
                "line_end": i.lines.1,
                "tokens": i.len(),
                "similarity": round(i.similarity),
                "function": n,
            })
        })
        .collect();
    let lang = group
        .instances
        .first()
        .map_or("", |i| ctx.langs[i.file as usize].name());
    let kind_words = match group.kind {
        super::groups::CloneKind::Exact => "identical",
        super::groups::CloneKind::Renamed => "renamed",
        super::groups::CloneKind::NearMiss => "near-identical",
    };
    let what = match group.unit {
        Unit::Function => format!("function `{name}`"),
        Unit::Block => match &statements {
            Some(s) => format!("{s}-statement block"),
            None => "block".into(),
        },
    };
    let description = format!(
        "{} {kind_words} copies of a {}-token {what} in {} file{}",
        group.instances.len(),
        group.tokens(),
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    );
    Pattern {
        id: stable_id(group, ctx.files),
        kind: PatternKind::CodeRepetition,
        signal: group.kind.signal().into(),
        description,
        severity: group.severity(),
        confidence: round(group.confidence(min, ctx.threshold)),
        affected_components: files,
        locations,
        evidence: serde_json::json!({
            "similarity": round(group.similarity),
            "tokens": group.tokens(),
            "instances": group.instances.len(),
            "unit": group.unit.name(),
            "language": lang,
            "suggested_abstraction": suggestion,
            "differences": {
                "identifiers": diffs.identifiers,
                "literals": diffs.literals,
            },
            "copies": copies,
        }),
    }
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
