//! The notification outbox: how far the notifier has read the upgrade
//! events (`notification_cursor`) and every delivery with its attempts
//! (`notification_deliveries`, the delivery log).
//!
//! Deliveries for a batch of events are enqueued in the same transaction
//! that advances the cursor, so a crash never loses an event nor enqueues
//! it twice; each delivery then moves `pending` → `delivered` | `failed`.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::{Store, StoreError};

/// An upgrade event as the notifier reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceEvent {
    /// Its id in `upgrade_events` (increasing).
    pub id: i64,
    /// The upgrade it is about.
    pub upgrade_id: i64,
    /// When it happened.
    pub ts_ms: i64,
    /// The state before, as stored (`rolling_out(2)`, …).
    pub from_state: Option<String>,
    /// The state after, as stored (`completed`, `rolled_back(reason)`, …).
    pub to_state: String,
    /// Who or what caused it (`human:alice`, `gate:error_rate`, …).
    pub actor: String,
    /// The evidence recorded with it.
    pub detail: serde_json::Value,
}

/// A delivery about to be enqueued.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    /// Its stable id (sent to the receiver, unique).
    pub delivery_id: String,
    /// The event name (`upgrade_deployed`, …).
    pub event: String,
    /// The upgrade it is about.
    pub upgrade_id: Option<i64>,
    /// The upgrade event it comes from.
    pub source_event_id: Option<i64>,
    /// The channel's index in the configuration.
    pub channel: usize,
    /// `webhook` or `email`.
    pub channel_kind: String,
    /// The URL or the recipients, for the log.
    pub destination: String,
    /// What is sent.
    pub payload: serde_json::Value,
}

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its (next) attempt.
    Pending,
    /// The receiver accepted it.
    Delivered,
    /// Given up.
    Failed,
}

impl DeliveryStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(DeliveryStatus::Pending),
            "delivered" => Some(DeliveryStatus::Delivered),
            "failed" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }
}

/// A delivery as stored: one line of the delivery log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    /// Its row id.
    pub id: i64,
    /// Its stable id (sent to the receiver).
    pub delivery_id: String,
    /// The event name.
    pub event: String,
    /// The upgrade it is about.
    pub upgrade_id: Option<i64>,
    /// The upgrade event it comes from.
    pub source_event_id: Option<i64>,
    /// The channel's index in the configuration.
    pub channel: usize,
    /// `webhook` or `email`.
    pub channel_kind: String,
    /// The URL or the recipients.
    pub destination: String,
    /// What is sent.
    pub payload: serde_json::Value,
    /// Where it is.
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at_ms: i64,
    /// When it is next due (pending only).
    pub next_attempt_ms: Option<i64>,
    /// When it was delivered or given up.
    pub finished_at_ms: Option<i64>,
}

/// How one attempt went.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptResult {
    /// The receiver accepted it.
    Delivered,
    /// A failure worth retrying at `next_attempt_ms` (given up instead once
    /// the attempts reach the maximum).
    Retry {
        /// What went wrong.
        error: String,
        /// When to try again.
        next_attempt_ms: i64,
    },
    /// A failure retrying cannot fix (the receiver refused it).
    Failed {
        /// What went wrong.
        error: String,
    },
}

const COLUMNS: &str = "id, delivery_id, event, upgrade_id, source_event_id, channel, channel_kind, destination, \
                       payload, status, attempts, last_error, created_at_ms, next_attempt_ms, finished_at_ms";

fn corrupt(detail: String) -> StoreError {
    StoreError::Corrupt {
        table: "notification_deliveries",
        detail,
    }
}

