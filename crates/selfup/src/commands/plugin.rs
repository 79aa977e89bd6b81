//! `selfup plugin install|list|activate|remove|health|call`.

use std::sync::Arc;

use selfup_gateway::{Dispatcher, PluginLoader, Router};
use selfup_store::registry::Route;
use selfup_store::system_clock::SystemClock;
use selfup_store::telemetry::TelemetryWriter;
use semver::Version;
use serde_json::value::RawValue;

use crate::context::Context;
use crate::exit::Exit;
use crate::table::Table;
use selfup_loop::install::install as install_package;

/// Installs a package.
pub fn install(ctx: &Context, path: &std::path::Path, activate: bool) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    let host = ctx.wasm_host()?;
    let policy = ctx.install_policy()?;
    let done = install_package(&store, &host, path, activate, "cli", &SystemClock, &policy)
        .map_err(|e| Exit::new(if e.is_package_fault() { 2 } else { 1 }, e.to_string()))?;
    println!("installed {}", done.id);
    if !done.activated.is_empty() {
        println!("  active for: {}", done.activated.join(", "));
    }
    if !done.inactive.is_empty() {
        println!(
            "  not active for: {} (another version serves them; `selfup plugin activate {}` switches)",
            done.inactive.join(", "),
            done.id
        );
    }
    Ok(())
}

