//! `/mcp` accepts only the `Host` headers in `gateway.mcp_allowed_hosts`
//! (rmcp's DNS-rebinding guard): loopback names by default, the configured
//! names otherwise, any host when the list is empty.

mod common;

use common::TestHome;

/// The first message of an MCP session.
const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"host-test","version":"1"}}}"#;

/// POSTs `initialize` to `/mcp` of the gateway at `url` with `host` as the
/// `Host` header; returns the status.
async fn initialize_as(client: &reqwest::Client, url: &str, host: &str) -> u16 {
    client
        .post(format!("{url}/mcp"))
        .header("host", host)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(INITIALIZE)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

#[tokio::test]
async fn only_allowed_host_headers_reach_mcp() {
    let home = TestHome::new();
    let mut gateway = home.serve();
    let port = gateway.url.rsplit(':').next().expect("port").to_owned();
    let client = &gateway.client;
    assert_eq!(
        initialize_as(client, &gateway.url, &format!("127.0.0.1:{port}")).await,
        200
    );
    assert_eq!(
        initialize_as(client, &gateway.url, &format!("localhost:{port}")).await,
        200
    );
    assert_eq!(
        initialize_as(client, &gateway.url, "attacker.example").await,
        403,
        "a rebinding host must be refused by default"
    );
    gateway.stop();

    home.config("  gateway:\n    mcp_allowed_hosts: [\"selfup.internal\"]\n");
    let mut gateway = home.serve();
    let client = &gateway.client;
    assert_eq!(
        initialize_as(client, &gateway.url, &format!("selfup.internal:{port}")).await,
        200,
        "a configured name is accepted with any port"
    );
    assert_eq!(
        initialize_as(client, &gateway.url, "127.0.0.1").await,
        403,
        "the configured list replaces the loopback default"
    );
    gateway.stop();

    home.config("  gateway:\n    mcp_allowed_hosts: []\n");
    let mut gateway = home.serve();
    assert_eq!(
        initialize_as(&gateway.client, &gateway.url, "anything.example").await,
        200,
        "an empty list accepts any host"
    );
    gateway.stop();
}
