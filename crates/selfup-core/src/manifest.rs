//! The plugin manifest (`manifest.json`): what a plugin is, what it
//! provides and needs, and the limits and permissions it runs under.
//!
//! The layout is the specification's `PluginManifest` plus `runtime`.
//! Parsing is strict: an unknown field, a wrong type or an out-of-range
//! value is a [`ManifestError`] that names the field and says how to fix it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};

use crate::names::{CapabilityName, PluginName};

/// Largest accepted `manifest.json`, in bytes.
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024;

/// The name of the manifest inside a package.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The name of the manifest's minisign signature inside a package.
pub const SIGNATURE_FILE: &str = "manifest.json.minisig";

/// Deepest nesting of objects and arrays accepted in a manifest.
pub const MAX_MANIFEST_DEPTH: usize = 16;

/// The deepest nesting of `{` and `[` outside strings (not a validation:
/// serde does that; this only bounds the work before it).
fn json_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Largest memory cap a wasm32 plugin can use (4 GiB address space), in MiB.
pub const MAX_WASM_MEMORY_MB: u64 = 4096;

/// Longest accepted per-call time limit, in seconds (one day).
pub const MAX_EXECUTION_TIME_SECONDS: f64 = 86_400.0;

/// How a plugin's code runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    /// A WASI preview 2 component run by wasmtime.
    #[default]
    Wasm,
    /// A separate process speaking MCP over stdio (a later issue).
    Process,
}

/// The manifest of one plugin version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginManifest {
    /// The plugin's name, e.g. `text-summarize`.
    pub name: PluginName,
    /// The plugin's version (semantic versioning).
    pub version: Version,
    /// What the plugin does, for people.
    #[serde(default)]
    pub description: String,
    /// Who wrote it.
    #[serde(default)]
    pub author: String,
    /// How the code runs; `wasm` when absent.
    #[serde(default)]
    pub runtime: Runtime,
    /// The package-relative path of the code: a `.wasm` component for `wasm`.
    pub entry_point: String,
    /// Capabilities this plugin calls and that another plugin must provide.
    #[serde(default)]
    pub required_capabilities: Vec<CapabilityName>,
    /// Capabilities this plugin serves.
    pub provided_capabilities: Vec<CapabilityName>,
    /// Other plugins this one needs, by name, with a semver requirement.
    #[serde(default)]
    pub dependencies: BTreeMap<PluginName, VersionReq>,
    /// Limits enforced on every instance and call.
    #[serde(default)]
    pub resource_limits: ResourceLimits,
    /// What the plugin may touch outside its sandbox.
    #[serde(default)]
    pub security_profile: SecurityProfile,
    /// A call that undoes what this version did, made before a
    /// `compensating` rollback reverts to the previous version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compensating_action: Option<CompensatingAction>,
    /// The JSON Schema of each provided capability's input (an object
    /// schema, `"type": "object"`), by capability. Optional: a capability
    /// without one accepts any JSON object as far as its callers know. MCP
    /// clients see these as the tools' `inputSchema`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub input_schemas: BTreeMap<CapabilityName, serde_json::Value>,
    /// For `runtime: process` only: the MCP tool serving each capability,
    /// by capability, when the server's tool names do not follow the
    /// capability names (a published server's `get_current_time` serving
    /// `time.now`). Optional: a capability without an entry is served by
    /// the tool named like it (`time.now`, else `time_now`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tool_names: BTreeMap<CapabilityName, String>,
    /// Every file of the package except `manifest.json` and its signature
    /// `manifest.json.minisig`: package-relative path → lowercase hex
    /// SHA-256. Signing fills it in; the signature over `manifest.json`
    /// thereby covers every file.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, String>,
}

/// The call a `compensating` rollback makes on the version being rolled back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompensatingAction {
    /// One of the plugin's own capabilities.
    pub capability: CapabilityName,
    /// The JSON input of the call; selfup adds `"upgrade_id"` and `"reason"`.
    #[serde(default)]
    pub input: serde_json::Value,
}

