//! The orchestrator: runs cycles (scan the catalog, decide, start what is
//! approved within the caps, retention) every `cycle.interval_minutes`,
//! and carries upgrades forward and evaluates every rollout every
//! `rollout.evaluation_interval_ms`. On start-up it recovers whatever a
//! crash left in flight.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use selfup_core::clock::Clock;
use selfup_core::config::LoopConfig;
use selfup_plugins::wasm::WasmHost;
use selfup_store::{Store, StoreError};
use serde::Serialize;

use crate::catalog::{Catalog, CatalogError, IndexTrust};
use crate::decide::DecisionEngine;
use crate::install::InstallError;
use crate::progress::{CycleProgress, Silent};
use crate::rollout::stats::RolloutStats;
use selfup_plugins::signing::PublicKey;

/// Where the catalog is.
#[derive(Debug, Clone, Default)]
pub struct CatalogSource {
    /// A directory of packages.
    pub directory: Option<PathBuf>,
    /// An HTTP index.
    pub index_url: Option<String>,
}

/// One thing the loop did, for the timeline and the cycle report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// When (ms since the Unix epoch, on the loop's clock).
    pub ts_ms: i64,
    /// The upgrade concerned, if any.
    pub upgrade_id: Option<i64>,
    /// What happened, in words.
    pub text: String,
}

/// How often the loop scans the configured code paths (a day: code changes
/// slowly, and a scan of a large tree takes seconds of every core).
pub const CODE_SCAN_INTERVAL_MS: i64 = 86_400_000;

/// Code patterns the LLM analyses after a scan with new findings.
pub const ANALYSED_PER_SCAN: usize = 5;

/// Why the loop could not do something.
#[derive(Debug, thiserror::Error)]
pub enum OrchestratorError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The catalog could not be read.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// A package could not be installed.
    #[error(transparent)]
    Install(Box<InstallError>),
    /// The request does not fit the upgrade's state.
    #[error("{0}")]
    Refused(String),
    /// Discovery could not read what it needs.
    #[error(transparent)]
    Discovery(#[from] selfup_discovery::DiscoveryError),
}

impl From<InstallError> for OrchestratorError {
    fn from(e: InstallError) -> Self {
        OrchestratorError::Install(Box::new(e))
    }
}

/// Everything the loop works with.
pub struct LoopContext {
    /// The store.
    pub store: Arc<Store>,
    /// The configuration.
    pub config: LoopConfig,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// The sandbox validation replays run in.
    pub host: WasmHost,
    /// Where candidates come from.
    pub catalog: CatalogSource,
    /// For catalog indexes.
    pub http: reqwest::Client,
    /// The decision engine.
    pub engine: Arc<dyn DecisionEngine>,
    /// The LLM that writes capability specifications for gaps no package
    /// closes (with the `llm` and `hybrid` engines); none: no specifications.
    pub llm: Option<Arc<selfup_llm::LlmClient>>,
    /// Called after a change of routing (rollout started, advanced, ended),
    /// so an in-process gateway can reload at once instead of at its next
    /// refresh.
    pub on_routing_change: Option<Arc<dyn Fn() + Send + Sync>>,
    /// A pause after every state change (zero in production): lets a
    /// crash test kill the process between any two steps.
    pub step_pause: Duration,
}

/// The loop.
pub struct Orchestrator {
    pub(crate) ctx: LoopContext,
    pub(crate) rollout_stats: Mutex<HashMap<i64, RolloutStats>>,
    /// Gaps already reported in the timeline, with their severity then.
    reported_gaps: Mutex<HashMap<String, selfup_core::pattern::Severity>>,
    /// Who hears about the steps of a cycle.
    pub(crate) progress: Arc<dyn CycleProgress + Sync>,
}

impl Orchestrator {
    /// A loop over `ctx`.
    pub fn new(ctx: LoopContext) -> Self {
        Self {
            ctx,
            rollout_stats: Mutex::new(HashMap::new()),
            reported_gaps: Mutex::new(HashMap::new()),
            progress: Arc::new(Silent),
        }
    }

    /// Tells `progress` what each cycle is doing from now on.
    pub fn set_progress(&mut self, progress: Arc<dyn CycleProgress + Sync>) {
        self.progress = progress;
    }

    /// Takes the loop apart (to build another from what it worked with).
    pub fn into_context(self) -> LoopContext {
        self.ctx
    }

    /// What the loop works with.
    pub fn context(&self) -> &LoopContext {
        &self.ctx
    }

    pub(crate) fn now(&self) -> i64 {
        self.ctx.clock.now_ms()
    }

    /// Waits `step_pause` (a testing aid; zero in production).
    pub(crate) async fn pause(&self) {
        if !self.ctx.step_pause.is_zero() {
            tokio::time::sleep(self.ctx.step_pause).await;
        }
    }

    pub(crate) fn routing_changed(&self) {
        if let Some(f) = &self.ctx.on_routing_change {
            f();
        }
    }

