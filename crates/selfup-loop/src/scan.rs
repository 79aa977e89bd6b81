//! The market scan: what the catalog offers that would improve the agent —
//! newer versions of installed plugins, and providers of capabilities the
//! agent asked for that nobody serves.

use std::collections::BTreeMap;

use selfup_core::telemetry::AgentEventType;
use selfup_core::upgrade::UpgradeKind;
use selfup_store::registry::InstalledPlugin;
use selfup_store::telemetry::CallHealth;
use selfup_store::{Store, StoreError};

use crate::catalog::{Catalog, CatalogEntry};

/// Something worth proposing.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// What it brings.
    pub kind: UpgradeKind,
    /// The capability it is about.
    pub capability: String,
    /// The package offered.
    pub entry: CatalogEntry,
    /// The version serving the capability now (for a new version).
    pub incumbent: Option<InstalledPlugin>,
    /// How the incumbent has been doing (calls, errors, latency) lately.
    pub incumbent_health: Option<CallHealth>,
    /// Requests for the capability nobody could serve (for a new capability).
    pub demand: u64,
    /// What the agent asked for, in its words (a few examples).
    pub examples: Vec<String>,
}

impl Candidate {
    /// `name@version` of the package offered.
    pub fn id(&self) -> String {
        self.entry.manifest.id()
    }
}

/// Finds candidates in `catalog` given what is installed and what the
/// agent asked for since `since_ms`. Candidates with an upgrade already
/// on record (in any state but deferred) are left out.
pub fn market_scan(
    store: &Store,
    catalog: &Catalog,
    since_ms: i64,
) -> Result<Vec<Candidate>, StoreError> {
    let installed = store.list_plugins()?;
    let health = store.call_health(since_ms)?;
    let mut out = Vec::new();

    // Newer versions of the plugins that serve something.
    let mut newest_installed: BTreeMap<&str, &InstalledPlugin> = BTreeMap::new();
    for p in &installed {
        let slot = newest_installed
            .entry(p.manifest.name.as_str())
            .or_insert(p);
        if p.manifest.version > slot.manifest.version {
            *slot = p;
        }
    }
    for p in installed.iter().filter(|p| !p.active_for.is_empty()) {
        let name = p.manifest.name.as_str();
        let top = newest_installed
            .get(name)
            .map_or(&p.manifest.version, |n| &n.manifest.version);
        let Some(entry) = catalog.newest_above(name, top) else {
            continue;
        };
        let capability = p.active_for[0].clone();
        out.push(Candidate {
            kind: UpgradeKind::NewVersion,
            incumbent_health: health
                .iter()
                .find(|h| {
                    h.capability == capability
                        && h.plugin == name
                        && h.version == p.manifest.version.to_string()
                })
                .cloned(),
            capability,
            entry: entry.clone(),
            incumbent: Some(p.clone()),
            demand: 0,
            examples: Vec::new(),
        });
    }

    // Capabilities the agent wanted that nobody serves.
    let served: Vec<&str> = installed
        .iter()
        .flat_map(|p| p.active_for.iter().map(String::as_str))
        .collect();
    let mut demand: BTreeMap<String, (u64, Vec<String>)> = BTreeMap::new();
    for (capability, n) in store.unserved_calls(since_ms)? {
        demand.entry(capability).or_default().0 += n;
    }
    for event in store.agent_events(Some(AgentEventType::UnmetRequest), since_ms)? {
        if let Some(capability) = event
            .intent
            .as_deref()
            .and_then(|i| match_capability(i, catalog))
        {
            let slot = demand.entry(capability).or_default();
            slot.0 += 1;
            if let Some(text) = event.text
                && slot.1.len() < 3
                && !slot.1.contains(&text)
            {
                slot.1.push(text);
            }
        }
    }
    for (capability, (count, examples)) in demand {
        if served.contains(&capability.as_str()) {
            continue;
        }
        for entry in catalog.providers_of(&capability) {
            if installed
                .iter()
                .any(|p| p.manifest.name == entry.manifest.name)
            {
                continue;
            }
            out.push(Candidate {
                kind: UpgradeKind::NewCapability,
                capability: capability.clone(),
                entry: entry.clone(),
                incumbent: None,
                incumbent_health: None,
                demand: count,
                examples: examples.clone(),
            });
        }
    }

    let mut fresh = Vec::new();
    for candidate in out {
        let m = &candidate.entry.manifest;
        match store.upgrade_for_target(m.name.as_str(), &m.version)? {
            Some(existing)
                if !matches!(
                    existing.state,
                    selfup_core::upgrade::UpgradeState::Deferred { .. }
                ) => {}
            _ => fresh.push(candidate),
        }
    }
    Ok(fresh)
}

/// The catalog capability an agent's stated intent names: the capability
/// itself (`unit.convert`), or its last segment (`convert`), or its
/// segments joined (`unit convert`, `unit-convert`, `unit_convert`).
pub fn match_capability(intent: &str, catalog: &Catalog) -> Option<String> {
    let wanted: String = intent
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '.' {
                c
            } else {
                '.'
            }
        })
        .collect();
    let wanted = wanted.trim_matches('.');
    catalog.capabilities().into_iter().find(|cap| {
        cap == wanted
            || cap.rsplit('.').next() == Some(wanted)
            || cap.replace('.', "") == wanted.replace('.', "")
    })
}
