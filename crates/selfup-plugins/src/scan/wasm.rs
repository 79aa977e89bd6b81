//! The wasm scanner: validates every `.wasm` file with `wasmparser` and
//! checks the imports of the component, of every nested component and of
//! every nested core module against what the manifest's security profile
//! allows.

use std::collections::HashSet;

use selfup_core::manifest::SecurityProfile;
use wasmparser::{
    BinaryReaderError, ComponentTypeRef, Encoding, FuncValidatorAllocations, Parser, Payload,
    ValidPayload, Validator, WasmFeatures,
};

use super::deadline::{Deadline, TimedOut};
use super::report::{Finding, Rule, Severity};

/// What a wasm file may import, derived from the security profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WasmAllow {
    /// `allowed_network_hosts` is not empty.
    pub(crate) network: bool,
    /// `allowed_file_paths` is not empty.
    pub(crate) filesystem: bool,
}

impl WasmAllow {
    /// Reads the allow-list off a security profile.
    pub(crate) fn from_profile(profile: &SecurityProfile) -> Self {
        Self {
            network: !profile.allowed_network_hosts.is_empty(),
            filesystem: !profile.allowed_file_paths.is_empty(),
        }
    }
}

/// Packages selfup's host provides to every plugin: WASI without network
/// or files, and the types of the `selfup:plugin` world (wit/plugin.wit).
const PROVIDED: [&str; 5] = [
    "wasi:cli/",
    "wasi:io/",
    "wasi:clocks/",
    "wasi:random/",
    "selfup:plugin/",
];
/// WASI packages that reach the network.
const NETWORK: [&str; 2] = ["wasi:sockets/", "wasi:http/"];
/// The WASI package that reaches files.
const FILESYSTEM: &str = "wasi:filesystem/";
/// Module names of WASI preview 1 (plain core modules).
const PREVIEW1: [&str; 2] = ["wasi_snapshot_preview1", "wasi_unstable"];

/// Which module or component of the file an import is in.
#[derive(Debug, Clone, Copy)]
enum Unit {
    Component(usize),
    Module(usize),
}

impl Unit {
    fn describe(self) -> String {
        match self {
            Self::Component(0) => "the component".into(),
            Self::Component(n) => format!("nested component {n}"),
            Self::Module(0) => "the module".into(),
            Self::Module(n) => format!("nested core module {n}"),
        }
    }
}

/// How an import is judged.
enum Kind {
    Network,
    Filesystem,
    Unknown,
}

struct Scan<'a> {
    file: &'a str,
    allow: WasmAllow,
    findings: Vec<Finding>,
    reported: HashSet<String>,
}

impl Scan<'_> {
    /// Judges one import name. `must_be_provided` is true for component
    /// imports of instances and functions, which the host must supply; core
    /// module imports and type imports are only checked for WASI network
    /// and file interfaces.
    fn judge(&mut self, name: &str, offset: usize, unit: Unit, must_be_provided: bool) {
        let kind = if NETWORK.iter().any(|p| name.starts_with(p)) {
            Kind::Network
        } else if name.starts_with(FILESYSTEM) {
            Kind::Filesystem
        } else if must_be_provided && !PROVIDED.iter().any(|p| name.starts_with(p)) {
            Kind::Unknown
        } else {
            return;
        };
        let (rule, severity, why) = match kind {
            Kind::Network if !self.allow.network => (
                Rule::NetworkImport,
                Severity::Critical,
                "but security_profile.allowed_network_hosts is empty: declare the hosts it may reach",
            ),
            Kind::Filesystem if !self.allow.filesystem => (
                Rule::FilesystemImport,
                Severity::High,
                "but security_profile.allowed_file_paths is empty, so it will see no files: declare the directories it needs",
            ),
            Kind::Unknown => (
                Rule::UnknownImport,
                Severity::Medium,
                "which selfup's host does not provide, so the plugin will not load",
            ),
            Kind::Network | Kind::Filesystem => return,
        };
        let interface = name.split('@').next().unwrap_or(name).to_owned();
        if !self.reported.insert(interface) {
            return;
        }
        self.findings.push(Finding {
            file: self.file.to_owned(),
            line: 0,
            column: u32::try_from(offset).unwrap_or(u32::MAX),
            rule,
            severity,
            message: format!("{} imports {name}, {why}", unit.describe()),
        });
    }

    /// Maps a WASI preview 1 function to the interface it stands for.
    fn judge_preview1(&mut self, module: &str, field: &str, offset: usize, unit: Unit) {
        let as_p2 = if field.starts_with("sock_") {
            "wasi:sockets/"
        } else if field.starts_with("path_")
            || field.starts_with("fd_prestat")
            || field == "fd_readdir"
        {
            "wasi:filesystem/"
        } else {
            return;
        };
        let label = format!("{as_p2}{module}.{field}");
        self.judge(&label, offset, unit, false);
    }
}

