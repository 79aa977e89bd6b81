//! Why no plan exists, in words.
//!
//! PubGrub proves a failure with a derivation tree whose leaves are facts
//! ("a 2.0.0 needs b ^1", "the upgrade installs a 2.0.0"). The common
//! shapes get one sentence: two requirements on one plugin that no version
//! satisfies together, a requirement nothing satisfies, a capability nobody
//! provides — each with the chain that brought the plugin into the plan.
//! Anything else gets PubGrub's step-by-step report, in the same words.

mod words;

use std::collections::BTreeSet;
use std::sync::Arc;

use pubgrub::{DefaultStringReporter, DerivationTree, External, Reporter};

use super::ResolveError;
use super::index::Index;
use super::provider::{Pick, Pkg, Set, Tree, known_in};
use crate::names::{CapabilityName, PluginName};
use words::{Words, join};

/// Explains PubGrub's derivation of a failure.
pub(super) fn explain(index: &Index, mut tree: Box<Tree>) -> ResolveError {
    drop_vacuous(&mut tree, index);
    let words = Words { index };
    let mut facts = Vec::new();
    collect(&tree, index, &mut facts);
    if let Some(error) = Shapes::new(&words, &facts).and_then(|s| s.explain()) {
        return error;
    }
    ResolveError::Conflict {
        explanation: DefaultStringReporter::report_with_formatter(&tree, &words),
    }
}

/// Removes PubGrub's "no version of p in S" steps where S holds no known
/// version of p: version sets here only ever hold known versions, so such a
/// step says nothing, and the step it derives is, in known versions, just
/// its other cause.
fn drop_vacuous(tree: &mut Tree, index: &Index) {
    let DerivationTree::Derived(derived) = tree else {
        return;
    };
    drop_vacuous(Arc::make_mut(&mut derived.cause1), index);
    drop_vacuous(Arc::make_mut(&mut derived.cause2), index);
    let vacuous = |cause: &Tree| {
        matches!(cause, DerivationTree::External(External::NoVersions(Pkg::Plugin(p), set))
            if known_in(index, p, set).is_empty())
    };
    let other = if vacuous(&derived.cause1) {
        Arc::clone(&derived.cause2)
    } else if vacuous(&derived.cause2) {
        Arc::clone(&derived.cause1)
    } else {
        return;
    };
    *tree = (*other).clone();
}

/// Where a requirement on a plugin comes from.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    /// The upgrade installs the candidate.
    Upgrade,
    /// The upgrade keeps a live plugin.
    Kept,
    /// A plugin's manifest.
    Plugin {
        /// The plugin.
        name: PluginName,
        /// The versions the requirement holds for.
        versions: Set,
    },
}

/// A requirement on the versions of one plugin.
#[derive(Debug, Clone, PartialEq)]
struct Demand {
    /// Who asks.
    source: Source,
    /// The plugin asked for.
    target: PluginName,
    /// The versions that satisfy the demand.
    set: Set,
    /// The capability the target must provide, when the requirement is one.
    via: Option<CapabilityName>,
}

/// A leaf of the derivation, sorted into what the shapes need.
#[derive(Debug, Clone, PartialEq)]
enum Fact {
    /// A requirement on a plugin's versions.
    Demand(Demand),
    /// A plugin version requires a capability.
    NeedsCapability {
        name: PluginName,
        versions: Set,
        capability: CapabilityName,
    },
    /// Of `provider`, the versions in `set` provide `capability`.
    ProvidedBy {
        capability: CapabilityName,
        provider: PluginName,
        set: Set,
    },
    /// No provider of `capability` is in `set`.
    NoProvider {
        capability: CapabilityName,
        set: Set,
    },
    /// Anything else; only the step-by-step report explains it.
    Other,
}

