//! `selfup serve`: the HTTP gateway.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use selfup_gateway::http::{AppState, serve as serve_http};
use selfup_gateway::{Dispatcher, PluginLoader, Router};
use selfup_store::system_clock::SystemClock;
use selfup_store::telemetry::TelemetryWriter;
use tokio::net::TcpListener;

use crate::context::Context;
use crate::exit::Exit;

/// Serves until Ctrl-C or SIGTERM, then flushes telemetry and exits.
pub async fn serve(ctx: &Context, bind: Option<SocketAddr>) -> anyhow::Result<()> {
    let gateway = &ctx.config.self_upgrading_loop.gateway;
    let addr = bind.unwrap_or(gateway.bind);
    let store = ctx.open_store()?;
    let router = Arc::new(Router::new(PluginLoader::new(&ctx.home, ctx.wasm_host()?)));
    {
        let (router, store) = (router.clone(), store.clone());
        tokio::task::spawn_blocking(move || router.refresh(&store)).await??;
    }
    let writer = TelemetryWriter::start(&ctx.home, ctx.writer_config())?;
    let clock = Arc::new(SystemClock);
    let state = AppState {
        dispatcher: Arc::new(Dispatcher::new(router, writer.sink(), clock.clone())),
        store,
        clock,
    };
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        Exit::new(1, format!("cannot listen on {addr}: {e}; is something else serving there? choose another address with --bind"))
    })?;
    let local = listener.local_addr()?;
    println!("selfup gateway listening on http://{local}");
    std::io::stdout().flush()?;
    tracing::info!(%local, home = %ctx.home.root().display(), "serving");
    let refresh = Duration::from_millis(u64::from(gateway.router_refresh_ms.max(1)));
    serve_http(listener, state, refresh, shutdown_signal()).await?;
    writer.shutdown();
    println!("selfup gateway stopped");
    Ok(())
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
