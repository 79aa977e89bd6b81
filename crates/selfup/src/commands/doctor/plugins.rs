//! Plugin health: every installed version's files present in the artifact
//! store with the content their hash names, and the error rate of each
//! active version over the last hour (from the hourly counts).

use selfup_store::artifacts::ArtifactStore;
use selfup_store::{Store, StoreError};

use super::check::Check;

/// Most damaged files named in the finding.
const MAX_NAMED: usize = 3;
/// An active version failing at least this share of its calls (and at
/// least [`MIN_ERRORS`] of them) in the last hour is warned about…
const WARN_ERROR_RATE: f64 = 0.05;
/// …and at least this share is a failure.
const FAIL_ERROR_RATE: f64 = 0.25;
/// Fewer failed calls than this are not judged.
const MIN_ERRORS: u64 = 5;

/// The artifact check.
pub fn artifacts(store: &Store) -> Result<Check, StoreError> {
    let artifacts = ArtifactStore::new(store.home().artifacts_dir());
    let plugins = store.list_plugins()?;
    let mut files = 0;
    let mut damaged = Vec::new();
    for p in &plugins {
        let id = p.manifest.id();
        for f in &p.files {
            files += 1;
            let path = artifacts.path(&f.hash);
            if !path.is_file() {
                damaged.push(format!("{id}: {} is missing ({})", f.path, path.display()));
            } else if artifacts.read_verified(&f.hash).is_err() {
                damaged.push(format!(
                    "{id}: {} does not match its hash ({})",
                    f.path,
                    path.display()
                ));
            }
        }
    }
    if damaged.is_empty() {
        return Ok(Check::ok(
            "plugins.artifacts",
            format!(
                "{} installed version(s), {files} file(s): every artifact present and matching its SHA-256",
                plugins.len()
            ),
        ));
    }
    let more = damaged.len().saturating_sub(MAX_NAMED);
    let mut finding = damaged[..damaged.len().min(MAX_NAMED)].join("; ");
    if more > 0 {
        finding.push_str(&format!("; and {more} more"));
    }
    Ok(Check::fail(
        "plugins.artifacts",
        finding,
        "delete the damaged file if present (it is only a copy), then reinstall that version from its package: `selfup plugin remove NAME@VERSION` and `selfup plugin install PACKAGE`",
    ))
}

/// The error rate of every active version over the last hour.
pub fn error_rates(store: &Store, now_ms: i64) -> Result<Check, StoreError> {
    let active: Vec<(String, String, String)> = store
        .routes()?
        .into_iter()
        .map(|r| {
            (
                r.capability,
                r.manifest.name.to_string(),
                r.manifest.version.to_string(),
            )
        })
        .collect();
    let health = store.call_health(now_ms - 3_600_000)?;
    let mut worst: Option<(f64, String)> = None;
    let mut failing = 0;
    let mut calls = 0;
    for h in &health {
        if !active
            .iter()
            .any(|(c, p, v)| *c == h.capability && *p == h.plugin && *v == h.version)
        {
            continue;
        }
        calls += h.calls;
        if h.errors >= MIN_ERRORS && h.error_rate >= WARN_ERROR_RATE {
            failing += 1;
            let line = format!(
                "{} on {}@{} failed {} of {} calls ({:.0} %) in the last hour",
                h.capability,
                h.plugin,
                h.version,
                h.errors,
                h.calls,
                h.error_rate * 100.0
            );
            if worst.as_ref().is_none_or(|(rate, _)| h.error_rate > *rate) {
                worst = Some((h.error_rate, line));
            }
        }
    }
    let Some((rate, line)) = worst else {
        return Ok(Check::ok(
            "plugins.errors",
            format!(
                "{} active capability version(s), {calls} call(s) in the last hour, none failing above {:.0} %",
                active.len(),
                WARN_ERROR_RATE * 100.0
            ),
        ));
    };
    let finding = if failing > 1 {
        format!("{line} (and {} more failing)", failing - 1)
    } else {
        line
    };
    let action = "see which errors: `selfup telemetry summary --since-minutes 60` and `selfup plugin health NAME`; activate a version that works (`selfup plugin activate NAME@VERSION`)";
    Ok(if rate >= FAIL_ERROR_RATE {
        Check::fail("plugins.errors", finding, action)
    } else {
        Check::warn("plugins.errors", finding, action)
    })
}
