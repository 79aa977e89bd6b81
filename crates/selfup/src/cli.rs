//! The command line, as clap sees it.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// selfup — the self-upgrading loop for an AI agent: runs its capabilities
/// in sandboxed plugins, measures every call, and upgrades them safely.
#[derive(Debug, Parser)]
#[command(name = "selfup", version, about, long_about = None)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file (YAML). Default: <home>/config.yaml if present,
    /// otherwise the built-in defaults.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The selfup home: database, artifacts, logs. Default: the platform's
    /// data directory (ProgramData\OpenClaw\SelfUpgradingLoop on Windows,
    /// $XDG_DATA_HOME/selfup on Linux).
    #[arg(long, global = true, env = "SELFUP_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check or show the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Install, list, call and remove plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Serve the HTTP gateway.
    Serve(ServeArgs),
    /// Serve MCP on stdin/stdout (for an agent that starts selfup as an MCP
    /// server); logs go to stderr.
    Mcp,
    /// Read the telemetry.
    #[command(subcommand)]
    Telemetry(TelemetryCommand),
    /// Run the service: the gateway and the loop in one process.
    Run(RunArgs),
    /// Run one cycle of the loop now and print what it found and did.
    Cycle,
    /// What the catalog offers.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Upgrades: list, show, approve, reject.
    #[command(subcommand)]
    Upgrades(UpgradesCommand),
    /// Roll an upgrade back.
    Rollback(RollbackArgs),
    /// Experiments (the A/B tests of rollouts).
    #[command(subcommand)]
    Experiments(ExperimentsCommand),
    /// Patterns in code, runtime behaviour and usage, ranked by opportunity.
    #[command(subcommand)]
    Patterns(PatternsCommand),
    /// Capability gaps: what the agent was asked for and could not do.
    Gaps(GapsArgs),
    /// Capability specifications the LLM wrote for gaps no package closes.
    #[command(subcommand)]
    Specs(SpecsCommand),
    /// The notification delivery log (webhooks and email), newest first.
    Notifications(NotificationsArgs),
    /// selfup as a system service (systemd on Linux, a Windows service on Windows).
    Service(ServiceArgs),
    /// Make a key pair for signing packages (minisign format).
    Keygen(KeygenArgs),
    /// API tokens for the endpoints that change state.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Statistics calculator: the tests the rollout gates use.
    #[command(subcommand)]
    Stats(StatsCommand),
    /// Check the service, store, plugins, recent rollbacks, disk and logs,
    /// and say what to do about each problem (exit 0 ok, 1 warnings, 2 failures).
    Doctor(DoctorArgs),
    /// Run the demo: a fresh home, the example plugins, a simulated agent
    /// workload over HTTP, and the telemetry summary.
    Demo(DemoArgs),
}

/// `selfup config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check a configuration file: exit 0 if valid, 2 with every problem if not.
    Check {
        /// The file to check.
        file: PathBuf,
    },
    /// Print the effective configuration (defaults filled in) as YAML.
    Show,
}

/// `selfup plugin …`
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Install a plugin package (a directory or a .zip).
    Install {
        /// The package.
        path: PathBuf,
        /// Make this version the active provider of all its capabilities
        /// (otherwise it serves only capabilities nobody serves yet).
        #[arg(long)]
        activate: bool,
    },
    /// List installed plugins.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Make an installed version the active provider of its capabilities.
    Activate {
        /// NAME@VERSION
        plugin: String,
    },
    /// Remove a plugin version, or all versions of a plugin.
    Remove {
        /// NAME or NAME@VERSION
        plugin: String,
    },
    /// Ask installed plugins whether they are healthy.
    Health {
        /// Only this plugin.
        name: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Sign a package (a directory in place, or a zip) with a secret key.
    Sign {
        /// The package.
        package: PathBuf,
        /// The secret key file (from `selfup keygen` or `minisign -G`).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Environment variable holding the key's password, if it has one.
        #[arg(long, value_name = "VAR")]
        password_env: Option<String>,
        /// Write the signed zip here instead of over the original.
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
    },
    /// Verify a package's signature against security.trusted_keys (and --key).
    Verify {
        /// The package.
        package: PathBuf,
        /// A public key file to trust as well.
        #[arg(long, value_name = "FILE")]
        key: Vec<PathBuf>,
    },
    /// Scan a package or directory for what security.* forbids.
    Scan {
        /// The package or directory.
        path: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Call a capability and print its JSON output.
    Call {
        /// The capability, e.g. text.summarize.
        capability: String,
        /// The request, as JSON.
        #[arg(long, value_name = "JSON")]
        input: String,
        /// Who the call is for (kept only as a hash).
        #[arg(long, value_name = "S", default_value = "cli")]
        subject: String,
    },
}

/// `selfup serve`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Default: gateway.bind from the configuration
    /// (127.0.0.1:8787).
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<SocketAddr>,
}

