//! One email attempt: write the message from the payload and send it over
//! SMTP (lettre, tokio, rustls): STARTTLS (required), TLS from the first
//! byte, or plain, as the channel's `smtp.security` says; logging in with
//! the user name and password from the environment variables the channel
//! names, only when the user name variable is set.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use selfup_core::config::{Channel, SmtpConfig, SmtpSecurity};
use serde_json::Value;

use crate::outcome::Outcome;
use crate::payload::{field, upgrade_field};
use crate::webhook::chain;

/// The configuration key of channel `index` (for messages that say what to set).
fn key(index: usize, rest: &str) -> String {
    format!("self_upgrading_loop.notifications.channels[{index}].{rest}")
}

/// The recipients as the delivery log shows them.
pub fn destination(channel: &Channel) -> String {
    if channel.to.is_empty() {
        "(no recipients)".to_owned()
    } else {
        channel.to.join(", ")
    }
}

/// The sender: the channel's `from`, or `selfup@<this host's name>`.
pub fn sender(channel: &Channel) -> String {
    channel.from.clone().unwrap_or_else(|| {
        let host = hostname::get()
            .ok()
            .and_then(|h| h.into_string().ok())
            .filter(|h| {
                !h.is_empty()
                    && h.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            })
            .unwrap_or_else(|| "localhost".to_owned());
        format!("selfup@{host}")
    })
}

/// The subject: `[selfup] upgrade_deployed: text-summarize 2.0.0`.
pub fn subject(payload: &Value) -> String {
    let plugin = upgrade_field(payload, "plugin");
    let version = upgrade_field(payload, "to_version");
    let what = if plugin.is_empty() {
        format!("upgrade {}", upgrade_id(payload))
    } else {
        format!("{plugin} {version}")
    };
    format!("[selfup] {}: {what}", field(payload, "event"))
}

fn upgrade_id(payload: &Value) -> String {
    payload
        .get("upgrade")
        .and_then(|u| u.get("id"))
        .map_or_else(|| "?".to_owned(), Value::to_string)
}

/// The plain-text body: the event, the upgrade, who did it and why, and
/// the command that shows the rest.
pub fn body(payload: &Value) -> String {
    let id = upgrade_id(payload);
    let plugin = upgrade_field(payload, "plugin");
    let from = upgrade_field(payload, "from_version");
    let to = upgrade_field(payload, "to_version");
    let versions = if from.is_empty() {
        format!("{plugin} {to} (new)")
    } else {
        format!("{plugin} {from} -> {to}")
    };
    let mut text = format!(
        "selfup: {event}\n\n\
         Upgrade:    {id}: {versions}\n\
         Capability: {capability}\n\
         State:      {state}\n\
         Actor:      {actor}\n",
        event = field(payload, "event"),
        capability = upgrade_field(payload, "capability"),
        state = upgrade_field(payload, "state"),
        actor = field(payload, "actor"),
    );
    let reason = upgrade_field(payload, "reason");
    if !reason.is_empty() {
        text.push_str(&format!("Reason:     {reason}\n"));
    }
    text.push_str(&format!(
        "When:       {}\n\nDetails: selfup upgrades show {id}\n",
        field(payload, "occurred_at")
    ));
    text
}

/// Builds the message for channel `index`; an error names the key to fix.
pub fn message(channel: &Channel, index: usize, payload: &Value) -> Result<Message, String> {
    if channel.to.is_empty() {
        return Err(format!(
            "email channel {index} has no recipients: set {}",
            key(index, "to")
        ));
    }
    let from = sender(channel);
    let from: Mailbox = from.parse().map_err(|e| {
        format!(
            "sender {from:?} is not an address ({e}): set {}",
            key(index, "from")
        )
    })?;
    let mut builder = Message::builder().from(from).subject(subject(payload));
    for (i, to) in channel.to.iter().enumerate() {
        let mailbox: Mailbox = to.parse().map_err(|e| {
            format!(
                "recipient {to:?} is not an address ({e}): fix {}",
                key(index, &format!("to[{i}]"))
            )
        })?;
        builder = builder.to(mailbox);
    }
    builder
        .header(ContentType::TEXT_PLAIN)
        .body(body(payload))
        .map_err(|e| format!("the message cannot be built: {e}"))
}

