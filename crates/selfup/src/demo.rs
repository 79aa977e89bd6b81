//! `selfup demo`: the whole story on a virtual clock, in about a minute.
//!
//! A fresh home with three example plugins; a catalog offering
//! text-summarize 2.0.0 (better), json-query 1.1.0 (a regression) and
//! unit-convert 1.0.0 (something the agent keeps asking for); the gateway
//! on loopback; a simulated agent driving traffic through it over HTTP,
//! hour by virtual hour; and the loop deciding, validating, shadowing,
//! canarying, promoting and rolling back — then a summary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use selfup_core::clock::Clock;
use selfup_core::config::Config;
use selfup_gateway::dispatch::Sampling;
use selfup_gateway::http::{AppState, serve as serve_http};
use selfup_gateway::{Dispatcher, PluginLoader, Router};
use selfup_loop::Orchestrator;
use selfup_loop::clock::VirtualClock;
use selfup_loop::experiment::analyse;
use selfup_loop::install::install;
use selfup_loop::orchestrator::{CatalogSource, Change, LoopContext};
use selfup_plugins::wasm::{HostConfig, WasmHost};
use selfup_store::system_clock::SystemClock;
use selfup_store::telemetry::{TelemetryWriter, WriterConfig};
use selfup_store::upgrades::UpgradeFilter;
use selfup_store::{Home, Store};
use tokio::net::TcpListener;

use crate::api::LoopApi;
use crate::cli::DemoArgs;
use crate::commands::lifecycle::reload_hook;
use crate::commands::telemetry::render;
use crate::exit::Exit;
use crate::table::Table;

/// Installed at the start.
const INSTALLED: [&str; 3] = [
    "text-summarize-1.0.0",
    "json-query-1.0.0",
    "text-stats-1.0.0",
];
/// Offered by the catalog.
const CATALOG: [&str; 3] = [
    "text-summarize-2.0.0",
    "json-query-1.1.0",
    "unit-convert-1.0.0",
];

