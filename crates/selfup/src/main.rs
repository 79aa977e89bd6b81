//! The `selfup` command.

mod api;
mod cli;
mod closed_pipe;
mod commands;
mod context;
mod dashboard;
mod demo;
mod exit;
mod format;
mod logging;
mod progress;
mod table;
mod windows;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{
    Cli, Command, ConfigCommand, PatternsCommand, PluginCommand, ServiceArgs, ServiceCommand,
    TelemetryCommand,
};
use crate::context::Context;
use crate::exit::Exit;

fn main() -> ExitCode {
    closed_pipe::exit_quietly_on_closed_stdout();
    let cli = Cli::parse();
    init_tracing(&cli);
    if is_service_run(&cli.command) {
        // The service dispatcher owns this thread and builds its own runtime.
        return commands::service::run_as_service(&cli.global);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if let Some(exit) = error.downcast_ref::<Exit>() {
                eprintln!("error: {}", exit.message);
                ExitCode::from(exit.code)
            } else {
                eprintln!("error: {error:#}");
                ExitCode::from(1)
            }
        }
    }
}

/// `selfup service run`: what the Windows service control manager starts.
fn is_service_run(command: &Command) -> bool {
    matches!(
        command,
        Command::Service(ServiceArgs {
            command: ServiceCommand::Run
        })
    )
}

fn init_tracing(cli: &Cli) {
    // One-shot commands report their outcome themselves; the long-running
    // ones log (rmcp logs every MCP request at info) to stderr and to the
    // configured log file, and the Windows service its errors to the Event
    // Log too.
    let service = is_service_run(&cli.command);
    match &cli.command {
        Command::Serve(_) | Command::Run(_) => {
            // A configuration that does not load is reported by `run`.
            let file = Context::load(&cli.global).ok().map(|ctx| {
                logging::FileLog::from_config(
                    &ctx.config.self_upgrading_loop.logging,
                    ctx.home.root(),
                )
            });
            logging::init("info,rmcp=warn", file, None);
        }
        _ if service => {
            let ctx = Context::load(&cli.global).ok();
            let file = ctx.as_ref().map(|ctx| {
                logging::FileLog::from_config(
                    &ctx.config.self_upgrading_loop.logging,
                    ctx.home.root(),
                )
            });
            let errors = commands::service::error_sink(ctx.as_ref());
            logging::init("info,rmcp=warn", file, errors);
        }
        _ => logging::init("error", None, None),
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Config(ConfigCommand::Check { file }) = &cli.command {
        return commands::config::check(file);
    }
    if let Command::Demo(args) = &cli.command {
        return demo::run(args).await;
    }
    if let Command::Doctor(args) = &cli.command {
        return commands::doctor::run(&cli.global, args).await;
    }
    if let Command::Stats(command) = &cli.command {
        return commands::stats::run(command);
    }
    if let Command::Keygen(args) = &cli.command {
        return commands::signing::keygen(args);
    }
    if let Command::Plugin(PluginCommand::Sign {
        package,
        key,
        password_env,
        out,
    }) = &cli.command
    {
        return commands::signing::sign(package, key, password_env.as_deref(), out.as_ref());
    }
    let ctx = Context::load(&cli.global)?;
    match cli.command {
        Command::Config(ConfigCommand::Show) => commands::config::show(&ctx),
        Command::Config(ConfigCommand::Check { .. })
        | Command::Demo(_)
        | Command::Doctor(_)
        | Command::Stats(_)
        | Command::Keygen(_)
        | Command::Plugin(PluginCommand::Sign { .. }) => Ok(()),
        Command::Plugin(PluginCommand::Verify { package, key }) => {
            commands::signing::verify(&ctx, &package, &key)
        }
        Command::Plugin(PluginCommand::Scan { path, json }) => {
            commands::signing::scan(&ctx, &path, json)
        }
        Command::Plugin(PluginCommand::Install { path, activate }) => {
            commands::plugin::install(&ctx, &path, activate)
        }
        Command::Plugin(PluginCommand::List { json }) => commands::plugin::list(&ctx, json),
        Command::Plugin(PluginCommand::Activate { plugin }) => {
            commands::plugin::activate(&ctx, &plugin)
        }
        Command::Plugin(PluginCommand::Remove { plugin }) => {
            commands::plugin::remove(&ctx, &plugin)
        }
        Command::Plugin(PluginCommand::Health { name, json }) => {
            commands::plugin::health(&ctx, name.as_deref(), json).await
        }
        Command::Plugin(PluginCommand::Call {
            capability,
            input,
            subject,
        }) => commands::plugin::call(&ctx, &capability, &input, &subject).await,
        Command::Serve(args) => commands::serve::serve(&ctx, args.bind).await,
        Command::Mcp => commands::mcp::run(&ctx).await,
        Command::Run(args) => commands::serve::run(&ctx, args.bind, args.loop_only).await,
        Command::Cycle => commands::lifecycle::cycle(&ctx).await,
        Command::Token(command) => commands::token::run(&ctx, &command),
        Command::Patterns(PatternsCommand::Scan(args)) => commands::patterns_scan::run(&ctx, &args),
        Command::Patterns(PatternsCommand::Analyze { limit, json }) => {
            commands::discovery::analyze(&ctx, limit, json).await
        }
        Command::Patterns(command) => commands::discovery::patterns(&ctx, &command),
        Command::Gaps(args) => commands::discovery::gaps(&ctx, &args).await,
        Command::Specs(command) => commands::specs::run(&ctx, &command),
        Command::Notifications(args) => commands::specs::notifications(&ctx, &args),
        Command::Service(args) => commands::service::run(&ctx, &args, cli.global.home.is_some()),
        Command::Catalog(command) => commands::lifecycle::catalog(&ctx, &command).await,
        Command::Upgrades(command) => commands::lifecycle::upgrades(&ctx, &command).await,
        Command::Rollback(args) => commands::lifecycle::rollback(&ctx, &args).await,
        Command::Experiments(command) => commands::lifecycle::experiments(&ctx, &command),
        Command::Telemetry(TelemetryCommand::Summary {
            json,
            since_minutes,
        }) => commands::telemetry::summary(&ctx, json, since_minutes),
    }
}
