//! The static scanner: looks at every file of a plugin package before it is
//! installed and reports [`Finding`]s; a [`Severity::Critical`] finding
//! fails the scan ([`ScanReport::passed`]) and blocks install.
//!
//! - `.wasm` files are validated with `wasmparser`, and the imports of the
//!   component and of every nested component and core module are checked
//!   against the manifest's security profile ([`wasm`]).
//! - Python, JavaScript/TypeScript and shell sources are parsed with
//!   tree-sitter and checked for `security.forbidden_imports`, code
//!   evaluation, process spawning and shell download-and-run; a name in a
//!   string or a comment is never a finding.
//! - Other files (data, `manifest.json`) are not scanned.
//!
//! The whole scan is bounded by [`ScanPolicy::max_time`]: past it, a
//! Critical TIMEOUT finding is added and the scan stops.

mod deadline;
mod javascript;
mod names;
mod python;
mod report;
mod shell;
mod source;
mod wasm;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use selfup_core::config::SecurityConfig;
use selfup_core::manifest::SecurityProfile;

pub use report::{Finding, Rule, ScanReport, Severity};

use crate::package::{self, StagedPackage};
use deadline::{Deadline, TimedOut};
use source::{Lang, ParseFailure};
use wasm::WasmAllow;

/// What a scan enforces, from the `security` section of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanPolicy {
    /// Dotted names that must not be imported or called
    /// (`security.forbidden_imports`), e.g. `os.system`, `eval`.
    pub forbidden: Vec<String>,
    /// Time the whole scan may take (`security.max_scan_time_seconds`).
    pub max_time: Duration,
}

impl ScanPolicy {
    /// The policy a configuration asks for.
    pub fn from_config(security: &SecurityConfig) -> Self {
        Self {
            forbidden: security.forbidden_imports.clone(),
            max_time: Duration::from_secs(u64::from(security.max_scan_time_seconds)),
        }
    }
}

impl Default for ScanPolicy {
    /// The default configuration's policy.
    fn default() -> Self {
        Self::from_config(&SecurityConfig::default())
    }
}

/// Why [`scan_path`] could not start.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// Nothing exists at the path.
    #[error("there is nothing to scan at {0}; give a plugin directory or file")]
    Missing(PathBuf),
    /// The path or a directory under it could not be read.
    #[error("cannot read {path}: {source}")]
    Unreadable {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Scans every file of a staged package, with the allow-list of its
/// manifest's security profile.
pub fn scan_staged(staged: &StagedPackage, policy: &ScanPolicy) -> ScanReport {
    let files: Vec<(String, PathBuf)> = staged
        .files
        .iter()
        .map(|f| (f.path.clone(), f.staged_at.clone()))
        .collect();
    scan_files(
        &files,
        &staged.manifest.security_profile,
        Vec::new(),
        policy,
        Deadline::start(policy.max_time),
    )
}

/// Scans a loose directory (every file under it; symbolic links are not
/// followed) or a single file. A `manifest.json` at the directory's root
/// gives the security profile; without one nothing is allowed, and a
/// manifest that does not parse is a Medium PARSE_ERROR finding.
pub fn scan_path(path: &Path, policy: &ScanPolicy) -> Result<ScanReport, ScanError> {
    let deadline = Deadline::start(policy.max_time);
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ScanError::Missing(path.to_owned()),
        _ => ScanError::Unreadable {
            path: path.to_owned(),
            source: e,
        },
    })?;
    if !meta.is_dir() {
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let files = [(name, path.to_owned())];
        let profile = SecurityProfile::default();
        return Ok(scan_files(&files, &profile, Vec::new(), policy, deadline));
    }
    let files = list_directory(path)?;
    let mut early = Vec::new();
    let profile = if files.iter().any(|(rel, _)| rel == "manifest.json") {
        match package::read_manifest(path) {
            Ok(manifest) => manifest.security_profile,
            Err(e) => {
                early.push(Finding {
                    file: "manifest.json".into(),
                    line: 0,
                    column: 0,
                    rule: Rule::ParseError,
                    severity: Severity::Medium,
                    message: format!("the manifest was not usable, so nothing is allowed: {e}"),
                });
                SecurityProfile::default()
            }
        }
    } else {
        SecurityProfile::default()
    };
    Ok(scan_files(&files, &profile, early, policy, deadline))
}

