//! The typed configuration: one struct per YAML section, field names as in the file.
//!
//! Every section takes the seed's values for missing keys (see `defaults.rs`); the rules
//! a value must follow live in `check.rs`. To add a key: a field here, its default in
//! `defaults.rs`, its rule in `check.rs`.

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The whole configuration file: `self_upgrading_loop` and `windows`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Everything the loop, the gateway and the host need.
    pub self_upgrading_loop: LoopConfig,
    /// Settings used only when running as a Windows service.
    pub windows: WindowsConfig,
}

/// The `self_upgrading_loop` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoopConfig {
    /// A human name for this installation.
    pub name: String,
    /// The version of this configuration's loop (semantic version).
    #[serde(with = "semver_string")]
    pub version: semver::Version,
    /// When and how often cycles run.
    pub cycle: CycleConfig,
    /// The DETECT and ANALYZE phases.
    pub discovery: DiscoveryConfig,
    /// The DECIDE phase.
    pub decision: DecisionConfig,
    /// A/B experiments run during rollout.
    pub ab_testing: AbTestingConfig,
    /// Staged rollout of an upgrade.
    pub rollout: RolloutConfig,
    /// Performance regressions an upgrade may not exceed.
    pub performance: PerformanceConfig,
    /// Snapshots and rollback.
    pub rollback: RollbackConfig,
    /// Signing, sandboxing and scanning of plugins.
    pub security: SecurityConfig,
    /// The log file.
    pub logging: LoggingConfig,
    /// Who hears about upgrades, and how.
    pub notifications: NotificationsConfig,
    /// The HTTP gateway (ours, not in the seed).
    pub gateway: GatewayConfig,
    /// The plugin host (ours, not in the seed).
    pub host: HostConfig,
    /// The telemetry writer (ours, not in the seed).
    pub telemetry: TelemetryConfig,
    /// Where upgrade candidates come from (ours, not in the seed).
    pub catalog: CatalogConfig,
}

/// `self_upgrading_loop.cycle`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CycleConfig {
    /// Whether cycles run on their own.
    pub enabled: bool,
    /// Minutes between the starts of two cycles (at least 1).
    pub interval_minutes: u32,
    /// Upgrades rolling out at the same time (at least 1).
    pub max_concurrent_upgrades: u32,
    /// Upgrades started per day (at least 1).
    pub max_upgrades_per_day: u32,
}

impl CycleConfig {
    /// The time between the starts of two cycles.
    pub fn interval(&self) -> Duration {
        Duration::from_secs(u64::from(self.interval_minutes) * 60)
    }
}

/// `self_upgrading_loop.discovery`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscoveryConfig {
    /// Finding repeated code and behaviour.
    pub pattern_recognition: PatternRecognitionConfig,
    /// Finding what the agent cannot do yet.
    pub gap_analysis: GapAnalysisConfig,
    /// Runtime behaviour and usage analytics from telemetry (not in the
    /// specification's layout).
    pub runtime_analysis: RuntimeAnalysisConfig,
}

/// `self_upgrading_loop.discovery.runtime_analysis`: how runtime behaviour
/// and usage are read from telemetry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeAnalysisConfig {
    /// Whether runtime behaviour and usage are analysed.
    pub enabled: bool,
    /// Hours before the recent window that form the baseline.
    pub baseline_window_hours: u32,
    /// The most recent hours, compared against the baseline.
    pub recent_window_hours: u32,
    /// Significance level (one-sided) a change must reach to be a pattern.
    pub significance: f64,
    /// Calls per window and version before anything about it is judged.
    pub min_calls: u32,
    /// A call by the same subject within this many seconds after another
    /// counts as "one then the other".
    pub sequence_gap_seconds: u32,
    /// A slower p95 latency matters only if it rose by at least this much.
    pub min_latency_increase_ms: f64,
    /// More CPU per call matters only if the median rose by at least this much.
    pub min_cpu_increase_ms: f64,
    /// More memory per call matters only if the median rose by at least this much.
    pub min_memory_increase_mb: f64,
}

