//! `selfup mcp`: selfup as an MCP server on stdin/stdout.
//!
//! It opens the home and routes calls like `selfup serve` (same router,
//! dispatcher, telemetry, rollout split), but speaks MCP on stdio; stdout
//! carries only protocol messages, logs go to stderr.

use std::sync::Arc;
use std::time::Duration;

use selfup_gateway::dispatch::Sampling;
use selfup_gateway::mcp::serve_stdio;
use selfup_gateway::{Dispatcher, PluginLoader, Router};
use selfup_store::system_clock::SystemClock;
use selfup_store::telemetry::TelemetryWriter;

use crate::commands::serve::shutdown_signal;
use crate::context::Context;
use crate::exit::Exit;

/// Serves MCP on stdio until the client closes stdin, Ctrl-C or SIGTERM,
/// then flushes telemetry.
pub async fn run(ctx: &Context) -> anyhow::Result<()> {
    let config = &ctx.config.self_upgrading_loop;
    let store = ctx.open_store()?;
    let router = Arc::new(Router::new(PluginLoader::new(&ctx.home, ctx.wasm_host()?)));
    {
        let (router, store) = (router.clone(), store.clone());
        tokio::task::spawn_blocking(move || router.refresh(&store)).await??;
    }
    let writer = TelemetryWriter::start(&ctx.home, ctx.writer_config())?;
    let sampling = Sampling::at_rate(
        config.telemetry.input_sample_rate,
        config.telemetry.input_samples_per_capability,
    );
    let dispatcher = Arc::new(
        Dispatcher::new(router.clone(), writer.sink(), Arc::new(SystemClock))
            .with_sampling(sampling),
    );
    let refresh_every = Duration::from_millis(u64::from(config.gateway.router_refresh_ms.max(1)));
    let served = serve_stdio(dispatcher, store, refresh_every, shutdown_signal()).await;
    router.shutdown().await;
    writer.shutdown();
    served.map_err(|e| Exit::new(1, e.to_string()).into())
}
