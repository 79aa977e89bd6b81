//! Telemetry: the batching writer (one thread, one transaction per batch)
//! and the summaries read back from what it wrote.
//!
//! The request path only puts a record on a bounded queue; it never waits
//! for disk. When the queue is full the record is dropped and counted
//! (`dropped` in [`WriterStats`]) rather than slowing the caller. Agent
//! events are acknowledged only once committed.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;

use rusqlite::{Connection, params};
use selfup_core::call::ErrorKind;
use selfup_core::telemetry::{AgentEvent, CallRecord, Outcome};
use serde::Serialize;

use crate::{Home, Store, StoreError, db, events};

/// Tuning of the writer.
#[derive(Debug, Clone, Copy)]
pub struct WriterConfig {
    /// Records that may wait in memory before new ones are dropped.
    pub queue_capacity: usize,
    /// Most records written in one transaction.
    pub max_batch: usize,
}

impl Default for WriterConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 65_536,
            max_batch: 4_096,
        }
    }
}

/// Called once an agent event is committed (with its row id) or has failed.
pub type EventAck = Box<dyn FnOnce(Result<i64, StoreError>) + Send>;

enum Message {
    Call(Box<CallRecord>),
    Sample(Box<InputSample>),
    Event(Box<AgentEvent>, Option<EventAck>),
    Flush(mpsc::Sender<()>),
    Shutdown,
}

/// A call input kept for replay by the performance assessor. Each
/// capability has a fixed number of slots; a new sample replaces the one in
/// its slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSample {
    /// The capability called.
    pub capability: String,
    /// The slot it goes to.
    pub slot: u32,
    /// When the call was made.
    pub ts_ms: i64,
    /// The call's JSON input.
    pub input: String,
}

/// A call of a rollout, as the controller reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExperimentCall {
    /// The row id (increasing; read on from the last one seen).
    pub rowid: i64,
    /// When it was made.
    pub ts_ms: i64,
    /// The rollout stage.
    pub stage: u32,
    /// The arm.
    pub arm: selfup_core::telemetry::Arm,
    /// The hashed subject (the unit of assignment).
    pub subject_hash: i64,
    /// Whether it failed.
    pub failed: bool,
    /// Its kind of failure.
    pub error_kind: Option<ErrorKind>,
    /// Latency, µs.
    pub latency_us: u64,
    /// Memory high-water mark, bytes.
    pub peak_memory_bytes: u64,
    /// Busy CPU time, µs.
    pub cpu_us: u64,
    /// For shadow calls: the answer differed from the incumbent's.
    pub mismatch: Option<bool>,
}

/// Counters of the writer, shared with every sink.
#[derive(Debug, Default)]
struct Counters {
    queued: AtomicU64,
    written: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    batches: AtomicU64,
}

/// A snapshot of the writer's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WriterStats {
    /// Records waiting in the queue now.
    pub queued: u64,
    /// Records committed since start.
    pub written: u64,
    /// Records dropped because the queue was full.
    pub dropped: u64,
    /// Records lost because a batch failed to commit.
    pub failed: u64,
    /// Transactions committed.
    pub batches: u64,
}

/// The handle callers use to record telemetry; cheap to clone.
#[derive(Clone)]
pub struct TelemetrySink {
    tx: SyncSender<Message>,
    counters: Arc<Counters>,
}

/// The writer thread and its queue.
pub struct TelemetryWriter {
    sink: TelemetrySink,
    thread: Option<JoinHandle<()>>,
}

impl TelemetryWriter {
    /// Starts a writer on the database of `home` (which must exist: open
    /// the [`Store`] first, it migrates the schema).
    pub fn start(home: &Home, config: WriterConfig) -> Result<Self, StoreError> {
        let conn = db::connect(&home.database())?;
        let (tx, rx) = mpsc::sync_channel(config.queue_capacity.max(1));
        let counters = Arc::new(Counters::default());
        let worker_counters = counters.clone();
        let max_batch = config.max_batch.max(1);
        let thread = std::thread::Builder::new()
            .name("selfup-telemetry".into())
            .spawn(move || run(conn, rx, worker_counters, max_batch))
            .map_err(|e| StoreError::io("starting the telemetry thread for", home.database(), e))?;
        Ok(Self {
            sink: TelemetrySink { tx, counters },
            thread: Some(thread),
        })
    }