fn delivery_row(row: &Row<'_>) -> Result<Delivery, StoreError> {
    let id: i64 = row.get(0)?;
    let channel: i64 = row.get(5)?;
    let payload: String = row.get(8)?;
    let status: String = row.get(9)?;
    let attempts: i64 = row.get(10)?;
    Ok(Delivery {
        id,
        delivery_id: row.get(1)?,
        event: row.get(2)?,
        upgrade_id: row.get(3)?,
        source_event_id: row.get(4)?,
        channel: usize::try_from(channel)
            .map_err(|_| corrupt(format!("delivery {id}: channel {channel}")))?,
        channel_kind: row.get(6)?,
        destination: row.get(7)?,
        payload: serde_json::from_str(&payload)
            .map_err(|e| corrupt(format!("delivery {id}: payload: {e}")))?,
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("delivery {id}: status {status:?}")))?,
        attempts: u32::try_from(attempts)
            .map_err(|_| corrupt(format!("delivery {id}: attempts {attempts}")))?,
        last_error: row.get(11)?,
        created_at_ms: row.get(12)?,
        next_attempt_ms: row.get(13)?,
        finished_at_ms: row.get(14)?,
    })
}

fn collect(
    mut rows: rusqlite::Rows<'_>,
    f: impl Fn(&Row<'_>) -> Result<Delivery, StoreError>,
) -> Result<Vec<Delivery>, StoreError> {
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(f(row)?);
    }
    Ok(out)
}

