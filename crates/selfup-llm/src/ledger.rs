//! Where every call is recorded and the day's spending is read: the store
//! in production ([`selfup_store::Store`]), [`MemoryLedger`] in tests.

use std::sync::Mutex;

use selfup_store::Store;
use selfup_store::llm_calls::NewLlmCall;

/// One call as recorded (success or failure).
pub type CallRecord = NewLlmCall;

/// A ledger that could not record or answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct LedgerError(pub String);

/// Records every call and answers the day's spending.
pub trait Ledger: Send + Sync {
    /// Records one call; returns its id.
    fn record(&self, call: &CallRecord) -> Result<i64, LedgerError>;
    /// Tokens and US dollars spent on `day` (`YYYY-MM-DD`, UTC).
    fn spent_on(&self, day: &str) -> Result<(u64, f64), LedgerError>;
}

impl Ledger for Store {
    fn record(&self, call: &CallRecord) -> Result<i64, LedgerError> {
        self.insert_llm_call(call)
            .map_err(|e| LedgerError(e.to_string()))
    }

    fn spent_on(&self, day: &str) -> Result<(u64, f64), LedgerError> {
        self.llm_spent_on(day)
            .map(|s| (s.tokens, s.cost_usd))
            .map_err(|e| LedgerError(e.to_string()))
    }
}

/// A ledger in memory (tests, and a demo without a store).
#[derive(Debug, Default)]
pub struct MemoryLedger {
    calls: Mutex<Vec<CallRecord>>,
}

impl MemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every call recorded so far.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<CallRecord>> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Ledger for MemoryLedger {
    fn record(&self, call: &CallRecord) -> Result<i64, LedgerError> {
        let mut calls = self.lock();
        calls.push(call.clone());
        Ok(calls.len() as i64)
    }

    fn spent_on(&self, day: &str) -> Result<(u64, f64), LedgerError> {
        Ok(self
            .lock()
            .iter()
            .filter(|c| c.day == day)
            .fold((0, 0.0), |(t, c), call| {
                (
                    t + call.prompt_tokens + call.completion_tokens,
                    c + call.cost_usd,
                )
            }))
    }
}

/// The UTC day (`YYYY-MM-DD`) of a time in milliseconds since the epoch.
pub fn utc_day(ms: i64) -> String {
    // Howard Hinnant's civil_from_days.
    let days = ms.div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_days() {
        assert_eq!(utc_day(0), "1970-01-01");
        assert_eq!(utc_day(86_400_000 - 1), "1970-01-01");
        assert_eq!(utc_day(951_782_400_000), "2000-02-29");
        assert_eq!(utc_day(1_798_761_599_999), "2026-12-31");
        assert_eq!(utc_day(1_798_761_600_000), "2027-01-01");
        assert_eq!(utc_day(-1), "1969-12-31");
    }
}
