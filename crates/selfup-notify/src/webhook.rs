//! One webhook attempt: POST the payload as JSON with the selfup headers
//! and, when the channel's secret is set, its signature; classify the
//! answer (2xx delivered; 408, 429, 5xx and connection errors retried;
//! any other status refused at once).

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};

use crate::backoff::parse_retry_after;
use crate::outcome::Outcome;
use crate::signature::{DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};

/// Most bytes of a refusing receiver's answer kept in the delivery log.
const MAX_ERROR_BODY: usize = 200;

/// One webhook delivery to send.
#[derive(Debug, Clone, Copy)]
pub struct WebhookRequest<'a> {
    /// The endpoint.
    pub url: &'a str,
    /// The delivery id (`X-Selfup-Delivery`).
    pub delivery_id: &'a str,
    /// The event name (`X-Selfup-Event`).
    pub event: &'a str,
    /// The JSON body.
    pub payload: &'a serde_json::Value,
    /// The signing key; `None` sends the delivery unsigned.
    pub secret: Option<&'a [u8]>,
    /// Unix seconds sent in `X-Selfup-Timestamp` (and signed).
    pub timestamp: i64,
}

/// POSTs `req` with `client` (which carries the timeout) and classifies the answer.
pub async fn send(client: &reqwest::Client, req: WebhookRequest<'_>) -> Outcome {
    let body = req.payload.to_string();
    let mut builder = client
        .post(req.url)
        .header(CONTENT_TYPE, "application/json")
        .header(EVENT_HEADER, req.event)
        .header(DELIVERY_HEADER, req.delivery_id)
        .header(TIMESTAMP_HEADER, req.timestamp.to_string());
    if let Some(secret) = req.secret {
        builder = builder.header(
            SIGNATURE_HEADER,
            sign(secret, req.timestamp, body.as_bytes()),
        );
    }
    match builder.body(body).send().await {
        Ok(response) => classify(response).await,
        Err(e) if e.is_builder() => Outcome::failed(format!("invalid webhook request: {e}")),
        Err(e) if e.is_timeout() => Outcome::retry(format!("timed out: {}", chain(&e))),
        Err(e) => Outcome::retry(chain(&e)),
    }
}

async fn classify(response: reqwest::Response) -> Outcome {
    let status = response.status();
    if status.is_success() {
        return Outcome::Delivered;
    }
    let retry_after_ms = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = response.text().await.unwrap_or_default();
    let mut error = format!("HTTP {status}");
    let snippet: String = text.trim().chars().take(MAX_ERROR_BODY).collect();
    if !snippet.is_empty() {
        error.push_str(": ");
        error.push_str(&snippet);
    }
    if status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
    {
        Outcome::Retry {
            error,
            retry_after_ms,
        }
    } else if status.is_redirection() {
        Outcome::failed(format!(
            "{error} (redirected to {}; configure the final URL)",
            location.as_deref().unwrap_or("?")
        ))
    } else {
        Outcome::failed(format!("{error} (the receiver refused the delivery)"))
    }
}

/// The error and its sources, joined ("error sending request: connection refused").
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}
