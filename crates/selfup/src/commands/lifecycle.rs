//! `selfup catalog|upgrades|rollback|experiments|cycle|run`.

use std::sync::Arc;

use selfup_loop::experiment::analyse;
use selfup_loop::lifecycle::RollbackStrategy;
use selfup_loop::orchestrator::Change;
use selfup_store::upgrades::{Upgrade, UpgradeFilter};

use crate::cli::{CatalogCommand, ExperimentsCommand, RollbackArgs, StrategyArg, UpgradesCommand};
use crate::context::Context;
use crate::exit::Exit;
use crate::table::Table;

fn who() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "cli".to_owned())
}

/// Prints changes as a timeline.
pub fn print_changes(changes: &[Change]) {
    if changes.is_empty() {
        println!("nothing to do");
    }
    for c in changes {
        match c.upgrade_id {
            Some(id) => println!("upgrade {id}: {}", c.text),
            None => println!("{}", c.text),
        }
    }
}

/// `selfup catalog list`.
pub async fn catalog(ctx: &Context, command: &CatalogCommand) -> anyhow::Result<()> {
    let json = match command {
        CatalogCommand::List { json } => json,
        CatalogCommand::Publish {
            dir,
            key,
            password_env,
            expires_in_days,
        } => {
            return crate::commands::signing::publish_index(
                dir,
                key,
                password_env.as_deref(),
                *expires_in_days,
            );
        }
    };
    let store = ctx.open_store()?;
    let catalog = ctx.orchestrator(store, None)?.load_catalog().await?;
    if *json {
        println!("{}", serde_json::to_string_pretty(&catalog)?);
        return Ok(());
    }
    let mut table = Table::new(&["NAME", "VERSION", "CAPABILITIES", "SOURCE"]);
    for e in &catalog.entries {
        table.row(vec![
            e.manifest.name.to_string(),
            e.manifest.version.to_string(),
            e.manifest
                .provided_capabilities
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(","),
            e.location.to_string(),
        ]);
    }
    if catalog.entries.is_empty() {
        println!("the catalog offers nothing (catalog.directory / catalog.index_url)");
    } else {
        print!("{}", table.render());
    }
    for problem in &catalog.problems {
        eprintln!("skipped: {problem}");
    }
    Ok(())
}

/// A state without its reason: `rolled_back`, `rolling_out(2)`.
fn short_state(state: &str) -> String {
    match state.split_once('(') {
        Some((name, rest)) if name == "rolling_out" => format!("{name}({rest}"),
        Some((name, _)) => name.to_owned(),
        None => state.to_owned(),
    }
}

fn upgrade_row(u: &Upgrade) -> Vec<String> {
    vec![
        u.id.to_string(),
        u.kind.as_str().to_owned(),
        u.plugin.clone(),
        u.from_version
            .as_ref()
            .map_or("-".to_owned(), |v| v.to_string()),
        u.to_version.to_string(),
        u.capability.clone(),
        short_state(&u.state.to_string()),
        format!("{:.2}", u.opportunity),
        format!("{:.2}", u.risk),
    ]
}

