//! The market scan: what the catalog offers that would improve the agent —
//! newer versions of installed plugins, and providers of capabilities the
//! agent asked for that nobody serves.

use std::collections::BTreeMap;

use selfup_core::upgrade::UpgradeKind;
use selfup_discovery::gaps::{Gap, GapKind};
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

/// Finds candidates in `catalog`: newer versions of what is installed
/// (with the incumbent's health since `since_ms`), and the packages
/// discovery suggested for `gaps`. Candidates with an upgrade already on
/// record (in any state but deferred) are left out.
pub fn market_scan(
    store: &Store,
    catalog: &Catalog,
    since_ms: i64,
    gaps: &[Gap],
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

    // Packages that would close a gap discovery found: a capability the
    // agent wanted that nobody serves.
    for gap in gaps {
        if gap.kind == GapKind::FailingCapability {
            continue; // newer versions are proposed above
        }
        for suggested in &gap.candidates {
            let Some(entry) = catalog.entries.iter().find(|e| {
                e.manifest.name.as_str() == suggested.plugin
                    && e.manifest.version.to_string() == suggested.version
            }) else {
                continue;
            };
            if installed
                .iter()
                .any(|p| p.manifest.name == entry.manifest.name)
            {
                continue;
            }
            let capability = gap
                .capability
                .clone()
                .filter(|c| suggested.provides.contains(c))
                .or_else(|| suggested.provides.first().cloned());
            let Some(capability) = capability else {
                continue;
            };
            if out
                .iter()
                .any(|c: &Candidate| c.id() == entry.manifest.id())
            {
                continue;
            }
            out.push(Candidate {
                kind: UpgradeKind::NewCapability,
                capability,
                entry: entry.clone(),
                incumbent: None,
                incumbent_health: None,
                demand: gap.demand,
                examples: gap.examples.clone(),
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
