//! Per capability, plugin, version and arm: calls, errors by kind and a
//! latency histogram, recorded by the dispatcher on every call.
//!
//! The request path finds its series in a map behind an `ArcSwap` (a
//! lock-free load and one hash of the labels) and adds to atomics; only the
//! first call of a new label set takes a lock, to publish a larger map.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use selfup_core::call::ErrorKind;
use selfup_core::telemetry::Arm;

use crate::metrics::histogram::{HistogramSnapshot, LatencyHistogram};

/// The labels of one series. Capability names come from the registry
/// (calls nobody can serve are counted apart, without their name), so the
/// number of series is bounded by what is installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesLabels {
    /// The capability.
    pub capability: Box<str>,
    /// The plugin that served it.
    pub plugin: Box<str>,
    /// Its version.
    pub version: Box<str>,
    /// The rollout arm, when a rollout was routing the capability.
    pub arm: Option<Arm>,
}

/// The counters of one label set.
#[derive(Debug)]
pub struct Series {
    /// Its labels.
    pub labels: SeriesLabels,
    calls: AtomicU64,
    errors: [AtomicU64; ErrorKind::ALL.len()],
    latency: LatencyHistogram,
}

/// A point-in-time copy of one series.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSnapshot {
    /// Its labels.
    pub labels: SeriesLabels,
    /// Calls.
    pub calls: u64,
    /// Failed calls by kind, in [`ErrorKind::ALL`]'s order.
    pub errors: Vec<(ErrorKind, u64)>,
    /// Latency.
    pub latency: HistogramSnapshot,
}

/// One finished call, as the metrics see it.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// The capability called.
    pub capability: &'a str,
    /// The plugin that served it.
    pub plugin: &'a str,
    /// Its version.
    pub version: &'a str,
    /// The rollout arm, if any.
    pub arm: Option<Arm>,
    /// Why it failed, if it did.
    pub error: Option<ErrorKind>,
    /// How long it took, µs.
    pub latency_us: u64,
}

type Table = HashMap<u64, Vec<Arc<Series>>, BuildHasherDefault<PreHashed>>;

/// Every series, and the counters that have no labels.
#[derive(Default)]
pub struct CallMetrics {
    table: ArcSwap<Table>,
    grow: Mutex<()>,
    unserved: AtomicU64,
}

impl CallMetrics {
    /// Records a call a plugin served (or failed).
    pub fn observe(&self, o: Observation<'_>) {
        let key = label_hash(o.capability, o.plugin, o.version, o.arm);
        {
            let table = self.table.load();
            if let Some(series) = find(&table, key, &o) {
                series.record(&o);
                return;
            }
        }
        self.insert(key, &o).record(&o);
    }

    /// Records a call to a capability nobody serves.
    pub fn observe_unserved(&self) {
        self.unserved.fetch_add(1, Ordering::Relaxed);
    }

    /// Calls to capabilities nobody serves.
    pub fn unserved(&self) -> u64 {
        self.unserved.load(Ordering::Relaxed)
    }

    /// Every series, sorted by labels.
    pub fn snapshot(&self) -> Vec<SeriesSnapshot> {
        let table = self.table.load();
        let mut out: Vec<SeriesSnapshot> = table.values().flatten().map(|s| s.snapshot()).collect();
        out.sort_by_cached_key(|s| {
            let l = &s.labels;
            (
                l.capability.clone(),
                l.plugin.clone(),
                l.version.clone(),
                l.arm.map(Arm::code),
            )
        });
        out
    }

    /// Publishes a table with the new series (slow path: once per label set).
    fn insert(&self, key: u64, o: &Observation<'_>) -> Arc<Series> {
        let _guard = self.grow.lock().unwrap_or_else(|p| p.into_inner());
        let current = self.table.load_full();
        if let Some(series) = find(&current, key, o) {
            return series.clone();
        }
        let series = Arc::new(Series::new(SeriesLabels {
            capability: o.capability.into(),
            plugin: o.plugin.into(),
            version: o.version.into(),
            arm: o.arm,
        }));
        let mut next = Table::clone(&current);
        next.entry(key).or_default().push(series.clone());
        self.table.store(Arc::new(next));
        series
    }
}