/// Every regular file under `root`, as (relative path with `/`, path),
/// sorted by relative path.
fn list_directory(root: &Path) -> Result<Vec<(String, PathBuf)>, ScanError> {
    let mut files = Vec::new();
    let mut pending = vec![(String::new(), root.to_owned())];
    while let Some((prefix, dir)) = pending.pop() {
        let unreadable = |e| ScanError::Unreadable {
            path: dir.clone(),
            source: e,
        };
        for entry in std::fs::read_dir(&dir).map_err(unreadable)? {
            let entry = entry.map_err(unreadable)?;
            let kind = entry.file_type().map_err(unreadable)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if kind.is_dir() {
                pending.push((rel, entry.path()));
            } else if kind.is_file() {
                files.push((rel, entry.path()));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// What a file is, for the scanner.
enum Kind {
    Wasm,
    Source(Lang),
}

/// Decides whether and how to scan a file, reading at most its first
/// line when the name does not tell.
fn kind_of(rel: &str, path: &Path) -> Option<Kind> {
    if rel.to_ascii_lowercase().ends_with(".wasm") {
        return Some(Kind::Wasm);
    }
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let mut head = Vec::new();
    if !name.contains('.') {
        // No extension: look for a `#!` line.
        if let Ok(file) = std::fs::File::open(path) {
            let _ = file.take(256).read_to_end(&mut head);
        }
    }
    Lang::detect(rel, &head).map(Kind::Source)
}

fn scan_files(
    files: &[(String, PathBuf)],
    profile: &SecurityProfile,
    mut findings: Vec<Finding>,
    policy: &ScanPolicy,
    deadline: Deadline,
) -> ScanReport {
    let allow = WasmAllow::from_profile(profile);
    let mut scanned = 0;
    for (index, (rel, path)) in files.iter().enumerate() {
        let Some(kind) = kind_of(rel, path) else {
            continue;
        };
        let outcome = deadline
            .check()
            .and_then(|()| scan_file(rel, path, &kind, allow, policy, &deadline));
        match outcome {
            Ok(mut found) => {
                found.sort_by_key(|f| (f.line, f.column));
                findings.extend(found);
                scanned += 1;
            }
            Err(TimedOut) => {
                let left = files.len() - index;
                findings.push(timeout(rel, &deadline, left));
                break;
            }
        }
    }
    ScanReport::new(findings, scanned, deadline.elapsed())
}

fn timeout(rel: &str, deadline: &Deadline, left: usize) -> Finding {
    Finding {
        file: rel.to_owned(),
        line: 0,
        column: 0,
        rule: Rule::Timeout,
        severity: Severity::Critical,
        message: format!(
            "the scan stopped after {:.3} s at this file ({left} file(s) of the package not scanned): \
             security.max_scan_time_seconds allows {} s",
            deadline.elapsed().as_secs_f64(),
            deadline.limit().as_secs_f64()
        ),
    }
}

fn scan_file(
    rel: &str,
    path: &Path,
    kind: &Kind,
    allow: WasmAllow,
    policy: &ScanPolicy,
    deadline: &Deadline,
) -> Result<Vec<Finding>, TimedOut> {
    let severity = match kind {
        Kind::Wasm => Severity::Critical,
        Kind::Source(_) => Severity::Medium,
    };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            return Ok(vec![Finding {
                file: rel.to_owned(),
                line: 0,
                column: 0,
                rule: Rule::ParseError,
                severity,
                message: format!("cannot read the file: {e}"),
            }]);
        }
    };
    match kind {
        Kind::Wasm => wasm::scan(rel, &bytes, allow, deadline),
        Kind::Source(lang) => scan_source(*lang, rel, &bytes, policy, deadline),
    }
}

fn scan_source(
    lang: Lang,
    rel: &str,
    src: &[u8],
    policy: &ScanPolicy,
    deadline: &Deadline,
) -> Result<Vec<Finding>, TimedOut> {
    let tree = match source::parse(lang, src, deadline) {
        Ok(tree) => tree,
        Err(ParseFailure::TimedOut(t)) => return Err(t),
        Err(ParseFailure::Parser(why)) => {
            return Ok(vec![Finding {
                file: rel.to_owned(),
                line: 0,
                column: 0,
                rule: Rule::ParseError,
                severity: Severity::Medium,
                message: format!("could not be parsed as {}: {why}", lang.name()),
            }]);
        }
    };
    let mut findings: Vec<Finding> = source::syntax_error(&tree, lang, rel, src, deadline)?
        .into_iter()
        .collect();
    let found = match lang {
        Lang::Python => python::scan(rel, src, &tree, &policy.forbidden, deadline)?,
        Lang::JavaScript | Lang::TypeScript | Lang::Tsx => {
            javascript::scan(rel, src, &tree, &policy.forbidden, deadline)?
        }
        Lang::Shell => shell::scan(rel, src, &tree, deadline)?,
    };
    findings.extend(found);
    Ok(findings)
}
