//! The notifier: the outbox loop that turns upgrade events into deliveries
//! and attempts them.
//!
//! The first time it runs on a database the cursor is set to the latest
//! upgrade event: history is not notified, only what happens from then on.
//! While notifications are disabled the cursor still moves (the events are
//! skipped) and nothing is sent, so enabling them later never sends a
//! backlog of events.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use selfup_core::clock::Clock;
use selfup_core::config::{Channel, ChannelKind, NotificationsConfig};
use selfup_store::notifications::{AttemptResult, Delivery, DeliveryStatus, NewDelivery};
use selfup_store::{Store, StoreError};
use tokio::task::JoinSet;

use crate::backoff::Backoff;
use crate::email::{self, env_value};
use crate::error::NotifyError;
use crate::event::{event_for_state, event_name};
use crate::http;
use crate::outcome::Outcome;
use crate::payload;
use crate::webhook::{self, WebhookRequest};

/// The environment variable holding a webhook's signing key when the
/// channel names none.
pub const DEFAULT_SECRET_ENV: &str = "SELFUP_WEBHOOK_SECRET";

/// Upgrade events read per store round trip.
const EVENT_BATCH: usize = 256;
/// Most event batches enqueued in one tick (the rest waits for the next).
const MAX_EVENT_BATCHES: usize = 16;
/// Most deliveries of one channel attempted at once in one tick.
const PER_CHANNEL: usize = 4;
/// Extra lease beyond the timeout before a claimed attempt is made again.
const LEASE_GRACE_MS: i64 = 30_000;
/// Used when the configured timeout is not a positive number of seconds.
const FALLBACK_TIMEOUT: Duration = Duration::from_secs(10);

/// What one [`Notifier::tick`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Deliveries enqueued for new upgrade events.
    pub enqueued: usize,
    /// Delivery attempts made.
    pub attempted: usize,
    /// Attempts that delivered.
    pub delivered: usize,
    /// Attempts that failed and will be retried.
    pub retrying: usize,
    /// Attempts after which the delivery was given up.
    pub failed: usize,
}

/// Sends notifications of upgrade events to the configured channels.
/// Cheap to clone (all clones share the store, client and state).
#[derive(Clone)]
pub struct Notifier {
    config: Arc<NotificationsConfig>,
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    http: Arc<Result<reqwest::Client, String>>,
    backoff: Backoff,
    timeout: Duration,
    poll_interval: Duration,
    unsigned_warned: Arc<Vec<AtomicBool>>,
}

impl Notifier {
    /// A notifier for `config`, reading events from and logging deliveries
    /// to `store`, on `clock`.
    pub fn new(config: &NotificationsConfig, store: Arc<Store>, clock: Arc<dyn Clock>) -> Self {
        let timeout = Duration::try_from_secs_f64(config.timeout_seconds)
            .ok()
            .filter(|t| !t.is_zero())
            .unwrap_or(FALLBACK_TIMEOUT);
        let http = http::client(timeout);
        if let Err(e) = &http {
            tracing::error!(error = %e, "webhook notifications cannot be sent");
        }
        Self {
            config: Arc::new(config.clone()),
            store,
            clock,
            http: Arc::new(http),
            backoff: Backoff::default(),
            timeout,
            poll_interval: Duration::from_secs(1),
            unsigned_warned: Arc::new(
                config
                    .channels
                    .iter()
                    .map(|_| AtomicBool::new(false))
                    .collect(),
            ),
        }
    }

    /// Sets the retry delays: `base` after the first failure, doubling up
    /// to `cap` (defaults: 1 s and 5 min), before jitter.
    pub fn with_backoff(mut self, base: Duration, cap: Duration) -> Self {
        self.backoff = Backoff { base, cap };
        self
    }

