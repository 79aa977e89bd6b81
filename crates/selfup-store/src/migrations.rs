//! Versioned schema migrations, applied in order; `PRAGMA user_version`
//! holds the number applied. A migration is never edited once released:
//! add a new one.

use rusqlite::Connection;

use crate::StoreError;

/// The migrations, in order. Index + 1 is the schema version.
const MIGRATIONS: &[&str] = &[
    // 1: registry, telemetry, agent events, audit.
    r#"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) STRICT;
    INSERT INTO meta (key, value) VALUES ('registry_generation', 0);

    CREATE TABLE plugins (
        name            TEXT NOT NULL,
        version         TEXT NOT NULL,
        manifest        TEXT NOT NULL,
        entry_hash      TEXT NOT NULL,
        installed_at_ms INTEGER NOT NULL,
        status          TEXT NOT NULL DEFAULT 'installed',
        PRIMARY KEY (name, version)
    ) STRICT;

    CREATE TABLE plugin_files (
        name    TEXT NOT NULL,
        version TEXT NOT NULL,
        path    TEXT NOT NULL,
        hash    TEXT NOT NULL,
        size    INTEGER NOT NULL,
        PRIMARY KEY (name, version, path),
        FOREIGN KEY (name, version) REFERENCES plugins (name, version) ON DELETE CASCADE
    ) STRICT;

    CREATE TABLE plugin_capabilities (
        capability TEXT NOT NULL,
        name       TEXT NOT NULL,
        version    TEXT NOT NULL,
        PRIMARY KEY (capability, name, version),
        FOREIGN KEY (name, version) REFERENCES plugins (name, version) ON DELETE CASCADE
    ) STRICT;

    CREATE TABLE active_capabilities (
        capability      TEXT PRIMARY KEY,
        name            TEXT NOT NULL,
        version         TEXT NOT NULL,
        activated_at_ms INTEGER NOT NULL,
        FOREIGN KEY (capability, name, version)
            REFERENCES plugin_capabilities (capability, name, version)
    ) STRICT;

    CREATE TABLE call_targets (
        id         INTEGER PRIMARY KEY,
        capability TEXT NOT NULL,
        plugin     TEXT NOT NULL,
        version    TEXT NOT NULL,
        UNIQUE (capability, plugin, version)
    ) STRICT;

    CREATE TABLE calls (
        ts_ms             INTEGER NOT NULL,
        target_id         INTEGER NOT NULL REFERENCES call_targets (id),
        subject_hash      INTEGER NOT NULL,
        outcome           INTEGER NOT NULL,
        error_kind        INTEGER,
        latency_us        INTEGER NOT NULL,
        peak_memory_bytes INTEGER NOT NULL,
        cpu_us            INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX calls_by_target_time ON calls (target_id, ts_ms);

    CREATE TABLE agent_events (
        id           INTEGER PRIMARY KEY,
        ts_ms        INTEGER NOT NULL,
        event_type   TEXT NOT NULL,
        subject_hash INTEGER,
        intent       TEXT,
        text         TEXT,
        payload      TEXT NOT NULL
    ) STRICT;
    CREATE INDEX agent_events_by_type_time ON agent_events (event_type, ts_ms);

    CREATE TABLE audit (
        id     INTEGER PRIMARY KEY,
        ts_ms  INTEGER NOT NULL,
        actor  TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        detail TEXT NOT NULL
    ) STRICT;
    "#,
    // 2: the upgrade lifecycle — upgrades and their events, rollouts,
    // snapshots, sampled inputs, and experiment tags on calls.
    r#"
    CREATE TABLE upgrades (
        id               INTEGER PRIMARY KEY,
        kind             TEXT NOT NULL,
        capability       TEXT NOT NULL,
        plugin           TEXT NOT NULL,
        from_version     TEXT,
        to_version       TEXT NOT NULL,
        source           TEXT NOT NULL,
        state            TEXT NOT NULL,
        stage            INTEGER,
        reason           TEXT,
        opportunity      REAL NOT NULL,
        risk             REAL NOT NULL,
        evidence         TEXT NOT NULL DEFAULT '{}',
        created_at_ms    INTEGER NOT NULL,
        updated_at_ms    INTEGER NOT NULL,
        state_since_ms   INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX upgrades_by_state ON upgrades (state);
    CREATE INDEX upgrades_by_target ON upgrades (plugin, to_version);

    CREATE TABLE upgrade_events (
        id          INTEGER PRIMARY KEY,
        upgrade_id  INTEGER NOT NULL REFERENCES upgrades (id),
        ts_ms       INTEGER NOT NULL,
        from_state  TEXT,
        to_state    TEXT NOT NULL,
        actor       TEXT NOT NULL,
        detail      TEXT NOT NULL
    ) STRICT;
    CREATE INDEX upgrade_events_by_upgrade ON upgrade_events (upgrade_id, id);

    CREATE TABLE rollouts (
        capability          TEXT PRIMARY KEY,
        upgrade_id          INTEGER NOT NULL UNIQUE REFERENCES upgrades (id),
        incumbent_plugin    TEXT,
        incumbent_version   TEXT,
        candidate_plugin    TEXT NOT NULL,
        candidate_version   TEXT NOT NULL,
        stage               INTEGER NOT NULL,
        traffic_percentage  REAL NOT NULL,
        seed                TEXT NOT NULL,
        started_at_ms       INTEGER NOT NULL,
        stage_started_at_ms INTEGER NOT NULL,
        monitor             TEXT NOT NULL DEFAULT '{}'
    ) STRICT;

    CREATE TABLE snapshots (
        id             INTEGER PRIMARY KEY,
        upgrade_id     INTEGER REFERENCES upgrades (id),
        created_at_ms  INTEGER NOT NULL,
        state          TEXT NOT NULL,
        released_at_ms INTEGER
    ) STRICT;
    CREATE TABLE snapshot_artifacts (
        snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
        hash        TEXT NOT NULL,
        PRIMARY KEY (snapshot_id, hash)
    ) STRICT;

    CREATE TABLE input_samples (
        capability TEXT NOT NULL,
        slot       INTEGER NOT NULL,
        ts_ms      INTEGER NOT NULL,
        input      TEXT NOT NULL,
        PRIMARY KEY (capability, slot)
    ) STRICT;

    ALTER TABLE calls ADD COLUMN upgrade_id INTEGER;
    ALTER TABLE calls ADD COLUMN stage INTEGER;
    ALTER TABLE calls ADD COLUMN arm INTEGER;
    ALTER TABLE calls ADD COLUMN mismatch INTEGER;
    CREATE INDEX calls_by_upgrade ON calls (upgrade_id) WHERE upgrade_id IS NOT NULL;
    "#,
    // 3: hourly call counts per target, kept by the telemetry writer, so
    // the loop reads health and demand without scanning every call.
    r#"
    CREATE TABLE call_hourly (
        target_id      INTEGER NOT NULL REFERENCES call_targets (id),
        hour           INTEGER NOT NULL,
        calls          INTEGER NOT NULL,
        errors         INTEGER NOT NULL,
        latency_us_sum INTEGER NOT NULL,
        PRIMARY KEY (target_id, hour)
    ) STRICT, WITHOUT ROWID;
    INSERT INTO call_hourly (target_id, hour, calls, errors, latency_us_sum)
        SELECT target_id, ts_ms / 3600000, COUNT(*), SUM(outcome != 0), SUM(latency_us)
        FROM calls GROUP BY target_id, ts_ms / 3600000;
    "#,
    // 4: API tokens, stored as SHA-256 hashes only.
    r#"
    CREATE TABLE api_tokens (
        id            INTEGER PRIMARY KEY,
        name          TEXT NOT NULL,
        hash          TEXT NOT NULL UNIQUE,
        created_at_ms INTEGER NOT NULL,
        revoked_at_ms INTEGER
    ) STRICT;
    "#,
    // 5: every plugin version ever installed, with its content digest: the
    // version floor (no downgrades) and "same version, same content".
    r#"
    CREATE TABLE install_history (
        name                  TEXT NOT NULL,
        version               TEXT NOT NULL,
        digest                TEXT NOT NULL,
        first_installed_at_ms INTEGER NOT NULL,
        PRIMARY KEY (name, version)
    ) STRICT;
    INSERT INTO install_history (name, version, digest, first_installed_at_ms)
        SELECT name, version, '', installed_at_ms FROM plugins;
    "#,
    // 6: the history of what discovery found: one row per scan (code,
    // runtime, usage) and the patterns it found, for listings and trends.
    r#"
    CREATE TABLE pattern_scans (
        id      INTEGER PRIMARY KEY,
        source  TEXT NOT NULL,
        at_ms   INTEGER NOT NULL,
        summary TEXT NOT NULL
    ) STRICT;
    CREATE INDEX pattern_scans_by_source_time ON pattern_scans (source, at_ms);
    CREATE INDEX pattern_scans_by_time ON pattern_scans (at_ms);
    CREATE TABLE patterns (
        scan_id    INTEGER NOT NULL REFERENCES pattern_scans (id),
        pattern_id TEXT NOT NULL,
        kind       TEXT NOT NULL,
        signal     TEXT NOT NULL,
        severity   TEXT NOT NULL,
        confidence REAL NOT NULL,
        score      REAL NOT NULL,
        body       TEXT NOT NULL,
        PRIMARY KEY (scan_id, pattern_id)
    ) STRICT, WITHOUT ROWID;
    "#,
    // 7: every LLM call (the daily token and cost budget is summed from
    // it; prompt and answer text only with decision.llm.store_prompts),
    // the decisions engines made, and capability specifications written for
    // gaps.
    r#"
    CREATE TABLE llm_calls (
        id                INTEGER PRIMARY KEY,
        ts_ms             INTEGER NOT NULL,
        day               TEXT NOT NULL,
        purpose           TEXT NOT NULL,
        model             TEXT NOT NULL,
        prompt_sha256     TEXT NOT NULL,
        prompt            TEXT,
        answer            TEXT,
        outcome           TEXT NOT NULL,
        error             TEXT,
        latency_ms        REAL NOT NULL,
        attempts          INTEGER NOT NULL,
        prompt_tokens     INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        cost_usd          REAL NOT NULL
    ) STRICT;
    CREATE INDEX llm_calls_by_day ON llm_calls (day);
    CREATE TABLE decisions (
        id          INTEGER PRIMARY KEY,
        upgrade_id  INTEGER NOT NULL REFERENCES upgrades (id),
        ts_ms       INTEGER NOT NULL,
        engine      TEXT NOT NULL,
        outcome     TEXT NOT NULL,
        detail      TEXT NOT NULL,
        llm_call_id INTEGER REFERENCES llm_calls (id)
    ) STRICT;
    CREATE INDEX decisions_by_upgrade ON decisions (upgrade_id, id);
    CREATE TABLE capability_specs (
        id            INTEGER PRIMARY KEY,
        created_at_ms INTEGER NOT NULL,
        gap_id        TEXT NOT NULL,
        name          TEXT NOT NULL,
        spec          TEXT NOT NULL,
        status        TEXT NOT NULL DEFAULT 'proposed',
        llm_call_id   INTEGER REFERENCES llm_calls (id)
    ) STRICT;
    CREATE INDEX capability_specs_by_gap ON capability_specs (gap_id, id);
    "#,
    // 8: notifications: how far the outbox has read the upgrade events, and
    // every delivery with its attempts (the delivery log).
    r#"
    CREATE TABLE notification_cursor (
        id            INTEGER PRIMARY KEY CHECK (id = 1),
        last_event_id INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE notification_deliveries (
        id              INTEGER PRIMARY KEY,
        delivery_id     TEXT NOT NULL UNIQUE,
        event           TEXT NOT NULL,
        upgrade_id      INTEGER,
        source_event_id INTEGER,
        channel         INTEGER NOT NULL,
        channel_kind    TEXT NOT NULL,
        destination     TEXT NOT NULL,
        payload         TEXT NOT NULL,
        status          TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        last_error      TEXT,
        created_at_ms   INTEGER NOT NULL,
        next_attempt_ms INTEGER,
        finished_at_ms  INTEGER
    ) STRICT;
    CREATE INDEX notification_deliveries_pending ON notification_deliveries (status, next_attempt_ms);
    "#,
];

/// The schema version this build writes.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Applies every migration newer than the database's version, each in its
/// own transaction. Returns the version found before migrating.
pub(crate) fn migrate(conn: &mut Connection) -> Result<i64, MigrateError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(MigrateError::TooNew(found));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(found)
}

/// Why migrating failed.
#[derive(Debug)]
pub(crate) enum MigrateError {
    /// The database is newer than this build.
    TooNew(i64),
    /// SQLite failed.
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        MigrateError::Sqlite(e)
    }
}

impl From<MigrateError> for StoreError {
    fn from(e: MigrateError) -> Self {
        match e {
            MigrateError::Sqlite(e) => StoreError::Sqlite(e),
            MigrateError::TooNew(found) => StoreError::SchemaTooNew {
                path: Default::default(),
                found,
                supported: SCHEMA_VERSION,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_a_no_op_and_newer_databases_are_refused() {
        let mut conn = Connection::open_in_memory().expect("open");
        assert_eq!(migrate(&mut conn).expect("first"), 0);
        assert_eq!(migrate(&mut conn).expect("second"), SCHEMA_VERSION);
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .expect("bump");
        assert!(matches!(migrate(&mut conn), Err(MigrateError::TooNew(_))));
    }
}
