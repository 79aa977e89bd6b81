//! From a solution to a plan: refuse dependency cycles, order the plugins
//! so that dependencies come first, and keep what the upgrade installs or
//! changes.

use std::collections::{BTreeMap, BTreeSet};

use semver::Version;

use super::index::Index;
use super::provider::Solution;
use super::{Plan, PlanStep, ResolveError, StepReason};
use crate::names::PluginName;

/// The plan for a solution, or the dependency cycle it contains.
pub(super) fn plan(index: &Index, solution: &Solution) -> Result<Plan, ResolveError> {
    let graph = Graph::new(index, solution);
    if let Some(cycle) = graph.cycle(&index.candidate_name) {
        return Err(cycle_error(index, solution, &cycle));
    }
    let mut steps = Vec::new();
    for name in graph.order() {
        let Some(version) = solution.plugins.get(name) else {
            continue;
        };
        let Some(entry) = index.entry(name, version) else {
            continue;
        };
        let replaces: Vec<Version> = index
            .live_versions(name)
            .into_iter()
            .filter(|v| *v != version)
            .cloned()
            .collect();
        if entry.installed && replaces.is_empty() {
            continue;
        }
        steps.push(PlanStep {
            name: name.clone(),
            version: version.clone(),
            install: !entry.installed,
            replaces,
            reason: graph.reason(index, solution, name),
        });
    }
    Ok(Plan {
        steps,
        providers: solution.providers.clone(),
    })
}

/// The plugins of a solution with their dependency edges (hard: they order
/// the plan and must not form a cycle) and capability edges (soft: they
/// order the plan when they can).
struct Graph<'s> {
    /// Plugin → the plugins of the solution it depends on.
    dependencies: BTreeMap<&'s PluginName, BTreeSet<&'s PluginName>>,
    /// Plugin → the providers of the capabilities it requires.
    providers: BTreeMap<&'s PluginName, BTreeSet<&'s PluginName>>,
}

impl<'s> Graph<'s> {
    fn new(index: &'s Index, solution: &'s Solution) -> Self {
        let mut dependencies = BTreeMap::new();
        let mut providers = BTreeMap::new();
        for (name, version) in &solution.plugins {
            let Some(entry) = index.entry(name, version) else {
                continue;
            };
            let deps: BTreeSet<&PluginName> = entry
                .manifest
                .dependencies
                .keys()
                .filter_map(|dep| solution.plugins.get_key_value(dep).map(|(k, _)| k))
                .collect();
            let served: BTreeSet<&PluginName> = entry
                .required_capabilities()
                .into_iter()
                .filter_map(|c| solution.providers.get(c))
                .filter(|p| *p != name)
                .collect();
            dependencies.insert(name, deps);
            providers.insert(name, served);
        }
        Self {
            dependencies,
            providers,
        }
    }