    /// Sets how long [`Notifier::run`] waits between ticks (default 1 s).
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Ticks until `shutdown` completes. Errors are logged, never returned:
    /// the next tick tries again. Spawn it; it never blocks the caller.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                result = self.tick() => match result {
                    Ok(report) if report != TickReport::default() => {
                        tracing::debug!(?report, "notifications");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "the notification step failed; it is retried"),
                },
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(self.poll_interval) => {}
            }
        }
    }

    /// Enqueues the deliveries for new upgrade events, then attempts the
    /// due deliveries (all channels concurrently, each attempt within the
    /// timeout). Returns within about one timeout whatever the receivers do.
    pub async fn tick(&self) -> Result<TickReport, NotifyError> {
        let enqueued = self.enqueue().await?;
        let mut report = self.deliver_due().await?;
        report.enqueued = enqueued;
        Ok(report)
    }

    /// Reads the upgrade events after the cursor and, in one transaction
    /// per batch, enqueues a delivery for each event and channel that wants
    /// it and advances the cursor. Returns how many were enqueued.
    pub async fn enqueue(&self) -> Result<usize, NotifyError> {
        let store = Arc::clone(&self.store);
        let config = Arc::clone(&self.config);
        let now_ms = self.clock.now_ms();
        blocking(move || enqueue_events(&store, &config, now_ms)).await
    }

    /// Attempts the deliveries that are due, at most a few per channel
    /// (none while notifications are disabled: pending ones wait).
    pub async fn deliver_due(&self) -> Result<TickReport, NotifyError> {
        if !self.config.enabled {
            return Ok(TickReport::default());
        }
        let now_ms = self.clock.now_ms();
        let lease_until = now_ms
            .saturating_add(i64::try_from(self.timeout.as_millis()).unwrap_or(i64::MAX))
            .saturating_add(LEASE_GRACE_MS);
        let store = Arc::clone(&self.store);
        let due =
            blocking(move || store.claim_notification_deliveries(now_ms, lease_until, PER_CHANNEL))
                .await?;
        let mut tasks = JoinSet::new();
        for delivery in due {
            let this = self.clone();
            tasks.spawn(async move { this.attempt(delivery).await });
        }
        let mut report = TickReport::default();
        while let Some(joined) = tasks.join_next().await {
            report.attempted += 1;
            match joined {
                Ok(Ok(DeliveryStatus::Delivered)) => report.delivered += 1,
                Ok(Ok(DeliveryStatus::Pending)) => report.retrying += 1,
                Ok(Ok(DeliveryStatus::Failed)) => report.failed += 1,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "recording a notification attempt failed")
                }
                Err(e) => tracing::error!(error = %e, "a notification attempt stopped"),
            }
        }
        Ok(report)
    }

    /// Makes one attempt of `delivery` and records it.
    async fn attempt(&self, delivery: Delivery) -> Result<DeliveryStatus, NotifyError> {
        let outcome = match self.config.channels.get(delivery.channel) {
            None => Outcome::failed(format!(
                "channel {} is no longer in the configuration",
                delivery.channel
            )),
            Some(channel) if kind_name(channel.kind) != delivery.channel_kind => {
                Outcome::failed(format!(
                    "channel {} is now a {} channel; this delivery was for a {} channel",
                    delivery.channel,
                    kind_name(channel.kind),
                    delivery.channel_kind
                ))
            }
            Some(channel) => {
                match tokio::time::timeout(self.timeout, self.send(channel, &delivery)).await {
                    Ok(outcome) => outcome,
                    Err(_) => Outcome::retry(format!(
                        "timed out after {:.1} s",
                        self.timeout.as_secs_f64()
                    )),
                }
            }
        };
        let now_ms = self.clock.now_ms();
        let attempt = delivery.attempts.saturating_add(1);
        let result = match &outcome {
            Outcome::Delivered => AttemptResult::Delivered,
            Outcome::Retry {
                error,
                retry_after_ms,
            } => AttemptResult::Retry {
                error: error.clone(),
                next_attempt_ms: now_ms.saturating_add(self.backoff.delay_ms(
                    &delivery.delivery_id,
                    attempt,
                    *retry_after_ms,
                )),
            },
            Outcome::Failed { error } => AttemptResult::Failed {
                error: error.clone(),
            },
        };
        let store = Arc::clone(&self.store);
        let max_attempts = self.config.max_attempts.max(1);
        let id = delivery.id;
        let status =
            blocking(move || store.record_notification_attempt(id, now_ms, &result, max_attempts))
                .await?;
        log_attempt(&delivery, attempt, &outcome, status);
        Ok(status)
    }

    async fn send(&self, channel: &Channel, delivery: &Delivery) -> Outcome {
        match channel.kind {
            ChannelKind::Email => {
                email::send(channel, delivery.channel, &delivery.payload, self.timeout).await
            }
            ChannelKind::Webhook => {
                let client = match self.http.as_ref() {
                    Ok(client) => client,
                    Err(e) => return Outcome::retry(e.clone()),
                };
                let url = channel.url.as_deref().unwrap_or(&delivery.destination);
                let secret_env = channel.secret_env.as_deref().unwrap_or(DEFAULT_SECRET_ENV);
                let secret = env_value(secret_env);
                if secret.is_none() {
                    self.warn_unsigned(delivery.channel, secret_env);
                }
                let request = WebhookRequest {
                    url,
                    delivery_id: &delivery.delivery_id,
                    event: &delivery.event,
                    payload: &delivery.payload,
                    secret: secret.as_deref().map(str::as_bytes),
                    timestamp: self.clock.now_ms().div_euclid(1000),
                };
                webhook::send(client, request).await
            }
        }
    }

    fn warn_unsigned(&self, channel: usize, env: &str) {
        let first = self
            .unsigned_warned
            .get(channel)
            .is_some_and(|flag| !flag.swap(true, Ordering::Relaxed));
        if first {
            tracing::warn!(
                channel,
                "{env} is not set: webhook deliveries of channel {channel} are sent unsigned"
            );
        }
    }
}

