//! The HTTP client for webhooks: reqwest's rustls (aws-lc-rs, the
//! platform's certificate verifier), a timeout per request, and no
//! redirects (a webhook is configured with its final URL; a redirected POST
//! would silently become a GET).

use std::time::Duration;

/// Builds the webhook client with a per-request `timeout`.
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("selfup/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("the HTTP client cannot be set up: {e}"))
}