/// `self_upgrading_loop.discovery.pattern_recognition`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PatternRecognitionConfig {
    /// Whether patterns are searched for.
    pub enabled: bool,
    /// How thoroughly code is scanned.
    pub scan_depth: ScanDepth,
    /// Occurrences before something counts as a pattern (at least 1).
    pub min_pattern_frequency: u32,
    /// Directories scanned for code patterns.
    pub code_paths: Vec<String>,
    /// Glob patterns of paths never scanned.
    pub exclude_patterns: Vec<String>,
    /// How alike two fragments must be (0–1) to count as near-miss clones.
    pub similarity_threshold: f64,
    /// The smallest fragment, in tokens, that counts as a clone.
    pub min_clone_tokens: u32,
}

/// How thoroughly pattern recognition scans code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanDepth {
    /// Names and signatures only.
    Shallow,
    /// Function bodies too.
    Medium,
    /// Everything, including call graphs.
    Deep,
}

/// `self_upgrading_loop.discovery.gap_analysis`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GapAnalysisConfig {
    /// Whether gaps are searched for.
    pub enabled: bool,
    /// Look at requests the agent could not serve.
    pub analyze_user_requests: bool,
    /// Look at failed calls.
    pub analyze_failures: bool,
    /// Look at capabilities available elsewhere.
    pub market_scan_enabled: bool,
    /// Gaps below this severity are ignored.
    pub min_gap_severity: Severity,
    /// How alike (cosine of term weights, 0–1) two unmet requests must be
    /// to count as asking for the same thing (not in the specification).
    pub request_similarity: f64,
}

/// The severity of a gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Nice to have.
    Low,
    /// Noticeable.
    Medium,
    /// Hurts users.
    High,
    /// Blocks users.
    Critical,
}

/// `self_upgrading_loop.decision`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecisionConfig {
    /// Who decides: rules, an LLM, or both.
    pub engine: DecisionEngine,
    /// Confidence (0–1) at or above which a proposal is approved without a human.
    pub auto_approve_threshold: f64,
    /// Risk (0–1) above which a human must approve.
    pub require_human_approval_above_risk: f64,
    /// The LLM used by the `llm` and `hybrid` engines.
    pub llm: LlmConfig,
    /// Hours a proposal may wait for a human before it is deferred (ours; at
    /// least 1).
    pub approval_expiry_hours: u32,
}

/// Which engine decides on proposals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionEngine {
    /// Fixed rules only.
    RuleBased,
    /// An LLM decides.
    Llm,
    /// Rules first, the LLM for what rules leave open.
    Hybrid,
}

/// `self_upgrading_loop.decision.llm`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    /// The model name sent to the API.
    pub model: String,
    /// Sampling temperature, 0–2.
    pub temperature: f64,
    /// How much the model thinks before answering.
    pub thinking_mode: ThinkingMode,
    /// The API's base URL, up to and including `/v1` (ours): OpenAI, or a
    /// local server speaking the same API (Ollama, llama.cpp, vLLM).
    pub base_url: String,
    /// The environment variable holding the API key (ours); unset or empty
    /// sends no `Authorization` header, as local servers expect.
    pub api_key_env: String,
    /// Most tokens one answer may use (ours; at least 1).
    pub max_tokens: u32,
    /// Seconds one request may take before it is abandoned (ours; more than 0).
    pub timeout_seconds: f64,
    /// Retries after a retryable failure (ours; the official SDKs' default is 2).
    pub max_retries: u32,
    /// Tokens (prompt and answer) the loop may spend per UTC day (ours; 0: no limit).
    pub daily_token_budget: u64,
    /// US dollars the loop may spend per UTC day (ours; 0: no limit).
    pub daily_cost_budget_usd: f64,
    /// Price of a million prompt tokens in US dollars (ours).
    pub input_cost_per_million_tokens: f64,
    /// Price of a million answer tokens in US dollars (ours).
    pub output_cost_per_million_tokens: f64,
    /// Whether the prompt and answer text are kept in the audit trail (ours;
    /// their hash, tokens, cost and the parsed decision always are).
    pub store_prompts: bool,
}