fn kind_name(kind: ChannelKind) -> &'static str {
    match kind {
        ChannelKind::Email => "email",
        ChannelKind::Webhook => "webhook",
    }
}

fn destination(channel: &Channel) -> String {
    match channel.kind {
        ChannelKind::Email => email::destination(channel),
        ChannelKind::Webhook => channel.url.clone().unwrap_or_default(),
    }
}

/// The outbox step: events after the cursor → deliveries, with the cursor
/// moved in the same transaction.
fn enqueue_events(
    store: &Store,
    config: &NotificationsConfig,
    now_ms: i64,
) -> Result<usize, StoreError> {
    let mut cursor = store.init_notification_cursor()?;
    let mut total = 0;
    for _ in 0..MAX_EVENT_BATCHES {
        let events = store.upgrade_events_after(cursor, EVENT_BATCH)?;
        let Some(last) = events.last().map(|e| e.id) else {
            break;
        };
        let mut deliveries = Vec::new();
        for source in events.iter().filter(|_| config.enabled) {
            let Some(event) = event_for_state(&source.to_state) else {
                continue;
            };
            let channels: Vec<(usize, &Channel)> = config
                .channels
                .iter()
                .enumerate()
                .filter(|(_, c)| c.on_events.contains(&event))
                .collect();
            if channels.is_empty() {
                continue;
            }
            let upgrade = store.upgrade(source.upgrade_id)?;
            for (index, channel) in channels {
                let delivery_id = format!("{}-{index}", source.id);
                deliveries.push(NewDelivery {
                    payload: payload::build(&delivery_id, event, source, upgrade.as_ref()),
                    delivery_id,
                    event: event_name(event).to_owned(),
                    upgrade_id: Some(source.upgrade_id),
                    source_event_id: Some(source.id),
                    channel: index,
                    channel_kind: kind_name(channel.kind).to_owned(),
                    destination: destination(channel),
                });
            }
        }
        match store.enqueue_notifications(now_ms, cursor, last, &deliveries)? {
            Some(n) => {
                total += n;
                cursor = last;
            }
            // Another notifier on this store moved the cursor first.
            None => cursor = store.init_notification_cursor()?,
        }
    }
    Ok(total)
}

fn log_attempt(delivery: &Delivery, attempt: u32, outcome: &Outcome, status: DeliveryStatus) {
    let (id, channel, event) = (&delivery.delivery_id, delivery.channel, &delivery.event);
    match (outcome, status) {
        (Outcome::Delivered, _) => {
            tracing::info!(delivery = %id, channel, event = %event, attempt, "notification delivered");
        }
        (Outcome::Retry { error, .. } | Outcome::Failed { error }, DeliveryStatus::Failed) => {
            tracing::error!(
                delivery = %id, channel, event = %event, attempt,
                "notification to {} given up: {error}", delivery.destination
            );
        }
        (Outcome::Retry { error, .. } | Outcome::Failed { error }, _) => {
            tracing::warn!(
                delivery = %id, channel, event = %event, attempt,
                "notification to {} failed, will retry: {error}", delivery.destination
            );
        }
    }
}

/// Runs store work on the blocking pool.
async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, StoreError> + Send + 'static,
) -> Result<R, NotifyError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| NotifyError::Task(e.to_string()))?
        .map_err(NotifyError::from)
}
