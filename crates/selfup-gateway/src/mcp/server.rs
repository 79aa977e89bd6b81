//! The MCP server handler over the dispatcher.

use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListToolsResult,
    PaginatedRequestParams, RequestMetaObject, ServerCapabilities, ServerConfig,
    SubscriptionFilter, Tool,
};
use rmcp::service::{NotificationContext, RequestContext, SubscriptionContext};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use selfup_core::call::ErrorKind;
use serde_json::Value;

use crate::dispatch::Dispatcher;
use crate::mcp::tools;

/// The `_meta` key of a request that names its subject (the user or
/// conversation the sticky rollout assignment follows).
pub const SUBJECT_META_KEY: &str = "subject";

/// The header of a handshake-era streamable HTTP session.
const SESSION_HEADER: &str = "mcp-session-id";

/// How often a session's change watcher checks that its peer is still there.
const PEER_CHECK_EVERY: Duration = Duration::from_secs(30);

/// selfup's MCP server: the routed capabilities as tools, every call
/// through the [`Dispatcher`].
#[derive(Clone)]
pub struct McpServer {
    dispatcher: Arc<Dispatcher>,
    connection_subject: Option<Arc<str>>,
}

impl McpServer {
    /// A server calling through `dispatcher`.
    pub fn new(dispatcher: Arc<Dispatcher>) -> Self {
        Self {
            dispatcher,
            connection_subject: None,
        }
    }

    /// The subject of calls that name none and have no session id (one
    /// stdio connection is one session).
    pub fn with_connection_subject(mut self, subject: impl Into<Arc<str>>) -> Self {
        self.connection_subject = Some(subject.into());
        self
    }

    /// The subject of a call: `_meta.subject`, the session id, the
    /// connection's subject, or empty.
    fn subject(
        &self,
        params_meta: Option<&RequestMetaObject>,
        context: &RequestContext<RoleServer>,
    ) -> String {
        let named = |meta: &RequestMetaObject| {
            meta.get(SUBJECT_META_KEY)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        params_meta
            .and_then(named)
            .or_else(|| named(&context.meta))
            .or_else(|| {
                context
                    .extensions
                    .get::<axum::http::request::Parts>()
                    .and_then(|parts| parts.headers.get(SESSION_HEADER))
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned)
            })
            .or_else(|| self.connection_subject.as_deref().map(str::to_owned))
            .unwrap_or_default()
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tool_list_changed()
                .build(),
        )
        .with_server_info(Implementation::new("selfup", env!("CARGO_PKG_VERSION")))
        .with_instructions(
            "selfup serves each capability as a tool, from the plugin version its rollout \
             chooses. Put a stable user or conversation id in _meta.subject of tools/call \
             so that a rollout keeps each subject on one version.",
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let table = self.dispatcher.router().table();
        Ok(ListToolsResult::with_all_items(tools::list(&table)))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        let table = self.dispatcher.router().table();
        tools::list(&table).into_iter().find(|t| t.name == name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let subject = self.subject(request.meta.as_ref(), &context);
        let input = Value::Object(request.arguments.unwrap_or_default()).to_string();
        let outcome = self.dispatcher.call(&request.name, &subject, &input).await;
        if let Err(e) = &outcome.output
            && e.kind == ErrorKind::UnknownCapability
        {
            // Recorded like any unserved call (gap discovery reads it); to
            // the client an unknown tool is a protocol error.
            return Err(ErrorData::invalid_params(e.message.clone(), None));
        }
        Ok(tools::result(outcome).into())
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        // A handshake-era session: tell its peer when the tools change,
        // until the peer goes away.
        let mut changes = self.dispatcher.router().subscribe();
        changes.borrow_and_update();
        let peer = context.peer;
        tokio::spawn(async move {
            let mut check = tokio::time::interval(PEER_CHECK_EVERY);
            loop {
                tokio::select! {
                    changed = changes.changed() => {
                        if changed.is_err() || peer.notify_tool_list_changed().await.is_err() {
                            return;
                        }
                    }
                    _ = check.tick() => {
                        if peer.is_transport_closed() {
                            return;
                        }
                    }
                }
            }
        });
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        let mut accepted = SubscriptionFilter::new();
        accepted.tools_list_changed = requested.tools_list_changed.filter(|on| *on);
        Some(accepted)
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        let mut changes = self.dispatcher.router().subscribe();
        changes.borrow_and_update();
        let wants_tools = context.accepted().tools_list_changed == Some(true);
        loop {
            tokio::select! {
                () = context.cancelled() => return Ok(()),
                changed = changes.changed() => {
                    if changed.is_err() {
                        return Ok(());
                    }
                    if wants_tools && let Err(e) = context.sink().notify_tool_list_changed().await {
                        tracing::debug!(error = %e, "subscription closed");
                        return Ok(());
                    }
                }
            }
        }
    }
}
