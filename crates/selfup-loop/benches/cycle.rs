//! A full cycle over a store with 10 million telemetry records: discover
//! (runtime behaviour and usage over the analysis windows, gaps) and the
//! candidates (catalog, market scan), decide, plan — and, reported
//! apart, carry the approved upgrades on (install, validation replay,
//! rollout start).
//!
//! Run: `cargo bench -p selfup-loop --bench cycle` after `cargo xtask plugins`.

mod world;

use std::sync::Arc;
use std::time::Instant;

use selfup_core::call::{CallCost, ErrorKind};
use selfup_core::clock::Clock;
use selfup_core::telemetry::{CallRecord, Outcome};
use selfup_loop::clock::VirtualClock;
use selfup_loop::scan::market_scan;
use selfup_store::upgrades::UpgradeFilter;
use world::{World, bench_config};

const RECORDS: u64 = 10_000_000;
const WEEK_MS: i64 = 7 * 86_400_000;

fn main() {
    let start_ms = 1_790_000_000_000;
    let clock = VirtualClock::starting_at(start_ms);
    let clock_arc: Arc<dyn Clock> = Arc::new(clock.clone());
    let world = World::new(
        clock_arc.clone(),
        &[
            "text-summarize-1.0.0",
            "json-query-1.0.0",
            "text-stats-1.0.0",
        ],
        &[
            "text-summarize-2.0.0",
            "json-query-1.1.0",
            "unit-convert-1.0.0",
        ],
    );
    // Recorded inputs for the validation replays.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        for i in 0..400 {
            let text = serde_json::json!({"text": "One thing happened. Then another. Finally a third.", "max_sentences": 1}).to_string();
            world.dispatcher.call("text.summarize", &format!("u{i}"), &text).await;
            let query = serde_json::json!({"document": {"a": [i, 2]}, "path": "$.a[0]"}).to_string();
            world.dispatcher.call("json.query", &format!("u{i}"), &query).await;
        }
    });
    // Ten million call records over the past week.
    let setup = Instant::now();
    let sink = world.writer.sink();
    let targets = [
        ("text.summarize", "text-summarize", "1.0.0"),
        ("json.query", "json-query", "1.0.0"),
        ("text.stats", "text-stats", "1.0.0"),
        ("unit.convert", "", ""),
    ];
    for i in 0..RECORDS {
        let (capability, plugin, version) = targets[(i % 4) as usize];
        let failed = plugin.is_empty() || i % 97 == 0;
        let record = CallRecord {
            ts_ms: start_ms - WEEK_MS + (i as i64 * WEEK_MS) / RECORDS as i64,
            capability: capability.to_owned(),
            plugin: plugin.to_owned(),
            version: version.to_owned(),
            subject_hash: (i % 5000) as i64,
            outcome: if failed { Outcome::Error } else { Outcome::Ok },
            error_kind: failed.then_some(if plugin.is_empty() {
                ErrorKind::UnknownCapability
            } else {
                ErrorKind::PluginError
            }),
            cost: CallCost {
                latency_us: 200 + i % 800,
                peak_memory_bytes: 1 << 20,
                cpu_us: 150 + i % 500,
            },
            experiment: None,
        };
        while !sink.record_call(record.clone()) {
            std::thread::yield_now();
        }
    }
    sink.flush().expect("flush");
    println!(
        "store: {} call records (written in {:.1}s); database {:.0} MiB",
        world.store.call_count().expect("count"),
        setup.elapsed().as_secs_f64(),
        std::fs::metadata(world.home.database())
            .map(|m| m.len() as f64 / 1048576.0)
            .unwrap_or(0.0)
    );

    let orchestrator = world.orchestrator(bench_config(), clock_arc.clone(), true);
    let total = Instant::now();
    let t = Instant::now();
    let catalog = rt.block_on(orchestrator.load_catalog()).expect("catalog");
    let catalog_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let discovery = bench_config().discovery;
    let runtime = selfup_discovery::analyze_runtime(&world.store, &discovery, clock.now_ms())
        .expect("runtime analysis")
        .expect("enabled");
    let runtime_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let offered: Vec<_> = catalog.entries.iter().map(|e| e.manifest.clone()).collect();
    let gaps = selfup_discovery::gaps::analyze_gaps(
        &world.store,
        &discovery,
        &offered,
        Some(&runtime.usage),
        clock.now_ms(),
    )
    .expect("gaps");
    let gaps_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let candidates =
        market_scan(&world.store, &catalog, clock.now_ms() - WEEK_MS, &gaps.gaps).expect("scan");
    let scan_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let decided = rt
        .block_on(orchestrator.decide_candidates(&candidates))
        .expect("decide");
    let decide_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let carried = rt
        .block_on(orchestrator.advance(&catalog))
        .expect("advance");
    let advance_ms = t.elapsed().as_secs_f64() * 1000.0;
    let total_ms = total.elapsed().as_secs_f64() * 1000.0;
    let planned = world
        .store
        .upgrades(&UpgradeFilter::default())
        .expect("upgrades")
        .iter()
        .filter(|u| u.evidence.get("plan").is_some())
        .count();
    println!(
        "candidates: {}; decisions: {}; upgrades planned: {planned}; steps carried: {}",
        candidates.len(),
        decided.len(),
        carried.len()
    );
    println!(
        "runtime analysis: {} calls read in the last {} h; {} behaviour and {} usage patterns; {} gaps",
        runtime.behavior.calls_read + runtime.usage.calls_read,
        discovery.runtime_analysis.baseline_window_hours
            + discovery.runtime_analysis.recent_window_hours,
        runtime.behavior.patterns.len(),
        runtime.usage.patterns.len(),
        gaps.gaps.len()
    );
    println!("load catalog            {catalog_ms:>8.1} ms");
    println!(
        "runtime analysis        {runtime_ms:>8.1} ms  (behaviour and usage over the windows, recorded)"
    );
    println!("gap analysis            {gaps_ms:>8.1} ms");
    println!("market scan             {scan_ms:>8.1} ms");
    println!("decide                  {decide_ms:>8.1} ms");
    println!(
        "plan, install, validate {advance_ms:>8.1} ms  (snapshot, dependency plan, package install, replay of recorded inputs, rollout start)"
    );
    println!(
        "discover + decide       {:>8.1} ms",
        catalog_ms + runtime_ms + gaps_ms + scan_ms + decide_ms
    );
    println!("whole cycle             {total_ms:>8.1} ms");
}