/// `selfup telemetry …`
#[derive(Debug, Subcommand)]
pub enum TelemetryCommand {
    /// Calls, error rate and latency percentiles per capability and version.
    Summary {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Only calls in the last N minutes.
        #[arg(long, value_name = "MINUTES")]
        since_minutes: Option<u64>,
    },
}

/// `selfup demo`
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the packed example plugins are (`cargo xtask plugins` output).
    #[arg(long, value_name = "DIR", default_value = "target/plugins")]
    pub plugins: PathBuf,
    /// Days of agent traffic to simulate (on a virtual clock).
    #[arg(long, default_value_t = 15)]
    pub days: u32,
    /// Calls per simulated hour.
    #[arg(long, default_value_t = 100)]
    pub calls_per_hour: usize,
    /// Keep the demo's home directory here instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub keep_home: Option<PathBuf>,
    /// The public key the demo trusts (the example plugins are signed with
    /// the development key).
    #[arg(long, value_name = "FILE", default_value = "keys/dev.pub")]
    pub trust: PathBuf,
    /// Who decides: rule_based (the default here), llm or hybrid.
    #[arg(long, value_parser = ["rule_based", "llm", "hybrid"], default_value = "rule_based")]
    pub engine: String,
    /// The OpenAI-compatible API the llm and hybrid engines ask (default:
    /// decision.llm.base_url); `cargo xtask demo --llm` starts one on
    /// loopback and passes it here.
    #[arg(long, value_name = "URL")]
    pub llm_base_url: Option<String>,
    /// Write the HTML report here (default: report.html in --keep-home,
    /// else selfup-demo-report.html in the temporary directory).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// `selfup stats …` (two-sided tests; `--json` prints the result as JSON).