/// `selfup upgrades …`.
pub async fn upgrades(ctx: &Context, command: &UpgradesCommand) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    match command {
        UpgradesCommand::List { pending, json } => {
            let filter = UpgradeFilter {
                states: if *pending {
                    vec!["awaiting_approval", "deferred", "proposed"]
                } else {
                    Vec::new()
                },
                plugin: None,
            };
            let list = store.upgrades(&filter)?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!(
                    "no upgrades{}",
                    if *pending {
                        " waiting for a decision"
                    } else {
                        " yet"
                    }
                );
            } else {
                let mut table = Table::new(&[
                    "ID",
                    "KIND",
                    "PLUGIN",
                    "FROM",
                    "TO",
                    "CAPABILITY",
                    "STATE",
                    ">OPP",
                    ">RISK",
                ]);
                for u in &list {
                    table.row(upgrade_row(u));
                }
                print!("{}", table.render());
            }
            Ok(())
        }
        UpgradesCommand::Show { id, json } => {
            let upgrade = store.upgrade(*id)?.ok_or_else(|| {
                Exit::new(
                    2,
                    format!("there is no upgrade {id}; see `selfup upgrades list`"),
                )
            })?;
            let events = store.upgrade_events(*id)?;
            let decisions = store.decisions(*id)?;
            if *json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "upgrade": upgrade,
                        "events": events,
                        "decisions": decisions,
                    }))?
                );
                return Ok(());
            }
            print!("{}", render_upgrade(&upgrade, &events));
            print!("{}", render_decisions(&decisions));
            // The text itself, where decision.llm.store_prompts kept it.
            for id in decisions.iter().filter_map(|d| d.llm_call_id) {
                if let Some(call) = store.llm_call(id)?
                    && let Some(prompt) = &call.call.prompt
                {
                    println!("llm call {id} prompt:\n{}", indent_text(prompt));
                    if let Some(answer) = &call.call.answer {
                        println!("llm call {id} answer:\n{}", indent_text(answer));
                    }
                }
            }
            Ok(())
        }
        UpgradesCommand::Approve { id, reason } => {
            let change = ctx
                .orchestrator(store, None)?
                .approve(*id, &who(), reason)
                .map_err(|e| Exit::new(2, e.to_string()))?;
            print_changes(&[change]);
            Ok(())
        }
        UpgradesCommand::Reject { id, reason } => {
            let change = ctx
                .orchestrator(store, None)?
                .reject(*id, &who(), reason)
                .map_err(|e| Exit::new(2, e.to_string()))?;
            print_changes(&[change]);
            Ok(())
        }
    }
}

/// The whole trail of an upgrade, for people.
pub fn render_upgrade(u: &Upgrade, events: &[selfup_store::upgrades::UpgradeEvent]) -> String {
    let mut out = String::new();
    let from = u
        .from_version
        .as_ref()
        .map_or("(new)".to_owned(), |v| v.to_string());
    out.push_str(&format!(
        "upgrade {}: {} {from} → {} for {}\n",
        u.id, u.plugin, u.to_version, u.capability
    ));
    out.push_str(&format!(
        "state: {}\nsource: {}\nopportunity {:.2}, risk {:.2}\n",
        u.state, u.source, u.opportunity, u.risk
    ));
    if let Some(reasons) = u.evidence["decision"]["reasons"].as_array() {
        out.push_str(&format!(
            "decision ({}):\n",
            u.evidence["decision"]["engine"].as_str().unwrap_or("?")
        ));
        for r in reasons {
            out.push_str(&format!("  - {}\n", r.as_str().unwrap_or_default()));
        }
    }
    if let Some(steps) = u.evidence["plan"]["plan"].as_array() {
        out.push_str("plan:\n");
        for s in steps {
            out.push_str(&format!(
                "  - {}@{}{}\n",
                s["plugin"].as_str().unwrap_or_default(),
                s["version"].as_str().unwrap_or_default(),
                if s["install"] == true {
                    " (install)"
                } else {
                    ""
                }
            ));
        }
    }
    if let Some(checks) = u.evidence["validation"]["performance"]["checks"].as_array() {
        out.push_str("validation (performance replay):\n");
        for c in checks {
            out.push_str(&format!(
                "  - {} {}: {}\n",
                c["name"].as_str().unwrap_or_default(),
                if c["passed"] == true { "ok" } else { "FAILED" },
                c["detail"].as_str().unwrap_or_default()
            ));
        }
    }
    let mut stage = 0;
    while let Some(verdict) = u.evidence.get(format!("stage_{stage}")) {
        out.push_str(&format!(
            "stage {stage} \"{}\" ({}%): {}\n",
            verdict["stage_name"].as_str().unwrap_or_default(),
            verdict["traffic_percentage"],
            verdict["reason"].as_str().unwrap_or_default()
        ));
        if let Some(gates) = verdict["gates"].as_array() {
            for g in gates {
                out.push_str(&format!(
                    "    {:<8} {}: {}\n",
                    g["status"].as_str().unwrap_or_default(),
                    g["gate"].as_str().unwrap_or_default(),
                    g["detail"].as_str().unwrap_or_default()
                ));
            }
        }
        stage += 1;
    }
    out.push_str("trail:\n");
    let t0 = events.first().map_or(0, |e| e.ts_ms);
    for e in events {
        out.push_str(&format!(
            "  +{:>7.1}h  {:<20} → {:<22} by {}\n",
            (e.ts_ms - t0) as f64 / 3_600_000.0,
            e.from_state.as_deref().map_or("-".to_owned(), short_state),
            short_state(&e.to_state),
            e.actor
        ));
    }
    out
}

