//! Pattern trends over the history the store keeps: the specification's
//! counts by type and severity and average confidence, per day and over the
//! period, and which patterns are new, which persist and which went away.

use std::collections::{BTreeMap, BTreeSet};

use selfup_store::Store;
use serde::Serialize;

use crate::error::DiscoveryError;

const DAY_MS: i64 = 86_400_000;

/// Counts over a set of pattern sightings.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Tally {
    /// Scans.
    pub scans: u64,
    /// Distinct patterns.
    pub total_patterns: u64,
    /// Distinct patterns by kind.
    pub by_kind: BTreeMap<String, u64>,
    /// Distinct patterns by severity (the worst each was seen with).
    pub by_severity: BTreeMap<String, u64>,
    /// Mean confidence of the distinct patterns (their latest sighting).
    pub average_confidence: f64,
}

/// One day of the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayTrend {
    /// Start of the day (UTC midnight, ms since the Unix epoch).
    pub day_start_ms: i64,
    /// What was found that day.
    #[serde(flatten)]
    pub tally: Tally,
}

/// A pattern whose presence changed in the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatternChange {
    /// Its id.
    pub pattern_id: String,
    /// What found it.
    pub source: String,
    /// Its kind.
    pub kind: String,
    /// Its latest severity.
    pub severity: String,
    /// First sighting in the period.
    pub first_seen_ms: i64,
    /// Last sighting.
    pub last_seen_ms: i64,
}

/// Trends over the last `days` days.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trends {
    /// The period's length.
    pub days: u32,
    /// Its start.
    pub since_ms: i64,
    /// Over the whole period.
    #[serde(flatten)]
    pub overall: Tally,
    /// Day by day, oldest first (days without scans left out).
    pub by_day: Vec<DayTrend>,
    /// Patterns in the latest scan of their source that no earlier scan
    /// in the period had.
    pub new: Vec<PatternChange>,
    /// Patterns seen in the period but not in the latest scan of their source.
    pub resolved: Vec<PatternChange>,
    /// Patterns in the latest scan that earlier scans had too.
    pub persistent: u64,
}

/// The trends of the last `days` days before `now_ms`.
pub fn trends(store: &Store, days: u32, now_ms: i64) -> Result<Trends, DiscoveryError> {
    let since_ms = now_ms - i64::from(days) * DAY_MS;
    let sightings = store.pattern_sightings(since_ms)?;
    let scans = store.pattern_scans(since_ms)?;

    let overall = tally(scans.len() as u64, sightings.iter());
    let mut by_day = Vec::new();
    let mut days_seen: BTreeSet<i64> = scans.iter().map(|s| s.at_ms.div_euclid(DAY_MS)).collect();
    days_seen.extend(sightings.iter().map(|s| s.at_ms.div_euclid(DAY_MS)));
    for day in days_seen {
        let in_day = |at: i64| at.div_euclid(DAY_MS) == day;
        let scans_that_day = scans.iter().filter(|s| in_day(s.at_ms)).count() as u64;
        by_day.push(DayTrend {
            day_start_ms: day * DAY_MS,
            tally: tally(scans_that_day, sightings.iter().filter(|s| in_day(s.at_ms))),
        });
    }

    // New, resolved and persistent, per source against its latest scan.
    let latest: BTreeMap<&str, i64> = scans.iter().fold(BTreeMap::new(), |mut m, s| {
        let slot = m.entry(s.source.as_str()).or_insert(s.id);
        *slot = (*slot).max(s.id);
        m
    });
    let mut seen: BTreeMap<(&str, &str), PatternChange> = BTreeMap::new();
    let mut earlier: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut in_latest: BTreeSet<(&str, &str)> = BTreeSet::new();
    for s in &sightings {
        let key = (s.source.as_str(), s.pattern_id.as_str());
        if latest.get(s.source.as_str()) == Some(&s.scan_id) {
            in_latest.insert(key);
        } else {
            earlier.insert(key);
        }
        seen.entry(key)
            .and_modify(|c| {
                c.last_seen_ms = s.at_ms;
                c.severity = s.severity.clone();
            })
            .or_insert_with(|| PatternChange {
                pattern_id: s.pattern_id.clone(),
                source: s.source.clone(),
                kind: s.kind.clone(),
                severity: s.severity.clone(),
                first_seen_ms: s.at_ms,
                last_seen_ms: s.at_ms,
            });
    }
    let mut new = Vec::new();
    let mut resolved = Vec::new();
    let mut persistent = 0;
    for (key, change) in seen {
        match (in_latest.contains(&key), earlier.contains(&key)) {
            (true, false) => new.push(change),
            (true, true) => persistent += 1,
            (false, _) => resolved.push(change),
        }
    }
    Ok(Trends {
        days,
        since_ms,
        overall,
        by_day,
        new,
        resolved,
        persistent,
    })
}

fn tally<'a>(
    scans: u64,
    sightings: impl Iterator<Item = &'a selfup_store::patterns::PatternSighting>,
) -> Tally {
    // The latest sighting of each pattern, and the worst severity it had.
    let mut latest: BTreeMap<(&str, &str), &selfup_store::patterns::PatternSighting> =
        BTreeMap::new();
    let mut worst: BTreeMap<(&str, &str), u8> = BTreeMap::new();
    for s in sightings {
        let key = (s.source.as_str(), s.pattern_id.as_str());
        latest.insert(key, s);
        let level = severity_level(&s.severity);
        let slot = worst.entry(key).or_insert(level);
        *slot = (*slot).max(level);
    }
    let mut t = Tally {
        scans,
        total_patterns: latest.len() as u64,
        ..Tally::default()
    };
    for (key, s) in &latest {
        *t.by_kind.entry(s.kind.clone()).or_default() += 1;
        let name =
            ["low", "medium", "high", "critical"][usize::from(worst[key]).saturating_sub(1).min(3)];
        *t.by_severity.entry(name.to_owned()).or_default() += 1;
    }
    if !latest.is_empty() {
        t.average_confidence =
            latest.values().map(|s| s.confidence).sum::<f64>() / latest.len() as f64;
    }
    t
}

fn severity_level(name: &str) -> u8 {
    match name {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        _ => 1,
    }
}