/// Every leaf of `tree`, once each, in the order first met.
fn collect(tree: &Tree, index: &Index, facts: &mut Vec<Fact>) {
    match tree {
        DerivationTree::Derived(derived) => {
            collect(&derived.cause1, index, facts);
            collect(&derived.cause2, index, facts);
        }
        DerivationTree::External(external) => {
            let fact = match external {
                External::NotRoot(..) => return,
                External::FromDependencyOf(Pkg::Root, _, Pkg::Plugin(target), set) => {
                    Fact::Demand(Demand {
                        source: if *target == index.candidate_name {
                            Source::Upgrade
                        } else {
                            Source::Kept
                        },
                        target: target.clone(),
                        set: set.clone(),
                        via: None,
                    })
                }
                External::FromDependencyOf(
                    Pkg::Plugin(name),
                    versions,
                    Pkg::Plugin(target),
                    set,
                ) => Fact::Demand(Demand {
                    source: Source::Plugin {
                        name: name.clone(),
                        versions: versions.clone(),
                    },
                    target: target.clone(),
                    set: set.clone(),
                    via: None,
                }),
                External::FromDependencyOf(Pkg::Plugin(name), versions, Pkg::Capability(c), _) => {
                    Fact::NeedsCapability {
                        name: name.clone(),
                        versions: versions.clone(),
                        capability: c.clone(),
                    }
                }
                External::FromDependencyOf(Pkg::Capability(c), _, Pkg::Plugin(provider), set) => {
                    Fact::ProvidedBy {
                        capability: c.clone(),
                        provider: provider.clone(),
                        set: set.clone(),
                    }
                }
                External::NoVersions(Pkg::Capability(c), set) => Fact::NoProvider {
                    capability: c.clone(),
                    set: set.clone(),
                },
                _ => Fact::Other,
            };
            if !facts.contains(&fact) {
                facts.push(fact);
            }
        }
    }
}

/// The leaves as requirements on plugins, and at most one capability that
/// nobody provides.
struct Shapes<'w, 'i> {
    /// The words for the index.
    words: &'w Words<'i>,
    /// Every requirement on a plugin, capability ones folded in.
    demands: Vec<Demand>,
    /// A plugin version that needs a capability nobody provides.
    missing: Option<(PluginName, Set, CapabilityName)>,
}

impl<'w, 'i> Shapes<'w, 'i> {
    /// Sorts the facts; `None` when some fact fits no simple shape.
    fn new(words: &'w Words<'i>, facts: &[Fact]) -> Option<Self> {
        let mut demands = Vec::new();
        let mut missing = None;
        let mut used = 0;
        for fact in facts {
            match fact {
                Fact::Demand(demand) => {
                    demands.push(demand.clone());
                    used += 1;
                }
                Fact::NeedsCapability {
                    name,
                    versions,
                    capability,
                } => {
                    let provided: Vec<(&PluginName, &Set)> = facts
                        .iter()
                        .filter_map(|f| match f {
                            Fact::ProvidedBy {
                                capability: c,
                                provider,
                                set,
                            } if c == capability => Some((provider, set)),
                            _ => None,
                        })
                        .collect();
                    let no_other = facts.iter().any(|f| {
                        matches!(f, Fact::NoProvider { capability: c, set }
                            if c == capability && !words.any_provider_in(c, set))
                    });
                    if !no_other {
                        return None;
                    }
                    match provided.as_slice() {
                        [] if missing.is_none() => {
                            missing = Some((name.clone(), versions.clone(), capability.clone()));
                            used += 2;
                        }
                        [(provider, set)] => {
                            demands.push(Demand {
                                source: Source::Plugin {
                                    name: name.clone(),
                                    versions: versions.clone(),
                                },
                                target: (*provider).clone(),
                                set: (*set).clone(),
                                via: Some(capability.clone()),
                            });
                            used += 3;
                        }
                        _ => return None,
                    }
                }
                Fact::ProvidedBy { .. } | Fact::NoProvider { .. } => {}
                Fact::Other => return None,
            }
        }
        // Every provider fact was folded into exactly one demand.
        (used == facts.len()).then_some(Self {
            words,
            demands,
            missing,
        })
    }

