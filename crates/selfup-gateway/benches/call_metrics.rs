//! What `/metrics` adds to every call: `CallMetrics::observe` (find the
//! series, three or four relaxed atomic additions), on one thread and on
//! two threads hitting the same series, over ten label sets.
//!
//! Run: `cargo bench -p selfup-gateway --bench call_metrics` (release), or
//! `cargo test -p selfup-gateway --bench call_metrics` for an unoptimised
//! upper bound.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use selfup_core::call::ErrorKind;
use selfup_core::telemetry::Arm;
use selfup_gateway::metrics::{CallMetrics, Observation};

const CALLS: u64 = 2_000_000;
const CAPABILITIES: [&str; 5] = [
    "text.summarize",
    "text.stats",
    "json.query",
    "unit.convert",
    "test.echo",
];

fn run(metrics: &CallMetrics, offset: u64) {
    for i in 0..CALLS {
        let n = (i + offset) as usize;
        metrics.observe(black_box(Observation {
            capability: CAPABILITIES[n % 5],
            plugin: "example-plugin",
            version: if n.is_multiple_of(2) {
                "1.0.0"
            } else {
                "1.1.0"
            },
            arm: (n % 2 == 1).then_some(Arm::Candidate),
            error: n.is_multiple_of(50).then_some(ErrorKind::PluginError),
            latency_us: (n % 3_000) as u64,
        }));
    }
}

fn measure(threads: u64) -> f64 {
    let metrics = Arc::new(CallMetrics::default());
    run(&metrics, 0); // warm: every series exists
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let metrics = metrics.clone();
            std::thread::spawn(move || run(&metrics, t))
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    start.elapsed().as_nanos() as f64 / CALLS as f64
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    for threads in [1, 2] {
        let mut runs: Vec<f64> = (0..5).map(|_| measure(threads)).collect();
        runs.sort_by(f64::total_cmp);
        println!(
            "observe, {threads} thread(s): median {:.1} ns per call per thread (runs: {})",
            runs[2],
            runs.iter()
                .map(|r| format!("{r:.1}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}