#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// Two-proportion z-test: --a 5/83 --b 12/99 (effect = a − b).
    Ztest {
        /// Arm a as successes/trials.
        #[arg(long)]
        a: String,
        /// Arm b as successes/trials.
        #[arg(long)]
        b: String,
        /// Use the unpooled (Wald) standard error instead of the pooled one.
        #[arg(long)]
        unpooled: bool,
        /// Significance level of the confidence interval.
        #[arg(long, default_value_t = 0.05)]
        alpha: f64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Welch's t-test from summaries: --a n,mean,sd --b n,mean,sd.
    Welch {
        /// Arm a as n,mean,sd.
        #[arg(long)]
        a: String,
        /// Arm b as n,mean,sd.
        #[arg(long)]
        b: String,
        /// Significance level of the confidence interval.
        #[arg(long, default_value_t = 0.05)]
        alpha: f64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Mann–Whitney U with the Hodges–Lehmann shift: --a FILE --b FILE
    /// (one number per line; `#` starts a comment).
    Mannwhitney {
        /// File with arm a's values.
        #[arg(long)]
        a: PathBuf,
        /// File with arm b's values.
        #[arg(long)]
        b: PathBuf,
        /// Significance level of the shift's confidence interval.
        #[arg(long, default_value_t = 0.05)]
        alpha: f64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Sample-ratio mismatch: --counts 1000,1200 --weights 0.5,0.5.
    Srm {
        /// Observed count per arm.
        #[arg(long)]
        counts: String,
        /// Configured weight per arm.
        #[arg(long)]
        weights: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Power, sample size or minimum detectable effect.
    Power {
        /// Baseline rate of a proportion metric.
        #[arg(long, conflicts_with = "sd")]
        baseline: Option<f64>,
        /// Standard deviation of a mean metric.
        #[arg(long)]
        sd: Option<f64>,
        /// Absolute effect to detect.
        #[arg(long)]
        effect: Option<f64>,
        /// Observations per arm.
        #[arg(long)]
        n: Option<u64>,
        /// Significance level.
        #[arg(long, default_value_t = 0.05)]
        alpha: f64,
        /// Target power.
        #[arg(long, default_value_t = 0.8)]
        power: f64,
        /// Plan for the sequential (always-valid) test.
        #[arg(long)]
        sequential: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Sticky assignment bucket (GrowthBook hash v2) of a subject.
    Hash {
        /// The experiment's seed.
        #[arg(long)]
        seed: String,
        /// The subject.
        #[arg(long)]
        subject: String,
        /// Arm weights, to also name the arm.
        #[arg(long)]
        weights: Option<String>,
        /// Share of subjects in the experiment (0–1).
        #[arg(long)]
        coverage: Option<f64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `selfup doctor`
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `selfup run`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Address the gateway listens on (default: gateway.bind).
    #[arg(long, value_name = "ADDR", conflicts_with = "loop_only")]
    pub bind: Option<SocketAddr>,
    /// Run only the loop (with `selfup serve` as a second process on the same home).
    #[arg(long)]
    pub loop_only: bool,
}

/// `selfup catalog …`
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// List the packages the catalog offers.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Write a signed, expiring index (index.json + index.json.minisig) of
    /// the .zip packages in a directory, to serve over HTTP.
    Publish {
        /// The directory of packages; the index is written into it.
        dir: PathBuf,
        /// The secret key to sign the index with.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Environment variable holding the key's password, if it has one.
        #[arg(long, value_name = "VAR")]
        password_env: Option<String>,
        /// Days until the index expires (clients refuse a stale index).
        #[arg(long, default_value_t = 7)]
        expires_in_days: u32,
    },
}

/// `selfup upgrades …`
#[derive(Debug, Subcommand)]
pub enum UpgradesCommand {
    /// List upgrades.
    List {
        /// Only those waiting for a human (awaiting approval or deferred).
        #[arg(long)]
        pending: bool,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one upgrade with its whole trail.
    Show {
        /// The upgrade id.
        id: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Approve an upgrade that awaits approval (or was deferred).
    Approve {
        /// The upgrade id.
        id: i64,
        /// Why (kept in the audit trail).
        #[arg(long)]
        reason: String,
    },
    /// Reject an upgrade.
    Reject {
        /// The upgrade id.
        id: i64,
        /// Why (kept in the audit trail).
        #[arg(long)]
        reason: String,
    },
}

/// `selfup rollback`
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The upgrade to roll back.
    pub id: i64,
    /// full: the whole snapshot; partial: the capabilities it touched;
    /// compensating: the plugin's compensating action, then partial.
    #[arg(long, value_enum, default_value = "partial")]
    pub strategy: StrategyArg,
    /// Why (kept in the audit trail).
    #[arg(long, default_value = "rolled back by hand")]
    pub reason: String,
}

/// A rollback strategy on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum StrategyArg {
    /// Restore the whole snapshot.
    Full,
    /// Restore the capabilities the upgrade touched.
    Partial,
    /// Call the compensating action, then restore partially.
    Compensating,
}

/// `selfup experiments …`
#[derive(Debug, Subcommand)]
pub enum ExperimentsCommand {
    /// Arms, counts, each metric per stage with effect, interval and
    /// p-value, SRM, and the decision.
    Show {
        /// The upgrade whose rollout this is.
        id: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `selfup token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (once: only its hash is kept).
    Create {
        /// What or who uses it.
        #[arg(long, default_value = "agent")]
        name: String,
    },
    /// List tokens (never their secrets).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token.
    Revoke {
        /// The token's id (see `selfup token list`).
        id: i64,
    },
}

/// `selfup keygen`
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Directory to write NAME.key and NAME.pub to.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
    /// Base name of the key files.
    #[arg(long, default_value = "selfup")]
    pub name: String,
    /// Environment variable holding a password to encrypt the secret key with
    /// (without it, the secret key is written unencrypted).
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
}

/// `selfup patterns …`
#[derive(Debug, Subcommand)]
pub enum PatternsCommand {
    /// Scan source trees for clones and abstraction gaps.
    Scan(PatternsScanArgs),
    /// The patterns found lately (code, runtime, usage), best opportunity first.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// How the patterns found have changed over the last days.
    Trends {
        /// How many days to look back.
        #[arg(long, default_value_t = 7)]
        days: u32,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Ask the LLM (decision.llm) for refactoring opportunities in the
    /// best code patterns of the latest scan; recorded in the history.
    Analyze {
        /// How many code patterns to send.
        #[arg(long, default_value_t = 5)]
        limit: usize,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `selfup patterns scan`
#[derive(Debug, Args)]
pub struct PatternsScanArgs {
    /// Files or directories to scan (default: discovery.pattern_recognition.code_paths).
    pub paths: Vec<PathBuf>,
    /// Print JSON instead of a report.
    #[arg(long)]
    pub json: bool,
    /// Override discovery.pattern_recognition.scan_depth: shallow (whole
    /// functions), medium (+ statement blocks), deep (+ near-miss clones).
    #[arg(long, value_parser = ["shallow", "medium", "deep"])]
    pub depth: Option<String>,
    /// Also leave out paths matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Ignore discovery.pattern_recognition.exclude_patterns (`--exclude` still applies).
    #[arg(long)]
    pub no_config_excludes: bool,
    /// Patterns shown in the report (0: all; JSON always has all).
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

/// `selfup service`
#[derive(Debug, Args)]
pub struct ServiceArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ServiceCommand,
}

/// `selfup service …`
#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Install the service running `selfup run` on this home (and enable and
    /// start it when windows.service.start_type is auto). On Windows the home
    /// is windows.paths.base unless --home is given.
    Install {
        /// Print what would be installed (the systemd unit; on Windows the
        /// service, its command line, directories and registry entries).
        #[arg(long)]
        print: bool,
        /// Linux: write the unit here instead of /etc/systemd/system.
        #[arg(long, value_name = "DIR")]
        unit_dir: Option<PathBuf>,
        /// Linux: only write the unit: no systemctl daemon-reload, enable or start.
        #[arg(long)]
        no_enable: bool,
        /// Windows: register the service but do not start it now.
        #[arg(long)]
        no_start: bool,
    },
    /// Stop, disable and remove the service (the home and its data stay).
    Uninstall {
        /// Linux: the directory the unit was written to with --unit-dir (no systemctl).
        #[arg(long, value_name = "DIR")]
        unit_dir: Option<PathBuf>,
    },
    /// Start the service.
    Start,
    /// Stop the service (selfup finishes the current transaction first).
    Stop,
    /// Whether the service runs (exit 1 when it does not).
    Status,
    /// Windows: what the service control manager starts (`selfup run` as a
    /// Windows service); not for use from a console.
    #[command(hide = true)]
    Run,
}

/// `selfup notifications`
#[derive(Debug, Args)]
pub struct NotificationsArgs {
    /// Only deliveries in this state.
    #[arg(long, value_parser = ["pending", "delivered", "failed"])]
    pub status: Option<String>,
    /// How many (newest first).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `selfup specs`
#[derive(Debug, Subcommand)]
pub enum SpecsCommand {
    /// Every specification, newest first.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One specification, whole.
    Show {
        /// Its id (from `selfup specs list`).
        id: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `selfup gaps`
#[derive(Debug, Args)]
pub struct GapsArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}
