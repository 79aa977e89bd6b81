//! The floor for the gateway benchmark: a bare axum handler that reads the
//! request body and returns the same JSON the gateway returns for a
//! `test.echo` call, with no routing, no plugin and no telemetry.
//!
//! Run: `cargo run --release -p selfup-gateway --example bare_axum -- 127.0.0.1:18788`

use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;

const RESPONSE: &str = r#"{"output":{"subject":"user-1","text":"hello"},"plugin":"test-echo","version":"1.0.0","latency_ms":0.004}"#;

async fn call(body: Bytes) -> impl IntoResponse {
    std::hint::black_box(body);
    ([(header::CONTENT_TYPE, "application/json")], RESPONSE)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18788".into());
    let app = Router::new().route("/v1/capabilities/{name}/call", post(call));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("bare axum listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
