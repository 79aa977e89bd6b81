//! Capability gap analysis: what the agent was asked for and could not do.
//!
//! Three sources, each switchable in `discovery.gap_analysis`:
//! - unmet requests the agent reported (`analyze_user_requests`), grouped
//!   by what they ask for: the capability their intent names when it names
//!   one, otherwise by text similarity (TF-IDF cosine over stemmed terms,
//!   at least `request_similarity`);
//! - calls to capabilities nobody serves (with the unmet requests);
//! - capabilities failing often (`analyze_failures`, the usage report's
//!   failure rates).
//!
//! For each gap the market scan (`market_scan_enabled`) lists the offered
//! packages that would close it: providers of the named capability, newer
//! versions or other providers of a failing one, and packages whose name,
//! description and capabilities match the requests' terms. Gaps below
//! `min_gap_severity` are counted but not listed.

use std::collections::{BTreeMap, BTreeSet};

use selfup_core::config::DiscoveryConfig;
use selfup_core::manifest::PluginManifest;
use selfup_core::pattern::Severity;
use selfup_core::telemetry::{AgentEventType, anonymous_subject_hash};
use selfup_store::Store;
use serde::Serialize;

use crate::error::DiscoveryError;
use crate::text::{Corpus, Normalizer, TermVector};
use crate::usage::UsageReport;
use crate::window::Period;

/// How far back unmet requests and unserved calls are read: a week, as the
/// loop's market scan does.
pub const GAP_HORIZON_MS: i64 = 7 * 86_400_000;
/// An offered package whose text is at least this alike a group of
/// requests is suggested for it.
pub const MATCH_SIMILARITY: f64 = 0.25;
/// Examples kept per gap.
const EXAMPLES: usize = 3;

/// Distinct subjects counted per unserved capability (the severities need 5).
const SUBJECTS_COUNTED: usize = 50;
/// Packages suggested per text-matched gap.
const SUGGESTIONS: usize = 3;

/// What kind of gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    /// Requests for a capability nobody serves (named by the agent's intent
    /// or by calls to it).
    MissingCapability,
    /// Requests alike in their words, naming no capability.
    UnmetRequests,
    /// A capability that fails too often.
    FailingCapability,
}

/// A package that would close a gap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapCandidate {
    /// The plugin.
    pub plugin: String,
    /// Its version.
    pub version: String,
    /// The capabilities it provides.
    pub provides: Vec<String>,
    /// Why it is suggested.
    pub reason: String,
    /// How well it matches (1 for a provider of the named capability).
    pub score: f64,
}

/// One gap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    /// A stable id (`missing:text.translate`, `requests:translat+french`,
    /// `failing:text.stats`).
    pub id: String,
    /// What kind.
    pub kind: GapKind,
    /// One line for people.
    pub title: String,
    /// The capability it is about, when known.
    pub capability: Option<String>,
    /// How much it matters.
    pub severity: Severity,
    /// Requests (and unserved calls) behind it, or failed calls.
    pub demand: u64,
    /// Distinct identified subjects behind it.
    pub subjects: u64,
    /// For a failing capability: its failure rate.
    pub failure_rate: Option<f64>,
    /// First and last time it showed (ms since the Unix epoch).
    pub first_seen_ms: i64,
    /// See `first_seen_ms`.
    pub last_seen_ms: i64,
    /// What was asked, in the agent's words (a few).
    pub examples: Vec<String>,
    /// The terms that characterise it.
    pub terms: Vec<String>,
    /// Packages that would close it, best first.
    pub candidates: Vec<GapCandidate>,
}

/// The gap report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapReport {
    /// The period read for requests and unserved calls.
    pub period: Period,
    /// Gaps at or above `min_gap_severity`, worst first.
    pub gaps: Vec<Gap>,
    /// How many gaps were below `min_gap_severity`.
    pub below_min_severity: usize,
}