/// Scans one wasm file. Returns the findings, or `Err` when the deadline
/// passed mid-file.
pub(crate) fn scan(
    file: &str,
    bytes: &[u8],
    allow: WasmAllow,
    deadline: &Deadline,
) -> Result<Vec<Finding>, TimedOut> {
    let mut scan = Scan {
        file,
        allow,
        findings: Vec::new(),
        reported: HashSet::new(),
    };
    match walk(&mut scan, bytes, deadline) {
        Ok(()) => Ok(scan.findings),
        Err(Stop::TimedOut) => Err(TimedOut),
        Err(Stop::Invalid(_)) if !bytes.starts_with(b"\0asm") => Ok(vec![invalid(
            file,
            0,
            "it does not start with the \\0asm magic bytes",
        )]),
        Err(Stop::Invalid(e)) => {
            // wasmparser's messages may span lines; keep findings on one.
            let why = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
            Ok(vec![invalid(file, e.offset(), &why)])
        }
        Err(Stop::Truncated) => Ok(vec![invalid(file, bytes.len(), "the file ends early")]),
    }
}

fn invalid(file: &str, offset: usize, why: &str) -> Finding {
    Finding {
        file: file.to_owned(),
        line: 0,
        column: u32::try_from(offset).unwrap_or(u32::MAX),
        rule: Rule::ParseError,
        severity: Severity::Critical,
        message: format!("not valid WebAssembly: {why}"),
    }
}

enum Stop {
    TimedOut,
    Invalid(BinaryReaderError),
    Truncated,
}

impl From<BinaryReaderError> for Stop {
    fn from(e: BinaryReaderError) -> Self {
        Self::Invalid(e)
    }
}

impl From<TimedOut> for Stop {
    fn from(_: TimedOut) -> Self {
        Self::TimedOut
    }
}

fn walk(scan: &mut Scan<'_>, bytes: &[u8], deadline: &Deadline) -> Result<(), Stop> {
    let mut validator = Validator::new_with_features(WasmFeatures::all());
    let mut allocations = FuncValidatorAllocations::default();
    let mut units: Vec<Unit> = Vec::new();
    let (mut modules, mut components) = (0usize, 0usize);
    let mut ended = false;
    for payload in Parser::new(0).parse_all(bytes) {
        deadline.check()?;
        let payload = payload?;
        if let ValidPayload::Func(func, body) = validator.payload(&payload)? {
            let mut v = func.into_validator(allocations);
            v.validate(&body)?;
            allocations = v.into_allocations();
        }
        match payload {
            Payload::Version { encoding, .. } => {
                let nested = !units.is_empty();
                units.push(match (encoding, nested) {
                    (Encoding::Component, false) => Unit::Component(0),
                    (Encoding::Module, false) => Unit::Module(0),
                    (Encoding::Component, true) => {
                        components += 1;
                        Unit::Component(components)
                    }
                    (Encoding::Module, true) => {
                        modules += 1;
                        Unit::Module(modules)
                    }
                });
            }
            Payload::ImportSection(reader) => {
                let unit = units.last().copied().unwrap_or(Unit::Module(0));
                for item in reader.into_imports_with_offsets() {
                    let (offset, import) = item?;
                    if PREVIEW1.contains(&import.module) {
                        scan.judge_preview1(import.module, import.name, offset, unit);
                    } else {
                        scan.judge(import.module, offset, unit, false);
                    }
                }
            }
            Payload::ComponentImportSection(reader) => {
                let unit = units.last().copied().unwrap_or(Unit::Component(0));
                for item in reader.into_iter_with_offsets() {
                    let (offset, import) = item?;
                    // A plain-named import that implements an interface is
                    // judged by the interface.
                    let name = import.name.implements.unwrap_or(import.name.name);
                    // An imported type grants nothing; only its name is checked.
                    let grants = !matches!(import.ty, ComponentTypeRef::Type(_));
                    scan.judge(name, offset, unit, grants);
                }
            }
            Payload::End(_) => {
                units.pop();
                ended = units.is_empty();
            }
            _ => {}
        }
    }
    if !ended {
        // Defensive: parse_all may stop quietly on an empty input.
        return Err(Stop::Truncated);
    }
    Ok(())
}