/// Runs the demo.
pub async fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let temp;
    let root: PathBuf = match &args.keep_home {
        Some(dir) => {
            if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
                return Err(Exit::new(
                    2,
                    format!(
                        "{} is not empty; the demo needs a fresh home",
                        dir.display()
                    ),
                )
                .into());
            }
            dir.clone()
        }
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_owned()
        }
    };
    let home = Home::new(&root);
    let store = Arc::new(Store::open(&home)?);
    let clock = VirtualClock::starting_at(SystemClock.now_ms());
    let t0 = clock.now_ms();
    let trusted = selfup_plugins::signing::PublicKey::from_file(&args.trust).map_err(|e| {
        Exit::new(
            2,
            format!(
                "{}: {e} (pass the key the example plugins are signed with: --trust keys/dev.pub)",
                args.trust.display()
            ),
        )
    })?;
    let mut config = demo_config();
    config.security.trusted_keys = vec![trusted.to_base64()];
    config.decision.engine = match args.engine.as_str() {
        "llm" => selfup_core::config::DecisionEngine::Llm,
        "hybrid" => selfup_core::config::DecisionEngine::Hybrid,
        _ => selfup_core::config::DecisionEngine::RuleBased,
    };
    if let Some(url) = &args.llm_base_url {
        config.decision.llm.base_url = url.clone();
    }
    let policy = selfup_loop::install::InstallPolicy::from_config(&config.security)
        .map_err(|e| Exit::new(2, e.to_string()))?;
    println!("selfup demo — home {}", root.display());
    println!(
        "virtual clock; decisions by {} (auto-approve at {} ≥ {}, a human above risk {}); stages: {}",
        match config.decision.engine {
            selfup_core::config::DecisionEngine::RuleBased => "rules".to_owned(),
            engine => format!(
                "the {} engine asking {} at {}",
                if engine == selfup_core::config::DecisionEngine::Llm {
                    "llm"
                } else {
                    "hybrid"
                },
                config.decision.llm.model,
                config.decision.llm.base_url
            ),
        },
        if config.decision.engine == selfup_core::config::DecisionEngine::RuleBased {
            "opportunity"
        } else {
            "confidence"
        },
        config.decision.auto_approve_threshold,
        config.decision.require_human_approval_above_risk,
        config
            .rollout
            .stages
            .iter()
            .map(|s| format!("{} {}% {}h", s.name, s.traffic_percentage, s.duration_hours))
            .collect::<Vec<_>>()
            .join(" → ")
    );

    let host = WasmHost::new(HostConfig {
        cache_dir: Some(home.cache_dir()),
        ..HostConfig::default()
    })?;
    println!("\ninstalled:");
    for package in INSTALLED {
        let done = install(
            &store,
            &host,
            &package_path(&args.plugins, package)?,
            false,
            "demo",
            &clock,
            &policy,
        )?;
        println!("  {:<22} serves {}", done.id, done.activated.join(", "));
    }
    let catalog_dir = home.root().join("catalog");
    std::fs::create_dir_all(&catalog_dir)?;
    for package in CATALOG {
        std::fs::copy(
            package_path(&args.plugins, package)?,
            catalog_dir.join(format!("{package}.zip")),
        )?;
    }
    println!("catalog offers: {}", CATALOG.join(", "));

    let router = Arc::new(Router::new(PluginLoader::new(&home, host.clone())));
    router.refresh(&store)?;
    let writer = TelemetryWriter::start(&home, WriterConfig::default())?;
    let clock_arc: Arc<dyn Clock> = Arc::new(clock.clone());
    let dispatcher = Arc::new(
        Dispatcher::new(router.clone(), writer.sink(), clock_arc.clone()).with_sampling(
            Sampling::at_rate(
                config.telemetry.input_sample_rate,
                config.telemetry.input_samples_per_capability,
            ),
        ),
    );
    let sink = writer.sink();
    let llm = match config.decision.engine {
        selfup_core::config::DecisionEngine::RuleBased => None,
        _ => Some(Arc::new(
            selfup_llm::LlmClient::new(&config.decision.llm, store.clone(), clock_arc.clone())
                .map_err(|e| Exit::new(2, format!("decision.llm: {e}")))?,
        )),
    };
    let orchestrator = Arc::new(Orchestrator::new(LoopContext {
        store: store.clone(),
        config: config.clone(),
        clock: clock_arc.clone(),
        host,
        catalog: CatalogSource {
            directory: Some(catalog_dir),
            index_url: None,
        },
        http: reqwest::Client::new(),
        engine: crate::context::decision_engine(&config.decision, llm.clone()),
        llm: llm.clone(),
        on_routing_change: Some(reload_hook(router.clone(), store.clone())),
        step_pause: Duration::ZERO,
    }));
    // The simulated agent is a load generator: no per-client rate limit.
    let state = AppState {
        dispatcher,
        store: store.clone(),
        clock: clock_arc.clone(),
        limiter: None,
        lifecycle: Some(Arc::new(LoopApi {
            orchestrator: orchestrator.clone(),
        })),
        mcp_allowed_hosts: config.gateway.mcp_allowed_hosts.clone().into(),
    };
    // The agent reports events, which change state: it needs a token.
    let token = crate::commands::token::new_token()?;
    store.create_token("demo-agent", &token, clock.now_ms())?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_http(
        listener,
        state,
        Duration::from_millis(250),
        async {
            let _ = stop_rx.await;
        },
    ));
    println!("gateway on {base}; the simulated agent calls it over HTTP\n");

    println!("timeline:");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(workload::SESSIONS)
        .build()?;
    let mut tally = workload::Tally::default();
    let hours = args.days * 24;
    let mut timeline: Vec<Change> = Vec::new();
    for hour in 0..hours {
        // The agent's habits change: from day 2 on it also reads request ids.
        let phase = workload::Phase {
            hour,
            request_ids: hour >= 24,
            unit_convert_served: router.table().get("unit.convert").is_some(),
        };
        tally.add(workload::drive_hour(&client, &base, &token, args.calls_per_hour, phase).await?);
        sink.flush()?;
        clock.advance_hours(1.0);
        let changes = if hour % 24 == 23 {
            // A daily cycle (cycle.interval_minutes, shortened for the demo).
            orchestrator.cycle().await?
        } else {
            orchestrator.tick().await?
        };
        print_timeline(t0, &changes);
        timeline.extend(
            changes
                .into_iter()
                .filter(|c| !c.text.starts_with("waits:")),
        );
    }
    let _ = stop_tx.send(());
    server.await.context("the gateway task failed")??;
    writer.shutdown();

    println!(
        "\n{} calls answered over HTTP, {} failed, {} requests reported as unmet",
        tally.answered, tally.failed, tally.unmet
    );
    println!("\nupgrades:");
    let upgrades = store.upgrades(&UpgradeFilter::default())?;
    let mut table = Table::new(&["ID", "UPGRADE", "FOR", "OUTCOME"]);
    for u in &upgrades {
        table.row(vec![
            u.id.to_string(),
            format!(
                "{} {} → {}",
                u.plugin,
                u.from_version
                    .as_ref()
                    .map_or("(new)".to_owned(), |v| v.to_string()),
                u.to_version
            ),
            u.capability.clone(),
            match u.state.reason() {
                Some(reason) => format!("{}: {}", u.state.name(), truncate(reason, 90)),
                None => u.state.to_string(),
            },
        ]);
    }
    print!("{}", indent(&table.render()));
    if config.decision.engine != selfup_core::config::DecisionEngine::RuleBased {
        println!(
            "\nreasoning (the LLM's part of each decision; `selfup upgrades show ID` prints it too):"
        );
        for u in &upgrades {
            println!("  upgrade {}:", u.id);
            print!(
                "{}",
                indent(&crate::commands::lifecycle::render_decisions(
                    &store.decisions(u.id)?
                ))
            );
        }
    }
    println!(
        "\nevidence (per stage, candidate − incumbent; the gates decided with sequential tests):"
    );
    let mut experiments = Vec::new();
    for u in &upgrades {
        let report = analyse(&store, u, config.ab_testing.default_significance_level)?;
        println!("  upgrade {} {}:", u.id, report.title);
        for s in &report.stages {
            let arms: Vec<String> = s
                .arms
                .iter()
                .filter(|a| a.calls > 0)
                .map(|a| {
                    let mut text = format!(
                        "{} {} calls {:.1}% errors p50 {:.3} ms",
                        a.arm,
                        a.calls,
                        a.error_rate * 100.0,
                        a.latency_p50_ms.unwrap_or(0.0)
                    );
                    if let Some(m) = a.mismatch_rate {
                        text.push_str(&format!(" ({:.0}% of answers differ)", m * 100.0));
                    }
                    text
                })
                .collect();
            let error = s.metrics.iter().find(|m| m.metric == "error_rate");
            println!(
                "    stage {}: {}{}",
                s.stage,
                arms.join(", "),
                error.map_or(String::new(), |m| format!(
                    "; error rate {:+.4} [{}, {}]",
                    m.effect,
                    m.ci_low.map_or("-".into(), |v| format!("{v:+.4}")),
                    m.ci_high.map_or("-".into(), |v| format!("{v:+.4}"))
                ))
            );
        }
        experiments.push(report);
    }
    println!("\ntelemetry summary:");
    print!("{}", indent(&render(&store.telemetry_summary(0)?)));
    let unmet = store.agent_events(
        Some(selfup_core::telemetry::AgentEventType::UnmetRequest),
        0,
    )?;
    let mut by_intent: BTreeMap<String, usize> = BTreeMap::new();
    for event in unmet {
        *by_intent
            .entry(event.intent.unwrap_or_default())
            .or_default() += 1;
    }
    println!("\nunmet requests reported by the agent:");
    for (intent, count) in by_intent {
        println!("  {count:>5}  {intent}");
    }
    let report_path = report::report_path(args.report.as_deref(), args.keep_home.as_deref());
    report::write(
        report::ReportInput {
            store: &store,
            orchestrator: &orchestrator,
            started_ms: t0,
            ended_ms: clock.now_ms(),
            timeline: &timeline,
            experiments: &experiments,
            subtitle: format!(
                "{} simulated days, {} calls per hour; {} calls answered, {} failed, {} unmet requests",
                args.days, args.calls_per_hour, tally.answered, tally.failed, tally.unmet
            ),
        },
        &report_path,
    )
    .await
    .with_context(|| format!("cannot write the report to {}", report_path.display()))?;
    println!("\nreport: {}", report_path.display());
    println!(
        "\n{} simulated days in {:.1}s of real time; home {}",
        args.days,
        started.elapsed().as_secs_f64(),
        if args.keep_home.is_some() {
            root.display().to_string()
        } else {
            "(temporary, removed)".to_owned()
        }
    );
    Ok(())
}

