//! The dependency manager: which plugin versions an upgrade installs or
//! changes, found by a real version solver (PubGrub), or why none can work.
//!
//! Everything comes in as data — a [`Universe`] of installed and catalog
//! plugin versions and the candidate manifest — and [`resolve`] answers
//! with a [`Plan`] or a [`ResolveError`] that says which requirement
//! clashes with which. No I/O.
//!
//! The rules:
//!
//! 1. `dependencies` (plugin name → semver requirement) are solved over the
//!    universe. An installed version that satisfies a requirement is chosen
//!    before any other (the one active for a capability first); otherwise
//!    the highest matching catalog version.
//! 2. Every `required_capabilities` entry of every plugin in the solution
//!    is served by some plugin in the solution: the one already active for
//!    it when possible, else an installed provider, else a catalog one
//!    (which the plan then installs).
//! 3. The candidate replaces the live versions of its own plugin; one
//!    version per plugin is live in the plan. Every other live plugin (an
//!    installed version active for at least one capability) stays: at its
//!    current version, unless the candidate can need it (a transitive
//!    dependency or capability provider), in which case the plan may move
//!    it to another version. Whatever stays keeps its own dependencies and
//!    required capabilities satisfied — those that are satisfied today; a
//!    requirement already broken before the upgrade does not block it.
//! 4. Dependencies that form a cycle (`a → b → a`) are refused, even when a
//!    solver could satisfy them.
//!
//! Universe entries with the same name and version are merged: an
//! installed entry wins over a catalog one. The candidate's own manifest
//! wins over a universe entry of the same version. `active_for` counts only
//! for installed entries.

mod explain;
mod graph;
mod index;
mod provider;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use semver::{Version, VersionReq};

use crate::manifest::PluginManifest;
use crate::names::{CapabilityName, PluginName};

/// One plugin version the resolver may use: installed on the machine, or
/// offered by the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct AvailablePlugin {
    /// The version's manifest.
    pub manifest: PluginManifest,
    /// Whether this version is installed on the machine.
    pub installed: bool,
    /// The capabilities this version is the active provider of (installed
    /// versions only; empty means installed but not live).
    pub active_for: Vec<CapabilityName>,
}

impl AvailablePlugin {
    /// An installed version, active for `active_for`.
    pub fn installed(manifest: PluginManifest, active_for: Vec<CapabilityName>) -> Self {
        Self {
            manifest,
            installed: true,
            active_for,
        }
    }

    /// A version offered by the catalog, not installed.
    pub fn catalog(manifest: PluginManifest) -> Self {
        Self {
            manifest,
            installed: false,
            active_for: Vec::new(),
        }
    }
}

/// Every plugin version the resolver may use.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Universe {
    /// Installed and catalog versions, in any order.
    pub plugins: Vec<AvailablePlugin>,
}

impl Universe {
    /// An empty universe.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one available version.
    pub fn push(&mut self, plugin: AvailablePlugin) {
        self.plugins.push(plugin);
    }
}

impl FromIterator<AvailablePlugin> for Universe {
    fn from_iter<I: IntoIterator<Item = AvailablePlugin>>(iter: I) -> Self {
        Self {
            plugins: iter.into_iter().collect(),
        }
    }
}

/// Why a plugin version is in a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepReason {
    /// It is the upgrade's candidate.
    Candidate,
    /// Another plugin of the plan depends on it.
    Dependency {
        /// The dependent plugin.
        of: PluginName,
        /// The dependent's version.
        version: Version,
        /// Its requirement on this plugin.
        requirement: VersionReq,
    },
    /// It serves a capability that another plugin of the plan requires.
    Capability {
        /// The capability.
        capability: CapabilityName,
        /// The plugin that requires it.
        for_plugin: PluginName,
    },
    /// It stays installed and moves to a version that fits the plan.
    Compatibility,
}

/// One plugin version that the upgrade installs or makes live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanStep {
    /// The plugin.
    pub name: PluginName,
    /// The version the plan puts in place.
    pub version: Version,
    /// Whether the version is new to the machine and must be installed.
    pub install: bool,
    /// The live versions of this plugin it replaces, oldest first (empty
    /// when the plugin is new to the machine).
    pub replaces: Vec<Version>,
    /// Why it is in the plan.
    pub reason: StepReason,
}

/// What an upgrade does: every plugin version it installs or changes,
/// dependencies before dependents.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// The steps, in an order where dependencies (and capability providers)
    /// come before the plugins that need them; ties by name.
    pub steps: Vec<PlanStep>,
    /// The plugin chosen to serve each capability that a plugin of the
    /// resulting set requires.
    pub providers: BTreeMap<CapabilityName, PluginName>,
}

/// Why no plan exists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// Requirements that cannot all hold at once; the text says which
    /// requirement clashes with which.
    #[error("{explanation}")]
    Conflict {
        /// The explanation, in words.
        explanation: String,
    },
    /// A capability that some plugin needs and that no installed or catalog
    /// plugin provides.
    #[error(
        "{needed_by} needs capability \"{capability}\", which no installed or catalog plugin provides"
    )]
    MissingCapability {
        /// The capability nobody provides.
        capability: CapabilityName,
        /// The plugin version that needs it (`b 1.0.0`), with the chain
        /// that brought it in (`b 1.0.0 (required by a 2.0.0)`).
        needed_by: String,
    },
    /// Dependencies that form a cycle.
    #[error("{explanation}")]
    Cycle {
        /// The plugins on the cycle, the first one repeated at the end.
        path: Vec<PluginName>,
        /// The cycle with each requirement, in words.
        explanation: String,
    },
}

/// Finds the plan that installs `candidate` over the `universe`, or
/// explains why there is none.
pub fn resolve(universe: &Universe, candidate: &PluginManifest) -> Result<Plan, ResolveError> {
    let index = index::Index::new(universe, candidate);
    let solution = provider::solve(&index).map_err(|tree| explain::explain(&index, tree))?;
    graph::plan(&index, &solution)
}

impl fmt::Display for PlanStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.install { "install" } else { "activate" };
        write!(f, "{verb} {} {}", self.name, self.version)?;
        if let Some((last, rest)) = self.replaces.split_last() {
            f.write_str(", replacing ")?;
            for v in rest {
                write!(f, "{v} and ")?;
            }
            write!(f, "{last}")?;
        }
        match &self.reason {
            StepReason::Candidate => f.write_str(" (the upgrade)"),
            StepReason::Dependency {
                of,
                version,
                requirement,
            } => write!(f, " ({of} {version} needs {requirement})"),
            StepReason::Capability {
                capability,
                for_plugin,
            } => write!(f, " (provides \"{capability}\" for {for_plugin})"),
            StepReason::Compatibility => f.write_str(" (to stay compatible)"),
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.steps.is_empty() {
            return f.write_str("nothing to install or change");
        }
        for (i, step) in self.steps.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{}. {step}", i + 1)?;
        }
        Ok(())
    }
}