    /// A one-sentence error when the facts have a simple shape.
    fn explain(&self) -> Option<ResolveError> {
        if let Some((name, versions, capability)) = &self.missing {
            let chain = self.chain(name, versions)?;
            if chain.len() != self.demands.len() {
                return None;
            }
            return Some(ResolveError::MissingCapability {
                capability: capability.clone(),
                needed_by: self.subject(name, versions, &chain).text,
            });
        }
        let unsatisfiable: Vec<usize> = (0..self.demands.len())
            .filter(|&i| self.known(&self.demands[i]).is_empty())
            .collect();
        match unsatisfiable.as_slice() {
            [] => self.clash(),
            [i] => self.unsatisfiable(*i),
            _ => None,
        }
    }

    /// One requirement that no known version satisfies.
    fn unsatisfiable(&self, i: usize) -> Option<ResolveError> {
        let demand = &self.demands[i];
        let Source::Plugin { name, versions } = &demand.source else {
            return None;
        };
        let chain = self.chain(name, versions)?;
        if chain.len() + 1 != self.demands.len() {
            return None;
        }
        let subject = self.subject(name, versions, &chain);
        Some(ResolveError::Conflict {
            explanation: format!(
                "{} {} {}, which {}",
                subject.text,
                subject.needs(),
                self.wanted(demand),
                self.words.unsatisfiable(&demand.target)
            ),
        })
    }

