//! Patterns: what discovery finds in code, runtime behaviour and usage, and
//! how an improvement opportunity is scored (the specification's
//! `Pattern.calculate_opportunity_score`).

use serde::{Deserialize, Serialize};

pub use crate::config::Severity;

impl Severity {
    /// The specification's numeric level: low 1, medium 2, high 3, critical 4.
    pub fn level(self) -> u8 {
        match self {
            Severity::Low => 1,
            Severity::Medium => 2,
            Severity::High => 3,
            Severity::Critical => 4,
        }
    }

    /// The upper-case name (`"HIGH"`), as reports print it.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }
}

/// The specification's pattern types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PatternKind {
    /// The same code, or nearly, in several places.
    CodeRepetition,
    /// Something got slower.
    Bottleneck,
    /// Many modules using one external API directly where one interface would serve.
    AbstractionGap,
    /// Several capabilities doing the same job.
    CapabilityOverlap,
    /// A place where a plugin would fit.
    ExtensionPoint,
    /// A known bad practice.
    AntiPattern,
    /// How the agent uses its capabilities (frequency, sequences).
    UsagePattern,
    /// Failures, error spikes, resource growth, slow completion.
    PerformancePattern,
}

impl PatternKind {
    /// The specification's name (`"CODE_REPETITION"`).
    pub fn label(self) -> &'static str {
        match self {
            PatternKind::CodeRepetition => "CODE_REPETITION",
            PatternKind::Bottleneck => "BOTTLENECK",
            PatternKind::AbstractionGap => "ABSTRACTION_GAP",
            PatternKind::CapabilityOverlap => "CAPABILITY_OVERLAP",
            PatternKind::ExtensionPoint => "EXTENSION_POINT",
            PatternKind::AntiPattern => "ANTI_PATTERN",
            PatternKind::UsagePattern => "USAGE_PATTERN",
            PatternKind::PerformancePattern => "PERFORMANCE_PATTERN",
        }
    }
}

/// Where in the code a pattern is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CodeLocation {
    /// The file, as given or relative to the scanned root.
    pub file: String,
    /// First line (1-based).
    pub line_start: u32,
    /// Last line (1-based, inclusive).
    pub line_end: u32,
}

/// One thing discovery found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pattern {
    /// A stable identity: the same finding on the next scan has the same
    /// id (`"clone:1f3a…"`, `"latency:text.summarize@2.0.0"`), so trends
    /// can follow it.
    pub id: String,
    /// The specification's type.
    pub kind: PatternKind,
    /// The precise signal within the type (`"renamed_clone"`,
    /// `"latency_degradation"`, `"call_sequence"`, …).
    pub signal: String,
    /// One sentence a person can act on.
    pub description: String,
    /// How much it matters.
    pub severity: Severity,
    /// How sure discovery is (0–1).
    pub confidence: f64,
    /// The capabilities, plugin versions or files it touches.
    pub affected_components: Vec<String>,
    /// Code locations, for code patterns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<CodeLocation>,
    /// The evidence: numbers and names specific to the signal.
    #[serde(default)]
    pub evidence: serde_json::Value,
}

impl Pattern {
    /// The specification's opportunity score, in 0–1:
    /// `confidence × severity/4 × (0.7 + 0.3 × min(components/5, 1))`.
    pub fn opportunity_score(&self) -> f64 {
        let confidence = if self.confidence.is_finite() {
            self.confidence.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let base = confidence * f64::from(self.severity.level()) / 4.0;
        let components = (self.affected_components.len() as f64 / 5.0).min(1.0);
        base * (0.7 + 0.3 * components)
    }
}

/// Sorts patterns by opportunity score, best first (ties by id, so the
/// order is stable).
pub fn rank(patterns: &mut [Pattern]) {
    patterns.sort_by(|a, b| {
        b.opportunity_score()
            .total_cmp(&a.opportunity_score())
            .then_with(|| a.id.cmp(&b.id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(severity: Severity, confidence: f64, components: usize) -> Pattern {
        Pattern {
            id: "test".into(),
            kind: PatternKind::CodeRepetition,
            signal: "exact_clone".into(),
            description: "Test pattern".into(),
            severity,
            confidence,
            affected_components: (0..components).map(|i| format!("comp{i}")).collect(),
            locations: Vec::new(),
            evidence: serde_json::Value::Null,
        }
    }

    #[test]
    fn the_specifications_score_test_passes_as_written() {
        // test_pattern_opportunity_score: HIGH, 0.9, three components.
        let score = pattern(Severity::High, 0.9, 3).opportunity_score();
        assert!((0.0..=1.0).contains(&score));
        assert!(score > 0.5);
        // 0.9 × 3/4 × (0.7 + 0.3 × 3/5) = 0.594
        assert!((score - 0.594).abs() < 1e-12, "{score}");
    }

    #[test]
    fn the_score_stays_in_bounds() {
        for severity in [
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ] {
            for confidence in [-1.0, 0.0, 0.5, 1.0, 7.0, f64::NAN, f64::INFINITY] {
                for components in [0, 1, 5, 50] {
                    let s = pattern(severity, confidence, components).opportunity_score();
                    assert!(
                        (0.0..=1.0).contains(&s),
                        "{severity:?} {confidence} {components}: {s}"
                    );
                }
            }
        }
        assert_eq!(pattern(Severity::Critical, 1.0, 5).opportunity_score(), 1.0);
    }

    #[test]
    fn ranking_puts_the_best_opportunity_first() {
        let mut list = vec![
            pattern(Severity::Low, 1.0, 0),
            pattern(Severity::Critical, 0.9, 2),
            pattern(Severity::Medium, 0.5, 5),
        ];
        rank(&mut list);
        assert_eq!(list[0].severity, Severity::Critical);
        assert_eq!(list[1].severity, Severity::Medium);
        assert_eq!(list[2].severity, Severity::Low);
    }
}
