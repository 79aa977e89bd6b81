//! `selfup patterns list|trends` and `selfup gaps`: what discovery found.

use selfup_core::clock::Clock;
use selfup_core::pattern::Pattern;
use selfup_discovery::gaps::{GapReport, analyze_gaps};
use selfup_discovery::trends::{Trends, trends};
use selfup_discovery::{CODE_SOURCE, analyze_runtime};
use selfup_store::system_clock::SystemClock;

use crate::cli::{GapsArgs, PatternsCommand};
use crate::context::Context;
use crate::exit::Exit;
use crate::format::utc_time;
use crate::table::Table;

/// `selfup patterns list|trends` (`scan` has its own module).
pub fn patterns(ctx: &Context, command: &PatternsCommand) -> anyhow::Result<()> {
    match command {
        PatternsCommand::List { json } => list(ctx, *json),
        PatternsCommand::Trends { days, json } => show_trends(ctx, *days, *json),
        PatternsCommand::Scan(args) => crate::commands::patterns_scan::run(ctx, args),
        PatternsCommand::Analyze { .. } => Err(anyhow::anyhow!(
            "selfup patterns analyze runs asynchronously (see analyze)"
        )),
    }
}

/// `selfup patterns analyze`: the LLM's refactoring opportunities for the
/// best code patterns of the latest scan.
pub async fn analyze(ctx: &Context, limit: usize, json: bool) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    let client = selfup_llm::LlmClient::new(
        &ctx.config.self_upgrading_loop.decision.llm,
        store.clone(),
        std::sync::Arc::new(SystemClock),
    )
    .map_err(|e| Exit::new(2, format!("decision.llm: {e}")))?;
    let analysis = selfup_loop::analyser::analyse(&store, &client, limit, SystemClock.now_ms())
        .await
        .map_err(|e| Exit::new(2, e.to_string()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&analysis)?);
        return Ok(());
    }
    println!(
        "{} code pattern(s) analysed by {} (${:.4}); {} opportunit{}:",
        analysis.analysed.len(),
        analysis.model,
        analysis.cost_usd,
        analysis.patterns.len(),
        if analysis.patterns.len() == 1 {
            "y"
        } else {
            "ies"
        }
    );
    for p in &analysis.patterns {
        println!(
            "\n[{}] {} (score {:.2})\n  {}",
            p.severity.label(),
            p.id,
            p.opportunity_score(),
            p.description
        );
        for loc in p.locations.iter().take(4) {
            println!("    {}:{}-{}", loc.file, loc.line_start, loc.line_end);
        }
    }
    Ok(())
}

/// Analyses runtime behaviour and usage now (recording them), then lists
/// them with the latest code scan, best opportunity first.
fn list(ctx: &Context, json: bool) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    let config = &ctx.config.self_upgrading_loop.discovery;
    analyze_runtime(&store, config, SystemClock.now_ms())?;
    let latest = store.latest_patterns()?;
    let mut patterns: Vec<(String, Pattern)> = latest
        .iter()
        .flat_map(|(scan, found)| found.iter().map(|p| (scan.source.clone(), p.clone())))
        .collect();
    patterns.sort_by(|a, b| {
        b.1.opportunity_score()
            .total_cmp(&a.1.opportunity_score())
            .then_with(|| a.1.id.cmp(&b.1.id))
    });
    if json {
        let scans: Vec<_> = latest.iter().map(|(scan, _)| scan).collect();
        let patterns: Vec<_> = patterns
            .iter()
            .map(|(source, p)| {
                serde_json::json!({
                    "source": source,
                    "opportunity_score": p.opportunity_score(),
                    "pattern": p,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "scans": scans, "patterns": patterns })
            )?
        );
        return Ok(());
    }
    for (scan, found) in &latest {
        println!(
            "{} analysis at {}: {}",
            scan.source,
            utc_time(scan.at_ms),
            crate::format::count(found.len(), "pattern")
        );
    }
    if !latest.iter().any(|(scan, _)| scan.source == CODE_SOURCE) {
        println!("no code scan yet: run `selfup patterns scan [PATH...]`");
    }
    if patterns.is_empty() {
        println!("no patterns found");
        return Ok(());
    }
    println!();
    let mut table = Table::new(&[">SCORE", "SEVERITY", "KIND", "SIGNAL", "DESCRIPTION"]);
    for (_, p) in &patterns {
        table.row(vec![
            format!("{:.2}", p.opportunity_score()),
            p.severity.label().to_owned(),
            p.kind.label().to_owned(),
            p.signal.clone(),
            p.description.clone(),
        ]);
    }
    print!("{}", table.render());
    Ok(())
}

