//! In-process call of a trivial capability (`test.echo`) through the wasm
//! host, beside a direct wasmtime typed call of the same export (the floor),
//! on one and two threads.
//!
//! Run: `cargo bench -p selfup-plugins --bench host_call` after
//! `cargo xtask plugins`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use selfup_core::manifest::PluginManifest;
use selfup_plugins::RunningPlugin;
use selfup_plugins::wasm::{HostConfig, LoadSpec, WasmHost, WasmPlugin};
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

mod floor {
    wasmtime::component::bindgen!({ path: "../../wit", world: "plugin" });
}

const INPUT: &str = r#"{"subject":"user-1","text":"hello"}"#;
const CALLS: u64 = 200_000;
const RUNS: usize = 5;

fn package_dir() -> PathBuf {
    std::env::var_os("SELFUP_PLUGINS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/plugins"))
        .join("test-echo-1.0.0")
}

struct FloorState {
    ctx: WasiCtx,
    table: ResourceTable,
}

impl WasiView for FloorState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

/// A bare wasmtime setup: default config, one store, sync typed calls.
fn floor_instance(engine: &Engine, component: &Component) -> (Store<FloorState>, floor::Plugin) {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).expect("link");
    let mut store = Store::new(
        engine,
        FloorState {
            ctx: WasiCtxBuilder::new().build(),
            table: ResourceTable::new(),
        },
    );
    let plugin = floor::Plugin::instantiate(&mut store, component, &linker).expect("instantiate");
    plugin
        .call_initialize(&mut store, r#"{"name":"test-echo","version":"1.0.0"}"#)
        .expect("trap")
        .expect("init");
    (store, plugin)
}

fn floor_calls(engine: &Engine, component: &Component, calls: u64) -> Duration {
    let (mut store, plugin) = floor_instance(engine, component);
    let started = Instant::now();
    for _ in 0..calls {
        let out = plugin
            .call_execute(&mut store, "test.echo", INPUT)
            .expect("trap")
            .expect("ok");
        std::hint::black_box(out);
    }
    started.elapsed()
}

fn host_calls(plugin: &Arc<WasmPlugin>, calls: u64) -> Duration {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        // Warm the instance so instantiation is not measured.
        plugin.call("test.echo", INPUT).await.output.expect("ok");
        let started = Instant::now();
        for _ in 0..calls {
            let out = plugin.call("test.echo", INPUT).await;
            std::hint::black_box(out.output.expect("ok"));
        }
        started.elapsed()
    })
}

fn on_threads(threads: usize, f: impl Fn() -> Duration + Sync) -> Duration {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads).map(|_| s.spawn(&f)).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .max()
            .unwrap_or_default()
    })
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[samples.len() / 2]
}

fn main() {
    let dir = package_dir();
    let wasm = std::fs::read(dir.join("plugin.wasm")).expect("run `cargo xtask plugins` first");
    let manifest =
        PluginManifest::from_json(&std::fs::read(dir.join("manifest.json")).expect("manifest"))
            .expect("manifest");

    let floor_engine = Engine::new(&Config::new()).expect("engine");
    let floor_component = Component::new(&floor_engine, &wasm).expect("component");

    let host = WasmHost::new(HostConfig::default()).expect("host");
    let plugin = host
        .load(LoadSpec {
            manifest: Arc::new(manifest),
            component_hash: hex::encode(Sha256::digest(&wasm)),
            component_path: dir.join("plugin.wasm"),
            data_dir: std::env::temp_dir(),
        })
        .expect("load");

    println!(
        "calls per run: {CALLS} per thread, {RUNS} runs, median reported; input {} bytes",
        INPUT.len()
    );
    println!("{:<28} {:>10} {:>14}", "case", "µs/call", "calls/s");
    for threads in [1usize, 2] {
        let mut floor_us = Vec::new();
        let mut host_us = Vec::new();
        for _ in 0..RUNS {
            let t = on_threads(threads, || {
                floor_calls(&floor_engine, &floor_component, CALLS)
            });
            floor_us.push(t.as_secs_f64() * 1e6 / CALLS as f64);
            let t = on_threads(threads, || host_calls(&plugin, CALLS));
            host_us.push(t.as_secs_f64() * 1e6 / CALLS as f64);
        }
        let (f, h) = (median(floor_us), median(host_us));
        let rate = |us: f64| threads as f64 * 1e6 / us;
        println!(
            "{:<28} {:>10.3} {:>14.0}",
            format!("floor (typed call), {threads} thr"),
            f,
            rate(f)
        );
        println!(
            "{:<28} {:>10.3} {:>14.0}",
            format!("selfup host, {threads} thr"),
            h,
            rate(h)
        );
        println!(
            "{:<28} {:>10.2}x",
            format!("ratio host/floor, {threads} thr"),
            h / f
        );
    }
}