/// One request, or (for calls nobody served) all of a capability's calls.
struct Request {
    /// When (the first, for many).
    ts_ms: i64,
    /// When the last was made.
    last_ms: i64,
    /// How many requests this stands for.
    count: u64,
    /// Who asked (a sample for many).
    subjects: Vec<i64>,
    capability: Option<String>,
    text: String,
    example: Option<String>,
}

/// Finds the gaps as of `now_ms`. `offered` is what the catalog offers;
/// `usage` the usage report, for failure rates (without it, failing
/// capabilities are not looked at). Nothing when `gap_analysis.enabled`
/// is off.
pub fn analyze_gaps(
    store: &Store,
    config: &DiscoveryConfig,
    offered: &[PluginManifest],
    usage: Option<&UsageReport>,
    now_ms: i64,
) -> Result<GapReport, DiscoveryError> {
    let ga = &config.gap_analysis;
    let period = Period {
        from_ms: now_ms - GAP_HORIZON_MS,
        to_ms: now_ms,
    };
    if !ga.enabled {
        return Ok(GapReport {
            period,
            gaps: Vec::new(),
            below_min_severity: 0,
        });
    }
    let installed = store.list_plugins()?;
    let served: BTreeSet<String> = installed
        .iter()
        .flat_map(|p| p.active_for.iter().cloned())
        .collect();
    let offered_capabilities: BTreeSet<String> = offered
        .iter()
        .flat_map(|m| m.provided_capabilities.iter().map(|c| c.to_string()))
        .collect();
    let normalizer = Normalizer::default();
    let mut gaps = Vec::new();

    if ga.analyze_user_requests {
        let requests = read_requests(store, period, &served, &offered_capabilities)?;
        gaps.extend(request_gaps(
            &requests,
            ga.request_similarity,
            &normalizer,
            offered,
            ga.market_scan_enabled,
            config,
        ));
    }
    if let Some(usage) = usage.filter(|_| ga.analyze_failures) {
        let min_calls = u64::from(config.runtime_analysis.min_calls);
        for u in usage
            .capabilities
            .iter()
            .filter(|u| u.calls >= min_calls && u.failure_rate > 0.10)
        {
            let candidates = if ga.market_scan_enabled {
                failing_candidates(&u.capability, &installed, offered)
            } else {
                Vec::new()
            };
            gaps.push(Gap {
                id: format!("failing:{}", u.capability),
                kind: GapKind::FailingCapability,
                title: format!(
                    "{} fails {:.1}% of its calls ({} of {})",
                    u.capability,
                    u.failure_rate * 100.0,
                    u.failures,
                    u.calls
                ),
                capability: Some(u.capability.clone()),
                severity: if u.failure_rate > 0.25 {
                    Severity::Critical
                } else {
                    Severity::High
                },
                demand: u.failures,
                subjects: u.subjects,
                failure_rate: Some(u.failure_rate),
                first_seen_ms: usage.period.from_ms,
                last_seen_ms: usage.period.to_ms,
                examples: u
                    .failures_by_kind
                    .iter()
                    .map(|(kind, n)| format!("{n} × {kind}"))
                    .collect(),
                terms: Vec::new(),
                candidates,
            });
        }
    }

    let total = gaps.len();
    gaps.retain(|g| g.severity >= ga.min_gap_severity);
    gaps.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.demand.cmp(&a.demand))
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(GapReport {
        period,
        below_min_severity: total - gaps.len(),
        gaps,
    })
}

