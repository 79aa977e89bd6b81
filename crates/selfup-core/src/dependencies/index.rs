//! The universe, merged and indexed for the solver: every version of every
//! plugin in order, who provides what, what is live, and what must stay.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use semver::{Version, VersionReq};

use super::Universe;
use crate::manifest::PluginManifest;
use crate::names::{CapabilityName, PluginName};

/// One plugin version, as the solver sees it.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    /// Its manifest.
    pub manifest: PluginManifest,
    /// Whether it is on the machine.
    pub installed: bool,
    /// The capabilities it is the active provider of (installed only).
    pub active_for: BTreeSet<CapabilityName>,
    /// Whether it is the upgrade's candidate.
    pub candidate: bool,
    /// Dependencies of a live version that do not hold today; not enforced.
    pub ignored_dependencies: BTreeSet<PluginName>,
    /// Required capabilities of a live version that nobody serves today; not
    /// enforced.
    pub ignored_capabilities: BTreeSet<CapabilityName>,
}

impl Entry {
    /// Installed and active for at least one capability.
    pub fn live(&self) -> bool {
        self.installed && !self.active_for.is_empty()
    }

    /// The version.
    pub fn version(&self) -> &Version {
        &self.manifest.version
    }

    /// The dependencies the solver enforces.
    pub fn dependencies(&self) -> impl Iterator<Item = (&PluginName, &VersionReq)> {
        self.manifest
            .dependencies
            .iter()
            .filter(|(name, _)| !self.ignored_dependencies.contains(*name))
    }

    /// The required capabilities the solver enforces, without repeats.
    pub fn required_capabilities(&self) -> BTreeSet<&CapabilityName> {
        self.manifest
            .required_capabilities
            .iter()
            .filter(|c| !self.ignored_capabilities.contains(*c))
            .collect()
    }
}

/// What a live plugin must keep after the upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Keep {
    /// One of these live versions (the candidate cannot need the plugin).
    Versions(Vec<Version>),
    /// Some version (the candidate may need the plugin moved).
    AnyVersion,
}

/// The merged universe.
#[derive(Debug)]
pub(super) struct Index {
    /// The candidate's name.
    pub candidate_name: PluginName,
    /// The candidate's version.
    pub candidate_version: Version,
    /// Every version of every plugin, ascending by version.
    pub plugins: BTreeMap<PluginName, Vec<Entry>>,
    /// For each capability, the plugins with a version providing it, most
    /// preferred first.
    pub providers: BTreeMap<CapabilityName, Vec<PluginName>>,
    /// The live plugins other than the candidate's, and what they keep.
    pub kept: BTreeMap<PluginName, Keep>,
}

impl Index {
    /// Merges the universe and the candidate.
    pub fn new(universe: &Universe, candidate: &PluginManifest) -> Self {
        let mut merged: BTreeMap<PluginName, BTreeMap<Version, Entry>> = BTreeMap::new();
        for available in &universe.plugins {
            let m = &available.manifest;
            let entry = Entry {
                manifest: m.clone(),
                installed: available.installed,
                active_for: if available.installed {
                    available.active_for.iter().cloned().collect()
                } else {
                    BTreeSet::new()
                },
                candidate: false,
                ignored_dependencies: BTreeSet::new(),
                ignored_capabilities: BTreeSet::new(),
            };
            let versions = merged.entry(m.name.clone()).or_default();
            match versions.get_mut(&m.version) {
                None => {
                    versions.insert(m.version.clone(), entry);
                }
                Some(old) if entry.installed && !old.installed => *old = entry,
                Some(old) if entry.installed => old.active_for.extend(entry.active_for),
                Some(_) => {}
            }
        }
        let versions = merged.entry(candidate.name.clone()).or_default();
        let slot = versions
            .entry(candidate.version.clone())
            .or_insert_with(|| Entry {
                manifest: candidate.clone(),
                installed: false,
                active_for: BTreeSet::new(),
                candidate: true,
                ignored_dependencies: BTreeSet::new(),
                ignored_capabilities: BTreeSet::new(),
            });
        slot.manifest = candidate.clone();
        slot.candidate = true;

        let mut plugins: BTreeMap<PluginName, Vec<Entry>> = merged
            .into_iter()
            .map(|(name, versions)| (name, versions.into_values().collect()))
            .collect();
        ignore_broken_requirements(&mut plugins);
        let providers = providers(&plugins, candidate);
        let needed = may_need(candidate, &plugins, &providers);
        let kept = plugins
            .iter()
            .filter(|(name, _)| **name != candidate.name)
            .filter_map(|(name, entries)| {
                let live: Vec<Version> = entries
                    .iter()
                    .filter(|e| e.live())
                    .map(|e| e.version().clone())
                    .collect();
                if live.is_empty() {
                    None
                } else if needed.contains(name) {
                    Some((name.clone(), Keep::AnyVersion))
                } else {
                    Some((name.clone(), Keep::Versions(live)))
                }
            })
            .collect();
        Self {
            candidate_name: candidate.name.clone(),
            candidate_version: candidate.version.clone(),
            plugins,
            providers,
            kept,
        }
    }

    /// Every version of `name`, ascending.
    pub fn versions(&self, name: &PluginName) -> &[Entry] {
        self.plugins.get(name).map_or(&[], Vec::as_slice)
    }

    /// One version of `name`.
    pub fn entry(&self, name: &PluginName, version: &Version) -> Option<&Entry> {
        self.versions(name).iter().find(|e| e.version() == version)
    }