/// Lists installed plugins.
pub fn list(ctx: &Context, json: bool) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    let plugins = store.list_plugins()?;
    if json {
        let rows: Vec<serde_json::Value> = plugins
            .iter()
            .map(|p| {
                serde_json::json!({
                    "name": p.manifest.name,
                    "version": p.manifest.version.to_string(),
                    "active": !p.active_for.is_empty(),
                    "active_for": p.active_for,
                    "capabilities": p.manifest.provided_capabilities,
                    "status": p.status,
                    "runtime": p.manifest.runtime,
                    "description": p.manifest.description,
                    "installed_at_ms": p.installed_at_ms,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if plugins.is_empty() {
        println!("no plugins installed; install one with `selfup plugin install PACKAGE`");
        return Ok(());
    }
    let mut table = Table::new(&["NAME", "VERSION", "ACTIVE", "CAPABILITIES", "STATUS"]);
    for p in &plugins {
        let caps: Vec<String> = p
            .manifest
            .provided_capabilities
            .iter()
            .map(|c| c.to_string())
            .collect();
        let active = if p.active_for.is_empty() {
            "no".to_owned()
        } else if p.active_for.len() == caps.len() {
            "yes".to_owned()
        } else {
            format!("for {}", p.active_for.join(","))
        };
        table.row(vec![
            p.manifest.name.to_string(),
            p.manifest.version.to_string(),
            active,
            caps.join(","),
            p.status.clone(),
        ]);
    }
    print!("{}", table.render());
    Ok(())
}

/// Parses `NAME` or `NAME@VERSION`.
fn parse_plugin_ref(text: &str, need_version: bool) -> anyhow::Result<(String, Option<Version>)> {
    let (name, version) = match text.split_once('@') {
        Some((n, v)) => {
            let v = Version::parse(v).map_err(|e| {
                Exit::new(2, format!("{text:?}: the version {v:?} is not a semantic version ({e}); write NAME@MAJOR.MINOR.PATCH"))
            })?;
            (n.to_owned(), Some(v))
        }
        None if need_version => {
            return Err(Exit::new(
                2,
                format!("{text:?} names no version; write NAME@VERSION, e.g. text-summarize@2.0.0"),
            )
            .into());
        }
        None => (text.to_owned(), None),
    };
    Ok((name, version))
}

/// Activates an installed version.
pub fn activate(ctx: &Context, plugin: &str) -> anyhow::Result<()> {
    let (name, version) = parse_plugin_ref(plugin, true)?;
    let version = version.ok_or_else(|| Exit::new(2, "a version is required"))?;
    let store = ctx.open_store()?;
    let changed = store
        .activate_plugin(
            &name,
            &version,
            "cli",
            selfup_core::clock::Clock::now_ms(&SystemClock),
        )
        .map_err(|e| Exit::new(1, e.to_string()))?;
    if changed.is_empty() {
        println!("{name}@{version} was already active for all its capabilities");
    } else {
        println!("{name}@{version} is now active for: {}", changed.join(", "));
    }
    Ok(())
}

/// Removes a version or a whole plugin.
pub fn remove(ctx: &Context, plugin: &str) -> anyhow::Result<()> {
    let (name, version) = parse_plugin_ref(plugin, false)?;
    let store = ctx.open_store()?;
    let removed = store
        .remove_plugin(
            &name,
            version.as_ref(),
            "cli",
            selfup_core::clock::Clock::now_ms(&SystemClock),
        )
        .map_err(|e| Exit::new(1, e.to_string()))?;
    for v in removed {
        println!("removed {name}@{v}");
    }
    Ok(())
}

/// Asks each installed version (or those of `name`) for its health.
pub async fn health(ctx: &Context, name: Option<&str>, json: bool) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    let loader = PluginLoader::new(&ctx.home, ctx.wasm_host()?);
    let plugins: Vec<_> = store
        .list_plugins()?
        .into_iter()
        .filter(|p| name.is_none_or(|n| p.manifest.name.as_str() == n))
        .collect();
    if plugins.is_empty() {
        return Err(Exit::new(
            1,
            match name {
                Some(n) => format!("{n} is not installed; see `selfup plugin list`"),
                None => "no plugins installed".to_owned(),
            },
        )
        .into());
    }
    let mut reports = Vec::new();
    for p in &plugins {
        let route = Route {
            capability: String::new(),
            manifest: Arc::new(p.manifest.clone()),
            entry_hash: p.entry_hash.clone(),
        };
        let (healthy, details) = match loader.load(&route) {
            Ok(runner) => {
                let report = runner.health().await;
                runner.shutdown().await;
                (report.healthy, report.details)
            }
            Err(message) => (false, serde_json::json!({ "error": message })),
        };
        reports.push(serde_json::json!({
            "name": p.manifest.name,
            "version": p.manifest.version.to_string(),
            "active": !p.active_for.is_empty(),
            "healthy": healthy,
            "details": details,
        }));
    }
    let all_healthy = reports.iter().all(|r| r["healthy"] == true);
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        let mut table = Table::new(&["NAME", "VERSION", "ACTIVE", "HEALTHY", "DETAILS"]);
        for r in &reports {
            table.row(vec![
                r["name"].as_str().unwrap_or_default().to_owned(),
                r["version"].as_str().unwrap_or_default().to_owned(),
                if r["active"] == true { "yes" } else { "no" }.to_owned(),
                if r["healthy"] == true { "yes" } else { "NO" }.to_owned(),
                r["details"].to_string(),
            ]);
        }
        print!("{}", table.render());
    }
    if all_healthy {
        Ok(())
    } else {
        Err(Exit::new(1, "some plugins are not healthy").into())
    }
}

/// Calls a capability through the same path as the gateway, recording
/// telemetry, and prints the output JSON.
pub async fn call(
    ctx: &Context,
    capability: &str,
    input: &str,
    subject: &str,
) -> anyhow::Result<()> {
    let input: &RawValue = serde_json::from_str(input).map_err(|e| {
        Exit::new(2, format!("--input is not valid JSON ({e}); pass the request as JSON, e.g. --input '{{\"text\": \"...\"}}'"))
    })?;
    let store = ctx.open_store()?;
    let router = Arc::new(Router::new(PluginLoader::new(&ctx.home, ctx.wasm_host()?)));
    router.refresh(&store)?;
    let writer = TelemetryWriter::start(&ctx.home, ctx.writer_config())?;
    let dispatcher = Dispatcher::new(router.clone(), writer.sink(), Arc::new(SystemClock));
    let outcome = dispatcher.call(capability, subject, input.get()).await;
    router.shutdown().await;
    writer.shutdown();
    match outcome.output {
        Ok(output) => {
            println!("{}", output.get());
            Ok(())
        }
        Err(e) => Err(Exit::new(3, format!("{}: {}", e.kind, e.message)).into()),
    }
}
