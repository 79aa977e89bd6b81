//! `selfup serve` (the HTTP gateway) and `selfup run` (the service: the
//! gateway and the loop in one process, or the loop alone).

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use selfup_gateway::dispatch::Sampling;
use selfup_gateway::http::{AppState, serve as serve_http};
use selfup_gateway::limits::RateLimiter;
use selfup_gateway::{Dispatcher, PluginLoader, Router};
use selfup_loop::Orchestrator;
use selfup_store::Store;
use selfup_store::system_clock::SystemClock;
use selfup_store::telemetry::TelemetryWriter;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::api::LoopApi;
use crate::commands::lifecycle::reload_hook;
use crate::context::Context;
use crate::exit::Exit;

/// A gateway ready to serve.
struct Gateway {
    state: AppState,
    writer: TelemetryWriter,
    listener: TcpListener,
}

/// Builds the gateway over `store`: routing, telemetry, rate limit, and the
/// lifecycle API of `orchestrator` (which reloads this gateway's routing
/// the moment it changes it).
async fn gateway(
    ctx: &Context,
    store: Arc<Store>,
    router: Arc<Router>,
    orchestrator: Arc<Orchestrator>,
    bind: Option<SocketAddr>,
) -> anyhow::Result<Gateway> {
    let config = &ctx.config.self_upgrading_loop;
    let addr = bind.unwrap_or(config.gateway.bind);
    {
        let (router, store) = (router.clone(), store.clone());
        tokio::task::spawn_blocking(move || router.refresh(&store)).await??;
    }
    let writer = TelemetryWriter::start(&ctx.home, ctx.writer_config())?;
    let clock = Arc::new(SystemClock);
    let sampling = Sampling::at_rate(
        config.telemetry.input_sample_rate,
        config.telemetry.input_samples_per_capability,
    );
    let state = AppState {
        dispatcher: Arc::new(
            Dispatcher::new(router, writer.sink(), clock.clone()).with_sampling(sampling),
        ),
        store,
        clock,
        limiter: RateLimiter::new(
            config.gateway.rate_limit_per_second,
            config.gateway.rate_limit_burst,
        )
        .map(Arc::new),
        lifecycle: Some(Arc::new(LoopApi { orchestrator })),
        mcp_allowed_hosts: config.gateway.mcp_allowed_hosts.clone().into(),
    };
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        Exit::new(1, format!("cannot listen on {addr}: {e}; is something else serving there? choose another address with gateway.bind in the configuration (or --bind)"))
    })?;
    Ok(Gateway {
        state,
        writer,
        listener,
    })
}

fn announce(listener: &TcpListener) -> anyhow::Result<()> {
    println!(
        "selfup gateway listening on http://{}",
        listener.local_addr()?
    );
    std::io::stdout().flush()?;
    Ok(())
}

fn refresh_interval(ctx: &Context) -> Duration {
    Duration::from_millis(u64::from(
        ctx.config
            .self_upgrading_loop
            .gateway
            .router_refresh_ms
            .max(1),
    ))
}

/// Serves until Ctrl-C or SIGTERM, then flushes telemetry and exits. The
/// loop does not run, but its lifecycle API does (approvals and rollbacks
/// are transactions).
pub async fn serve(ctx: &Context, bind: Option<SocketAddr>) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    let router = Arc::new(Router::new(PluginLoader::new(&ctx.home, ctx.wasm_host()?)));
    let orchestrator = Arc::new(ctx.orchestrator(
        store.clone(),
        Some(reload_hook(router.clone(), store.clone())),
    )?);
    let g = gateway(ctx, store, router, orchestrator, bind).await?;
    announce(&g.listener)?;
    serve_http(
        g.listener,
        g.state,
        refresh_interval(ctx),
        shutdown_signal(),
    )
    .await?;
    g.writer.shutdown();
    println!("selfup gateway stopped");
    Ok(())
}

/// Runs the service until Ctrl-C or SIGTERM: the loop on its own thread
/// (its store work and plugin compiles never hold up a request) and,
/// unless `loop_only`, the gateway, which the loop reloads the moment it
/// changes the routing.
pub async fn run(ctx: &Context, bind: Option<SocketAddr>, loop_only: bool) -> anyhow::Result<()> {
    run_until(ctx, bind, loop_only, shutdown_signal(), || {}).await
}