fn show_trends(ctx: &Context, days: u32, json: bool) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    let t: Trends = trends(&store, days, SystemClock.now_ms())?;
    if json {
        println!("{}", serde_json::to_string_pretty(&t)?);
        return Ok(());
    }
    println!(
        "Pattern trends (last {} days, since {}):",
        t.days,
        utc_time(t.since_ms)
    );
    println!(
        "  {} in {}; average confidence {:.2}",
        crate::format::count(t.overall.total_patterns as usize, "pattern"),
        crate::format::count(t.overall.scans as usize, "scan"),
        t.overall.average_confidence
    );
    println!("  by type:     {}", tally(&t.overall.by_kind));
    println!("  by severity: {}", tally(&t.overall.by_severity));
    if t.by_day.is_empty() {
        println!(
            "no scans in the period: run `selfup patterns scan`, `selfup cycle` or `selfup run`"
        );
        return Ok(());
    }
    println!();
    let mut table = Table::new(&[
        "DAY",
        ">SCANS",
        ">PATTERNS",
        ">CRITICAL",
        ">HIGH",
        ">MEDIUM",
        ">LOW",
        ">AVG CONF",
    ]);
    for day in &t.by_day {
        let s = &day.tally.by_severity;
        let n = |k: &str| s.get(k).copied().unwrap_or(0).to_string();
        table.row(vec![
            utc_time(day.day_start_ms)[..10].to_owned(),
            day.tally.scans.to_string(),
            day.tally.total_patterns.to_string(),
            n("critical"),
            n("high"),
            n("medium"),
            n("low"),
            format!("{:.2}", day.tally.average_confidence),
        ]);
    }
    print!("{}", table.render());
    println!();
    println!(
        "new: {}, persistent: {}, resolved: {}",
        t.new.len(),
        t.persistent,
        t.resolved.len()
    );
    for c in &t.new {
        println!(
            "  + [{}] {} {} (since {})",
            c.severity,
            c.kind,
            c.pattern_id,
            utc_time(c.first_seen_ms)
        );
    }
    for c in &t.resolved {
        println!(
            "  - [{}] {} {} (last seen {})",
            c.severity,
            c.kind,
            c.pattern_id,
            utc_time(c.last_seen_ms)
        );
    }
    Ok(())
}

fn tally(counts: &std::collections::BTreeMap<String, u64>) -> String {
    if counts.is_empty() {
        return "none".to_owned();
    }
    counts
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `selfup gaps`: the capability gaps now, with the catalog packages that
/// would close them.
pub async fn gaps(ctx: &Context, args: &GapsArgs) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    let config = &ctx.config.self_upgrading_loop.discovery;
    let now = SystemClock.now_ms();
    let catalog = ctx
        .orchestrator(store.clone(), None)?
        .load_catalog()
        .await?;
    let offered: Vec<_> = catalog.entries.iter().map(|e| e.manifest.clone()).collect();
    let usage = selfup_discovery::usage::analyze_usage(&store, config, now)?;
    let report: GapReport = analyze_gaps(&store, config, &offered, Some(&usage), now)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    for problem in &catalog.problems {
        eprintln!("warning: catalog: {problem}");
    }
    if report.gaps.is_empty() {
        println!(
            "no gaps at or above {} severity since {}{}",
            config.gap_analysis.min_gap_severity.label().to_lowercase(),
            utc_time(report.period.from_ms),
            below(report.below_min_severity)
        );
        return Ok(());
    }
    for gap in &report.gaps {
        println!("[{}] {} — {}", gap.severity.label(), gap.id, gap.title);
        println!(
            "    {} · {} · from {} to {}",
            crate::format::count(
                gap.demand as usize,
                if gap.failure_rate.is_some() {
                    "failure"
                } else {
                    "request"
                }
            ),
            crate::format::count(gap.subjects as usize, "subject"),
            utc_time(gap.first_seen_ms),
            utc_time(gap.last_seen_ms)
        );
        for example in &gap.examples {
            println!("    e.g. {example:?}");
        }
        if gap.candidates.is_empty() {
            println!("    nothing in the catalog would close it");
        }
        for c in &gap.candidates {
            println!("    closed by {}@{} ({})", c.plugin, c.version, c.reason);
        }
    }
    let tail = below(report.below_min_severity);
    if !tail.is_empty() {
        println!("{}", tail.trim_start_matches("; "));
    }
    Ok(())
}

fn below(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(
            "; {} below discovery.gap_analysis.min_gap_severity not shown",
            crate::format::count(n, "gap")
        )
    }
}
