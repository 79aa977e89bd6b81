//! Write transactions that span several repositories: the loop changes an
//! upgrade's state, the rollout and the registry together, with the audit
//! row, or not at all.

use rusqlite::Transaction;

use crate::{Store, StoreError};

/// An open write transaction. Commits when the closure given to
/// [`Store::write`] returns `Ok`, rolls back otherwise.
pub struct Tx<'a> {
    pub(crate) tx: Transaction<'a>,
    /// The time of the change (ms since the Unix epoch), from the caller's clock.
    pub now_ms: i64,
}

impl Store {
    /// Runs `f` in one immediate write transaction.
    pub fn write<R, E: From<StoreError>>(
        &self,
        now_ms: i64,
        f: impl FnOnce(&Tx<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let tx = Tx { tx, now_ms };
        let result = f(&tx)?;
        tx.tx.commit().map_err(StoreError::from)?;
        Ok(result)
    }
}
