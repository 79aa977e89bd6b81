//! The universe as a PubGrub problem.
//!
//! Packages: a root (the upgrade itself), one per plugin, and one virtual
//! package per capability. A capability's "versions" are its providers:
//! choosing provider `x` for capability `c` depends on plugin `x` in the
//! versions that provide `c`. Version sets are [`Ranges`] over the known
//! versions only, built from runs of consecutive matching versions, so a
//! requirement means exactly what [`semver::VersionReq::matches`] says
//! (pre-releases included).

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::fmt;
use std::ops::Bound;

use pubgrub::{
    Dependencies, DependencyProvider, DerivationTree, PackageResolutionStatistics, PubGrubError,
    Ranges,
};
use semver::{Version, VersionReq};

use super::index::{Entry, Index, Keep};
use crate::names::{CapabilityName, PluginName};

/// A PubGrub package.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Pkg {
    /// The upgrade: depends on the candidate and on what must stay.
    Root,
    /// A plugin.
    Plugin(PluginName),
    /// A capability; its versions are its providers.
    Capability(CapabilityName),
}

/// A PubGrub version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Pick {
    /// The root's only version.
    Root,
    /// A plugin version.
    Version(Version),
    /// A capability's provider.
    Provider(PluginName),
}

/// A set of versions.
pub(super) type Set = Ranges<Pick>;

/// Why resolution failed, as PubGrub derived it.
pub(super) type Tree = DerivationTree<Pkg, Set, String>;

/// Why a version cannot be used at all.
pub(super) const SELF_DEPENDENCY: &str = "depends on itself";

impl fmt::Display for Pkg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pkg::Root => f.write_str("the upgrade"),
            Pkg::Plugin(name) => write!(f, "{name}"),
            Pkg::Capability(name) => write!(f, "capability \"{name}\""),
        }
    }
}

impl fmt::Display for Pick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pick::Root => f.write_str("plan"),
            Pick::Version(v) => write!(f, "{v}"),
            Pick::Provider(name) => write!(f, "from {name}"),
        }
    }
}

/// The versions of a solution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Solution {
    /// The version of every plugin in the resulting set.
    pub plugins: BTreeMap<PluginName, Version>,
    /// The provider of every required capability.
    pub providers: BTreeMap<CapabilityName, PluginName>,
}

/// Solves the index, or returns PubGrub's derivation of the failure.
pub(super) fn solve(index: &Index) -> Result<Solution, Box<Tree>> {
    let problem = Problem::new(index);
    match pubgrub::resolve(&problem, Pkg::Root, Pick::Root) {
        Ok(selected) => {
            let mut solution = Solution::default();
            for (pkg, pick) in selected {
                match (pkg, pick) {
                    (Pkg::Plugin(name), Pick::Version(v)) => {
                        solution.plugins.insert(name, v);
                    }
                    (Pkg::Capability(c), Pick::Provider(name)) => {
                        solution.providers.insert(c, name);
                    }
                    _ => {}
                }
            }
            Ok(solution)
        }
        Err(PubGrubError::NoSolution(tree)) => Err(Box::new(tree)),
        Err(PubGrubError::ErrorRetrievingDependencies { source, .. }) => match source {},
        Err(PubGrubError::ErrorChoosingVersion { source, .. }) => match source {},
        Err(PubGrubError::ErrorInShouldCancel(source)) => match source {},
    }
}

/// The set of the versions of `name` that `keep` accepts, exactly.
pub(super) fn versions_where(
    index: &Index,
    name: &PluginName,
    keep: impl Fn(&Entry) -> bool,
) -> Set {
    let mut set = Set::empty();
    let mut run: Option<(&Version, &Version)> = None;
    for entry in index.versions(name) {
        if keep(entry) {
            run = Some(match run {
                None => (entry.version(), entry.version()),
                Some((low, _)) => (low, entry.version()),
            });
        } else if let Some((low, high)) = run.take() {
            set = set.union(&closed(low, high));
        }
    }
    if let Some((low, high)) = run {
        set = set.union(&closed(low, high));
    }
    set
}

/// The versions of `name` that satisfy `req`.
pub(super) fn matching(index: &Index, name: &PluginName, req: &VersionReq) -> Set {
    versions_where(index, name, |e| req.matches(e.version()))
}

/// The known versions of `name` in `set`, ascending.
pub(super) fn known_in<'i>(index: &'i Index, name: &PluginName, set: &Set) -> Vec<&'i Entry> {
    index
        .versions(name)
        .iter()
        .filter(|e| set.contains(&Pick::Version(e.version().clone())))
        .collect()
}

