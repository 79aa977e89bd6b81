//! Retention: snapshots older than `rollback.snapshot_retention_days` are
//! released (unless their upgrade is in flight), then artifacts that no
//! installed version and no live snapshot needs are deleted, and finished
//! notification deliveries older than the same number of days.

use selfup_store::artifacts::{ArtifactStore, is_hex_sha256};

use crate::orchestrator::{Change, Orchestrator, OrchestratorError};

impl Orchestrator {
    /// Releases expired snapshots and deletes unreferenced artifacts.
    pub fn retention(&self) -> Result<Vec<Change>, OrchestratorError> {
        let mut changes = Vec::new();
        let keep_ms = i64::from(self.ctx.config.rollback.snapshot_retention_days) * 86_400_000;
        let expired = self.ctx.store.expired_snapshots(self.now() - keep_ms)?;
        for id in &expired {
            self.ctx
                .store
                .write(self.now(), |tx| tx.release_snapshot(*id))?;
        }
        if !expired.is_empty() {
            changes.push(self.change(
                None,
                format!(
                    "released {} snapshots older than {} days",
                    expired.len(),
                    self.ctx.config.rollback.snapshot_retention_days
                ),
            ));
        }
        let pruned = self
            .ctx
            .store
            .prune_notification_deliveries(self.now() - keep_ms)?;
        if pruned > 0 {
            changes.push(self.change(
                None,
                format!("deleted {pruned} finished notification deliveries from the log"),
            ));
        }
        let artifacts = ArtifactStore::new(self.ctx.store.home().artifacts_dir());
        // Only artifacts older than an hour: an install in another process
        // writes its artifacts before it registers them.
        let stored = list_artifacts(
            &self.ctx.store.home().artifacts_dir(),
            std::time::Duration::from_secs(3600),
        );
        let unreferenced = self.ctx.store.unreferenced_artifacts(&stored)?;
        for hash in &unreferenced {
            artifacts.remove(hash)?;
        }
        if !unreferenced.is_empty() {
            changes.push(self.change(
                None,
                format!(
                    "deleted {} artifacts no plugin or snapshot needs",
                    unreferenced.len()
                ),
            ));
        }
        Ok(changes)
    }
}

/// Every artifact hash stored under `root` whose file is older than `min_age`.
fn list_artifacts(root: &std::path::Path, min_age: std::time::Duration) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(prefixes) = std::fs::read_dir(root.join("sha256")) else {
        return out;
    };
    for prefix in prefixes.flatten() {
        let Ok(files) = std::fs::read_dir(prefix.path()) else {
            continue;
        };
        for file in files.flatten() {
            let name = file.file_name().to_string_lossy().into_owned();
            let old_enough = file
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age >= min_age);
            if is_hex_sha256(&name) && old_enough {
                out.push(name);
            }
        }
    }
    out.sort();
    out
}