fn find<'t>(table: &'t Table, key: u64, o: &Observation<'_>) -> Option<&'t Arc<Series>> {
    table.get(&key)?.iter().find(|s| {
        let l = &s.labels;
        l.arm == o.arm
            && &*l.capability == o.capability
            && &*l.plugin == o.plugin
            && &*l.version == o.version
    })
}

impl Series {
    fn new(labels: SeriesLabels) -> Self {
        Self {
            labels,
            calls: AtomicU64::new(0),
            errors: Default::default(),
            latency: LatencyHistogram::default(),
        }
    }

    fn record(&self, o: &Observation<'_>) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if let Some(kind) = o.error {
            self.errors[kind_index(kind)].fetch_add(1, Ordering::Relaxed);
        }
        self.latency.observe(o.latency_us);
    }

    fn snapshot(&self) -> SeriesSnapshot {
        SeriesSnapshot {
            labels: self.labels.clone(),
            calls: self.calls.load(Ordering::Relaxed),
            errors: ErrorKind::ALL
                .iter()
                .map(|&k| (k, self.errors[kind_index(k)].load(Ordering::Relaxed)))
                .collect(),
            latency: self.latency.snapshot(),
        }
    }
}

fn kind_index(kind: ErrorKind) -> usize {
    ErrorKind::ALL
        .iter()
        .position(|&k| k == kind)
        .unwrap_or_default()
}

/// FNV-1a over the labels, with a separator byte so that `("ab", "c")` and
/// `("a", "bc")` differ. Labels come from the registry, not from callers,
/// so a fast unkeyed hash is safe; a collision only puts two series in one
/// bucket, which the label comparison tells apart.
fn label_hash(capability: &str, plugin: &str, version: &str, arm: Option<Arm>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(capability.as_bytes());
    eat(&[0xff]);
    eat(plugin.as_bytes());
    eat(&[0xff]);
    eat(version.as_bytes());
    eat(&[0xff, arm.map_or(0xfe, Arm::code)]);
    h
}

/// A hasher for keys that are already hashes.
#[derive(Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call<'a>(version: &'a str, arm: Option<Arm>, error: Option<ErrorKind>) -> Observation<'a> {
        Observation {
            capability: "text.summarize",
            plugin: "text-summarize",
            version,
            arm,
            error,
            latency_us: 120,
        }
    }

    #[test]
    fn each_label_set_counts_its_own_calls_errors_and_latency() {
        let m = CallMetrics::default();
        m.observe(call("1.0.0", None, None));
        m.observe(call("1.0.0", None, Some(ErrorKind::Timeout)));
        m.observe(call("1.0.0", Some(Arm::Incumbent), None));
        m.observe(call(
            "2.0.0",
            Some(Arm::Shadow),
            Some(ErrorKind::PluginError),
        ));
        m.observe_unserved();
        let s = m.snapshot();
        assert_eq!(s.len(), 3);
        let plain = &s[0];
        assert_eq!((&*plain.labels.version, plain.labels.arm), ("1.0.0", None));
        assert_eq!(plain.calls, 2);
        assert_eq!(plain.latency.count, 2);
        let timeouts = plain.errors.iter().find(|e| e.0 == ErrorKind::Timeout);
        assert_eq!(timeouts, Some(&(ErrorKind::Timeout, 1)));
        assert_eq!(s[1].labels.arm, Some(Arm::Incumbent));
        assert_eq!(s[2].labels.arm, Some(Arm::Shadow));
        assert_eq!(s[2].errors.iter().map(|e| e.1).sum::<u64>(), 1);
        assert_eq!(m.unserved(), 1);
    }

    #[test]
    fn concurrent_calls_are_all_counted() {
        let m = Arc::new(CallMetrics::default());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        let version = if (i + t) % 2 == 0 { "1.0.0" } else { "2.0.0" };
                        m.observe(call(version, None, None));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        let total: u64 = m.snapshot().iter().map(|s| s.calls).sum();
        assert_eq!(total, 4000);
        assert_eq!(m.snapshot().len(), 2);
    }

    #[test]
    fn the_separator_keeps_label_boundaries_apart() {
        assert_ne!(
            label_hash("ab", "c", "1", None),
            label_hash("a", "bc", "1", None)
        );
    }
}
