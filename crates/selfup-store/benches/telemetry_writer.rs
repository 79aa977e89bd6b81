//! Sustained telemetry records per second into SQLite through the
//! batching writer (WAL, one transaction per batch, indexed calls table).
//!
//! Run: `cargo bench -p selfup-store --bench telemetry_writer`

use std::time::Instant;

use selfup_core::call::{CallCost, ErrorKind};
use selfup_core::telemetry::{CallRecord, Outcome};
use selfup_store::telemetry::{TelemetryWriter, WriterConfig};
use selfup_store::{Home, Store};

const RECORDS: u64 = 2_000_000;
const RUNS: usize = 3;

fn record(i: u64) -> CallRecord {
    let capability = ["text.summarize", "json.query", "text.stats"][(i % 3) as usize];
    let failed = i.is_multiple_of(50);
    CallRecord {
        ts_ms: 1_790_000_000_000 + (i / 100) as i64,
        capability: capability.to_owned(),
        plugin: capability.replace('.', "-"),
        version: if i.is_multiple_of(10) {
            "2.0.0"
        } else {
            "1.0.0"
        }
        .to_owned(),
        subject_hash: (i.wrapping_mul(0x9E37_79B9_7F4A_7C15)) as i64,
        outcome: if failed { Outcome::Error } else { Outcome::Ok },
        error_kind: failed.then_some(ErrorKind::PluginError),
        cost: CallCost {
            latency_us: 100 + i % 900,
            peak_memory_bytes: 1 << 20,
            cpu_us: 80 + i % 700,
        },
        experiment: None,
    }
}

fn main() {
    println!("records per run: {RECORDS}, {RUNS} runs");
    let mut rates = Vec::new();
    for run in 0..RUNS {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = Home::new(dir.path());
        let store = Store::open(&home).expect("store");
        let writer = TelemetryWriter::start(&home, WriterConfig::default()).expect("writer");
        let sink = writer.sink();
        // Pre-build records so the producer measures the queue, not allocation.
        let records: Vec<CallRecord> = (0..RECORDS).map(record).collect();
        let started = Instant::now();
        let mut retries = 0u64;
        for r in records {
            // Sustained rate: when the queue is full, wait for the writer
            // instead of dropping, so every record is written.
            while !sink.record_call(r.clone()) {
                retries += 1;
                std::thread::yield_now();
            }
        }
        sink.flush().expect("flush");
        let elapsed = started.elapsed();
        let stats = sink.stats();
        assert_eq!(store.call_count().expect("count"), RECORDS);
        let rate = RECORDS as f64 / elapsed.as_secs_f64();
        println!(
            "run {run}: {:.2}s, {:.0} records/s, {} batches (mean {:.0}/batch), producer waited {retries} times",
            elapsed.as_secs_f64(),
            rate,
            stats.batches,
            stats.written as f64 / stats.batches.max(1) as f64
        );
        rates.push(rate);
        writer.shutdown();
    }
    rates.sort_by(|a, b| a.total_cmp(b));
    println!("median: {:.0} records/s", rates[rates.len() / 2]);
}