fn indent_text(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every decision on an upgrade, with the LLM's part: model, prompt hash,
/// tokens, cost, latency, its answer (or why there was none).
pub fn render_decisions(decisions: &[selfup_store::decisions::DecisionRecord]) -> String {
    let mut out = String::new();
    if decisions.is_empty() {
        return out;
    }
    out.push_str("decisions:\n");
    for d in decisions {
        out.push_str(&format!(
            "  {} {} → {} (opportunity {:.2}, risk {:.2})\n",
            crate::format::utc_time(d.ts_ms),
            d.engine,
            d.outcome,
            d.detail["opportunity"].as_f64().unwrap_or_default(),
            d.detail["risk"].as_f64().unwrap_or_default()
        ));
        for r in d.detail["reasons"].as_array().into_iter().flatten() {
            out.push_str(&format!("    - {}\n", r.as_str().unwrap_or_default()));
        }
        let llm = &d.detail["llm"];
        if llm.is_object() {
            out.push_str(&format!(
                "    llm: {} · prompt sha256 {} · {} attempt(s), {:.0} ms · {} + {} tokens · ${:.4}{}\n",
                llm["model"].as_str().unwrap_or("?"),
                llm["prompt_sha256"]
                    .as_str()
                    .map_or("?", |h| &h[..h.len().min(16)]),
                llm["attempts"],
                llm["latency_ms"].as_f64().unwrap_or_default(),
                llm["prompt_tokens"],
                llm["completion_tokens"],
                llm["cost_usd"].as_f64().unwrap_or_default(),
                d.llm_call_id
                    .map_or(String::new(), |id| format!(" · call {id}"))
            ));
            if let Some(error) = llm["error"].as_str() {
                out.push_str(&format!("    llm failed: {error}\n"));
            }
            let answer = &llm["answer"];
            if answer.is_object() {
                if let Some(reasoning) = answer["reasoning"].as_str() {
                    out.push_str(&format!("    reasoning: {reasoning}\n"));
                }
                if let Some(risks) = answer["risk_assessment"].as_object() {
                    let risks: Vec<String> = risks
                        .iter()
                        .map(|(k, v)| format!("{k} {}", v.as_str().unwrap_or("?")))
                        .collect();
                    out.push_str(&format!("    risk assessment: {}\n", risks.join(", ")));
                }
                for r in answer["recommendations"].as_array().into_iter().flatten() {
                    out.push_str(&format!(
                        "    recommendation: {}\n",
                        r.as_str().unwrap_or_default()
                    ));
                }
            }
        }
    }
    out
}

/// `selfup rollback`.
pub async fn rollback(ctx: &Context, args: &RollbackArgs) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    let strategy = match args.strategy {
        StrategyArg::Full => RollbackStrategy::Full,
        StrategyArg::Partial => RollbackStrategy::Partial,
        StrategyArg::Compensating => RollbackStrategy::Compensating,
    };
    let change = ctx
        .orchestrator(store, None)?
        .rollback(args.id, strategy, &who(), &args.reason)
        .await
        .map_err(|e| Exit::new(2, e.to_string()))?;
    print_changes(&[change]);
    Ok(())
}