    /// Reads the catalog (directory and index).
    pub async fn load_catalog(&self) -> Result<Catalog, OrchestratorError> {
        let mut catalog = Catalog::default();
        if let Some(dir) = &self.ctx.catalog.directory {
            if dir.is_dir() {
                catalog.merge(Catalog::from_directory(dir)?);
            } else {
                catalog.problems.push(format!(
                    "the catalog directory {} does not exist (catalog.directory)",
                    dir.display()
                ));
            }
        }
        if let Some(url) = &self.ctx.catalog.index_url {
            let security = &self.ctx.config.security;
            let keys = security
                .trusted_keys
                .iter()
                .map(|k| PublicKey::parse(k))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| OrchestratorError::Refused(format!("security.trusted_keys: {e}")))?;
            let trust = IndexTrust {
                require_signature: security.code_signing_required,
                keys,
                now_ms: self.now(),
            };
            catalog.merge(Catalog::from_index(url, &self.ctx.http, &trust).await?);
        }
        Ok(catalog)
    }

    /// One cycle: scan, decide, start what the caps allow, carry forward,
    /// retention. Returns what it did.
    pub async fn cycle(&self) -> Result<Vec<Change>, OrchestratorError> {
        let mut changes = Vec::new();
        self.progress.step("reading the catalog");
        let catalog = self.load_catalog().await?;
        for problem in &catalog.problems {
            tracing::warn!(%problem, "catalog package skipped");
        }
        let since = self.now() - 7 * 86_400_000;
        self.progress
            .step("analysing runtime behaviour, usage and capability gaps");
        let gaps = self.discover(&catalog, &mut changes)?;
        self.scan_code(&mut changes).await?;
        if let Some(client) = &self.ctx.llm {
            self.progress
                .step("writing capability specifications for gaps (LLM)");
            let min = self.ctx.config.discovery.gap_analysis.min_gap_severity;
            changes.extend(
                crate::generator::write_specs(&self.ctx.store, client, &gaps, min, self.now())
                    .await?,
            );
        }
        self.progress.step("matching the catalog to the findings");
        let candidates = crate::scan::market_scan(&self.ctx.store, &catalog, since, &gaps)?;
        changes.extend(self.expire_approvals()?);
        let decided = self.decide_candidates(&candidates).await?;
        if !decided.is_empty() {
            self.pause().await;
        }
        changes.extend(decided);
        changes.extend(self.advance(&catalog).await?);
        self.progress.step("applying retention");
        changes.extend(self.retention()?);
        Ok(changes)
    }

    /// The code part of discovery: at most once per [`CODE_SCAN_INTERVAL_MS`],
    /// the configured `code_paths` that exist (relative ones from the working
    /// directory, as for `selfup patterns scan`) are scanned off the async
    /// threads and the result recorded in the pattern history. The timeline
    /// gets a line for the new findings. A scan that cannot run is logged, and
    /// the cycle goes on.
    async fn scan_code(&self, changes: &mut Vec<Change>) -> Result<(), OrchestratorError> {
        use selfup_discovery::code;
        let config = &self.ctx.config.discovery.pattern_recognition;
        let roots: Vec<std::path::PathBuf> = config
            .code_paths
            .iter()
            .map(std::path::PathBuf::from)
            .filter(|p| p.exists())
            .collect();
        if roots.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let last = self
            .ctx
            .store
            .last_pattern_scan_ms(selfup_discovery::CODE_SOURCE)?;
        if last.is_some_and(|at| now - at < CODE_SCAN_INTERVAL_MS) {
            return Ok(());
        }
        let known: std::collections::HashSet<String> = self
            .ctx
            .store
            .latest_patterns()?
            .into_iter()
            .filter(|(scan, _)| scan.source == selfup_discovery::CODE_SOURCE)
            .flat_map(|(_, patterns)| patterns.into_iter().map(|p| p.id))
            .collect();
        let options = code::ScanOptions::from_config(config);
        self.progress.step("scanning code for clones");
        let progress = self.progress.clone();
        let scanned =
            tokio::task::spawn_blocking(move || code::scan(&roots, &options, &*progress)).await;
        let report = match scanned {
            Ok(Ok(report)) => report,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "code scan skipped");
                return Ok(());
            }
            Err(e) => {
                tracing::warn!(error = %e, "code scan did not finish");
                return Ok(());
            }
        };
        self.ctx.store.record_patterns(
            selfup_discovery::CODE_SOURCE,
            now,
            &report.summary(),
            &report.patterns,
        )?;
        let new: Vec<_> = report
            .patterns
            .iter()
            .filter(|p| !known.contains(&p.id))
            .collect();
        // With an LLM, the new findings get its refactoring opportunities.
        if !new.is_empty()
            && let Some(client) = &self.ctx.llm
        {
            self.progress
                .step("asking the LLM about the new code patterns");
            match crate::analyser::analyse(&self.ctx.store, client, ANALYSED_PER_SCAN, now).await {
                Ok(analysis) => changes.push(Change {
                    ts_ms: now,
                    upgrade_id: None,
                    text: format!(
                        "LLM analysis of {} code patterns: {} refactoring opportunities (selfup patterns list)",
                        analysis.analysed.len(),
                        analysis.patterns.len()
                    ),
                }),
                Err(e) => tracing::warn!(error = %e, "code pattern analysis skipped"),
            }
        }
        if let Some(best) = new.first() {
            changes.push(Change {
                ts_ms: now,
                upgrade_id: None,
                text: format!(
                    "code scan: {} new finding{} in {} files; best [{}] {}",
                    new.len(),
                    if new.len() == 1 { "" } else { "s" },
                    report.files_scanned,
                    best.severity.label(),
                    best.description
                ),
            });
        }
        Ok(())
    }

    /// Discovery's part of a cycle: runtime behaviour and usage (recorded
    /// in the pattern history) and the capability gaps, whose suggested
    /// packages the market scan turns into proposals. The timeline gets the
    /// patterns the previous analysis did not have (the best five) and the
    /// gaps not reported before or grown more severe.
    fn discover(
        &self,
        catalog: &Catalog,
        changes: &mut Vec<Change>,
    ) -> Result<Vec<selfup_discovery::gaps::Gap>, OrchestratorError> {
        let config = &self.ctx.config.discovery;
        let now = self.now();
        let known: std::collections::HashSet<String> = self
            .ctx
            .store
            .latest_patterns()?
            .into_iter()
            .flat_map(|(_, patterns)| patterns.into_iter().map(|p| p.id))
            .collect();
        let runtime = selfup_discovery::analyze_runtime(&self.ctx.store, config, now)?;
        let offered: Vec<_> = catalog.entries.iter().map(|e| e.manifest.clone()).collect();
        let report = selfup_discovery::gaps::analyze_gaps(
            &self.ctx.store,
            config,
            &offered,
            runtime.as_ref().map(|r| &r.usage),
            now,
        )?;
        let mut found: Vec<&selfup_core::pattern::Pattern> = runtime
            .iter()
            .flat_map(|r| r.behavior.patterns.iter().chain(r.usage.patterns.iter()))
            .filter(|p| !known.contains(&p.id))
            .collect();
        found.sort_by(|a, b| b.opportunity_score().total_cmp(&a.opportunity_score()));
        for pattern in found.iter().take(5) {
            changes.push(Change {
                ts_ms: now,
                upgrade_id: None,
                text: format!(
                    "pattern [{}] {}: {}",
                    pattern.severity.label(),
                    pattern.kind.label(),
                    pattern.description
                ),
            });
        }
        let mut reported = self
            .reported_gaps
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for gap in &report.gaps {
            if reported
                .insert(gap.id.clone(), gap.severity)
                .is_some_and(|before| before >= gap.severity)
            {
                continue;
            }
            let closing: Vec<String> = gap
                .candidates
                .iter()
                .map(|c| format!("{}@{}", c.plugin, c.version))
                .collect();
            changes.push(Change {
                ts_ms: now,
                upgrade_id: None,
                text: format!(
                    "gap [{}] {}{}",
                    gap.severity.label(),
                    gap.title,
                    if closing.is_empty() {
                        String::new()
                    } else {
                        format!("; would be closed by {}", closing.join(", "))
                    }
                ),
            });
        }
        Ok(report.gaps)
    }

    /// Carries approved, planned and validating upgrades forward, and
    /// evaluates every rollout.
    pub async fn tick(&self) -> Result<Vec<Change>, OrchestratorError> {
        let catalog = self.load_catalog().await?;
        let mut changes = self.advance(&catalog).await?;
        changes.extend(self.evaluate_rollouts().await?);
        Ok(changes)
    }

    /// Runs until `shutdown` resolves: recovery first, then ticks every
    /// `rollout.evaluation_interval_ms` and cycles every
    /// `cycle.interval_minutes` (when `cycle.enabled`).
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) {
        match self.recover() {
            Ok(changes) => {
                for c in changes {
                    tracing::warn!(upgrade = ?c.upgrade_id, "{}", c.text);
                }
            }
            Err(e) => tracing::error!(error = %e, "recovery failed"),
        }
        let tick = Duration::from_millis(u64::from(
            self.ctx.config.rollout.evaluation_interval_ms.max(1),
        ));
        let interval_ms = i64::from(self.ctx.config.cycle.interval_minutes.max(1)) * 60_000;
        let mut next_cycle = self.now();
        tokio::pin!(shutdown);
        loop {
            let result = if self.ctx.config.cycle.enabled && self.now() >= next_cycle {
                next_cycle = self.now() + interval_ms;
                self.cycle().await
            } else {
                self.tick().await
            };
            match result {
                Ok(changes) => {
                    for c in changes {
                        tracing::info!(upgrade = ?c.upgrade_id, "{}", c.text);
                    }
                }
                Err(e) => tracing::error!(error = %e, "the loop step failed; it is retried"),
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(tick) => {}
            }
        }
    }
}