/// Unmet requests and calls nobody served in `period`, with the
/// capability each names when it names one nobody serves.
fn read_requests(
    store: &Store,
    period: Period,
    served: &BTreeSet<String>,
    offered: &BTreeSet<String>,
) -> Result<Vec<Request>, DiscoveryError> {
    let mut out = Vec::new();
    for event in store.agent_events(Some(AgentEventType::UnmetRequest), period.from_ms)? {
        if event.ts_ms >= period.to_ms {
            continue;
        }
        let intent = event.intent.clone().unwrap_or_default();
        let named = match_capability(
            &intent,
            offered.iter().chain(served.iter()).map(String::as_str),
        );
        out.push(Request {
            ts_ms: event.ts_ms,
            last_ms: event.ts_ms,
            count: 1,
            subjects: event.subject_hash.into_iter().collect(),
            capability: named.filter(|c| !served.contains(c)),
            text: format!("{intent} {}", event.text.clone().unwrap_or_default()),
            example: event.text.or(event.intent),
        });
    }
    let anonymous = anonymous_subject_hash();
    for target in store.call_targets_between(period.from_ms, period.to_ms)? {
        if !target.plugin.is_empty() || served.contains(&target.capability) {
            continue;
        }
        // Aggregated: a capability called millions of times is one request
        // with a count, not millions to group.
        let summary = store.target_summary(
            target.id,
            period.from_ms,
            period.to_ms,
            anonymous,
            SUBJECTS_COUNTED,
        )?;
        let (Some(first), Some(last)) = (summary.first_ms, summary.last_ms) else {
            continue;
        };
        out.push(Request {
            ts_ms: first,
            last_ms: last,
            count: summary.calls.max(1),
            subjects: summary.subjects,
            capability: Some(target.capability.clone()),
            text: target.capability.clone(),
            example: None,
        });
    }
    Ok(out)
}

/// The capability among `known` that an intent names: the name itself
/// (`unit.convert`), its last segment (`convert`), or its segments joined
/// (`unit convert`, `unit-convert`, `unit_convert`).
pub fn match_capability<'a>(
    intent: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
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
    if wanted.is_empty() {
        return None;
    }
    known
        .into_iter()
        .find(|cap| {
            *cap == wanted
                || cap.rsplit('.').next() == Some(wanted)
                || cap.replace('.', "") == wanted.replace('.', "")
        })
        .map(str::to_owned)
}

/// A group of requests on its way to becoming a gap.
struct Group {
    capability: Option<String>,
    members: Vec<usize>,
    centroid: TermVector,
}

fn request_gaps(
    requests: &[Request],
    similarity: f64,
    normalizer: &Normalizer,
    offered: &[PluginManifest],
    market_scan: bool,
    config: &DiscoveryConfig,
) -> Vec<Gap> {
    if requests.is_empty() {
        return Vec::new();
    }
    // One term space for the requests and the offered packages.
    let request_terms: Vec<Vec<String>> =
        requests.iter().map(|r| normalizer.terms(&r.text)).collect();
    let package_terms: Vec<Vec<String>> = offered
        .iter()
        .map(|m| {
            let caps: Vec<String> = m
                .provided_capabilities
                .iter()
                .map(|c| c.to_string())
                .collect();
            normalizer.terms(&format!("{} {} {}", m.name, m.description, caps.join(" ")))
        })
        .collect();
    // A request standing for many counts as many documents, as if each
    // call had been one.
    let mut corpus = Corpus::default();
    for (terms, r) in request_terms.iter().zip(requests) {
        corpus.add_documents(terms, r.count);
    }
    for terms in &package_terms {
        corpus.add_document(terms);
    }
    let vectors: Vec<TermVector> = request_terms.iter().map(|t| corpus.vector(t)).collect();

    // Named capabilities group exactly; the rest by similarity to a
    // group's centroid (in time order, then groups that ended up alike merge).
    let mut groups: Vec<Group> = Vec::new();
    let mut by_capability: BTreeMap<String, usize> = BTreeMap::new();
    let mut order: Vec<usize> = (0..requests.len()).collect();
    order.sort_by_key(|&i| (requests[i].capability.is_none(), requests[i].ts_ms));
    for i in order {
        if let Some(cap) = &requests[i].capability {
            let g = *by_capability.entry(cap.clone()).or_insert_with(|| {
                groups.push(Group {
                    capability: Some(cap.clone()),
                    members: Vec::new(),
                    centroid: TermVector::default(),
                });
                groups.len() - 1
            });
            join(&mut groups[g], i, &vectors[i]);
            continue;
        }
        if vectors[i].is_empty() {
            continue; // nothing to go on
        }
        let best = groups
            .iter()
            .enumerate()
            .map(|(g, group)| (g, group.centroid.cosine(&vectors[i])))
            .filter(|(_, s)| *s >= similarity)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((g, _)) => join(&mut groups[g], i, &vectors[i]),
            None => {
                let mut group = Group {
                    capability: None,
                    members: Vec::new(),
                    centroid: TermVector::default(),
                };
                join(&mut group, i, &vectors[i]);
                groups.push(group);
            }
        }
    }
    merge_alike(&mut groups, similarity);

    let package_vectors: Vec<TermVector> = package_terms.iter().map(|t| corpus.vector(t)).collect();
    groups
        .into_iter()
        .filter(|g| !g.members.is_empty())
        .map(|g| {
            let candidates = if market_scan {
                request_candidates(&g, offered, &package_vectors)
            } else {
                Vec::new()
            };
            to_gap(&g, requests, &corpus, candidates, config)
        })
        .collect()
}

