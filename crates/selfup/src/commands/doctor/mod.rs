//! `selfup doctor`: checks what the troubleshooting table covers — the
//! service, the store, the plugins, recent rollbacks and failures, disk
//! space, logs — and says what to do about each problem. Exit code: 0 all
//! well, 1 warnings only, 2 at least one failure.

mod check;
mod disk;
mod exposure;
mod history;
mod logs;
mod plugins;
mod service;
mod size;
mod store;

use std::net::SocketAddr;

use selfup_core::clock::Clock;
use selfup_core::config::Config;
use selfup_store::system_clock::SystemClock;
use selfup_store::{Home, Store};

use crate::cli::{DoctorArgs, GlobalArgs};
use crate::context::{Context, default_home};
use crate::exit::Exit;
use check::{Check, Status};

/// Runs every check and prints them (a table, or JSON with `--json`).
pub async fn run(global: &GlobalArgs, args: &DoctorArgs) -> anyhow::Result<()> {
    let mut checks = Vec::new();
    let (home, config) = match Context::load(global) {
        Ok(ctx) => {
            checks.push(Check::ok(
                "config",
                match &ctx.config_source {
                    Some(path) => format!("{} is valid", path.display()),
                    None => "no configuration file: the built-in defaults apply".to_owned(),
                },
            ));
            (ctx.home, ctx.config)
        }
        Err(e) => {
            checks.push(Check::fail(
                "config",
                first_line(&e),
                "fix the file: `selfup config check FILE` names each error's line and key; the other checks below use the defaults",
            ));
            let home = Home::new(global.home.clone().unwrap_or_else(default_home));
            (home, Config::default())
        }
    };
    checks.extend(checks_of(&home, &config).await);
    let worst = checks.iter().map(|c| c.status).max().unwrap_or(Status::Ok);
    if args.json {
        let doc = serde_json::json!({
            "home": home.root(),
            "status": worst.as_str(),
            "checks": checks,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print_table(&home, &checks, worst);
    }
    match worst {
        Status::Ok => Ok(()),
        status => Err(Exit::new(status.exit_code(), summary(&checks)).into()),
    }
}

/// The checks after the configuration's.
async fn checks_of(home: &Home, config: &Config) -> Vec<Check> {
    let bind: SocketAddr = config.self_upgrading_loop.gateway.bind;
    let mut checks = vec![service::gateway(bind).await];
    checks.extend(exposure::check(&config.self_upgrading_loop.gateway));
    checks.extend(service::systemd());
    #[cfg(windows)]
    checks.extend(service::windows_service(&config.windows.service.name));
    let (store_checks, readable) = store::check(home);
    checks.extend(store_checks);
    if readable {
        let home = home.clone();
        let now_ms = SystemClock.now_ms();
        let read = tokio::task::spawn_blocking(move || reads(&home, now_ms)).await;
        match read {
            Ok(Ok(found)) => checks.extend(found),
            Ok(Err(e)) => checks.push(Check::fail(
                "store.read",
                format!("the store opened but cannot be read: {e}"),
                "run `selfup doctor` again with the service stopped; if it persists, restore the database from a backup",
            )),
            Err(e) => checks.push(Check::fail(
                "store.read",
                format!("the store checks stopped: {e}"),
                "report this as a bug, with the output of `SELFUP_LOG=debug selfup doctor`",
            )),
        }
    }
    checks.push(disk::check(home.root()));
    checks.push(logs::check(home));
    checks
}

/// The checks that read the store (only once it is known to be current
/// and intact, so opening it migrates nothing).
fn reads(home: &Home, now_ms: i64) -> Result<Vec<Check>, selfup_store::StoreError> {
    let store = Store::open(home)?;
    let mut checks = vec![
        plugins::artifacts(&store)?,
        plugins::error_rates(&store, now_ms)?,
    ];
    checks.extend(history::check(&store, now_ms)?);
    Ok(checks)
}

fn first_line(e: &anyhow::Error) -> String {
    let text = match e.downcast_ref::<Exit>() {
        Some(exit) => exit.message.clone(),
        None => format!("{e:#}"),
    };
    text.lines().next().unwrap_or_default().to_owned()
}

fn summary(checks: &[Check]) -> String {
    let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
    let (warn, fail) = (count(Status::Warn), count(Status::Fail));
    format!(
        "doctor found {} and {}",
        crate::format::count(fail, "failure"),
        crate::format::count(warn, "warning")
    )
}

fn print_table(home: &Home, checks: &[Check], worst: Status) {
    println!("selfup doctor: home {}", home.root().display());
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for c in checks {
        println!(
            "{:<4}  {:<width$}  {}",
            c.status.as_str(),
            c.name,
            c.finding
        );
        if let Some(action) = &c.action {
            println!("      {:<width$}  → {action}", "");
        }
    }
    let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
    println!(
        "{}: {} ok, {} warning(s), {} failure(s)",
        worst.as_str(),
        count(Status::Ok),
        count(Status::Warn),
        count(Status::Fail)
    );
}