fn closed(low: &Version, high: &Version) -> Set {
    Set::from_range_bounds((
        Bound::Included(Pick::Version(low.clone())),
        Bound::Included(Pick::Version(high.clone())),
    ))
}

/// The index as a PubGrub dependency provider.
struct Problem<'i> {
    index: &'i Index,
    /// The versions of every package in the order to try them.
    preferences: HashMap<Pkg, Vec<Pick>>,
}

impl<'i> Problem<'i> {
    fn new(index: &'i Index) -> Self {
        let mut preferences = HashMap::new();
        preferences.insert(Pkg::Root, vec![Pick::Root]);
        for name in index.plugins.keys() {
            let picks = index
                .preference(name)
                .into_iter()
                .map(|e| Pick::Version(e.version().clone()))
                .collect();
            preferences.insert(Pkg::Plugin(name.clone()), picks);
        }
        for (capability, names) in &index.providers {
            let picks = names.iter().cloned().map(Pick::Provider).collect();
            preferences.insert(Pkg::Capability(capability.clone()), picks);
        }
        Self { index, preferences }
    }

    /// The versions of `pkg` in the order to try them.
    fn preference(&self, pkg: &Pkg) -> &[Pick] {
        self.preferences.get(pkg).map_or(&[], Vec::as_slice)
    }

    fn root_dependencies(&self) -> Vec<(Pkg, Set)> {
        let index = self.index;
        let mut deps = vec![(
            Pkg::Plugin(index.candidate_name.clone()),
            Set::singleton(Pick::Version(index.candidate_version.clone())),
        )];
        for (name, keep) in &index.kept {
            let set = match keep {
                Keep::AnyVersion => Set::full(),
                Keep::Versions(versions) => {
                    versions_where(index, name, |e| versions.contains(e.version()))
                }
            };
            deps.push((Pkg::Plugin(name.clone()), set));
        }
        deps
    }

    fn plugin_dependencies(
        &self,
        name: &PluginName,
        version: &Version,
    ) -> Dependencies<Pkg, Set, String> {
        let Some(entry) = self.index.entry(name, version) else {
            return Dependencies::Unavailable("is not in the universe".to_owned());
        };
        if entry.manifest.dependencies.contains_key(name) {
            return Dependencies::Unavailable(SELF_DEPENDENCY.to_owned());
        }
        let plugins = entry
            .dependencies()
            .map(|(dep, req)| (Pkg::Plugin(dep.clone()), matching(self.index, dep, req)));
        let capabilities = entry
            .required_capabilities()
            .into_iter()
            .map(|c| (Pkg::Capability(c.clone()), Set::full()));
        Dependencies::Available(plugins.chain(capabilities).collect())
    }
}

impl DependencyProvider for Problem<'_> {
    type P = Pkg;
    type V = Pick;
    type VS = Set;
    type M = String;
    type Err = Infallible;
    type Priority = (u32, Reverse<usize>);

    fn prioritize(
        &self,
        package: &Pkg,
        range: &Set,
        statistics: &PackageResolutionStatistics,
    ) -> Self::Priority {
        let count = self
            .preference(package)
            .iter()
            .filter(|pick| range.contains(pick))
            .count();
        if count == 0 {
            // Fail fast: nothing can be chosen.
            return (u32::MAX, Reverse(0));
        }
        (statistics.conflict_count(), Reverse(count))
    }

    fn choose_version(&self, package: &Pkg, range: &Set) -> Result<Option<Pick>, Infallible> {
        Ok(self
            .preference(package)
            .iter()
            .find(|pick| range.contains(pick))
            .cloned())
    }

    fn get_dependencies(
        &self,
        package: &Pkg,
        version: &Pick,
    ) -> Result<Dependencies<Pkg, Set, String>, Infallible> {
        Ok(match (package, version) {
            (Pkg::Root, Pick::Root) => {
                Dependencies::Available(self.root_dependencies().into_iter().collect())
            }
            (Pkg::Plugin(name), Pick::Version(v)) => self.plugin_dependencies(name, v),
            (Pkg::Capability(c), Pick::Provider(provider)) => {
                let set = versions_where(self.index, provider, |e| {
                    e.manifest.provided_capabilities.contains(c)
                });
                Dependencies::Available(
                    [(Pkg::Plugin(provider.clone()), set)].into_iter().collect(),
                )
            }
            _ => Dependencies::Unavailable("is not in the universe".to_owned()),
        })
    }
}