fn join(group: &mut Group, index: usize, vector: &TermVector) {
    group.members.push(index);
    group.centroid.add(vector);
    group.centroid.normalize();
}

/// Merges text groups whose centroids are alike (a group named by a
/// capability absorbs alike text groups; two named groups never merge).
fn merge_alike(groups: &mut [Group], similarity: f64) {
    loop {
        let mut best: Option<(usize, usize, f64)> = None;
        for a in 0..groups.len() {
            for b in (a + 1)..groups.len() {
                if groups[a].members.is_empty() || groups[b].members.is_empty() {
                    continue;
                }
                if groups[a].capability.is_some() && groups[b].capability.is_some() {
                    continue;
                }
                let s = groups[a].centroid.cosine(&groups[b].centroid);
                if s >= similarity && best.is_none_or(|(_, _, t)| s > t) {
                    best = Some((a, b, s));
                }
            }
        }
        let Some((a, b, _)) = best else { return };
        let (into, from) = if groups[b].capability.is_some() {
            (b, a)
        } else {
            (a, b)
        };
        let members = std::mem::take(&mut groups[from].members);
        let centroid = std::mem::take(&mut groups[from].centroid);
        groups[into].members.extend(members);
        groups[into].centroid.add(&centroid);
        groups[into].centroid.normalize();
    }
}

fn request_candidates(
    group: &Group,
    offered: &[PluginManifest],
    package_vectors: &[TermVector],
) -> Vec<GapCandidate> {
    let mut out: Vec<GapCandidate> = Vec::new();
    if let Some(cap) = &group.capability {
        for m in offered
            .iter()
            .filter(|m| m.provided_capabilities.iter().any(|c| c.as_str() == cap))
        {
            out.push(candidate(m, format!("provides {cap}"), 1.0));
        }
    }
    let mut matched: Vec<(usize, f64)> = package_vectors
        .iter()
        .enumerate()
        .map(|(i, v)| (i, v.cosine(&group.centroid)))
        .filter(|(_, s)| *s >= MATCH_SIMILARITY)
        .collect();
    matched.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    for (i, score) in matched.into_iter().take(SUGGESTIONS) {
        let m = &offered[i];
        if out
            .iter()
            .any(|c| c.plugin == m.name.as_str() && c.version == m.version.to_string())
        {
            continue;
        }
        out.push(candidate(
            m,
            format!("its description matches the requests ({score:.2})"),
            score,
        ));
    }
    out
}

fn failing_candidates(
    capability: &str,
    installed: &[selfup_store::registry::InstalledPlugin],
    offered: &[PluginManifest],
) -> Vec<GapCandidate> {
    let active = installed
        .iter()
        .find(|p| p.active_for.iter().any(|c| c == capability));
    let mut out = Vec::new();
    for m in offered.iter().filter(|m| {
        m.provided_capabilities
            .iter()
            .any(|c| c.as_str() == capability)
    }) {
        match active {
            Some(a) if a.manifest.name == m.name && m.version <= a.manifest.version => continue,
            Some(a) if a.manifest.name == m.name => out.push(candidate(
                m,
                format!(
                    "a newer version of {} ({} installed)",
                    a.manifest.name, a.manifest.version
                ),
                1.0,
            )),
            _ => out.push(candidate(
                m,
                format!("another provider of {capability}"),
                0.8,
            )),
        }
    }
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.plugin.cmp(&b.plugin))
    });
    out
}