    /// A handle to record through.
    pub fn sink(&self) -> TelemetrySink {
        self.sink.clone()
    }

    /// Writes everything queued, then stops the thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(thread) = self.thread.take() {
            // A full queue is drained by the thread before it sees this.
            let _ = self.sink.tx.send(Message::Shutdown);
            if thread.join().is_err() {
                tracing::error!("the telemetry writer thread panicked");
            }
        }
    }
}

impl Drop for TelemetryWriter {
    fn drop(&mut self) {
        self.stop();
    }
}

impl TelemetrySink {
    /// Queues a call record without waiting. Returns false if it was
    /// dropped (queue full or writer stopped).
    pub fn record_call(&self, record: CallRecord) -> bool {
        match self.tx.try_send(Message::Call(Box::new(record))) {
            Ok(()) => {
                self.counters.queued.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Queues a sampled call input without waiting. Returns false if it was
    /// dropped.
    pub fn record_input_sample(&self, sample: InputSample) -> bool {
        match self.tx.try_send(Message::Sample(Box::new(sample))) {
            Ok(()) => {
                self.counters.queued.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(_) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Queues an agent event; `ack` is called after it is committed.
    /// Fails at once if the queue is full or the writer has stopped.
    pub fn record_event(&self, event: AgentEvent, ack: Option<EventAck>) -> Result<(), StoreError> {
        match self.tx.try_send(Message::Event(Box::new(event), ack)) {
            Ok(()) => {
                self.counters.queued.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(TrySendError::Full(_)) => Err(StoreError::Refused(
                "the telemetry queue is full; retry shortly".into(),
            )),
            Err(TrySendError::Disconnected(_)) => Err(StoreError::WriterStopped),
        }
    }

    /// Blocks until everything queued before this call is committed.
    pub fn flush(&self) -> Result<(), StoreError> {
        let (done_tx, done_rx) = mpsc::channel();
        self.tx
            .send(Message::Flush(done_tx))
            .map_err(|_| StoreError::WriterStopped)?;
        done_rx.recv().map_err(|_| StoreError::WriterStopped)
    }

    /// The writer's counters now.
    pub fn stats(&self) -> WriterStats {
        let c = &self.counters;
        WriterStats {
            queued: c.queued.load(Ordering::Relaxed),
            written: c.written.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            batches: c.batches.load(Ordering::Relaxed),
        }
    }
}

fn run(mut conn: Connection, rx: Receiver<Message>, counters: Arc<Counters>, max_batch: usize) {
    let mut targets = TargetCache::new();
    let mut batch: Vec<Message> = Vec::with_capacity(max_batch);
    loop {
        let first = match rx.recv() {
            Ok(m) => m,
            Err(_) => return,
        };
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        let records = batch
            .iter()
            .filter(|m| {
                matches!(
                    m,
                    Message::Call(_) | Message::Event(..) | Message::Sample(_)
                )
            })
            .count() as u64;
        let result = write_batch(&mut conn, &batch, &mut targets);
        counters.queued.fetch_sub(records, Ordering::Relaxed);
        let mut ids = match &result {
            Ok(ids) => {
                counters.written.fetch_add(records, Ordering::Relaxed);
                counters.batches.fetch_add(1, Ordering::Relaxed);
                ids.clone().into_iter()
            }
            Err(e) => {
                tracing::error!(error = %e, records, "telemetry batch failed; its records are lost");
                counters.failed.fetch_add(records, Ordering::Relaxed);
                // The cache may name rows of the rolled-back transaction.
                targets.clear();
                Vec::new().into_iter()
            }
        };
        let mut shutdown = false;
        for message in batch.drain(..) {
            match message {
                Message::Event(_, ack) => {
                    let outcome = match (&result, ids.next()) {
                        (Ok(_), Some(id)) => Ok(id),
                        (Err(e), _) => Err(StoreError::Refused(format!(
                            "the event was not stored: {e}"
                        ))),
                        (Ok(_), None) => Err(StoreError::WriterStopped),
                    };
                    if let Some(ack) = ack {
                        ack(outcome);
                    }
                }
                Message::Flush(done) => {
                    let _ = done.send(());
                }
                Message::Shutdown => shutdown = true,
                Message::Call(_) | Message::Sample(_) => {}
            }
        }
        if shutdown {
            // Drain what raced in after the shutdown message.
            let rest: Vec<Message> = rx.try_iter().collect();
            if !rest.is_empty() {
                batch.extend(rest);
                let _ = write_batch(&mut conn, &batch, &mut targets);
                for message in batch.drain(..) {
                    if let Message::Flush(done) = message {
                        let _ = done.send(());
                    }
                }
            }
            return;
        }
    }
}

/// Writes one batch in one transaction; returns the ids of its events.
fn write_batch(
    conn: &mut Connection,
    batch: &[Message],
    targets: &mut TargetCache,
) -> Result<Vec<i64>, StoreError> {
    let tx = conn.transaction()?;
    let mut event_ids = Vec::new();
    // (target, hour) → (calls, errors, latency sum), added up per batch.
    let mut hourly: HashMap<(i64, i64), (i64, i64, i64)> = HashMap::new();
    {
        let mut insert_call = tx.prepare_cached(
            "INSERT INTO calls (ts_ms, target_id, subject_hash, outcome, error_kind, latency_us, peak_memory_bytes, cpu_us,
                                upgrade_id, stage, arm, mismatch)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        for message in batch {
            match message {
                Message::Call(r) => {
                    let target = target_id(&tx, targets, r)?;
                    let slot = hourly
                        .entry((target, r.ts_ms.div_euclid(3_600_000)))
                        .or_default();
                    slot.0 += 1;
                    slot.1 += i64::from(r.outcome == Outcome::Error);
                    slot.2 = slot.2.saturating_add(clamp(r.cost.latency_us));
                    insert_call.execute(params![
                        r.ts_ms,
                        target,
                        r.subject_hash,
                        outcome_code(r.outcome),
                        r.error_kind.map(|k| k.code()),
                        clamp(r.cost.latency_us),
                        clamp(r.cost.peak_memory_bytes),
                        clamp(r.cost.cpu_us),
                        r.experiment.map(|e| e.upgrade_id),
                        r.experiment.map(|e| e.stage),
                        r.experiment.map(|e| e.arm.code()),
                        r.experiment.and_then(|e| e.mismatch),
                    ])?;
                }
                Message::Event(event, _) => event_ids.push(events::insert(&tx, event)?),
                Message::Sample(sample) => {
                    tx.prepare_cached(
                        "INSERT OR REPLACE INTO input_samples (capability, slot, ts_ms, input) VALUES (?1, ?2, ?3, ?4)",
                    )?
                    .execute(params![sample.capability, sample.slot, sample.ts_ms, sample.input])?;
                }
                Message::Flush(_) | Message::Shutdown => {}
            }
        }
        let mut upsert = tx.prepare_cached(
            "INSERT INTO call_hourly (target_id, hour, calls, errors, latency_us_sum) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (target_id, hour) DO UPDATE SET calls = calls + excluded.calls,
                 errors = errors + excluded.errors, latency_us_sum = latency_us_sum + excluded.latency_us_sum",
        )?;
        for ((target, hour), (calls, errors, latency)) in &hourly {
            upsert.execute(params![target, hour, calls, errors, latency])?;
        }
    }
    tx.commit()?;
    Ok(event_ids)
}

/// `call_targets` ids by capability, plugin and version; nested so a
/// lookup borrows the record's strings instead of allocating a key.
type TargetCache = HashMap<String, HashMap<String, HashMap<String, i64>>>;

fn target_id(
    conn: &Connection,
    cache: &mut TargetCache,
    r: &CallRecord,
) -> Result<i64, StoreError> {
    let cached = cache
        .get(&r.capability)
        .and_then(|by_plugin| by_plugin.get(&r.plugin))
        .and_then(|by_version| by_version.get(&r.version));
    if let Some(id) = cached {
        return Ok(*id);
    }
    conn.execute(
        "INSERT OR IGNORE INTO call_targets (capability, plugin, version) VALUES (?1, ?2, ?3)",
        params![r.capability, r.plugin, r.version],
    )?;
    let id: i64 = conn.query_row(
        "SELECT id FROM call_targets WHERE capability = ?1 AND plugin = ?2 AND version = ?3",
        params![r.capability, r.plugin, r.version],
        |row| row.get(0),
    )?;
    cache
        .entry(r.capability.clone())
        .or_default()
        .entry(r.plugin.clone())
        .or_default()
        .insert(r.version.clone(), id);
    Ok(id)
}

fn outcome_code(outcome: Outcome) -> i64 {
    match outcome {
        Outcome::Ok => 0,
        Outcome::Error => 1,
    }
}

fn clamp(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Calls, errors and mean latency of one capability version over some hours.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallHealth {
    /// The capability.
    pub capability: String,
    /// The plugin (empty for calls nobody could serve).
    pub plugin: String,
    /// Its version.
    pub version: String,
    /// Number of calls.
    pub calls: u64,
    /// Number of failed calls.
    pub errors: u64,
    /// `errors / calls`.
    pub error_rate: f64,
    /// Mean latency, ms.
    pub mean_latency_ms: f64,
}

/// Calls, errors and latency percentiles of one capability version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TelemetrySummary {
    /// The capability.
    pub capability: String,
    /// The plugin that served it (empty for calls nobody could serve).
    pub plugin: String,
    /// Its version.
    pub version: String,
    /// Number of calls.
    pub calls: u64,
    /// Number of failed calls.
    pub errors: u64,
    /// `errors / calls`.
    pub error_rate: f64,
    /// Failed calls by error kind.
    pub errors_by_kind: HashMap<String, u64>,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 95th percentile latency, ms.
    pub p95_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
}

impl Store {
    /// Per capability and version: calls, error rate and latency
    /// percentiles (nearest rank) of calls at or after `since_ms`.
    pub fn telemetry_summary(&self, since_ms: i64) -> Result<Vec<TelemetrySummary>, StoreError> {
        let conn = self.conn();
        let mut names = HashMap::new();
        {
            let mut stmt =
                conn.prepare("SELECT id, capability, plugin, version FROM call_targets")?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get::<_, i64>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?)))
            })?;
            for row in rows {
                let (id, name): (i64, (String, String, String)) = row?;
                names.insert(id, name);
            }
        }
        struct Acc {
            latencies: Vec<u64>,
            errors: u64,
            by_kind: HashMap<String, u64>,
        }
        let mut acc: HashMap<i64, Acc> = HashMap::new();
        let mut stmt = conn.prepare(
            "SELECT target_id, latency_us, outcome, error_kind FROM calls WHERE ts_ms >= ?1",
        )?;
        let mut rows = stmt.query([since_ms])?;
        while let Some(row) = rows.next()? {
            let target: i64 = row.get(0)?;
            let latency: i64 = row.get(1)?;
            let outcome: i64 = row.get(2)?;
            let kind: Option<i64> = row.get(3)?;
            let a = acc.entry(target).or_insert_with(|| Acc {
                latencies: Vec::new(),
                errors: 0,
                by_kind: HashMap::new(),
            });
            a.latencies.push(latency.max(0) as u64);
            if outcome != 0 {
                a.errors += 1;
                let kind = kind
                    .and_then(|k| u8::try_from(k).ok())
                    .and_then(ErrorKind::from_code)
                    .map_or("unknown", ErrorKind::as_str);
                *a.by_kind.entry(kind.to_owned()).or_default() += 1;
            }
        }
        let mut out = Vec::new();
        for (target, mut a) in acc {
            let Some((capability, plugin, version)) = names.get(&target).cloned() else {
                continue;
            };
            a.latencies.sort_unstable();
            let calls = a.latencies.len() as u64;
            out.push(TelemetrySummary {
                capability,
                plugin,
                version,
                calls,
                errors: a.errors,
                error_rate: a.errors as f64 / calls as f64,
                errors_by_kind: a.by_kind,
                p50_ms: nearest_rank(&a.latencies, 0.50),
                p95_ms: nearest_rank(&a.latencies, 0.95),
                p99_ms: nearest_rank(&a.latencies, 0.99),
            });
        }
        out.sort_by(|a, b| {
            (&a.capability, &a.plugin, &a.version).cmp(&(&b.capability, &b.plugin, &b.version))
        });
        Ok(out)
    }

    /// Up to `limit` sampled inputs of `capability`, newest first.
    pub fn input_samples(&self, capability: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT input FROM input_samples WHERE capability = ?1 ORDER BY ts_ms DESC, slot LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![capability, limit as i64], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Calls of upgrade `upgrade_id`'s rollout after row `after_rowid`, in
    /// order, at most `limit`.
    pub fn experiment_calls(
        &self,
        upgrade_id: i64,
        after_rowid: i64,
        limit: usize,
    ) -> Result<Vec<ExperimentCall>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT rowid, ts_ms, stage, arm, outcome, error_kind, latency_us, peak_memory_bytes, cpu_us, mismatch, subject_hash
             FROM calls WHERE upgrade_id = ?1 AND rowid > ?2 ORDER BY rowid LIMIT ?3",
        )?;
        let mut rows = stmt.query(params![upgrade_id, after_rowid, limit as i64])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let arm: i64 = row.get(3)?;
            let Some(arm) = u8::try_from(arm)
                .ok()
                .and_then(selfup_core::telemetry::Arm::from_code)
            else {
                continue;
            };
            let kind: Option<i64> = row.get(5)?;
            out.push(ExperimentCall {
                rowid: row.get(0)?,
                ts_ms: row.get(1)?,
                stage: row.get::<_, i64>(2)? as u32,
                arm,
                failed: row.get::<_, i64>(4)? != 0,
                error_kind: kind
                    .and_then(|k| u8::try_from(k).ok())
                    .and_then(ErrorKind::from_code),
                latency_us: row.get::<_, i64>(6)?.max(0) as u64,
                peak_memory_bytes: row.get::<_, i64>(7)?.max(0) as u64,
                cpu_us: row.get::<_, i64>(8)?.max(0) as u64,
                mismatch: row.get::<_, Option<i64>>(9)?.map(|m| m != 0),
                subject_hash: row.get(10)?,
            });
        }
        Ok(out)
    }