/// [`run`], stopping the same way when `stop` resolves instead of on a
/// signal (the Windows service's stop request); `ready` is called once the
/// gateway listens (or the loop alone runs).
pub async fn run_until(
    ctx: &Context,
    bind: Option<SocketAddr>,
    loop_only: bool,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(),
) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        stop.await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        while !*rx.borrow() {
            if rx.changed().await.is_err() {
                break;
            }
        }
    };
    let router = (!loop_only)
        .then(|| {
            ctx.wasm_host()
                .map(|host| Arc::new(Router::new(PluginLoader::new(&ctx.home, host))))
        })
        .transpose()?;
    let hook = router
        .as_ref()
        .map(|r| reload_hook(r.clone(), store.clone()));
    let orchestrator = Arc::new(ctx.orchestrator(store.clone(), hook)?);
    // One notifier per home (here, not in `selfup serve`): it reads the
    // upgrade events from the store, so a failing channel never touches
    // the loop.
    let notifier = selfup_notify::Notifier::new(
        &ctx.config.self_upgrading_loop.notifications,
        store.clone(),
        Arc::new(selfup_store::system_clock::SystemClock),
    );
    let notify_task = tokio::spawn({
        let stop = stop_rx.clone();
        async move { notifier.run(stopped(stop)).await }
    });
    let gateway = match router {
        Some(router) => Some(gateway(ctx, store, router, orchestrator.clone(), bind).await?),
        None => None,
    };
    let loop_stop = stop_rx.clone();
    let looping = orchestrator.clone();
    let loop_thread = std::thread::Builder::new()
        .name("selfup-loop".into())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(looping.run(stopped(loop_stop))),
                Err(e) => tracing::error!(error = %e, "cannot start the loop's runtime"),
            }
        })?;
    match gateway {
        Some(g) => {
            announce(&g.listener)?;
            ready();
            serve_http(g.listener, g.state, refresh_interval(ctx), stopped(stop_rx)).await?;
            g.writer.shutdown();
        }
        None => {
            println!("selfup loop running (no gateway)");
            std::io::stdout().flush()?;
            ready();
            stopped(stop_rx).await;
        }
    }
    let _ = notify_task.await;
    if loop_thread.join().is_err() {
        return Err(Exit::new(1, "the loop thread panicked").into());
    }
    println!("selfup stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
#[cfg(not(windows))]
pub async fn shutdown_signal() {
    signalled().await;
}

/// Resolves on Ctrl-C, Ctrl-Break, the console closing, the system shutting
/// down or this process's stop event being set (see [`super::stop_event`];
/// the event exists once this returns, before the future is polled).
#[cfg(windows)]
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    let stop_event = super::stop_event::stop_requested();
    async move {
        tokio::select! {
            _ = signalled() => {},
            _ = stop_event => {},
        }
    }
}

/// Resolves on Ctrl-C, on SIGTERM (Unix), or on the Windows console events
/// that ask a program to stop.
async fn signalled() {
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
    #[cfg(windows)]
    let terminate = windows_console_stop();
    #[cfg(not(any(unix, windows)))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

/// Resolves on the Windows console events that ask a program to stop:
/// Ctrl-Break (what a parent sends a child it started in its own process
/// group, where Ctrl-C is off), the console window closing, and shutdown.
#[cfg(windows)]
async fn windows_console_stop() {
    use tokio::signal::windows::{ctrl_break, ctrl_close, ctrl_shutdown};
    let brk = async {
        match ctrl_break() {
            Ok(mut s) => s.recv().await,
            Err(_) => std::future::pending().await,
        }
    };
    let close = async {
        match ctrl_close() {
            Ok(mut s) => s.recv().await,
            Err(_) => std::future::pending().await,
        }
    };
    let shutdown = async {
        match ctrl_shutdown() {
            Ok(mut s) => s.recv().await,
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = brk => {},
        _ = close => {},
        _ = shutdown => {},
    }
}