/// Sends `payload` to email channel `index`, each SMTP step within `timeout`.
pub async fn send(channel: &Channel, index: usize, payload: &Value, timeout: Duration) -> Outcome {
    let message = match message(channel, index, payload) {
        Ok(m) => m,
        Err(e) => return Outcome::failed(e),
    };
    let smtp = channel.smtp.clone().unwrap_or_default();
    let transport = match transport(&smtp, timeout) {
        Ok(t) => t,
        Err(e) => {
            return Outcome::failed(format!(
                "SMTP set-up for {}:{} failed: {e}",
                smtp.host, smtp.port
            ));
        }
    };
    match transport.send(message).await {
        Ok(_) => Outcome::Delivered,
        Err(e) => classify(&e, &smtp, index),
    }
}

fn transport(
    smtp: &SmtpConfig,
    timeout: Duration,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let builder = match smtp.security {
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host),
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host),
        SmtpSecurity::Plain => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            smtp.host.as_str(),
        )),
    }
    .map_err(|e| chain(&e))?;
    let mut builder = builder.port(smtp.port).timeout(Some(timeout));
    if let Some(user) = env_value(&smtp.username_env) {
        let password = env_value(&smtp.password_env).unwrap_or_default();
        builder = builder.credentials(Credentials::new(user, password));
    }
    Ok(builder.build())
}

/// A non-empty environment variable.
pub(crate) fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn classify(e: &lettre::transport::smtp::Error, smtp: &SmtpConfig, index: usize) -> Outcome {
    let server = format!("{}:{}", smtp.host, smtp.port);
    let text = chain(e);
    if e.is_client() && smtp.security == SmtpSecurity::Starttls && text.contains("STARTTLS") {
        return Outcome::failed(format!(
            "the SMTP server {server} does not offer STARTTLS, which security: starttls requires; \
             nothing was sent in the clear. Use a server that offers it, or set {} to tls or plain",
            key(index, "smtp.security")
        ));
    }
    if e.is_permanent() || e.is_client() || e.is_tls() {
        Outcome::failed(format!("SMTP {server}: {text}"))
    } else {
        Outcome::retry(format!("SMTP {server}: {text}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use selfup_core::config::{ChannelKind, NotificationEvent};
    use serde_json::json;

    fn channel(to: &[&str]) -> Channel {
        Channel {
            kind: ChannelKind::Email,
            url: None,
            on_events: vec![NotificationEvent::UpgradeDeployed],
            secret_env: None,
            smtp: None,
            from: Some("selfup@example.com".into()),
            to: to.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn payload() -> Value {
        json!({
            "id": "9-1", "event": "upgrade_deployed", "occurred_at": "2026-01-01T00:00:00.000Z",
            "upgrade": {"id": 4, "capability": "text.summarize", "plugin": "text-summarize",
                        "from_version": "1.0.0", "to_version": "2.0.0", "state": "completed",
                        "stage": null, "reason": null},
            "actor": "orchestrator", "detail": {}
        })
    }

    #[test]
    fn subject_and_body_name_the_upgrade_and_the_command() {
        assert_eq!(
            subject(&payload()),
            "[selfup] upgrade_deployed: text-summarize 2.0.0"
        );
        let text = body(&payload());
        assert!(
            text.contains("Upgrade:    4: text-summarize 1.0.0 -> 2.0.0"),
            "{text}"
        );
        assert!(text.contains("Actor:      orchestrator"), "{text}");
        assert!(text.contains("selfup upgrades show 4"), "{text}");
        assert!(!text.contains("Reason"), "{text}");
    }

    #[test]
    fn a_channel_without_recipients_names_the_key() {
        let err = message(&channel(&[]), 2, &payload()).expect_err("refused");
        assert!(
            err.contains("self_upgrading_loop.notifications.channels[2].to"),
            "{err}"
        );
        assert!(message(&channel(&["ops@example.com"]), 0, &payload()).is_ok());
    }

    #[test]
    fn the_default_sender_is_selfup_at_this_host() {
        let mut c = channel(&["ops@example.com"]);
        c.from = None;
        assert!(sender(&c).starts_with("selfup@"));
        assert!(message(&c, 0, &payload()).is_ok(), "{}", sender(&c));
    }
}