/// `selfup experiments show`.
pub fn experiments(ctx: &Context, command: &ExperimentsCommand) -> anyhow::Result<()> {
    let ExperimentsCommand::Show { id, json } = command;
    let store = ctx.open_store()?;
    let upgrade = store.upgrade(*id)?.ok_or_else(|| {
        Exit::new(
            2,
            format!("there is no upgrade {id}; see `selfup upgrades list`"),
        )
    })?;
    let report = analyse(
        &store,
        &upgrade,
        ctx.config
            .self_upgrading_loop
            .ab_testing
            .default_significance_level,
    )?;
    if *json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "experiment of upgrade {}: {} ({}) — {}",
        report.upgrade_id, report.title, report.capability, report.decision
    );
    if report.stages.is_empty() {
        println!("no calls recorded for this rollout");
    }
    for s in &report.stages {
        let mut table = Table::new(&[
            "ARM",
            ">CALLS",
            ">ERRORS",
            ">ERROR%",
            ">P50 ms",
            ">P99 ms",
            ">MISMATCH%",
        ]);
        for a in &s.arms {
            table.row(vec![
                a.arm.to_owned(),
                a.calls.to_string(),
                a.errors.to_string(),
                format!("{:.2}", a.error_rate * 100.0),
                a.latency_p50_ms.map_or("-".into(), |v| format!("{v:.3}")),
                a.latency_p99_ms.map_or("-".into(), |v| format!("{v:.3}")),
                a.mismatch_rate
                    .map_or("-".into(), |v| format!("{:.1}", v * 100.0)),
            ]);
        }
        println!(
            "\nstage {}{}",
            s.stage,
            s.srm_p_value
                .map_or(String::new(), |p| format!(" (sample ratio p = {p:.3})"))
        );
        print!("{}", table.render());
        for m in &s.metrics {
            println!(
                "  {} (candidate − incumbent): {:+.5} [{}, {}], p = {:.3} ({})",
                m.metric,
                m.effect,
                m.ci_low.map_or("-".into(), |v| format!("{v:+.5}")),
                m.ci_high.map_or("-".into(), |v| format!("{v:+.5}")),
                m.p_value,
                m.test
            );
        }
        if let Some(v) = &s.verdict {
            println!("  verdict: {}", v["reason"].as_str().unwrap_or_default());
        }
    }
    if let Some(m) = &report.stratified_error_rate {
        println!(
            "\nacross stages, error rate (candidate − incumbent), stratified: {:+.5} [{}, {}], p = {:.3}; pooled (ignoring stages): {:+.5}",
            m.effect,
            m.ci_low.map_or("-".into(), |v| format!("{v:+.5}")),
            m.ci_high.map_or("-".into(), |v| format!("{v:+.5}")),
            m.p_value,
            report.pooled_error_rate_difference.unwrap_or(0.0)
        );
    }
    Ok(())
}

/// `selfup cycle`: one cycle now.
pub async fn cycle(ctx: &Context) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    let spinner = crate::progress::CycleSpinner::on_terminal().map(Arc::new);
    let mut orchestrator = ctx.orchestrator(store, None)?;
    if let Some(spinner) = &spinner {
        orchestrator.set_progress(spinner.clone());
    }
    let mut changes = orchestrator.recover()?;
    changes.extend(orchestrator.cycle().await?);
    changes.extend(orchestrator.tick().await?);
    if let Some(spinner) = &spinner {
        spinner.finish();
    }
    print_changes(&changes);
    Ok(())
}

/// Builds the in-process reload hook for a gateway router.
pub fn reload_hook(
    router: Arc<selfup_gateway::Router>,
    store: Arc<selfup_store::Store>,
) -> Arc<dyn Fn() + Send + Sync> {
    Arc::new(move || {
        if let Err(e) = router.refresh(&store) {
            tracing::error!(error = %e, "cannot reload the routing after a change");
        }
    })
}