    /// Calls nobody could serve in the hours from `since_ms` on, by
    /// capability name (from the hourly counts: no scan of the calls).
    pub fn unserved_calls(&self, since_ms: i64) -> Result<Vec<(String, u64)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT t.capability, SUM(h.calls) FROM call_hourly h JOIN call_targets t ON t.id = h.target_id
             WHERE t.plugin = '' AND h.hour >= ?1 GROUP BY t.capability ORDER BY t.capability",
        )?;
        let rows = stmt.query_map([since_ms.div_euclid(3_600_000)], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Calls, errors and mean latency of every capability version in the
    /// hours from `since_ms` on (from the hourly counts: no scan of the
    /// calls, however many there are).
    pub fn call_health(&self, since_ms: i64) -> Result<Vec<CallHealth>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT t.capability, t.plugin, t.version, SUM(h.calls), SUM(h.errors), SUM(h.latency_us_sum)
             FROM call_hourly h JOIN call_targets t ON t.id = h.target_id
             WHERE h.hour >= ?1 GROUP BY t.id ORDER BY t.capability, t.plugin, t.version",
        )?;
        let rows = stmt.query_map([since_ms.div_euclid(3_600_000)], |r| {
            let calls = r.get::<_, i64>(3)?.max(0) as u64;
            let errors = r.get::<_, i64>(4)?.max(0) as u64;
            let latency: i64 = r.get(5)?;
            Ok(CallHealth {
                capability: r.get(0)?,
                plugin: r.get(1)?,
                version: r.get(2)?,
                calls,
                errors,
                error_rate: if calls == 0 {
                    0.0
                } else {
                    errors as f64 / calls as f64
                },
                mean_latency_ms: if calls == 0 {
                    0.0
                } else {
                    latency as f64 / calls as f64 / 1000.0
                },
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The number of call records stored.
    pub fn call_count(&self) -> Result<u64, StoreError> {
        let conn = self.conn();
        Ok(conn.query_row("SELECT COUNT(*) FROM calls", [], |r| r.get::<_, i64>(0))? as u64)
    }
}

/// The nearest-rank percentile of sorted microsecond values, in ms.
fn nearest_rank(sorted_us: &[u64], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted_us.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted_us.len()) - 1;
    sorted_us[index] as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use selfup_core::call::CallCost;
    use selfup_core::telemetry::AgentEventType;

    fn record(cap: &str, version: &str, latency_us: u64, error: Option<ErrorKind>) -> CallRecord {
        CallRecord {
            ts_ms: 1_000,
            capability: cap.into(),
            plugin: "p".into(),
            version: version.into(),
            subject_hash: 42,
            outcome: if error.is_some() {
                Outcome::Error
            } else {
                Outcome::Ok
            },
            error_kind: error,
            cost: CallCost {
                latency_us,
                peak_memory_bytes: 65_536,
                cpu_us: latency_us / 2,
            },
            experiment: None,
        }
    }

    #[test]
    fn records_are_batched_committed_and_summarised() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = Home::new(dir.path());
        let store = Store::open(&home).expect("open");
        let writer = TelemetryWriter::start(&home, WriterConfig::default()).expect("start");
        let sink = writer.sink();
        for i in 1..=100u64 {
            let error = (i % 10 == 0).then_some(ErrorKind::Timeout);
            assert!(sink.record_call(record("a.b", "1.0.0", i * 1000, error)));
        }
        assert!(sink.record_call(record("a.b", "2.0.0", 5_000, None)));
        let (ack_tx, ack_rx) = mpsc::channel();
        sink.record_event(
            AgentEvent {
                ts_ms: 5,
                event_type: AgentEventType::UnmetRequest,
                subject_hash: None,
                intent: Some("translate".into()),
                text: Some("translate this to French".into()),
                payload: "{}".into(),
            },
            Some(Box::new(move |r| {
                let _ = ack_tx.send(r.map_err(|e| e.to_string()));
            })),
        )
        .expect("queued");
        sink.flush().expect("flush");
        assert!(ack_rx.recv().expect("acked").expect("stored") > 0);
        assert_eq!(store.call_count().expect("count"), 101);
        let stats = sink.stats();
        assert_eq!((stats.written, stats.queued, stats.dropped), (102, 0, 0));

        let summary = store.telemetry_summary(0).expect("summary");
        assert_eq!(summary.len(), 2);
        let v1 = &summary[0];
        assert_eq!(
            (v1.version.as_str(), v1.calls, v1.errors),
            ("1.0.0", 100, 10)
        );
        assert!((v1.error_rate - 0.1).abs() < 1e-12);
        assert_eq!(v1.errors_by_kind.get("timeout"), Some(&10));
        assert_eq!((v1.p50_ms, v1.p95_ms, v1.p99_ms), (50.0, 95.0, 99.0));
        assert_eq!(summary[1].calls, 1);
        assert!(store.telemetry_summary(2_000).expect("later").is_empty());
        let health = store.call_health(0).expect("hourly counts");
        assert_eq!(health.len(), 2);
        assert_eq!(
            (
                health[0].version.as_str(),
                health[0].calls,
                health[0].errors
            ),
            ("1.0.0", 100, 10)
        );
        assert!(
            (health[0].mean_latency_ms - 50.5).abs() < 1e-9,
            "{}",
            health[0].mean_latency_ms
        );
        assert!(store.unserved_calls(0).expect("unserved").is_empty());
        let events = store
            .agent_events(Some(AgentEventType::UnmetRequest), 0)
            .expect("events");
        assert_eq!(events[0].intent.as_deref(), Some("translate"));
        writer.shutdown();
        assert!(
            !sink.record_call(record("a.b", "1.0.0", 1, None)),
            "stopped writer drops"
        );
    }

    #[test]
    fn a_full_queue_drops_instead_of_blocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = Home::new(dir.path());
        let store = Store::open(&home).expect("open");
        // Hold the database's write lock so the writer cannot drain.
        let blocker = db::connect(&home.database()).expect("blocker");
        blocker.execute_batch("BEGIN IMMEDIATE").expect("lock");
        let writer = TelemetryWriter::start(
            &home,
            WriterConfig {
                queue_capacity: 4,
                max_batch: 1,
            },
        )
        .expect("start");
        let sink = writer.sink();
        let started = std::time::Instant::now();
        let accepted = (0..100)
            .filter(|_| sink.record_call(record("a.b", "1", 1, None)))
            .count();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "never blocks"
        );
        assert!(accepted <= 6, "accepted {accepted}");
        assert_eq!(sink.stats().dropped as usize, 100 - accepted);
        blocker.execute_batch("COMMIT").expect("unlock");
        sink.flush().expect("flush");
        assert_eq!(store.call_count().expect("count") as usize, accepted);
    }

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(nearest_rank(&[], 0.5), 0.0);
        assert_eq!(nearest_rank(&[7000], 0.99), 7.0);
        let v: Vec<u64> = (1..=10).map(|x| x * 1000).collect();
        assert_eq!(nearest_rank(&v, 0.5), 5.0);
        assert_eq!(nearest_rank(&v, 0.95), 10.0);
    }
}