/// The reasoning effort asked of the LLM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThinkingMode {
    /// Little reasoning.
    Low,
    /// Some reasoning.
    Medium,
    /// Much reasoning.
    High,
}

/// `self_upgrading_loop.ab_testing`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AbTestingConfig {
    /// Whether rollouts are judged by A/B tests.
    pub enabled: bool,
    /// The false-positive rate alpha, in (0, 0.5].
    pub default_significance_level: f64,
    /// The chance to detect a real effect, in (0, 1).
    pub default_power: f64,
    /// Days after which an undecided experiment ends (at least 1).
    pub max_experiment_duration_days: u32,
    /// Calls per arm before any verdict (at least 2).
    pub min_sample_size: u64,
}

/// `self_upgrading_loop.rollout`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RolloutConfig {
    /// Whether upgrades are rolled out at all.
    pub enabled: bool,
    /// How an upgrade reaches users unless its plan says otherwise.
    pub default_strategy: RolloutStrategy,
    /// Roll back when a gate fails.
    pub auto_rollback_on_failure: bool,
    /// The stages of a gradual rollout, in order; traffic rises to 100.
    pub stages: Vec<Stage>,
    /// Milliseconds between two evaluations of every rollout's gates (ours).
    pub evaluation_interval_ms: u32,
}

/// How an upgrade reaches users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutStrategy {
    /// All traffic at once.
    Immediate,
    /// Through all stages.
    Gradual,
    /// A canary stage, then all traffic.
    Canary,
}

/// One stage of a rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// A unique, non-empty name.
    pub name: String,
    /// Percentage of live traffic (0–100) served by the new version; 0 is a shadow stage.
    pub traffic_percentage: f64,
    /// How long the stage lasts, in hours (more than 0).
    pub duration_hours: f64,
    /// Conditions the new version must meet to leave the stage.
    #[serde(default)]
    pub gates: Vec<Gate>,
}

impl Stage {
    /// How long the stage lasts; `None` if `duration_hours` is not a positive finite number.
    pub fn duration(&self) -> Option<Duration> {
        Duration::try_from_secs_f64(self.duration_hours * 3600.0).ok()
    }
}

/// A gate: a metric that must stay at or below a threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    /// What is measured.
    pub metric: GateMetric,
    /// The largest allowed value: a fraction for `error_rate`, milliseconds for latencies.
    pub threshold: f64,
}

/// A metric a gate can watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateMetric {
    /// Failed calls / all calls, 0–1.
    ErrorRate,
    /// 99th percentile latency, milliseconds.
    LatencyP99,
    /// 95th percentile latency, milliseconds.
    LatencyP95,
    /// Median latency, milliseconds.
    LatencyP50,
}

/// `self_upgrading_loop.performance`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PerformanceConfig {
    /// Whether upgrades are checked for regressions.
    pub enabled: bool,
    /// Largest allowed latency increase, percent (0–100).
    pub max_latency_regression_percent: f64,
    /// Largest allowed factor between new and old error rate (at least 1).
    pub max_error_rate_regression_multiplier: f64,
    /// Largest allowed memory increase, percent (0–100).
    pub max_memory_increase_percent: f64,
    /// Largest allowed CPU increase, percent (0–100).
    pub max_cpu_increase_percent: f64,
    /// A latency regression counts only when the median also rises by
    /// more than this many milliseconds (ours; at least 0): a 4 µs → 5 µs
    /// change is +25 % but nothing an agent would notice.
    pub min_latency_regression_ms: f64,
    /// The same floor for the median busy CPU time, in milliseconds (ours).
    pub min_cpu_regression_ms: f64,
    /// Recorded inputs replayed against incumbent and candidate (ours, at least 1).
    pub replay_samples: u32,
    /// Times each input is replayed on each side (ours, at least 1).
    pub replay_rounds: u32,
}