/// The demo's configuration: the defaults, with a rule engine that
/// approves these upgrades on its own and a minimum sample the demo's
/// traffic reaches.
fn demo_config() -> selfup_core::config::LoopConfig {
    let mut config = Config::default().self_upgrading_loop;
    // The demo's agent has no source tree of its own to scan.
    config.discovery.pattern_recognition.code_paths = Vec::new();
    config.decision.auto_approve_threshold = 0.6;
    config.ab_testing.min_sample_size = 100;
    config
}

fn print_timeline(t0: i64, changes: &[Change]) {
    for c in changes {
        if c.text.starts_with("waits:") {
            continue;
        }
        let hours = (c.ts_ms - t0) as f64 / 3_600_000.0;
        let day = (hours / 24.0).floor() as i64 + 1;
        let clock = hours - (day - 1) as f64 * 24.0;
        let who = c.upgrade_id.map_or("   ".to_owned(), |id| format!("#{id}"));
        println!(
            "  day {day:>2} {:02}:00  {who}  {}",
            clock.round() as i64,
            c.text
        );
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

fn package_path(dir: &Path, package: &str) -> anyhow::Result<PathBuf> {
    let path = dir.join(format!("{package}.zip"));
    if path.is_file() {
        Ok(path)
    } else {
        Err(Exit::new(
            2,
            format!(
                "{} is missing; build the example plugins first with `cargo xtask plugins` (or pass --plugins DIR)",
                path.display()
            ),
        )
        .into())
    }
}

mod report;
mod workload;
