//! The LLM call ledger: every call to the language model (success or not),
//! what it cost, and — only with `decision.llm.store_prompts` — its prompt
//! and answer. The day's totals answer the daily token and cost budget.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::{Store, StoreError};

/// One call as it is recorded (the id is assigned on insert).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewLlmCall {
    /// When the call started, milliseconds since the Unix epoch.
    pub ts_ms: i64,
    /// The UTC day of `ts_ms`, `YYYY-MM-DD` (the budget's unit).
    pub day: String,
    /// What the call was for: `decision`, `pattern_analysis`, `capability_spec`.
    pub purpose: String,
    /// The model asked.
    pub model: String,
    /// SHA-256 (hex) of the request's messages and schema.
    pub prompt_sha256: String,
    /// The prompt text, only when prompts are stored.
    pub prompt: Option<String>,
    /// The answer text, only when prompts are stored.
    pub answer: Option<String>,
    /// `ok`, or the kind of failure (`refused`, `truncated`, `timeout`, …).
    pub outcome: String,
    /// The error message of a failed call.
    pub error: Option<String>,
    /// Wall time of the whole call, retries and waits included.
    pub latency_ms: f64,
    /// HTTP requests sent.
    pub attempts: u32,
    /// Prompt tokens the server reported (summed over attempts).
    pub prompt_tokens: u64,
    /// Answer tokens the server reported (summed over attempts).
    pub completion_tokens: u64,
    /// What the tokens cost, in US dollars.
    pub cost_usd: f64,
}

/// A recorded call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LlmCall {
    /// Its id.
    pub id: i64,
    /// Everything recorded about it.
    #[serde(flatten)]
    pub call: NewLlmCall,
}

/// What a day's calls spent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LlmSpending {
    /// Prompt and answer tokens.
    pub tokens: u64,
    /// US dollars.
    pub cost_usd: f64,
}

impl Store {
    /// Records one LLM call; returns its id.
    pub fn insert_llm_call(&self, call: &NewLlmCall) -> Result<i64, StoreError> {
        let conn = self.conn();
        conn.prepare_cached(
            "INSERT INTO llm_calls (ts_ms, day, purpose, model, prompt_sha256, prompt, answer, outcome,
                                    error, latency_ms, attempts, prompt_tokens, completion_tokens, cost_usd)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )?
        .execute(params![
            call.ts_ms,
            call.day,
            call.purpose,
            call.model,
            call.prompt_sha256,
            call.prompt,
            call.answer,
            call.outcome,
            call.error,
            finite(call.latency_ms),
            i64::from(call.attempts),
            saturating_i64(call.prompt_tokens),
            saturating_i64(call.completion_tokens),
            finite(call.cost_usd),
        ])?;
        Ok(conn.last_insert_rowid())
    }

    /// The tokens and dollars spent by the calls of `day` (`YYYY-MM-DD`, UTC).
    pub fn llm_spent_on(&self, day: &str) -> Result<LlmSpending, StoreError> {
        let conn = self.conn();
        let (tokens, cost): (i64, f64) = conn.query_row(
            "SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0), COALESCE(SUM(cost_usd), 0.0)
             FROM llm_calls WHERE day = ?1",
            [day],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(LlmSpending {
            tokens: u64::try_from(tokens).unwrap_or(0),
            cost_usd: cost,
        })
    }

    /// The call with this id, if any.
    pub fn llm_call(&self, id: i64) -> Result<Option<LlmCall>, StoreError> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                "SELECT id, ts_ms, day, purpose, model, prompt_sha256, prompt, answer, outcome, error,
                        latency_ms, attempts, prompt_tokens, completion_tokens, cost_usd
                 FROM llm_calls WHERE id = ?1",
                [id],
                call_row,
            )
            .optional()?)
    }

    /// The calls of `day` (`YYYY-MM-DD`, UTC), oldest first.
    pub fn llm_calls_on(&self, day: &str) -> Result<Vec<LlmCall>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, ts_ms, day, purpose, model, prompt_sha256, prompt, answer, outcome, error,
                    latency_ms, attempts, prompt_tokens, completion_tokens, cost_usd
             FROM llm_calls WHERE day = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([day], call_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn call_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LlmCall> {
    Ok(LlmCall {
        id: r.get(0)?,
        call: NewLlmCall {
            ts_ms: r.get(1)?,
            day: r.get(2)?,
            purpose: r.get(3)?,
            model: r.get(4)?,
            prompt_sha256: r.get(5)?,
            prompt: r.get(6)?,
            answer: r.get(7)?,
            outcome: r.get(8)?,
            error: r.get(9)?,
            latency_ms: r.get(10)?,
            attempts: u32::try_from(r.get::<_, i64>(11)?).unwrap_or(u32::MAX),
            prompt_tokens: u64::try_from(r.get::<_, i64>(12)?).unwrap_or(0),
            completion_tokens: u64::try_from(r.get::<_, i64>(13)?).unwrap_or(0),
            cost_usd: r.get(14)?,
        },
    })
}

fn saturating_i64(x: u64) -> i64 {
    i64::try_from(x).unwrap_or(i64::MAX)
}

fn finite(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(day: &str, tokens: (u64, u64), cost: f64) -> NewLlmCall {
        NewLlmCall {
            ts_ms: 1_000,
            day: day.into(),
            purpose: "decision".into(),
            model: "gpt-5.2".into(),
            prompt_sha256: "ab".repeat(32),
            prompt: None,
            answer: Some("{}".into()),
            outcome: "ok".into(),
            error: None,
            latency_ms: 12.5,
            attempts: 2,
            prompt_tokens: tokens.0,
            completion_tokens: tokens.1,
            cost_usd: cost,
        }
    }

    #[test]
    fn calls_are_recorded_read_back_and_summed_per_day() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&crate::Home::new(dir.path())).expect("store");
        assert_eq!(
            store.llm_spent_on("2026-11-02").expect("empty"),
            LlmSpending::default()
        );
        let first = call("2026-11-02", (100, 20), 0.5);
        let id = store.insert_llm_call(&first).expect("insert");
        store
            .insert_llm_call(&call("2026-11-02", (10, 5), 0.25))
            .expect("insert");
        store
            .insert_llm_call(&call("2026-11-03", (1_000, 1_000), 9.0))
            .expect("insert");

        let spent = store.llm_spent_on("2026-11-02").expect("spent");
        assert_eq!(spent.tokens, 135);
        assert!((spent.cost_usd - 0.75).abs() < 1e-12);

        let back = store.llm_call(id).expect("read").expect("present");
        assert_eq!(back.id, id);
        assert_eq!(back.call, first);
        assert!(store.llm_call(id + 100).expect("read").is_none());
        assert_eq!(store.llm_calls_on("2026-11-02").expect("day").len(), 2);
    }
}
