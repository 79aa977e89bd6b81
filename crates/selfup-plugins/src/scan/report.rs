//! What a scan reports: [`Finding`]s with a [`Rule`] and a [`Severity`],
//! gathered in a [`ScanReport`].

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize, Serializer};

/// How bad a finding is. Only [`Severity::Critical`] fails a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing; nothing to do.
    Low,
    /// Worth a look (e.g. a source file that does not parse).
    Medium,
    /// Needs a person's attention, but does not block install.
    High,
    /// Blocks install.
    Critical,
}

impl Severity {
    /// The printed name, as the seed spells it: `LOW` … `CRITICAL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "LOW",
            Self::Medium => "MEDIUM",
            Self::High => "HIGH",
            Self::Critical => "CRITICAL",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which check produced a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A name listed in `security.forbidden_imports`, imported or used.
    ForbiddenImport,
    /// Code that runs code built at run time: `eval`, `exec`, `compile`,
    /// `__import__`, JavaScript's `Function`, shell `eval`.
    DangerousFunction,
    /// Starting another program: Python's `subprocess`/`os.popen`/`os.exec*`,
    /// Node's `child_process`.
    ProcessSpawn,
    /// Shell code that runs text from a pipe or a download: `curl … | sh`.
    PipeToShell,
    /// A shell command that destroys the machine: `rm -rf /`.
    DestructiveCommand,
    /// A wasm import of `wasi:sockets` or `wasi:http` without allowed hosts.
    NetworkImport,
    /// A wasm import of `wasi:filesystem` without allowed paths.
    FilesystemImport,
    /// A component import that selfup's host does not provide.
    UnknownImport,
    /// A file that could not be read or parsed.
    ParseError,
    /// The scan ran out of time (`security.max_scan_time_seconds`).
    Timeout,
}

impl Rule {
    /// The printed name, as the seed spells it: `FORBIDDEN_IMPORT` ….
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ForbiddenImport => "FORBIDDEN_IMPORT",
            Self::DangerousFunction => "DANGEROUS_FUNCTION",
            Self::ProcessSpawn => "PROCESS_SPAWN",
            Self::PipeToShell => "PIPE_TO_SHELL",
            Self::DestructiveCommand => "DESTRUCTIVE_COMMAND",
            Self::NetworkImport => "NETWORK_IMPORT",
            Self::FilesystemImport => "FILESYSTEM_IMPORT",
            Self::UnknownImport => "UNKNOWN_IMPORT",
            Self::ParseError => "PARSE_ERROR",
            Self::Timeout => "TIMEOUT",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found in one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Package-relative path with `/` separators.
    pub file: String,
    /// 1-based line in a source file; 0 for wasm and whole-file findings.
    pub line: u32,
    /// 1-based byte column in a source file; the byte offset in a wasm file.
    pub column: u32,
    /// The check that fired.
    pub rule: Rule,
    /// How bad it is.
    pub severity: Severity,
    /// What was found and why it matters, for people.
    pub message: String,
}

impl fmt::Display for Finding {
    /// `file:line:column: SEVERITY RULE: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {} {}: {}",
            self.file, self.line, self.column, self.severity, self.rule, self.message
        )
    }
}

/// The outcome of scanning one package or directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanReport {
    /// Every finding, in file order, then by position.
    pub findings: Vec<Finding>,
    /// Files a scanner read (wasm and recognised sources; others are skipped).
    pub files_scanned: usize,
    /// Wall-clock time of the scan.
    #[serde(rename = "elapsed_ms", serialize_with = "millis")]
    pub elapsed: Duration,
    /// True when no finding is [`Severity::Critical`]: install may go on.
    pub passed: bool,
}

impl ScanReport {
    /// Builds a report; `passed` is derived from the findings.
    pub fn new(findings: Vec<Finding>, files_scanned: usize, elapsed: Duration) -> Self {
        let passed = !findings.iter().any(|f| f.severity == Severity::Critical);
        Self {
            findings,
            files_scanned,
            elapsed,
            passed,
        }
    }

    /// The findings that block install.
    pub fn blocking(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Critical)
    }
}

fn millis<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}
