//! The lifecycle over HTTP, provided to the gateway by the loop.

use std::sync::Arc;

use selfup_core::clock::Clock;
use selfup_gateway::lifecycle::{LifecycleApi, LifecycleError};
use selfup_loop::experiment::analyse;
use selfup_loop::install::{InstallPolicy, install};
use selfup_loop::lifecycle::RollbackStrategy;
use selfup_loop::{Orchestrator, OrchestratorError};
use selfup_plugins::host::BoxFuture;
use selfup_store::StoreError;
use selfup_store::upgrades::UpgradeFilter;

/// The loop's lifecycle, as the gateway's HTTP API sees it.
pub struct LoopApi {
    /// The loop (running or not: approvals and rollbacks are transactions).
    pub orchestrator: Arc<Orchestrator>,
}

/// A store failure, for the gateway.
pub(crate) fn store_error(e: StoreError) -> LifecycleError {
    LifecycleError::Failed(e.to_string())
}

fn loop_error(e: OrchestratorError) -> LifecycleError {
    match e {
        OrchestratorError::Refused(m) if m.starts_with("there is no upgrade") => {
            LifecycleError::NotFound(m)
        }
        OrchestratorError::Refused(m) => LifecycleError::Refused(m),
        OrchestratorError::Store(StoreError::NotInstalled { what }) => {
            LifecycleError::NotFound(format!("there is no {what}; see GET /v1/upgrades"))
        }
        other => LifecycleError::Failed(other.to_string()),
    }
}

/// Runs `f` on the blocking pool (store reads and statistics).
async fn on_blocking_pool(
    f: impl FnOnce() -> Result<serde_json::Value, LifecycleError> + Send + 'static,
) -> Result<serde_json::Value, LifecycleError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| LifecycleError::Failed(format!("the task failed: {e}")))?
}

/// Converts to JSON for the gateway.
pub(crate) fn json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, LifecycleError> {
    serde_json::to_value(value).map_err(|e| LifecycleError::Failed(e.to_string()))
}

impl LoopApi {
    fn upgrade(&self, id: i64) -> Result<selfup_store::upgrades::Upgrade, LifecycleError> {
        self.orchestrator
            .context()
            .store
            .upgrade(id)
            .map_err(store_error)?
            .ok_or_else(|| {
                LifecycleError::NotFound(format!("there is no upgrade {id}; see GET /v1/upgrades"))
            })
    }
}

impl LifecycleApi for LoopApi {
    fn list(&self, pending: bool) -> BoxFuture<'_, Result<serde_json::Value, LifecycleError>> {
        Box::pin(async move {
            let filter = UpgradeFilter {
                states: if pending {
                    vec!["awaiting_approval", "deferred", "proposed"]
                } else {
                    Vec::new()
                },
                plugin: None,
            };
            json(
                &self
                    .orchestrator
                    .context()
                    .store
                    .upgrades(&filter)
                    .map_err(store_error)?,
            )
        })
    }

    fn show(&self, id: i64) -> BoxFuture<'_, Result<serde_json::Value, LifecycleError>> {
        Box::pin(async move {
            let upgrade = self.upgrade(id)?;
            let events = self
                .orchestrator
                .context()
                .store
                .upgrade_events(id)
                .map_err(store_error)?;
            Ok(serde_json::json!({ "upgrade": json(&upgrade)?, "events": json(&events)? }))
        })
    }

    fn experiment(&self, id: i64) -> BoxFuture<'_, Result<serde_json::Value, LifecycleError>> {
        Box::pin(async move {
            let upgrade = self.upgrade(id)?;
            let orchestrator = self.orchestrator.clone();
            on_blocking_pool(move || {
                let ctx = orchestrator.context();
                json(
                    &analyse(
                        &ctx.store,
                        &upgrade,
                        ctx.config.ab_testing.default_significance_level,
                    )
                    .map_err(store_error)?,
                )
            })
            .await
        })
    }

    fn gaps(&self) -> BoxFuture<'_, Result<serde_json::Value, LifecycleError>> {
        Box::pin(async move {
            let catalog = self.orchestrator.load_catalog().await.map_err(loop_error)?;
            let orchestrator = self.orchestrator.clone();
            on_blocking_pool(move || crate::dashboard::gaps(&orchestrator, &catalog)).await
        })
    }

    fn current_gates(&self, id: i64) -> BoxFuture<'_, Result<serde_json::Value, LifecycleError>> {
        Box::pin(async move {
            self.upgrade(id)?;
            let orchestrator = self.orchestrator.clone();
            on_blocking_pool(move || crate::dashboard::current_gates(&orchestrator, id)).await
        })
    }

    fn approve<'a>(
        &'a self,
        id: i64,
        who: &'a str,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<serde_json::Value, LifecycleError>> {
        Box::pin(async move {
            json(
                &self
                    .orchestrator
                    .approve(id, who, reason)
                    .map_err(loop_error)?,
            )
        })
    }

    fn reject<'a>(
        &'a self,
        id: i64,
        who: &'a str,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<serde_json::Value, LifecycleError>> {
        Box::pin(async move {
            json(
                &self
                    .orchestrator
                    .reject(id, who, reason)
                    .map_err(loop_error)?,
            )
        })
    }

    fn rollback<'a>(
        &'a self,
        id: i64,
        strategy: &'a str,
        who: &'a str,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<serde_json::Value, LifecycleError>> {
        Box::pin(async move {
            let strategy = match strategy {
                "full" => RollbackStrategy::Full,
                "compensating" => RollbackStrategy::Compensating,
                _ => RollbackStrategy::Partial,
            };
            json(
                &self
                    .orchestrator
                    .rollback(id, strategy, who, reason)
                    .await
                    .map_err(loop_error)?,
            )
        })
    }

    fn install(
        &self,
        package: Vec<u8>,
        activate: bool,
    ) -> BoxFuture<'_, Result<serde_json::Value, LifecycleError>> {
        Box::pin(async move {
            let ctx = self.orchestrator.context();
            let staging = ctx.store.home().staging_dir();
            std::fs::create_dir_all(&staging).map_err(|e| LifecycleError::Failed(e.to_string()))?;
            let mut file = tempfile::Builder::new()
                .suffix(".zip")
                .tempfile_in(&staging)
                .map_err(|e| LifecycleError::Failed(e.to_string()))?;
            std::io::Write::write_all(&mut file, &package)
                .map_err(|e| LifecycleError::Failed(e.to_string()))?;
            let clock: &dyn Clock = ctx.clock.as_ref();
            let policy = InstallPolicy::from_config(&ctx.config.security)
                .map_err(|e| LifecycleError::Failed(format!("security.trusted_keys: {e}")))?;
            match install(
                &ctx.store,
                &ctx.host,
                file.path(),
                activate,
                "http",
                clock,
                &policy,
            ) {
                Ok(done) => Ok(serde_json::json!({
                    "installed": done.id,
                    "active_for": done.activated,
                    "inactive_for": done.inactive,
                })),
                Err(e) if e.is_package_fault() => Err(LifecycleError::Refused(
                    e.to_string()
                        .replace(&file.path().display().to_string(), "the uploaded package"),
                )),
                Err(e) => Err(LifecycleError::Failed(e.to_string())),
            }
        })
    }
}