fn candidate(m: &PluginManifest, reason: String, score: f64) -> GapCandidate {
    GapCandidate {
        plugin: m.name.to_string(),
        version: m.version.to_string(),
        provides: m
            .provided_capabilities
            .iter()
            .map(|c| c.to_string())
            .collect(),
        reason,
        score,
    }
}

fn to_gap(
    group: &Group,
    requests: &[Request],
    corpus: &Corpus,
    candidates: Vec<GapCandidate>,
    config: &DiscoveryConfig,
) -> Gap {
    let members: Vec<&Request> = group.members.iter().map(|&i| &requests[i]).collect();
    let demand = members.iter().map(|r| r.count).sum::<u64>();
    let subjects = members
        .iter()
        .flat_map(|r| r.subjects.iter().copied())
        .collect::<BTreeSet<_>>()
        .len() as u64;
    let mut examples: Vec<String> = Vec::new();
    for r in &members {
        if let Some(e) = &r.example
            && examples.len() < EXAMPLES
            && !examples.contains(e)
        {
            examples.push(e.clone());
        }
    }
    let terms: Vec<String> = group
        .centroid
        .top_terms(5)
        .into_iter()
        .map(|t| corpus.term(t).to_owned())
        .collect();
    let (id, kind, title) = match &group.capability {
        Some(cap) => (
            format!("missing:{cap}"),
            GapKind::MissingCapability,
            format!("{cap} was asked for {demand} times and nobody serves it"),
        ),
        None => (
            format!(
                "requests:{}",
                terms.iter().take(3).cloned().collect::<Vec<_>>().join("+")
            ),
            GapKind::UnmetRequests,
            format!(
                "{demand} requests nobody could serve, about: {}",
                terms.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
            ),
        ),
    };
    Gap {
        id,
        kind,
        title,
        capability: group.capability.clone(),
        severity: demand_severity(
            demand,
            subjects,
            config.pattern_recognition.min_pattern_frequency,
        ),
        demand,
        subjects,
        failure_rate: None,
        first_seen_ms: members.iter().map(|r| r.ts_ms).min().unwrap_or(0),
        last_seen_ms: members.iter().map(|r| r.last_ms).max().unwrap_or(0),
        examples,
        terms,
        candidates,
    }
}

/// Severity by demand, with `f` = `min_pattern_frequency`: at least `10f`
/// requests from 5 subjects is critical, `4f` from 3 high, `f` medium.
pub fn demand_severity(requests: u64, subjects: u64, f: u32) -> Severity {
    let f = u64::from(f.max(1));
    if requests >= 10 * f && subjects >= 5 {
        Severity::Critical
    } else if requests >= 4 * f && subjects >= 3 {
        Severity::High
    } else if requests >= f {
        Severity::Medium
    } else {
        Severity::Low
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intents_name_capabilities_in_several_ways() {
        let known = ["unit.convert", "text.translate"];
        for intent in [
            "unit.convert",
            "convert",
            "Unit Convert",
            "unit-convert",
            "unit_convert",
        ] {
            assert_eq!(
                match_capability(intent, known).as_deref(),
                Some("unit.convert"),
                "{intent}"
            );
        }
        assert_eq!(
            match_capability("translate", known).as_deref(),
            Some("text.translate")
        );
        assert_eq!(match_capability("summarise", known), None);
        assert_eq!(match_capability("  ", known), None);
    }

    #[test]
    fn demand_decides_severity() {
        assert_eq!(demand_severity(2, 2, 5), Severity::Low);
        assert_eq!(demand_severity(5, 1, 5), Severity::Medium);
        assert_eq!(demand_severity(20, 2, 5), Severity::Medium, "few subjects");
        assert_eq!(demand_severity(20, 3, 5), Severity::High);
        assert_eq!(demand_severity(50, 5, 5), Severity::Critical);
    }
}
