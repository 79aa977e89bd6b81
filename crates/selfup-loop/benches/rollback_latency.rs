//! From a gate failure being observable in the data to candidate traffic
//! at 0, on the real clock: json-query 1.1.0 in its shadow stage starts
//! failing; we time from the moment the failing calls are committed (the
//! gate can see them) until the router no longer sends anything to the
//! candidate — in one process (the loop reloads the gateway's routing at
//! once) and across two processes' worth of routing (a gateway that polls
//! the registry every `gateway.router_refresh_ms`).
//!
//! Run: `cargo bench -p selfup-loop --bench rollback_latency` after `cargo xtask plugins`.

mod world;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use selfup_core::clock::Clock;
use selfup_gateway::{PluginLoader, Router};
use selfup_store::system_clock::SystemClock;
use world::{World, bench_config};

const TRIALS: usize = 15;

fn query(path: &str) -> String {
    serde_json::json!({"document": {"order": {"id": 1, "headers": {"x-request-id": "r1"}}}, "path": path}).to_string()
}

fn percentile(mut v: Vec<f64>, q: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]
}

fn main() {
    let config = bench_config();
    let refresh_ms = config.gateway.router_refresh_ms;
    println!(
        "{TRIALS} trials; rollout.evaluation_interval_ms = {}, gateway.router_refresh_ms = {refresh_ms}",
        config.rollout.evaluation_interval_ms
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("rt");
    let mut in_process = Vec::new();
    let mut polling = Vec::new();
    for trial in 0..TRIALS {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let world = World::new(clock.clone(), &["json-query-1.0.0"], &["json-query-1.1.0"]);
        // Recorded inputs for the validation replay (no hyphenated keys yet).
        rt.block_on(async {
            for i in 0..200 {
                world
                    .dispatcher
                    .call("json.query", &format!("u{i}"), &query("$.order.id"))
                    .await;
            }
        });
        world.writer.sink().flush().expect("flush");
        let orchestrator = Arc::new(world.orchestrator(config.clone(), clock.clone(), true));
        rt.block_on(orchestrator.cycle()).expect("cycle");
        assert!(
            world
                .router
                .table()
                .get("json.query")
                .and_then(|r| r.rollout.as_ref())
                .is_some(),
            "rollout started"
        );
        // A gateway in another process: its own router, polling the registry.
        let remote = Arc::new(Router::new(PluginLoader::new(
            &world.home,
            world.host.clone(),
        )));
        remote.refresh(&world.store).expect("remote routing");
        // The loop, running as in `selfup run`, on its own thread.
        let stop = Arc::new(AtomicBool::new(false));
        let loop_thread = {
            let (orchestrator, stop) = (orchestrator.clone(), stop.clone());
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("loop rt");
                rt.block_on(orchestrator.run(async move {
                    while !stop.load(Ordering::Relaxed) {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }));
            })
        };
        let poller = {
            let (remote, store, stop) = (remote.clone(), world.store.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let _ = remote.refresh(&store);
                    std::thread::sleep(Duration::from_millis(u64::from(refresh_ms)));
                }
            })
        };
        // Let the loop settle into its ticks, then the failures arrive — at a
        // different moment of the evaluation interval in every trial.
        let phase = (trial as u64 * 7919) % u64::from(config.rollout.evaluation_interval_ms);
        std::thread::sleep(Duration::from_millis(700 + phase));
        rt.block_on(async {
            for i in 0..80 {
                let path = if i % 4 == 0 {
                    "$.order.headers.x-request-id"
                } else {
                    "$.order.id"
                };
                world
                    .dispatcher
                    .call("json.query", &format!("v{i}"), &query(path))
                    .await;
            }
            // The mirrored shadow calls run in the background: wait for them.
            tokio::time::sleep(Duration::from_millis(20)).await;
        });
        world.writer.sink().flush().expect("flush");
        let observable = Instant::now();
        let rolled_back = |router: &Router| {
            router
                .table()
                .get("json.query")
                .and_then(|r| r.rollout.as_ref())
                .is_none()
        };
        let mut local_done = None;
        let deadline = observable + Duration::from_secs(10);
        loop {
            if local_done.is_none() && rolled_back(&world.router) {
                local_done = Some(observable.elapsed());
            }
            if rolled_back(&remote) {
                polling.push(observable.elapsed().as_secs_f64() * 1000.0);
                break;
            }
            assert!(Instant::now() < deadline, "no rollback within 10 s");
            std::thread::sleep(Duration::from_millis(1));
        }
        in_process.push(
            local_done
                .unwrap_or_else(|| observable.elapsed())
                .as_secs_f64()
                * 1000.0,
        );
        stop.store(true, Ordering::Relaxed);
        loop_thread.join().expect("loop thread");
        poller.join().expect("poller");
        world.writer.shutdown();
    }
    for (name, v) in [
        ("in one process (loop reloads the router)", in_process),
        ("gateway in another process (polling)", polling),
    ] {
        println!(
            "{name:<44} median {:>6.0} ms  p95 {:>6.0} ms  max {:>6.0} ms",
            percentile(v.clone(), 0.5),
            percentile(v.clone(), 0.95),
            percentile(v, 1.0)
        );
    }
}