/// `self_upgrading_loop.rollback`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RollbackConfig {
    /// Whether snapshots are taken and rollback is possible.
    pub enabled: bool,
    /// Days a snapshot is kept (at least 1).
    pub snapshot_retention_days: u32,
    /// Roll back on its own when the evidence turns.
    pub auto_rollback_enabled: bool,
    /// The strategies tried, in order (unique, at least one).
    pub rollback_strategies: Vec<RollbackStrategy>,
}

/// A way to undo an upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RollbackStrategy {
    /// Restore the whole snapshot.
    Full,
    /// Restore only what the upgrade changed.
    Partial,
    /// Run compensating actions.
    Compensating,
}

/// `self_upgrading_loop.security`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// Refuse plugins without a valid signature.
    pub code_signing_required: bool,
    /// Run plugins in a sandbox.
    pub sandbox_enabled: bool,
    /// Seconds a static scan may take (at least 1).
    pub max_scan_time_seconds: u32,
    /// Imports or calls that fail a static scan.
    pub forbidden_imports: Vec<String>,
    /// Public keys (minisign format, the base64 line of a `.pub` file)
    /// whose signatures selfup accepts.
    pub trusted_keys: Vec<String>,
}

/// `self_upgrading_loop.logging`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoggingConfig {
    /// The least severe level written.
    pub level: LogLevel,
    /// The log file.
    pub file: String,
    /// Size in megabytes at which the file rotates (at least 1).
    pub max_size_mb: u32,
    /// Rotated files kept (0 keeps none).
    pub backup_count: u32,
    /// The line format (Python `logging` style, as in the seed).
    pub format: String,
}

/// A log level, spelled as Python's `logging` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LogLevel {
    /// Everything.
    Debug,
    /// Normal operation.
    Info,
    /// Something looks wrong.
    Warning,
    /// Something failed.
    Error,
    /// The service cannot go on.
    Critical,
}

/// `self_upgrading_loop.notifications`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationsConfig {
    /// Whether notifications are sent.
    pub enabled: bool,
    /// Where notifications go.
    pub channels: Vec<Channel>,
    /// Attempts per delivery before it is given up (ours; at least 1).
    pub max_attempts: u32,
    /// Seconds one delivery attempt may take (ours; more than 0).
    pub timeout_seconds: f64,
}

/// One notification channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    /// How the notification is delivered.
    #[serde(rename = "type")]
    pub kind: ChannelKind,
    /// The endpoint of a webhook channel (http:// or https://); email channels have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The events sent to this channel (at least one, each once).
    pub on_events: Vec<NotificationEvent>,
    /// Webhook: the environment variable holding the HMAC-SHA256 key that
    /// signs each body (ours; default `SELFUP_WEBHOOK_SECRET`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_env: Option<String>,
    /// Email: the SMTP relay (ours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpConfig>,
    /// Email: the sender address (ours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Email: the recipients (ours).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
}

/// How an email channel reaches its SMTP relay (ours).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpConfig {
    /// The relay's host name or address.
    pub host: String,
    /// Its port (587 for STARTTLS, 465 for TLS, 25 for plain).
    pub port: u16,
    /// How the connection is secured.
    pub security: SmtpSecurity,
    /// The environment variable holding the user name (unset: no login).
    pub username_env: String,
    /// The environment variable holding the password.
    pub password_env: String,
}

/// How an SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (required).
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
    /// No encryption (a relay on the same machine only).
    Plain,
}

/// How a notification is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// An email.
    Email,
    /// An HTTP POST of a JSON body.
    Webhook,
}

/// An event a channel can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationEvent {
    /// An upgrade was approved.
    UpgradeApproved,
    /// An upgrade reached 100% of traffic.
    UpgradeDeployed,
    /// An upgrade was rolled back.
    UpgradeRolledBack,
    /// An upgrade failed.
    UpgradeFailed,
    /// An upgrade waits for a human.
    ApprovalRequested,
}

