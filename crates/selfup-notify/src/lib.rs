//! Notifications of upgrade events: signed JSON webhooks and email over
//! SMTP, each channel with its `on_events` filter.
//!
//! The source is the store's `upgrade_events` table, written in the same
//! transaction as every upgrade state change. The [`Notifier`] reads the
//! events after its cursor, enqueues one delivery per event and matching
//! channel in the same transaction that advances the cursor (an outbox: a
//! crash neither loses nor repeats an event), then attempts the due
//! deliveries concurrently, each with a timeout, retrying with backoff.
//!
//! Invariants: a failing or hanging channel never blocks the upgrade loop
//! or another channel; delivery errors go to the delivery log and to
//! `tracing`, never back into the upgrade path; time only through `Clock`.

mod backoff;
pub mod email;
pub mod error;
pub mod event;
mod http;
pub mod notifier;
pub mod outcome;
pub mod payload;
pub mod signature;
pub mod webhook;

pub use error::NotifyError;
pub use notifier::{Notifier, TickReport};
