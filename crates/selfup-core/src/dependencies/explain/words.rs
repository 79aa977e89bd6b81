//! Plugin versions, requirements and PubGrub's facts in the words a user
//! reads, and a [`ReportFormatter`] that uses them for the general report.

use pubgrub::{Derived, External, Map, ReportFormatter, Term};
use semver::VersionReq;

use crate::dependencies::index::{Entry, Index};
use crate::dependencies::provider::{Pick, Pkg, SELF_DEPENDENCY, Set, known_in};
use crate::names::{CapabilityName, PluginName};

/// Most versions listed one by one.
const MAX_LISTED: usize = 3;

/// Turns solver terms into sentences about one index.
pub(crate) struct Words<'i> {
    /// The universe the terms refer to.
    pub index: &'i Index,
}

/// A subject of a sentence and whether it takes a plural verb.
pub(crate) struct Subject {
    /// The words.
    pub text: String,
    /// Several versions.
    pub plural: bool,
}

impl Subject {
    /// `needs` or `need`.
    pub fn needs(&self) -> &'static str {
        if self.plural { "need" } else { "needs" }
    }
}

impl Words<'_> {
    /// The versions of `name` in `set` as a subject: `json-query 1.0.0
    /// (installed)`, `b 2.0.0 and 2.1.0`, `every version of b`.
    pub fn versions_of(&self, name: &PluginName, set: &Set, extra: &[String]) -> Subject {
        let known = known_in(self.index, name, set);
        let all = self.index.versions(name).len();
        let mut notes: Vec<String> = Vec::new();
        if let [entry] = known.as_slice()
            && entry.installed
            && !entry.candidate
        {
            notes.push("installed".to_owned());
        }
        notes.extend(extra.iter().cloned());
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join(", "))
        };
        let (text, plural) = match known.as_slice() {
            [] => (format!("{name} {set}"), false),
            [one] => (format!("{name} {}", one.version()), false),
            many if many.len() == all => (format!("every version of {name}"), false),
            many => (format!("{name} {}", list(many, "and")), true),
        };
        Subject {
            text: format!("{text}{notes}"),
            plural,
        }
    }

    /// The versions of `name` in `set` as an object: `2.0.0`, `2.0.0 or
    /// 2.1.0`, `1.0.0 to 1.5.0 (6 versions)`, `no version`.
    pub fn which_versions(&self, name: &PluginName, set: &Set) -> String {
        let known = known_in(self.index, name, set);
        if known.is_empty() {
            "no version".to_owned()
        } else {
            list(&known, "or")
        }
    }

    /// The requirement that every version of `who` in `versions` has on
    /// `dependency`, when they share one.
    pub fn requirement(
        &self,
        who: &PluginName,
        versions: &Set,
        dependency: &PluginName,
    ) -> Option<VersionReq> {
        let mut reqs = known_in(self.index, who, versions)
            .into_iter()
            .map(|e| e.manifest.dependencies.get(dependency));
        let first = reqs.next()??;
        reqs.all(|r| r == Some(first)).then(|| first.clone())
    }

    /// `text-stats ^2.0`, or the versions when the requirement is not one.
    pub fn wanted(
        &self,
        who: &PluginName,
        versions: &Set,
        dependency: &PluginName,
        set: &Set,
    ) -> String {
        match self.requirement(who, versions, dependency) {
            Some(req) => format!("{dependency} {req}"),
            None => format!("{dependency} {}", self.which_versions(dependency, set)),
        }
    }

    /// Why nothing can satisfy a requirement of `dependency`.
    pub fn unsatisfiable(&self, dependency: &PluginName) -> &'static str {
        if self.index.versions(dependency).is_empty() {
            "is neither installed nor in the catalog"
        } else {
            "no installed or catalog version satisfies"
        }
    }

    /// The providers of `capability` in `set`, as plugin names.
    fn providers_in(&self, capability: &CapabilityName, set: &Set) -> Vec<&PluginName> {
        self.index
            .providers
            .get(capability)
            .map(|names| {
                names
                    .iter()
                    .filter(|n| set.contains(&Pick::Provider((*n).clone())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether `set` holds any known provider of `capability`.
    pub fn any_provider_in(&self, capability: &CapabilityName, set: &Set) -> bool {
        !self.providers_in(capability, set).is_empty()
    }

    /// One fact PubGrub started from.
    fn fact(&self, external: &External<Pkg, Set, String>) -> String {
        match external {
            External::NotRoot(..) => "the upgrade is being planned".to_owned(),
            External::FromDependencyOf(Pkg::Root, _, Pkg::Plugin(name), set) => {
                if *name == self.index.candidate_name {
                    format!(
                        "the upgrade installs {name} {}",
                        self.which_versions(name, set)
                    )
                } else if *set == Set::full() {
                    format!("{name} stays installed")
                } else {
                    let kept = self.versions_of(name, set, &[]);
                    format!("{} stays as it is", kept.text)
                }
            }
            External::FromDependencyOf(Pkg::Plugin(who), versions, Pkg::Plugin(dep), set) => {
                let subject = self.versions_of(who, versions, &[]);
                let wanted = self.wanted(who, versions, dep, set);
                if known_in(self.index, dep, set).is_empty() {
                    format!(
                        "{} {} {wanted}, which {}",
                        subject.text,
                        subject.needs(),
                        self.unsatisfiable(dep)
                    )
                } else {
                    format!("{} {} {wanted}", subject.text, subject.needs())
                }
            }
            External::FromDependencyOf(Pkg::Plugin(who), versions, Pkg::Capability(c), _) => {
                let subject = self.versions_of(who, versions, &[]);
                format!("{} {} capability \"{c}\"", subject.text, subject.needs())
            }
            External::FromDependencyOf(Pkg::Capability(c), _, Pkg::Plugin(provider), set) => {
                format!(
                    "of {provider}, only {} {} \"{c}\"",
                    self.which_versions(provider, set),
                    if known_in(self.index, provider, set).len() > 1 {
                        "provide"
                    } else {
                        "provides"
                    }
                )
            }
            External::NoVersions(Pkg::Capability(c), set) => {
                let others: Vec<String> = self
                    .index
                    .providers
                    .get(c)
                    .into_iter()
                    .flatten()
                    .filter(|n| !set.contains(&Pick::Provider((*n).clone())))
                    .map(ToString::to_string)
                    .collect();
                if others.is_empty() {
                    format!("no installed or catalog plugin provides capability \"{c}\"")
                } else {
                    format!(
                        "no plugin other than {} provides capability \"{c}\"",
                        others.join(" and ")
                    )
                }
            }
            External::NoVersions(Pkg::Plugin(name), set) => {
                format!("there is no version {} of {name}", set)
            }
            External::Custom(Pkg::Plugin(who), versions, why) => {
                let subject = self.versions_of(who, versions, &[]);
                if why == SELF_DEPENDENCY {
                    format!("{} {why} and cannot be used", subject.text)
                } else {
                    format!("{} {why}", subject.text)
                }
            }
            other => other.to_string(),
        }
    }

    /// A conclusion PubGrub derived.
    fn conclusion(&self, terms: &Map<Pkg, Term<Set>>) -> String {
        let mut terms: Vec<(&Pkg, &Term<Set>)> = terms
            .iter()
            .filter(|(p, t)| !(**p == Pkg::Root && matches!(t, Term::Positive(_))))
            .collect();
        terms.sort_by(|a, b| a.0.cmp(b.0));
        match terms.as_slice() {
            [] => "no plan can install the upgrade".to_owned(),
            [(Pkg::Plugin(name), Term::Positive(set))] => {
                let subject = self.versions_of(name, set, &[]);
                format!("{} cannot be part of the plan", subject.text)
            }
            [(Pkg::Plugin(name), Term::Negative(set))] => {
                format!("the plan needs {name} {}", self.which_versions(name, set))
            }
            [(Pkg::Capability(c), Term::Positive(set))] => {
                let providers = self.providers_in(c, set);
                if providers.is_empty() {
                    format!("capability \"{c}\" cannot be served")
                } else {
                    let names: Vec<String> = providers.iter().map(|n| n.to_string()).collect();
                    format!(
                        "capability \"{c}\" cannot be served by {}",
                        names.join(" or ")
                    )
                }
            }
            [(Pkg::Capability(c), Term::Negative(_))] => {
                format!("the plan needs capability \"{c}\"")
            }
            [
                (Pkg::Plugin(who), Term::Positive(versions)),
                (Pkg::Plugin(dep), Term::Negative(set)),
            ]
            | [
                (Pkg::Plugin(dep), Term::Negative(set)),
                (Pkg::Plugin(who), Term::Positive(versions)),
            ] => {
                let subject = self.versions_of(who, versions, &[]);
                format!(
                    "{} {} {dep} {}",
                    subject.text,
                    subject.needs(),
                    self.which_versions(dep, set)
                )
            }
            [
                (Pkg::Plugin(who), Term::Positive(versions)),
                (Pkg::Capability(c), Term::Negative(_)),
            ] => {
                let subject = self.versions_of(who, versions, &[]);
                format!("{} {} capability \"{c}\"", subject.text, subject.needs())
            }
            [
                (Pkg::Capability(c), Term::Positive(_)),
                (Pkg::Plugin(provider), Term::Negative(set)),
            ] => {
                format!(
                    "serving capability \"{c}\" needs {provider} {}",
                    self.which_versions(provider, set)
                )
            }
            many => {
                let parts: Vec<String> = many
                    .iter()
                    .map(|(p, t)| match (p, t) {
                        (Pkg::Plugin(name), Term::Positive(set)) => {
                            self.versions_of(name, set, &[]).text
                        }
                        (Pkg::Plugin(name), Term::Negative(set)) => {
                            format!("{name} not {}", self.which_versions(name, set))
                        }
                        (other, Term::Positive(set)) => format!("{other} {set}"),
                        (other, Term::Negative(set)) => format!("{other} not {set}"),
                    })
                    .collect();
                let quantifier = if parts.len() == 2 { "both" } else { "all" };
                format!(
                    "{} cannot {quantifier} be part of the plan",
                    join(&parts, "and")
                )
            }
        }
    }
}

/// `a`, `a and b`, `a, b and c`.
pub(crate) fn join(parts: &[String], last: &str) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., end] => format!("{} {last} {end}", rest.join(", ")),
    }
}

/// Versions as a short list: `2.0.0`, `2.0.0 or 2.1.0`, `1.0.0 to 1.5.0 (6
/// versions)`.
fn list(entries: &[&Entry], last: &str) -> String {
    match entries {
        [] => String::new(),
        [first, .., end] if entries.len() > MAX_LISTED => format!(
            "{} to {} ({} versions)",
            first.version(),
            end.version(),
            entries.len()
        ),
        _ => {
            let parts: Vec<String> = entries.iter().map(|e| e.version().to_string()).collect();
            join(&parts, last)
        }
    }
}

impl ReportFormatter<Pkg, Set, String> for Words<'_> {
    type Output = String;

    fn format_external(&self, external: &External<Pkg, Set, String>) -> String {
        self.fact(external)
    }

    fn format_terms(&self, terms: &Map<Pkg, Term<Set>>) -> String {
        self.conclusion(terms)
    }

    fn explain_both_external(
        &self,
        external1: &External<Pkg, Set, String>,
        external2: &External<Pkg, Set, String>,
        current_terms: &Map<Pkg, Term<Set>>,
    ) -> String {
        format!(
            "Because {} and {}, {}.",
            self.fact(external1),
            self.fact(external2),
            self.conclusion(current_terms)
        )
    }

    fn explain_both_ref(
        &self,
        ref_id1: usize,
        derived1: &Derived<Pkg, Set, String>,
        ref_id2: usize,
        derived2: &Derived<Pkg, Set, String>,
        current_terms: &Map<Pkg, Term<Set>>,
    ) -> String {
        format!(
            "Because {} ({ref_id1}) and {} ({ref_id2}), {}.",
            self.conclusion(&derived1.terms),
            self.conclusion(&derived2.terms),
            self.conclusion(current_terms)
        )
    }

    fn explain_ref_and_external(
        &self,
        ref_id: usize,
        derived: &Derived<Pkg, Set, String>,
        external: &External<Pkg, Set, String>,
        current_terms: &Map<Pkg, Term<Set>>,
    ) -> String {
        format!(
            "Because {} ({ref_id}) and {}, {}.",
            self.conclusion(&derived.terms),
            self.fact(external),
            self.conclusion(current_terms)
        )
    }

    fn and_explain_external(
        &self,
        external: &External<Pkg, Set, String>,
        current_terms: &Map<Pkg, Term<Set>>,
    ) -> String {
        format!(
            "And because {}, {}.",
            self.fact(external),
            self.conclusion(current_terms)
        )
    }

    fn and_explain_ref(
        &self,
        ref_id: usize,
        derived: &Derived<Pkg, Set, String>,
        current_terms: &Map<Pkg, Term<Set>>,
    ) -> String {
        format!(
            "And because {} ({ref_id}), {}.",
            self.conclusion(&derived.terms),
            self.conclusion(current_terms)
        )
    }

    fn and_explain_prior_and_external(
        &self,
        prior_external: &External<Pkg, Set, String>,
        external: &External<Pkg, Set, String>,
        current_terms: &Map<Pkg, Term<Set>>,
    ) -> String {
        format!(
            "And because {} and {}, {}.",
            self.fact(prior_external),
            self.fact(external),
            self.conclusion(current_terms)
        )
    }
}
