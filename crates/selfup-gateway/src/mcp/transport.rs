//! The MCP transports: streamable HTTP (a tower service for axum) and stdio.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rmcp::ServiceExt as _;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use selfup_store::Store;
use tokio_util::sync::CancellationToken;

use crate::dispatch::Dispatcher;
use crate::http::MAX_BODY_BYTES;
use crate::mcp::McpServer;
use crate::router::Router;

/// Why serving MCP on stdio failed.
#[derive(Debug, thiserror::Error)]
pub enum StdioError {
    /// The client never completed the handshake (or stdin closed first).
    #[error("the MCP client did not complete the handshake: {0}")]
    Handshake(String),
    /// The session's task failed.
    #[error("the MCP session failed: {0}")]
    Session(String),
}

/// The streamable HTTP endpoint over `dispatcher`. Sessions (for clients
/// that still use the `initialize` handshake) live in memory; cancelling
/// `cancel` ends every open stream, which a graceful shutdown needs.
/// Only `Host` headers in `allowed_hosts` are accepted (rmcp's guard
/// against DNS rebinding; empty accepts any).
pub fn http_service(
    dispatcher: Arc<Dispatcher>,
    allowed_hosts: &[String],
    cancel: CancellationToken,
) -> StreamableHttpService<McpServer, LocalSessionManager> {
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(allowed_hosts.iter().cloned())
        .with_cancellation_token(cancel)
        .with_max_request_body_bytes(MAX_BODY_BYTES);
    StreamableHttpService::new(
        move || Ok(McpServer::new(dispatcher.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    )
}

/// Serves MCP on stdin/stdout until the client closes stdin or `shutdown`
/// resolves, reloading the routing from `store` every `refresh_every`
/// (tools change when another process installs or rolls out a plugin).
pub async fn serve_stdio(
    dispatcher: Arc<Dispatcher>,
    store: Arc<Store>,
    refresh_every: Duration,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), StdioError> {
    let refresher = tokio::spawn(refresh_loop(
        dispatcher.router().clone(),
        store,
        refresh_every,
    ));
    let server = McpServer::new(dispatcher)
        .with_connection_subject(format!("mcp-stdio-{}", std::process::id()));
    let result = async {
        let running = server
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| StdioError::Handshake(e.to_string()))?;
        let cancel = running.cancellation_token();
        tokio::select! {
            quit = running.waiting() => quit.map(|_| ()).map_err(|e| StdioError::Session(e.to_string())),
            () = shutdown => {
                cancel.cancel();
                Ok(())
            }
        }
    }
    .await;
    refresher.abort();
    result
}

/// Reloads the routing every `every` (the gateway's own loop does this for
/// HTTP); plugins no longer routed are shut down.
async fn refresh_loop(router: Arc<Router>, store: Arc<Store>, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let (r, s) = (router.clone(), store.clone());
        match tokio::task::spawn_blocking(move || r.refresh(&s)).await {
            Ok(Ok(retired)) => {
                for plugin in retired {
                    plugin.shutdown().await;
                }
            }
            Ok(Err(e)) => tracing::error!(error = %e, "cannot reload the routing"),
            Err(e) => tracing::error!(error = %e, "the routing reload panicked"),
        }
    }
}
