//! An OpenAI-compatible Chat Completions client for selfup's decision
//! engines: one JSON answer per call, constrained by a strict JSON schema
//! (structured outputs) and checked again on arrival; retries as the
//! official SDKs do; a per-attempt timeout; a daily token and cost budget;
//! every call recorded in a [`Ledger`].
//!
//! It speaks to OpenAI and to local servers with the same API (Ollama,
//! llama.cpp's server, vLLM); [`request`] says which fields each gets.
//!
//! Invariants: no request is sent once the day's budget is spent; every
//! call that was allowed to start is recorded, whatever its outcome; an
//! answer is returned only if it is JSON that fits the request's schema.

pub mod client;
pub mod error;
#[cfg(feature = "fake")]
pub mod fake;
pub mod ledger;
pub mod request;
pub mod retry;
pub mod validate;
pub mod wire;

pub use client::{LlmAnswer, LlmClient, LlmFailure};
pub use error::LlmError;
pub use ledger::{CallRecord, Ledger, LedgerError, utc_day};
pub use request::JsonRequest;