    /// The versions of `name` in the order the solver tries them: the
    /// candidate, then live, then installed, then catalog, newest first in
    /// each group.
    pub fn preference(&self, name: &PluginName) -> Vec<&Entry> {
        let mut entries: Vec<&Entry> = self.versions(name).iter().collect();
        entries.sort_by(|a, b| {
            let rank = |e: &Entry| (!e.candidate, !e.live(), !e.installed);
            rank(a)
                .cmp(&rank(b))
                .then_with(|| b.version().cmp(a.version()))
        });
        entries
    }

    /// The live versions of `name`, ascending.
    pub fn live_versions(&self, name: &PluginName) -> Vec<&Version> {
        self.versions(name)
            .iter()
            .filter(|e| e.live())
            .map(Entry::version)
            .collect()
    }
}

/// Marks the requirements of live versions that do not hold today, so that
/// a machine already missing something does not block unrelated upgrades.
fn ignore_broken_requirements(plugins: &mut BTreeMap<PluginName, Vec<Entry>>) {
    let served: BTreeSet<CapabilityName> = plugins
        .values()
        .flatten()
        .filter(|e| e.installed)
        .flat_map(|e| {
            e.active_for
                .iter()
                .chain(&e.manifest.provided_capabilities)
                .cloned()
        })
        .collect();
    let installed: BTreeMap<PluginName, Vec<Version>> = plugins
        .iter()
        .map(|(name, entries)| {
            let versions = entries
                .iter()
                .filter(|e| e.installed)
                .map(|e| e.version().clone())
                .collect();
            (name.clone(), versions)
        })
        .collect();
    for entry in plugins.values_mut().flatten() {
        if !entry.live() || entry.candidate {
            continue;
        }
        entry.ignored_dependencies = entry
            .manifest
            .dependencies
            .iter()
            .filter(|(name, req)| {
                !installed
                    .get(*name)
                    .is_some_and(|vs| vs.iter().any(|v| req.matches(v)))
            })
            .map(|(name, _)| name.clone())
            .collect();
        entry.ignored_capabilities = entry
            .manifest
            .required_capabilities
            .iter()
            .filter(|c| !served.contains(*c))
            .cloned()
            .collect();
    }
}

/// For each capability, the plugins that provide it in some version,
/// ordered: active for it, live and providing it, installed and providing
/// it, a dependency of the candidate, any other; then by name.
fn providers(
    plugins: &BTreeMap<PluginName, Vec<Entry>>,
    candidate: &PluginManifest,
) -> BTreeMap<CapabilityName, Vec<PluginName>> {
    let dependencies = reachable(candidate, plugins, None);
    let mut ranked: BTreeMap<CapabilityName, Vec<(u8, PluginName)>> = BTreeMap::new();
    for (name, entries) in plugins {
        let capabilities: BTreeSet<&CapabilityName> = entries
            .iter()
            .flat_map(|e| &e.manifest.provided_capabilities)
            .collect();
        for capability in capabilities {
            let providing = || {
                entries
                    .iter()
                    .filter(|e| e.manifest.provided_capabilities.contains(capability))
            };
            let rank = if entries.iter().any(|e| e.active_for.contains(capability)) {
                0
            } else if providing().any(Entry::live) {
                1
            } else if providing().any(|e| e.installed) {
                2
            } else if dependencies.contains(name) {
                3
            } else {
                4
            };
            ranked
                .entry(capability.clone())
                .or_default()
                .push((rank, name.clone()));
        }
    }
    ranked
        .into_iter()
        .map(|(capability, mut names)| {
            names.sort();
            (capability, names.into_iter().map(|(_, n)| n).collect())
        })
        .collect()
}

/// The plugins the candidate can need in some version: its dependencies and
/// the providers of its required capabilities, transitively.
fn may_need(
    candidate: &PluginManifest,
    plugins: &BTreeMap<PluginName, Vec<Entry>>,
    providers: &BTreeMap<CapabilityName, Vec<PluginName>>,
) -> BTreeSet<PluginName> {
    reachable(candidate, plugins, Some(providers))
}

/// What led the search to a plugin: a requirement on its version, or a
/// capability it must provide.
enum Via<'a> {
    Requirement(&'a VersionReq),
    Provides(&'a CapabilityName),
}

/// The plugin names reachable from the candidate through the dependencies
/// of the versions that match each requirement and, with `providers`,
/// through the versions that provide each required capability.
fn reachable<'a>(
    candidate: &'a PluginManifest,
    plugins: &'a BTreeMap<PluginName, Vec<Entry>>,
    providers: Option<&'a BTreeMap<CapabilityName, Vec<PluginName>>>,
) -> BTreeSet<PluginName> {
    let mut names = BTreeSet::new();
    let mut visited: BTreeSet<(&PluginName, &Version)> = BTreeSet::new();
    let mut queue: VecDeque<(&PluginName, Via<'a>)> = VecDeque::new();
    let push = |m: &'a PluginManifest, queue: &mut VecDeque<(&'a PluginName, Via<'a>)>| {
        for (name, req) in &m.dependencies {
            queue.push_back((name, Via::Requirement(req)));
        }
        for capability in &m.required_capabilities {
            let names = providers.and_then(|p| p.get(capability));
            for name in names.into_iter().flatten() {
                queue.push_back((name, Via::Provides(capability)));
            }
        }
    };
    push(candidate, &mut queue);
    while let Some((name, via)) = queue.pop_front() {
        if *name == candidate.name {
            continue;
        }
        names.insert(name.clone());
        for entry in plugins.get(name).map_or(&[][..], Vec::as_slice) {
            let follows = match via {
                Via::Requirement(req) => req.matches(entry.version()),
                Via::Provides(c) => entry.manifest.provided_capabilities.contains(c),
            };
            if follows && visited.insert((name, entry.version())) {
                push(&entry.manifest, &mut queue);
            }
        }
    }
    names
}