/// `self_upgrading_loop.gateway` (ours).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayConfig {
    /// The IP address and port the HTTP gateway listens on.
    #[serde(with = "socket_addr_string")]
    pub bind: SocketAddr,
    /// Milliseconds between two reloads of the routing table (at least 1).
    pub router_refresh_ms: u32,
    /// Requests per second one client may make on average; 0 turns the limit off.
    pub rate_limit_per_second: u32,
    /// Requests one client may make in a burst.
    pub rate_limit_burst: u32,
    /// `Host` header values `/mcp` accepts, with or without a port (a guard
    /// against DNS rebinding); empty accepts any. Add the names remote
    /// clients use when `bind` is not loopback.
    pub mcp_allowed_hosts: Vec<String>,
}

/// `self_upgrading_loop.host` (ours).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HostConfig {
    /// Instances of one plugin kept at the same time (at least 1).
    pub max_instances_per_plugin: u32,
    /// Milliseconds between two epoch ticks of the wasm engine (at least 1).
    pub epoch_tick_ms: u32,
    /// Seconds a plugin's code may take to compile at install (more than 0).
    pub max_compile_seconds: f64,
}

/// `self_upgrading_loop.telemetry` (ours).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Records the writer's queue holds (at least 1).
    pub queue_capacity: u32,
    /// Records written in one transaction (1 to `queue_capacity`).
    pub max_batch: u32,
    /// Share of calls whose input is kept for replay (0–1; 0 keeps none).
    pub input_sample_rate: f64,
    /// Inputs kept per capability; newer ones replace older ones (at least 1).
    pub input_samples_per_capability: u32,
}

/// `self_upgrading_loop.catalog` (ours): where upgrade candidates come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CatalogConfig {
    /// A directory of packages (`.zip` files or package directories);
    /// relative paths are under the selfup home. Empty: none.
    pub directory: String,
    /// An HTTP(S) index of packages (JSON); empty: none.
    pub index_url: String,
}

/// The `windows` section.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WindowsConfig {
    /// The Windows service.
    pub service: WindowsServiceConfig,
    /// Where files live on Windows.
    pub paths: WindowsPaths,
}

/// `windows.service`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WindowsServiceConfig {
    /// The service name (no `/` or `\`, at most 256 characters).
    pub name: String,
    /// The name shown in the services console.
    pub display_name: String,
    /// The description shown in the services console.
    pub description: String,
    /// When the service starts.
    pub start_type: StartType,
}

/// When the Windows service starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartType {
    /// At boot.
    Auto,
    /// When started by hand.
    Manual,
    /// Never.
    Disabled,
}

/// `windows.paths`; `{base}` in a path stands for `base`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WindowsPaths {
    /// The directory everything else lives under.
    pub base: String,
    /// Installed plugins.
    pub plugins: String,
    /// The registry database.
    pub registry: String,
    /// Snapshots.
    pub snapshots: String,
    /// Log files.
    pub logs: String,
}

impl WindowsPaths {
    /// `path` with every `{base}` replaced by `base`.
    pub fn resolve(&self, path: &str) -> String {
        path.replace("{base}", &self.base)
    }
}

/// (De)serialises a [`semver::Version`] as its string, with a message that says the form.
mod semver_string {
    use serde::de::{Error as _, Unexpected};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &semver::Version, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<semver::Version, D::Error> {
        let text = String::deserialize(d)?;
        semver::Version::parse(&text).map_err(|_| {
            D::Error::invalid_value(
                Unexpected::Str(&text),
                &"a semantic version (MAJOR.MINOR.PATCH, e.g. 1.0.0)",
            )
        })
    }
}

/// (De)serialises a [`SocketAddr`] as `ip:port`, with a message that says the form.
mod socket_addr_string {
    use std::net::SocketAddr;

    use serde::de::{Error as _, Unexpected};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &SocketAddr, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(|_| {
            D::Error::invalid_value(
                Unexpected::Str(&text),
                &"a socket address (an IP address and a port, e.g. 127.0.0.1:8787 or [::1]:8787; \
                  host names are not allowed)",
            )
        })
    }
}