    /// Two requirements on one plugin that no version satisfies together.
    fn clash(&self) -> Option<ResolveError> {
        let n = self.demands.len();
        let pairs: Vec<(usize, usize)> = (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
            .filter(|&(i, j)| {
                let (a, b) = (&self.demands[i], &self.demands[j]);
                a.target == b.target
                    && known_in(self.words.index, &a.target, &a.set.intersection(&b.set)).is_empty()
            })
            .collect();
        let [(i, j)] = pairs.as_slice() else {
            return None;
        };
        let mut used: BTreeSet<usize> = [*i, *j].into();
        let mut sides = Vec::new();
        for k in [*i, *j] {
            let demand = &self.demands[k];
            let chain = match &demand.source {
                Source::Plugin { name, versions } => self.chain(name, versions)?,
                _ => Vec::new(),
            };
            let upgrade_side = match chain.last() {
                Some(&top) => self.demands[top].source == Source::Upgrade,
                None => demand.source == Source::Upgrade,
            };
            used.extend(chain.iter().copied());
            sides.push((demand, chain, upgrade_side));
        }
        if used.len() != n {
            return None;
        }
        // The upgrade's side first, then by plugin name.
        sides.sort_by_key(|(d, _, upgrade)| {
            (!*upgrade, d.source != Source::Upgrade, source_name(d))
        });
        let [(first, chain1, _), (second, chain2, _)] = sides.as_slice() else {
            return None;
        };
        let explanation = match (&first.source, &second.source) {
            (Source::Upgrade, Source::Plugin { name, versions }) => {
                let subject = self.subject(name, versions, chain2);
                let installs = self.words.which_versions(&first.target, &first.set);
                let live: Vec<String> = self
                    .words
                    .index
                    .live_versions(&first.target)
                    .into_iter()
                    .filter(|v| !first.set.contains(&Pick::Version((*v).clone())))
                    .map(ToString::to_string)
                    .collect();
                if live.is_empty() {
                    format!(
                        "the upgrade installs {} {installs}, but {} {} {}",
                        first.target,
                        subject.text,
                        subject.needs(),
                        self.wanted(second)
                    )
                } else {
                    format!(
                        "replacing {} {} with {installs} breaks {}, which {} {}",
                        first.target,
                        join(&live, "and"),
                        subject.text,
                        subject.needs(),
                        self.wanted(second)
                    )
                }
            }
            (Source::Plugin { name, versions }, Source::Kept)
            | (Source::Kept, Source::Plugin { name, versions }) => {
                let (demand, chain, kept) = if first.source == Source::Kept {
                    (second, chain2, first)
                } else {
                    (first, chain1, second)
                };
                let subject = self.subject(name, versions, chain);
                let kept = self.words.versions_of(&kept.target, &kept.set, &[]);
                format!(
                    "{} {} {}, but {} stays as it is",
                    subject.text,
                    subject.needs(),
                    self.wanted(demand),
                    kept.text
                )
            }
            (
                Source::Plugin {
                    name: n1,
                    versions: v1,
                },
                Source::Plugin {
                    name: n2,
                    versions: v2,
                },
            ) => {
                let s1 = self.subject(n1, v1, chain1);
                let s2 = self.subject(n2, v2, chain2);
                format!(
                    "{} {} {}, but {} {} {}, and no version satisfies both",
                    s1.text,
                    s1.needs(),
                    self.wanted(first),
                    s2.text,
                    s2.needs(),
                    self.wanted(second)
                )
            }
            _ => return None,
        };
        Some(ResolveError::Conflict { explanation })
    }

    /// The demands that bring `name` (in `versions`) into the plan, nearest
    /// first, ending with one from the upgrade itself; `None` when there is
    /// no such single chain.
    fn chain(&self, name: &PluginName, versions: &Set) -> Option<Vec<usize>> {
        let mut chain = Vec::new();
        let (mut name, mut versions) = (name, versions);
        loop {
            let parents: Vec<usize> = (0..self.demands.len())
                .filter(|&k| {
                    let d = &self.demands[k];
                    d.target == *name
                        && !chain.contains(&k)
                        && self
                            .known(d)
                            .iter()
                            .all(|e| versions.contains(&Pick::Version(e.version().clone())))
                })
                .collect();
            let [parent] = parents.as_slice() else {
                return None;
            };
            chain.push(*parent);
            match &self.demands[*parent].source {
                Source::Plugin {
                    name: n,
                    versions: v,
                } => (name, versions) = (n, v),
                Source::Upgrade | Source::Kept => return Some(chain),
            }
            if chain.len() > self.demands.len() {
                return None;
            }
        }
    }

    /// `name` at `versions` with what brought it in: `b 1.0.0 (installed)`,
    /// `c 1.0.0 (required by a 2.0.0 → b 1.0.0)`.
    fn subject(&self, name: &PluginName, versions: &Set, chain: &[usize]) -> words::Subject {
        let path: Vec<String> = chain
            .iter()
            .rev()
            .filter_map(|&k| match &self.demands[k].source {
                Source::Plugin { name, versions } => Some(format!(
                    "{name} {}",
                    self.words.which_versions(name, versions)
                )),
                _ => None,
            })
            .collect();
        let extra: Vec<String> = if path.is_empty() {
            Vec::new()
        } else {
            vec![format!("required by {}", path.join(" → "))]
        };
        self.words.versions_of(name, versions, &extra)
    }

    /// What a demand asks for: `text-stats ^2.0`, or `capability "x" from a
    /// 1.0.0, its only provider`.
    fn wanted(&self, demand: &Demand) -> String {
        let words = self.words;
        match (&demand.via, &demand.source) {
            (Some(capability), _) => format!(
                "capability \"{capability}\" from {} {}, its only provider",
                demand.target,
                words.which_versions(&demand.target, &demand.set)
            ),
            (None, Source::Plugin { name, versions }) => {
                words.wanted(name, versions, &demand.target, &demand.set)
            }
            (None, _) => format!(
                "{} {}",
                demand.target,
                words.which_versions(&demand.target, &demand.set)
            ),
        }
    }

    /// The known versions a demand accepts.
    fn known(&self, demand: &Demand) -> Vec<&'i super::index::Entry> {
        known_in(self.words.index, &demand.target, &demand.set)
    }
}

/// The name of a demand's source, for ordering.
fn source_name(demand: &Demand) -> Option<&PluginName> {
    match &demand.source {
        Source::Plugin { name, .. } => Some(name),
        _ => None,
    }
}
