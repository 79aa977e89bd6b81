//! API tokens for the endpoints that change state. A token is shown once
//! when created; only its SHA-256 is stored.

use rusqlite::params;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Store, StoreError, audit};

/// Prefix of every token, so a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "sut_";

/// A stored token (without the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    /// Its id.
    pub id: i64,
    /// A name for people (what or who uses it).
    pub name: String,
    /// When it was created.
    pub created_at_ms: i64,
    /// When it was revoked, if it was.
    pub revoked_at_ms: Option<i64>,
}

/// The SHA-256 (hex) of a presented token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Store {
    /// Stores the hash of `secret` (a fresh token made by the caller from
    /// random bytes) under `name`; returns the token's id.
    pub fn create_token(&self, name: &str, secret: &str, now_ms: i64) -> Result<i64, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO api_tokens (name, hash, created_at_ms) VALUES (?1, ?2, ?3)",
            params![name, token_hash(secret), now_ms],
        )?;
        let id = tx.last_insert_rowid();
        audit::record(
            &tx,
            now_ms,
            "cli",
            "token:create",
            &format!("token {id}"),
            &serde_json::json!({ "name": name }),
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Every token, oldest first.
    pub fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT id, name, created_at_ms, revoked_at_ms FROM api_tokens ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(ApiToken {
                id: r.get(0)?,
                name: r.get(1)?,
                created_at_ms: r.get(2)?,
                revoked_at_ms: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Revokes token `id`; returns false if there is no such live token.
    pub fn revoke_token(&self, id: i64, now_ms: i64) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE api_tokens SET revoked_at_ms = ?2 WHERE id = ?1 AND revoked_at_ms IS NULL",
            params![id, now_ms],
        )?;
        if changed > 0 {
            audit::record(
                &tx,
                now_ms,
                "cli",
                "token:revoke",
                &format!("token {id}"),
                &serde_json::json!({}),
            )?;
        }
        tx.commit()?;
        Ok(changed > 0)
    }

    /// The hashes of the tokens that are not revoked, with their ids.
    pub fn live_token_hashes(&self) -> Result<Vec<(i64, String)>, StoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT id, hash FROM api_tokens WHERE revoked_at_ms IS NULL")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Home;

    #[test]
    fn tokens_are_stored_hashed_and_can_be_revoked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&Home::new(dir.path())).expect("store");
        let id = store
            .create_token("agent", "sut_secret", 1)
            .expect("create");
        let live = store.live_token_hashes().expect("live");
        assert_eq!(live, vec![(id, token_hash("sut_secret"))]);
        for file in ["selfup.db", "selfup.db-wal"] {
            let raw = std::fs::read(dir.path().join(file)).unwrap_or_default();
            assert!(
                !raw.windows(10).any(|w| w == b"sut_secret"),
                "the secret itself is not in {file}"
            );
        }
        assert!(store.revoke_token(id, 2).expect("revoke"));
        assert!(!store.revoke_token(id, 3).expect("twice"));
        assert!(store.live_token_hashes().expect("live").is_empty());
        assert_eq!(store.tokens().expect("list")[0].revoked_at_ms, Some(2));
    }
}