impl Store {
    /// The id of the last upgrade event the notifier has read, if it ever ran.
    pub fn notification_cursor(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT last_event_id FROM notification_cursor WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Returns the cursor, first setting it to the latest upgrade event if
    /// the notifier never ran on this database (history is not notified).
    pub fn init_notification_cursor(&self) -> Result<i64, StoreError> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR IGNORE INTO notification_cursor (id, last_event_id)
             SELECT 1, COALESCE(MAX(id), 0) FROM upgrade_events",
            [],
        )?;
        Ok(conn.query_row(
            "SELECT last_event_id FROM notification_cursor WHERE id = 1",
            [],
            |r| r.get(0),
        )?)
    }

    /// Up to `limit` upgrade events after `after_id`, oldest first.
    pub fn upgrade_events_after(
        &self,
        after_id: i64,
        limit: usize,
    ) -> Result<Vec<SourceEvent>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, upgrade_id, ts_ms, from_state, to_state, actor, detail
             FROM upgrade_events WHERE id > ?1 ORDER BY id LIMIT ?2",
        )?;
        let mut rows = stmt.query(params![after_id, limit as i64])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let detail: String = row.get(6)?;
            out.push(SourceEvent {
                id,
                upgrade_id: row.get(1)?,
                ts_ms: row.get(2)?,
                from_state: row.get(3)?,
                to_state: row.get(4)?,
                actor: row.get(5)?,
                detail: serde_json::from_str(&detail).map_err(|e| StoreError::Corrupt {
                    table: "upgrade_events",
                    detail: format!("event {id}: {e}"),
                })?,
            });
        }
        Ok(out)
    }

    /// In one transaction: enqueues `deliveries` (all due at once) and moves
    /// the cursor from `from_cursor` to `to_cursor`. When the cursor is no
    /// longer at `from_cursor` (another notifier got there first) nothing is
    /// written and `None` is returned; otherwise the number of deliveries
    /// enqueued (a delivery id already present is skipped).
    pub fn enqueue_notifications(
        &self,
        now_ms: i64,
        from_cursor: i64,
        to_cursor: i64,
        deliveries: &[NewDelivery],
    ) -> Result<Option<usize>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let moved = tx.execute(
            "UPDATE notification_cursor SET last_event_id = ?2 WHERE id = 1 AND last_event_id = ?1",
            params![from_cursor, to_cursor],
        )?;
        if moved == 0 {
            return Ok(None);
        }
        let mut enqueued = 0;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO notification_deliveries
                   (delivery_id, event, upgrade_id, source_event_id, channel, channel_kind, destination,
                    payload, status, attempts, created_at_ms, next_attempt_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', 0, ?9, ?9)",
            )?;
            for d in deliveries {
                enqueued += insert.execute(params![
                    d.delivery_id,
                    d.event,
                    d.upgrade_id,
                    d.source_event_id,
                    d.channel as i64,
                    d.channel_kind,
                    d.destination,
                    d.payload.to_string(),
                    now_ms
                ])?;
            }
        }
        tx.commit()?;
        Ok(Some(enqueued))
    }

    /// Up to `limit` pending deliveries due at `now_ms`, the most overdue first.
    pub fn due_notification_deliveries(
        &self,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM notification_deliveries
             WHERE status = 'pending' AND next_attempt_ms <= ?1
             ORDER BY next_attempt_ms, id LIMIT ?2"
        ))?;
        let rows = stmt.query(params![now_ms, limit as i64])?;
        collect(rows, delivery_row)
    }

    /// Claims the due pending deliveries, at most `per_channel` of each
    /// channel (so one slow channel cannot crowd out the others): in one
    /// transaction, reads them (the most overdue first) and moves their
    /// `next_attempt_ms` to `lease_until_ms`, so that an attempt cut short
    /// by a crash is made again after the lease, and a second notifier on
    /// the same store does not attempt them at the same time.
    pub fn claim_notification_deliveries(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        per_channel: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let claimed = {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM (
                   SELECT *, ROW_NUMBER() OVER (PARTITION BY channel ORDER BY next_attempt_ms, id) AS rank
                   FROM notification_deliveries
                   WHERE status = 'pending' AND next_attempt_ms <= ?1)
                 WHERE rank <= ?2 ORDER BY next_attempt_ms, id"
            ))?;
            let rows = stmt.query(params![now_ms, per_channel as i64])?;
            collect(rows, delivery_row)?
        };
        {
            let mut lease = tx.prepare_cached(
                "UPDATE notification_deliveries SET next_attempt_ms = ?2 WHERE id = ?1",
            )?;
            for d in &claimed {
                lease.execute(params![d.id, lease_until_ms])?;
            }
        }
        tx.commit()?;
        Ok(claimed)
    }

    /// The earliest time a pending delivery is due, if any is pending.
    pub fn next_notification_due_ms(&self) -> Result<Option<i64>, StoreError> {
        Ok(self.conn().query_row(
            "SELECT MIN(next_attempt_ms) FROM notification_deliveries WHERE status = 'pending'",
            [],
            |r| r.get(0),
        )?)
    }

    /// Records one attempt of the pending delivery `id` and returns its new
    /// status: a retry becomes `failed` once `max_attempts` attempts are
    /// made. A delivery that is no longer pending is left as it is.
    pub fn record_notification_attempt(
        &self,
        id: i64,
        now_ms: i64,
        result: &AttemptResult,
        max_attempts: u32,
    ) -> Result<DeliveryStatus, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let current: Option<(String, i64)> = tx
            .query_row(
                "SELECT status, attempts FROM notification_deliveries WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((status, attempts)) = current else {
            return Err(StoreError::Refused(format!(
                "notification delivery {id} does not exist"
            )));
        };
        let status = DeliveryStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("delivery {id}: status {status:?}")))?;
        if status != DeliveryStatus::Pending {
            return Ok(status);
        }
        let attempts = attempts + 1;
        let (new_status, error, next) = match result {
            AttemptResult::Delivered => (DeliveryStatus::Delivered, None, None),
            AttemptResult::Retry {
                error,
                next_attempt_ms,
            } if attempts < i64::from(max_attempts) => (
                DeliveryStatus::Pending,
                Some(error.as_str()),
                Some(*next_attempt_ms),
            ),
            AttemptResult::Retry { error, .. } | AttemptResult::Failed { error } => {
                (DeliveryStatus::Failed, Some(error.as_str()), None)
            }
        };
        let finished = (new_status != DeliveryStatus::Pending).then_some(now_ms);
        tx.execute(
            "UPDATE notification_deliveries
             SET status = ?2, attempts = ?3, last_error = COALESCE(?4, last_error),
                 next_attempt_ms = ?5, finished_at_ms = ?6
             WHERE id = ?1",
            params![id, new_status.as_str(), attempts, error, next, finished],
        )?;
        tx.commit()?;
        Ok(new_status)
    }

    /// Deletes delivered and failed deliveries finished before `before_ms`;
    /// returns how many. Pending ones are kept whatever their age.
    pub fn prune_notification_deliveries(&self, before_ms: i64) -> Result<usize, StoreError> {
        let conn = self.conn();
        Ok(conn.execute(
            "DELETE FROM notification_deliveries
             WHERE status IN ('delivered', 'failed') AND finished_at_ms < ?1",
            [before_ms],
        )?)
    }

    /// The delivery log: the latest `limit` deliveries, newest first,
    /// optionally only those with `status`.
    pub fn notification_deliveries(
        &self,
        status: Option<DeliveryStatus>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM notification_deliveries
             WHERE (?1 IS NULL OR status = ?1) ORDER BY id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query(params![status.map(DeliveryStatus::as_str), limit as i64])?;
        collect(rows, delivery_row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Home;
    use crate::upgrades::NewUpgrade;
    use selfup_core::upgrade::{Actor, UpgradeKind, UpgradeState};

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&Home::new(dir.path())).expect("open");
        (dir, store)
    }

    fn propose(store: &Store, now_ms: i64) -> i64 {
        let new = NewUpgrade {
            kind: UpgradeKind::NewVersion,
            capability: "text.summarize".into(),
            plugin: "text-summarize".into(),
            from_version: Some(semver::Version::new(1, 0, 0)),
            to_version: semver::Version::new(2, 0, 0),
            source: "catalog".into(),
            opportunity: 0.9,
            risk: 0.1,
            evidence: serde_json::json!({}),
        };
        store
            .write::<_, StoreError>(now_ms, |tx| {
                let id = tx.insert_upgrade(&new, &Actor::Orchestrator)?;
                tx.transition(
                    id,
                    &UpgradeState::Approved,
                    &Actor::Human("alice".into()),
                    &serde_json::json!({}),
                    3,
                )?;
                Ok(id)
            })
            .expect("propose")
    }

    fn delivery(source: i64, channel: usize) -> NewDelivery {
        NewDelivery {
            delivery_id: format!("{source}-{channel}"),
            event: "upgrade_approved".into(),
            upgrade_id: Some(1),
            source_event_id: Some(source),
            channel,
            channel_kind: "webhook".into(),
            destination: "http://127.0.0.1:1/hook".into(),
            payload: serde_json::json!({"x": 1}),
        }
    }

    #[test]
    fn the_cursor_starts_at_the_latest_event_and_skips_history() {
        let (_dir, store) = store();
        propose(&store, 1_000);
        assert_eq!(store.notification_cursor().expect("cursor"), None);
        let cursor = store.init_notification_cursor().expect("init");
        assert_eq!(cursor, 2, "proposal and approval are history");
        assert!(
            store
                .upgrade_events_after(cursor, 100)
                .expect("events")
                .is_empty()
        );
        propose(&store, 2_000);
        assert_eq!(store.init_notification_cursor().expect("again"), 2);
        let events = store.upgrade_events_after(cursor, 100).expect("events");
        assert_eq!(
            events
                .iter()
                .map(|e| e.to_state.as_str())
                .collect::<Vec<_>>(),
            ["proposed", "approved"]
        );
        assert_eq!(events[1].actor, "human:alice");
    }

    #[test]
    fn enqueueing_moves_the_cursor_once_and_never_duplicates() {
        let (_dir, store) = store();
        let cursor = store.init_notification_cursor().expect("init");
        assert_eq!(cursor, 0);
        let batch = [delivery(1, 0), delivery(1, 1)];
        assert_eq!(
            store
                .enqueue_notifications(10, 0, 2, &batch)
                .expect("enqueue"),
            Some(2)
        );
        // A second notifier that read the same cursor writes nothing.
        assert_eq!(
            store
                .enqueue_notifications(10, 0, 2, &batch)
                .expect("again"),
            None
        );
        assert_eq!(store.notification_cursor().expect("cursor"), Some(2));
        assert_eq!(
            store
                .due_notification_deliveries(10, 10)
                .expect("due")
                .len(),
            2
        );
        assert!(
            store
                .due_notification_deliveries(9, 10)
                .expect("due")
                .is_empty()
        );
    }

    #[test]
    fn claiming_leases_at_most_n_per_channel() {
        let (_dir, store) = store();
        store.init_notification_cursor().expect("init");
        let batch: Vec<_> = (1..=3)
            .flat_map(|e| [delivery(e, 0), delivery(e, 1)])
            .collect();
        store
            .enqueue_notifications(0, 0, 3, &batch)
            .expect("enqueue");
        let claimed = store
            .claim_notification_deliveries(0, 500, 2)
            .expect("claim");
        assert_eq!(claimed.len(), 4);
        assert_eq!(claimed.iter().filter(|d| d.channel == 0).count(), 2);
        // Leased: the next claim before the lease ends gets only the rest.
        let rest = store
            .claim_notification_deliveries(0, 500, 2)
            .expect("claim");
        assert_eq!(rest.len(), 2);
        assert!(
            store
                .claim_notification_deliveries(499, 500, 9)
                .expect("claim")
                .is_empty()
        );
        assert_eq!(
            store
                .claim_notification_deliveries(500, 900, 9)
                .expect("claim")
                .len(),
            6
        );
    }

    #[test]
    fn pruning_deletes_only_finished_deliveries_older_than_the_cutoff() {
        let (_dir, store) = store();
        store.init_notification_cursor().expect("init");
        let batch: Vec<_> = (1..=3).map(|e| delivery(e, 0)).collect();
        store
            .enqueue_notifications(0, 0, 3, &batch)
            .expect("enqueue");
        let due = store.due_notification_deliveries(0, 10).expect("due");
        store
            .record_notification_attempt(due[0].id, 100, &AttemptResult::Delivered, 5)
            .expect("delivered early");
        store
            .record_notification_attempt(due[1].id, 900, &AttemptResult::Delivered, 5)
            .expect("delivered late");
        // due[2] stays pending.
        assert_eq!(store.prune_notification_deliveries(500).expect("prune"), 1);
        let left: Vec<i64> = store
            .notification_deliveries(None, 10)
            .expect("log")
            .iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(left, vec![due[2].id, due[1].id]);
        assert_eq!(
            store
                .prune_notification_deliveries(i64::MAX)
                .expect("prune"),
            1
        );
        assert_eq!(
            store.notification_deliveries(None, 10).expect("log").len(),
            1
        );
    }

    #[test]
    fn attempts_retry_then_fail_at_the_maximum() {
        let (_dir, store) = store();
        store.init_notification_cursor().expect("init");
        store
            .enqueue_notifications(0, 0, 1, &[delivery(1, 0), delivery(1, 1)])
            .expect("enqueue");
        let due = store.due_notification_deliveries(0, 10).expect("due");
        let (a, b) = (due[0].id, due[1].id);
        let retry = |at| AttemptResult::Retry {
            error: "HTTP 500".into(),
            next_attempt_ms: at,
        };
        assert_eq!(
            store
                .record_notification_attempt(a, 0, &retry(1_000), 2)
                .expect("1"),
            DeliveryStatus::Pending
        );
        assert_eq!(store.next_notification_due_ms().expect("next"), Some(0));
        assert_eq!(
            store
                .record_notification_attempt(b, 0, &AttemptResult::Delivered, 2)
                .expect("b"),
            DeliveryStatus::Delivered
        );
        assert_eq!(store.next_notification_due_ms().expect("next"), Some(1_000));
        assert!(
            store
                .due_notification_deliveries(999, 10)
                .expect("due")
                .is_empty()
        );
        assert_eq!(
            store
                .record_notification_attempt(a, 1_000, &retry(3_000), 2)
                .expect("2"),
            DeliveryStatus::Failed
        );
        // A finished delivery is not attempted again.
        assert_eq!(
            store
                .record_notification_attempt(a, 1_000, &AttemptResult::Delivered, 2)
                .expect("3"),
            DeliveryStatus::Failed
        );
        let log = store.notification_deliveries(None, 10).expect("log");
        assert_eq!(log.len(), 2);
        let failed = log.iter().find(|d| d.id == a).expect("a");
        assert_eq!(failed.attempts, 2);
        assert_eq!(failed.last_error.as_deref(), Some("HTTP 500"));
        assert_eq!(failed.finished_at_ms, Some(1_000));
        assert_eq!(failed.next_attempt_ms, None);
        assert_eq!(
            store
                .notification_deliveries(Some(DeliveryStatus::Delivered), 10)
                .expect("delivered")
                .len(),
            1
        );
    }
}