/// Resource limits of a plugin (defaults are the specification's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResourceLimits {
    /// Cap on the plugin's memory, in MiB (a wasm plugin's linear memory; a
    /// process plugin's address space on Linux, its job's process memory on
    /// Windows).
    pub max_memory_mb: u64,
    /// Share of one CPU the plugin may use (enforced for process plugins on
    /// Windows, by the job's CPU rate; not yet on Linux or for wasm, where a
    /// call's time is bounded by `max_execution_time_seconds`).
    pub max_cpu_percent: f64,
    /// Wall-clock limit of one call, in seconds (fractions allowed).
    pub max_execution_time_seconds: f64,
    /// Open files a process plugin may hold.
    pub max_file_descriptors: u64,
    /// Concurrent network connections (only with allowed hosts).
    pub max_network_connections: u64,
}

impl Default for ResourceLimits {
    fn default() -> Self {
        Self {
            max_memory_mb: 512,
            max_cpu_percent: 50.0,
            max_execution_time_seconds: 300.0,
            max_file_descriptors: 100,
            max_network_connections: 10,
        }
    }
}

/// What a plugin may reach outside its sandbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityProfile {
    /// Directories the plugin can see: absolute host paths, or paths
    /// relative to the plugin's data directory. Nothing else exists for it.
    pub allowed_file_paths: Vec<String>,
    /// Hosts the plugin may connect to; empty means no network at all.
    pub allowed_network_hosts: Vec<String>,
    /// System calls a process plugin may make (advisory for wasm).
    pub allowed_system_calls: Vec<String>,
    /// Whether the package must carry a valid signature.
    pub require_code_signing: bool,
    /// Whether the plugin runs sandboxed.
    pub sandbox_enabled: bool,
}

impl Default for SecurityProfile {
    fn default() -> Self {
        Self {
            allowed_file_paths: Vec::new(),
            allowed_network_hosts: Vec::new(),
            allowed_system_calls: Vec::new(),
            require_code_signing: true,
            sandbox_enabled: true,
        }
    }
}

/// A refused manifest: which field, what is wrong, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ManifestError {
    /// Dotted path of the offending field (`resource_limits.max_memory_mb`);
    /// empty when the document as a whole is wrong.
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
    /// 1-based line and column in the JSON text, when the parser knew them.
    pub position: Option<(usize, usize)>,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("manifest.json")?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        if self.field.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": field `{}`: {}", self.field, self.message)
        }
    }
}

impl ManifestError {
    fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
            position: None,
        }
    }
}