    /// A dependency cycle, as a path whose first plugin is repeated at the
    /// end; it starts at `prefer` when that is on it, else at its smallest
    /// name.
    fn cycle(&self, prefer: &PluginName) -> Option<Vec<&'s PluginName>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            OnPath,
            Done,
        }
        let mut marks: BTreeMap<&PluginName, Mark> = BTreeMap::new();
        for &start in self.dependencies.keys() {
            if marks.contains_key(start) {
                continue;
            }
            // Iterative depth-first search; `path` holds the current chain.
            let mut path: Vec<&PluginName> = vec![start];
            let mut pending: Vec<Vec<&PluginName>> = vec![self.successors(start)];
            marks.insert(start, Mark::OnPath);
            loop {
                while pending.last().is_some_and(Vec::is_empty) {
                    pending.pop();
                    if let Some(done) = path.pop() {
                        marks.insert(done, Mark::Done);
                    }
                }
                let Some(next) = pending.last_mut().and_then(Vec::pop) else {
                    break;
                };
                match marks.get(next) {
                    Some(Mark::Done) => {}
                    Some(Mark::OnPath) => {
                        let from = path.iter().position(|n| *n == next).unwrap_or(0);
                        return Some(rotate(&path[from..], prefer));
                    }
                    None => {
                        marks.insert(next, Mark::OnPath);
                        path.push(next);
                        pending.push(self.successors(next));
                    }
                }
            }
        }
        None
    }

    /// The dependencies of `name`, the smallest last (popped first).
    fn successors(&self, name: &PluginName) -> Vec<&'s PluginName> {
        let mut next: Vec<&PluginName> = self
            .dependencies
            .get(name)
            .map(|d| d.iter().copied().collect())
            .unwrap_or_default();
        next.reverse();
        next
    }

    /// Every plugin, dependencies and providers first, ties by name. A
    /// capability edge that would close a cycle is dropped.
    fn order(&self) -> Vec<&'s PluginName> {
        let mut placed: BTreeSet<&PluginName> = BTreeSet::new();
        let mut order = Vec::with_capacity(self.dependencies.len());
        let ready = |name: &PluginName, placed: &BTreeSet<&PluginName>, soft: bool| {
            let hard = self
                .dependencies
                .get(name)
                .is_none_or(|d| d.iter().all(|p| placed.contains(p)));
            let soft = !soft
                || self
                    .providers
                    .get(name)
                    .is_none_or(|d| d.iter().all(|p| placed.contains(p)));
            hard && soft
        };
        while order.len() < self.dependencies.len() {
            let remaining = || self.dependencies.keys().filter(|n| !placed.contains(*n));
            let next = remaining()
                .find(|n| ready(n, &placed, true))
                .or_else(|| remaining().find(|n| ready(n, &placed, false)))
                .or_else(|| remaining().next());
            let Some(&next) = next else {
                break;
            };
            placed.insert(next);
            order.push(next);
        }
        order
    }

    /// Why `name` is in the plan.
    fn reason(&self, index: &Index, solution: &Solution, name: &PluginName) -> StepReason {
        if *name == index.candidate_name {
            return StepReason::Candidate;
        }
        // The candidate first, then the dependents by name.
        let mut dependents: Vec<&PluginName> = self
            .dependencies
            .iter()
            .filter(|(_, deps)| deps.contains(name))
            .map(|(d, _)| *d)
            .collect();
        dependents.sort_by_key(|d| (**d != index.candidate_name, *d));
        for dependent in dependents {
            let Some(version) = solution.plugins.get(dependent) else {
                continue;
            };
            if let Some(requirement) = index
                .entry(dependent, version)
                .and_then(|e| e.manifest.dependencies.get(name))
            {
                return StepReason::Dependency {
                    of: dependent.clone(),
                    version: version.clone(),
                    requirement: requirement.clone(),
                };
            }
        }
        for (requirer, version) in &solution.plugins {
            let Some(entry) = index.entry(requirer, version) else {
                continue;
            };
            if let Some(capability) = entry
                .required_capabilities()
                .into_iter()
                .find(|c| solution.providers.get(*c) == Some(name))
            {
                return StepReason::Capability {
                    capability: capability.clone(),
                    for_plugin: requirer.clone(),
                };
            }
        }
        StepReason::Compatibility
    }
}

/// `cycle` (without the repeated end) starting at `prefer` when on it, else
/// at its smallest name; the first plugin repeated at the end.
fn rotate<'s>(cycle: &[&'s PluginName], prefer: &PluginName) -> Vec<&'s PluginName> {
    let start = cycle
        .iter()
        .position(|n| *n == prefer)
        .or_else(|| {
            cycle
                .iter()
                .enumerate()
                .min_by_key(|(_, n)| **n)
                .map(|(i, _)| i)
        })
        .unwrap_or(0);
    let mut path: Vec<&PluginName> = cycle[start..]
        .iter()
        .chain(&cycle[..start])
        .copied()
        .collect();
    if let Some(first) = path.first().copied() {
        path.push(first);
    }
    path
}

/// The error for a dependency cycle, each link with its requirement.
fn cycle_error(index: &Index, solution: &Solution, path: &[&PluginName]) -> ResolveError {
    let names: Vec<String> = path.iter().map(|n| n.to_string()).collect();
    let links: Vec<String> = path
        .windows(2)
        .filter_map(|pair| match pair {
            [from, to] => Some((*from, *to)),
            _ => None,
        })
        .map(|(from, to)| {
            let version = solution.plugins.get(from);
            let requirement = version
                .and_then(|v| index.entry(from, v))
                .and_then(|e| e.manifest.dependencies.get(to));
            match (version, requirement) {
                (Some(v), Some(req)) => format!("{from} {v} needs {to} {req}"),
                _ => format!("{from} needs {to}"),
            }
        })
        .collect();
    ResolveError::Cycle {
        path: path.iter().map(|n| (*n).clone()).collect(),
        explanation: format!(
            "dependency cycle {} ({}): plugins must not depend on each other in a circle",
            names.join(" → "),
            links.join(", ")
        ),
    }
}