impl PluginManifest {
    /// Parses and validates a manifest from its JSON bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ManifestError> {
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(ManifestError::new(
                "",
                format!(
                    "it is {} bytes; the limit is {MAX_MANIFEST_BYTES} bytes — a manifest describes the plugin, it does not carry data",
                    bytes.len()
                ),
            ));
        }
        let depth = json_depth(bytes);
        if depth > MAX_MANIFEST_DEPTH {
            return Err(ManifestError::new(
                "",
                format!(
                    "its JSON nests {depth} levels deep; a manifest nests at most {MAX_MANIFEST_DEPTH}"
                ),
            ));
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let manifest: PluginManifest =
            serde_path_to_error::deserialize(&mut de).map_err(from_serde_error)?;
        de.end().map_err(|e| {
            ManifestError::new(
                "",
                format!("unexpected content after the JSON object ({e})"),
            )
        })?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Checks every rule that the types alone do not express.
    pub fn validate(&self) -> Result<(), ManifestError> {
        check_entry_point(&self.entry_point, self.runtime)?;
        if self.provided_capabilities.is_empty() {
            return Err(ManifestError::new(
                "provided_capabilities",
                "it is empty; list the capabilities the plugin serves, e.g. [\"text.summarize\"]",
            ));
        }
        check_unique("provided_capabilities", &self.provided_capabilities)?;
        check_unique("required_capabilities", &self.required_capabilities)?;
        if let Some(own) = self
            .required_capabilities
            .iter()
            .find(|c| self.provided_capabilities.contains(c))
        {
            return Err(ManifestError::new(
                "required_capabilities",
                format!(
                    "\"{own}\" is also provided by this plugin; a plugin cannot require what it provides"
                ),
            ));
        }
        if self.dependencies.contains_key(&self.name) {
            return Err(ManifestError::new(
                "dependencies",
                format!(
                    "the plugin depends on itself (\"{}\"); remove that entry",
                    self.name
                ),
            ));
        }
        if let Some(action) = &self.compensating_action {
            if !self.provided_capabilities.contains(&action.capability) {
                return Err(ManifestError::new(
                    "compensating_action.capability",
                    format!(
                        "\"{}\" is not one of provided_capabilities; the compensating call must be one of the plugin's own capabilities",
                        action.capability
                    ),
                ));
            }
            if !(action.input.is_object() || action.input.is_null()) {
                return Err(ManifestError::new(
                    "compensating_action.input",
                    "give a JSON object (selfup adds \"upgrade_id\" and \"reason\" to it)",
                ));
            }
        }
        check_input_schemas(&self.input_schemas, &self.provided_capabilities)?;
        check_tool_names(&self.tool_names, &self.provided_capabilities, self.runtime)?;
        check_files(&self.files)?;
        self.resource_limits.validate()?;
        self.security_profile.validate()
    }

    /// The plugin's `name@version`, as users write it.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

impl ResourceLimits {
    fn validate(&self) -> Result<(), ManifestError> {
        let field = |f: &str| format!("resource_limits.{f}");
        if !(1..=MAX_WASM_MEMORY_MB).contains(&self.max_memory_mb) {
            return Err(ManifestError::new(
                &field("max_memory_mb"),
                format!(
                    "{} is outside 1–{MAX_WASM_MEMORY_MB}; give the memory cap in MiB",
                    self.max_memory_mb
                ),
            ));
        }
        if !(self.max_cpu_percent > 0.0 && self.max_cpu_percent <= 100.0) {
            return Err(ManifestError::new(
                &field("max_cpu_percent"),
                format!(
                    "{} is outside (0, 100]; give a percentage of one CPU",
                    self.max_cpu_percent
                ),
            ));
        }
        let t = self.max_execution_time_seconds;
        if !(t > 0.0 && t <= MAX_EXECUTION_TIME_SECONDS) {
            return Err(ManifestError::new(
                &field("max_execution_time_seconds"),
                format!(
                    "{t} is outside (0, {MAX_EXECUTION_TIME_SECONDS}]; give the per-call limit in seconds, e.g. 5 or 0.5"
                ),
            ));
        }
        Ok(())
    }
}

impl SecurityProfile {
    fn validate(&self) -> Result<(), ManifestError> {
        for (i, path) in self.allowed_file_paths.iter().enumerate() {
            let field = format!("security_profile.allowed_file_paths[{i}]");
            if path.is_empty() {
                return Err(ManifestError::new(
                    &field,
                    "it is empty; give a directory path",
                ));
            }
            if path.contains('\0') {
                return Err(ManifestError::new(&field, "it contains a NUL byte"));
            }
            if path.split(['/', '\\']).any(|part| part == "..") {
                return Err(ManifestError::new(
                    &field,
                    format!(
                        "\"{path}\" contains \"..\"; name the directory itself, without parent references"
                    ),
                ));
            }
        }
        for (i, host) in self.allowed_network_hosts.iter().enumerate() {
            if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '/') {
                return Err(ManifestError::new(
                    &format!("security_profile.allowed_network_hosts[{i}]"),
                    format!(
                        "\"{host}\" is not a host name; write a host or host:port, e.g. \"api.example.com:443\""
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn check_entry_point(entry: &str, runtime: Runtime) -> Result<(), ManifestError> {
    if entry.is_empty() {
        return Err(ManifestError::new(
            "entry_point",
            "it is empty; give the package-relative path of the code, e.g. \"plugin.wasm\"",
        ));
    }
    check_relative_path("entry_point", entry)?;
    if runtime == Runtime::Wasm && !entry.ends_with(".wasm") {
        return Err(ManifestError::new(
            "entry_point",
            format!("\"{entry}\" must name a .wasm component for runtime \"wasm\""),
        ));
    }
    Ok(())
}

/// Checks that `path` is a plain package-relative path: not absolute, `/`
/// separators, no NUL, no empty, `.` or `..` parts.
fn check_relative_path(field: &str, path: &str) -> Result<(), ManifestError> {
    let bad = |why: &str| ManifestError::new(field, format!("\"{path}\" {why}"));
    if path.starts_with('/') || path.starts_with('\\') || path.get(1..2) == Some(":") {
        return Err(bad(
            "is absolute; give a path relative to the package root, e.g. \"plugin.wasm\"",
        ));
    }
    if path.contains('\\') || path.contains('\0') {
        return Err(bad("must use '/' as separator and contain no NUL"));
    }
    if path
        .split('/')
        .any(|p| p.is_empty() || p == "." || p == "..")
    {
        return Err(bad(
            "must be a plain relative path inside the package (no \"..\", \".\" or empty parts)",
        ));
    }
    Ok(())
}

/// Checks `input_schemas`: each names a provided capability and is an
/// object schema (MCP tools take a JSON object).
fn check_input_schemas(
    schemas: &BTreeMap<CapabilityName, serde_json::Value>,
    provided: &[CapabilityName],
) -> Result<(), ManifestError> {
    for (capability, schema) in schemas {
        let field = format!("input_schemas[\"{capability}\"]");
        if !provided.contains(capability) {
            return Err(ManifestError::new(
                &field,
                format!(
                    "\"{capability}\" is not one of provided_capabilities; give schemas only for the capabilities the plugin serves"
                ),
            ));
        }
        let Some(object) = schema.as_object() else {
            return Err(ManifestError::new(
                &field,
                "give a JSON Schema object, e.g. {\"type\": \"object\", \"properties\": {...}}",
            ));
        };
        if object.get("type").and_then(|t| t.as_str()) != Some("object") {
            return Err(ManifestError::new(
                &field,
                "a capability's input is a JSON object: the schema needs \"type\": \"object\"",
            ));
        }
    }
    Ok(())
}

/// Longest MCP tool name accepted in `tool_names` (the MCP specification's
/// limit for tool names).
pub const MAX_TOOL_NAME_CHARS: usize = 128;

/// Checks `tool_names`: only for process plugins, each key a provided
/// capability, each value a plausible MCP tool name (1–128 characters, no
/// whitespace or control characters).
fn check_tool_names(
    names: &BTreeMap<CapabilityName, String>,
    provided: &[CapabilityName],
    runtime: Runtime,
) -> Result<(), ManifestError> {
    if names.is_empty() {
        return Ok(());
    }
    if runtime != Runtime::Process {
        return Err(ManifestError::new(
            "tool_names",
            "it maps capabilities to MCP tools, which only \"runtime\": \"process\" plugins have; remove it (a wasm plugin serves its capabilities by name)",
        ));
    }
    for (capability, tool) in names {
        let field = format!("tool_names[\"{capability}\"]");
        if !provided.contains(capability) {
            return Err(ManifestError::new(
                &field,
                format!(
                    "\"{capability}\" is not one of provided_capabilities; name tools only for the capabilities the plugin serves"
                ),
            ));
        }
        let chars = tool.chars().count();
        if chars == 0 || chars > MAX_TOOL_NAME_CHARS {
            return Err(ManifestError::new(
                &field,
                format!(
                    "a tool name has 1 to {MAX_TOOL_NAME_CHARS} characters; give the name the server lists in tools/list, e.g. \"get_current_time\""
                ),
            ));
        }
        if tool.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ManifestError::new(
                &field,
                format!(
                    "{tool:?} contains whitespace or a control character; give the name the server lists in tools/list, e.g. \"get_current_time\""
                ),
            ));
        }
    }
    Ok(())
}

/// Checks the `files` list: safe relative paths (never the manifest or its
/// signature, which the list cannot cover) mapped to lowercase hex SHA-256.
fn check_files(files: &BTreeMap<String, String>) -> Result<(), ManifestError> {
    for (path, hash) in files {
        let field = format!("files[{path:?}]");
        if path.is_empty() {
            return Err(ManifestError::new(
                "files",
                "it lists an empty path; give package-relative paths, e.g. \"plugin.wasm\"",
            ));
        }
        check_relative_path(&field, path)?;
        if path == MANIFEST_FILE || path == SIGNATURE_FILE {
            return Err(ManifestError::new(
                &field,
                format!(
                    "\"{path}\" cannot be listed: the list covers every file except {MANIFEST_FILE} and {SIGNATURE_FILE}; remove the entry (signing writes the list)"
                ),
            ));
        }
        if hash.len() != 64 || !hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(ManifestError::new(
                &field,
                format!(
                    "\"{hash}\" is not a SHA-256; give 64 lowercase hex digits (signing writes the list)"
                ),
            ));
        }
    }
    Ok(())
}

fn check_unique(field: &str, items: &[CapabilityName]) -> Result<(), ManifestError> {
    let mut seen = BTreeSet::new();
    for item in items {
        if !seen.insert(item) {
            return Err(ManifestError::new(
                field,
                format!("\"{item}\" is listed twice"),
            ));
        }
    }
    Ok(())
}

fn from_serde_error(err: serde_path_to_error::Error<serde_json::Error>) -> ManifestError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    let position = (inner.line() > 0).then(|| (inner.line(), inner.column()));
    let full = inner.to_string();
    // serde_json appends " at line L column C"; the position is shown in front.
    let text = match full.rfind(" at line ") {
        Some(at) => full[..at].to_owned(),
        None => full,
    };
    let (field, message) = if let Some(rest) = text.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        let field = if path == "." {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        };
        (field, format!("it is missing; {}", field_hint(name)))
    } else if text.starts_with("unknown field") {
        let unknown = text.split('`').nth(1).unwrap_or_default();
        let field = if path == "." {
            unknown.to_owned()
        } else {
            path.clone()
        };
        (field, format!("{text}; remove it or correct its spelling"))
    } else {
        // In a map keyed by name (`tool_names.text.summarize`) the keys are
        // not fields: the hint is the map's.
        let top = path.split(['.', '[']).next().unwrap_or_default();
        let name = if KEYED_MAPS.contains(&top) {
            top
        } else {
            let last = path.rsplit('.').next().unwrap_or_default();
            last.split('[').next().unwrap_or_default()
        };
        (path.clone(), format!("{text}; {}", field_hint(name)))
    };
    let field = if field == "." { String::new() } else { field };
    ManifestError {
        field,
        message,
        position,
    }
}

/// Top-level fields that map names (capabilities, plugins, paths) to values.
const KEYED_MAPS: [&str; 4] = ["dependencies", "input_schemas", "tool_names", "files"];

/// What a field holds, for error messages.
fn field_hint(name: &str) -> &'static str {
    match name {
        "name" => "give the plugin's name in lowercase kebab case, e.g. \"text-summarize\"",
        "version" => "give a semantic version MAJOR.MINOR.PATCH, e.g. \"1.0.0\"",
        "entry_point" => "give the package-relative path of the code, e.g. \"plugin.wasm\"",
        "provided_capabilities" | "required_capabilities" => {
            "give a list of capability names, e.g. [\"text.summarize\"]"
        }
        "dependencies" => {
            "give an object of plugin name to semver requirement, e.g. {\"text-stats\": \"^1.0\"}"
        }
        "runtime" => "give \"wasm\" or \"process\"",
        "max_memory_mb" => "give the memory cap in MiB as an integer, e.g. 64",
        "max_execution_time_seconds" => "give the per-call limit in seconds, e.g. 5 or 0.5",
        "max_cpu_percent" => "give a percentage of one CPU, e.g. 50",
        "max_file_descriptors" | "max_network_connections" => "give a non-negative integer",
        "allowed_file_paths" | "allowed_network_hosts" | "allowed_system_calls" => {
            "give a list of strings"
        }
        "require_code_signing" | "sandbox_enabled" => "give true or false",
        "resource_limits" | "security_profile" => "give an object with the documented fields",
        "input_schemas" => {
            "give an object of capability name to JSON Schema, e.g. {\"text.stats\": {\"type\": \"object\"}}"
        }
        "tool_names" => {
            "give an object of capability name to MCP tool name, e.g. {\"time.now\": \"get_current_time\"}"
        }
        "files" => {
            "give an object of package-relative path to lowercase hex SHA-256 (signing writes it)"
        }
        _ => "see the manifest reference in the README",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_schemas_are_object_schemas_of_provided_capabilities() {
        let schema =
            serde_json::json!({"type": "object", "properties": {"text": {"type": "string"}}});
        let m = parse(&with(
            "input_schemas",
            serde_json::json!({"text.summarize": schema.clone()}),
        ))
        .expect("valid schema");
        assert_eq!(m.input_schemas.len(), 1);
        assert!(parse(&base()).expect("no schemas").input_schemas.is_empty());
        let foreign = parse(&with(
            "input_schemas",
            serde_json::json!({"text.stats": schema}),
        ))
        .expect_err("not provided");
        assert_eq!(foreign.field, "input_schemas[\"text.stats\"]");
        for bad in [
            serde_json::json!({"type": "string"}),
            serde_json::json!([1]),
        ] {
            let err = parse(&with(
                "input_schemas",
                serde_json::json!({"text.summarize": bad}),
            ))
            .expect_err("not an object schema");
            assert_eq!(err.field, "input_schemas[\"text.summarize\"]");
        }
    }

    #[test]
    fn tool_names_map_provided_capabilities_of_process_plugins() {
        let process = |names: serde_json::Value| {
            let mut v = with("tool_names", names);
            v["runtime"] = "process".into();
            v["entry_point"] = "server.py".into();
            parse(&v)
        };
        let m = process(serde_json::json!({"text.summarize": "summarize_text"})).expect("valid");
        let capability = CapabilityName::new("text.summarize").expect("name");
        assert_eq!(m.tool_names[&capability], "summarize_text");
        let text = serde_json::to_string(&m).expect("json");
        assert_eq!(
            PluginManifest::from_json(text.as_bytes()).expect("again"),
            m
        );
        let plain = serde_json::to_string(&parse(&base()).expect("valid")).expect("json");
        assert!(!plain.contains("tool_names"), "{plain}");

        let wasm = parse(&with(
            "tool_names",
            serde_json::json!({"text.summarize": "summarize_text"}),
        ))
        .expect_err("wasm has no tools");
        assert_eq!(
            wasm.to_string(),
            "manifest.json: field `tool_names`: it maps capabilities to MCP tools, which only \"runtime\": \"process\" plugins have; remove it (a wasm plugin serves its capabilities by name)"
        );
        let cases = [
            (
                serde_json::json!({"text.stats": "stats"}),
                "manifest.json: field `tool_names[\"text.stats\"]`: \"text.stats\" is not one of provided_capabilities; name tools only for the capabilities the plugin serves",
            ),
            (
                serde_json::json!({"text.summarize": ""}),
                "manifest.json: field `tool_names[\"text.summarize\"]`: a tool name has 1 to 128 characters; give the name the server lists in tools/list, e.g. \"get_current_time\"",
            ),
            (
                serde_json::json!({"text.summarize": "x".repeat(129)}),
                "manifest.json: field `tool_names[\"text.summarize\"]`: a tool name has 1 to 128 characters; give the name the server lists in tools/list, e.g. \"get_current_time\"",
            ),
            (
                serde_json::json!({"text.summarize": "sum marize"}),
                "manifest.json: field `tool_names[\"text.summarize\"]`: \"sum marize\" contains whitespace or a control character; give the name the server lists in tools/list, e.g. \"get_current_time\"",
            ),
        ];
        for (names, expected) in cases {
            let err = process(names).expect_err(expected);
            assert_eq!(err.to_string(), expected);
        }
        let err = process(serde_json::json!({"text.summarize": 3})).expect_err("not a string");
        assert_eq!(err.field, "tool_names.text.summarize", "{err}");
        assert!(
            err.message.contains("capability name to MCP tool name"),
            "{err}"
        );
    }

    fn base() -> serde_json::Value {
        serde_json::json!({
            "name": "text-summarize",
            "version": "1.0.0",
            "description": "d",
            "author": "a",
            "runtime": "wasm",
            "entry_point": "plugin.wasm",
            "provided_capabilities": ["text.summarize"],
        })
    }

    fn parse(v: &serde_json::Value) -> Result<PluginManifest, ManifestError> {
        PluginManifest::from_json(v.to_string().as_bytes())
    }

    fn with(path: &str, value: serde_json::Value) -> serde_json::Value {
        let mut v = base();
        let mut target = &mut v;
        let parts: Vec<&str> = path.split('.').collect();
        for p in &parts[..parts.len() - 1] {
            target = target
                .as_object_mut()
                .expect("object")
                .entry(p.to_string())
                .or_insert_with(|| serde_json::json!({}));
        }
        target
            .as_object_mut()
            .expect("object")
            .insert(parts[parts.len() - 1].to_owned(), value);
        v
    }

    #[test]
    fn minimal_manifest_takes_the_specification_defaults() {
        let m = parse(&base()).expect("valid");
        assert_eq!(m.resource_limits, ResourceLimits::default());
        assert_eq!(m.resource_limits.max_memory_mb, 512);
        assert!(m.security_profile.require_code_signing);
        assert_eq!(m.id(), "text-summarize@1.0.0");
    }

    #[test]
    fn errors_name_the_field_and_the_fix() {
        let cases = [
            (
                with("version", "1.0".into()),
                "manifest.json:1:159: field `version`: unexpected end of input while parsing minor version number; give a semantic version MAJOR.MINOR.PATCH, e.g. \"1.0.0\"",
            ),
            (
                with("resource_limits.max_memory_mb", "lots".into()),
                "manifest.json:1:168: field `resource_limits.max_memory_mb`: invalid type: string \"lots\", expected u64; give the memory cap in MiB as an integer, e.g. 64",
            ),
            (
                with("resource_limits.max_memory_mb", 0.into()),
                "manifest.json: field `resource_limits.max_memory_mb`: 0 is outside 1–4096; give the memory cap in MiB",
            ),
            (
                with("colour", "red".into()),
                "manifest.json:1:22: field `colour`: unknown field `colour`, expected one of `name`, `version`, `description`, `author`, `runtime`, `entry_point`, `required_capabilities`, `provided_capabilities`, `dependencies`, `resource_limits`, `security_profile`, `compensating_action`, `input_schemas`, `tool_names`, `files`; remove it or correct its spelling",
            ),
            (
                with("entry_point", "../x.wasm".into()),
                "manifest.json: field `entry_point`: \"../x.wasm\" must be a plain relative path inside the package (no \"..\", \".\" or empty parts)",
            ),
            (
                with("entry_point", "/abs.wasm".into()),
                "manifest.json: field `entry_point`: \"/abs.wasm\" is absolute; give a path relative to the package root, e.g. \"plugin.wasm\"",
            ),
            (
                with("provided_capabilities", serde_json::json!([])),
                "manifest.json: field `provided_capabilities`: it is empty; list the capabilities the plugin serves, e.g. [\"text.summarize\"]",
            ),
            (
                with("runtime", "docker".into()),
                "manifest.json:1:145: field `runtime`: unknown variant `docker`, expected `wasm` or `process`; give \"wasm\" or \"process\"",
            ),
            (
                with(
                    "security_profile.allowed_file_paths",
                    serde_json::json!(["/data/../etc"]),
                ),
                "manifest.json: field `security_profile.allowed_file_paths[0]`: \"/data/../etc\" contains \"..\"; name the directory itself, without parent references",
            ),
        ];
        for (input, expected) in cases {
            let err = parse(&input).expect_err(expected);
            assert_eq!(err.to_string(), expected);
        }
    }

    #[test]
    fn missing_required_field_is_named() {
        let mut v = base();
        v.as_object_mut().expect("object").remove("name");
        let err = parse(&v).expect_err("missing name");
        assert_eq!(err.field, "name");
        assert!(err.message.contains("lowercase kebab case"), "{err}");
    }

    #[test]
    fn bad_names_are_refused_with_the_rule() {
        let err = parse(&with("name", "Text".into())).expect_err("bad name");
        assert_eq!(err.field, "name");
        assert!(
            err.message.contains("must start with a lowercase letter"),
            "{err}"
        );
        let err = parse(&with(
            "provided_capabilities",
            serde_json::json!(["a", "a"]),
        ))
        .expect_err("dup");
        assert_eq!(
            err.to_string(),
            "manifest.json: field `provided_capabilities`: \"a\" is listed twice"
        );
    }

    #[test]
    fn oversized_and_trailing_content_are_refused() {
        let big = vec![b' '; MAX_MANIFEST_BYTES + 1];
        assert!(
            PluginManifest::from_json(&big)
                .unwrap_err()
                .message
                .contains("limit is 65536")
        );
        let text = format!("{} {{}}", base());
        assert!(PluginManifest::from_json(text.as_bytes()).is_err());
    }

    #[test]
    fn the_files_list_is_checked_and_round_trips() {
        let hash = "0123456789abcdef".repeat(4);
        let m = parse(&with(
            "files",
            serde_json::json!({"plugin.wasm": hash, "data/words.txt": hash}),
        ))
        .expect("valid");
        assert_eq!(m.files.len(), 2);
        let again =
            PluginManifest::from_json(&serde_json::to_vec(&m).expect("json")).expect("again");
        assert_eq!(again, m);
        let plain = parse(&base()).expect("valid");
        let text = serde_json::to_string(&plain).expect("json");
        assert!(!text.contains("\"files\""), "{text}");

        let cases = [
            (
                serde_json::json!({"../x.wasm": hash}),
                "manifest.json: field `files[\"../x.wasm\"]`: \"../x.wasm\" must be a plain relative path inside the package (no \"..\", \".\" or empty parts)",
            ),
            (
                serde_json::json!({"/etc/passwd": hash}),
                "manifest.json: field `files[\"/etc/passwd\"]`: \"/etc/passwd\" is absolute; give a path relative to the package root, e.g. \"plugin.wasm\"",
            ),
            (
                serde_json::json!({"manifest.json": hash}),
                "manifest.json: field `files[\"manifest.json\"]`: \"manifest.json\" cannot be listed: the list covers every file except manifest.json and manifest.json.minisig; remove the entry (signing writes the list)",
            ),
            (
                serde_json::json!({"plugin.wasm": hash.to_uppercase()}),
                "manifest.json: field `files[\"plugin.wasm\"]`: \"0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\" is not a SHA-256; give 64 lowercase hex digits (signing writes the list)",
            ),
            (
                serde_json::json!({"plugin.wasm": "abc"}),
                "manifest.json: field `files[\"plugin.wasm\"]`: \"abc\" is not a SHA-256; give 64 lowercase hex digits (signing writes the list)",
            ),
        ];
        for (files, expected) in cases {
            let err = parse(&with("files", files)).expect_err(expected);
            assert_eq!(err.to_string(), expected);
        }
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let err = PluginManifest::from_json(deep.as_bytes()).expect_err("deep");
        assert_eq!(
            err.to_string(),
            "manifest.json: its JSON nests 200 levels deep; a manifest nests at most 16"
        );
        assert_eq!(
            json_depth(br#"{"a": "[[[[[[[[[[[[[[[[[[[[", "b": [1, {"c": 2}]}"#),
            3
        );
    }

    #[test]
    fn fractional_time_limits_are_accepted() {
        let m = parse(&with(
            "resource_limits.max_execution_time_seconds",
            0.5.into(),
        ))
        .expect("valid");
        assert_eq!(m.resource_limits.max_execution_time_seconds, 0.5);
        assert!(
            parse(&with(
                "resource_limits.max_execution_time_seconds",
                0.into()
            ))
            .is_err()
        );
    }
}
