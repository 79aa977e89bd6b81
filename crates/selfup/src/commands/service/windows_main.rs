//! The service's own side: `selfup service run`, started by the service
//! control manager, hands its thread to the service dispatcher, whose
//! service main runs exactly what `selfup run` runs
//! ([`crate::commands::serve::run_until`]). The service reports
//! StartPending until the gateway listens, then Running; a Stop (or
//! Shutdown, or Preshutdown) request from the manager, also while it
//! starts, stops it the way Ctrl-C stops
//! `selfup run` — the current store transaction finishes, then the loop
//! and the gateway stop — while it reports StopPending (60 s wait hint),
//! then Stopped with exit code 0, or a service-specific 1 when selfup
//! failed. Errors go to the log file and to the Application event log
//! under the service's source; the start and the stop are logged there too.

use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::sync::watch;
use windows_service::service::{
    ServiceControl, ServiceControlAccept, ServiceExitCode, ServiceState, ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{self, ServiceControlHandlerResult};
use windows_service::{define_windows_service, service_dispatcher};

use crate::cli::GlobalArgs;
use crate::context::Context;
use crate::logging::ErrorSink;
use crate::windows::event_log::{Event, EventLog};

/// What the service main needs; set before the dispatcher starts it.
static SERVICE: OnceLock<Context> = OnceLock::new();

/// How long the manager should wait while selfup starts (plugins compile
/// before the gateway listens).
const START_WAIT: Duration = Duration::from_secs(120);

/// How long the manager should wait while selfup stops.
const STOP_WAIT: Duration = Duration::from_secs(60);

define_windows_service!(ffi_service_main, service_main);

/// Forwards ERROR events to the Event Log under `name` (none when the
/// source cannot be opened: the log file still has them).
pub fn event_log_sink(name: &str) -> Option<ErrorSink> {
    let log = EventLog::open(name).ok()?;
    Some(Box::new(move |message| {
        let _ = log.report(Event::Error, message);
    }))
}

/// Runs the service dispatcher on this thread until the service stops.
pub fn run(global: &GlobalArgs) -> ExitCode {
    let ctx = match Context::load(global) {
        Ok(ctx) => ctx,
        Err(error) => {
            tracing::error!("the service cannot start: {error:#}");
            eprintln!("error: {error:#}");
            return ExitCode::from(2);
        }
    };
    let name = ctx.config.windows.service.name.clone();
    let _ = SERVICE.set(ctx);
    match service_dispatcher::start(&name, ffi_service_main) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!(
                "error: cannot reach the service control manager ({error}); `selfup service run` is \
                 started by Windows as the service {name}: run `selfup run` in a console, or \
                 `selfup service start`"
            );
            ExitCode::from(2)
        }
    }
}

fn status(state: ServiceState, exit_code: ServiceExitCode, wait_hint: Duration) -> ServiceStatus {
    ServiceStatus {
        service_type: ServiceType::OWN_PROCESS,
        current_state: state,
        // Stop is taken while starting too (it ends the start); preshutdown
        // gives more time than shutdown when Windows shuts down.
        controls_accepted: if matches!(state, ServiceState::StartPending | ServiceState::Running) {
            ServiceControlAccept::STOP
                | ServiceControlAccept::SHUTDOWN
                | ServiceControlAccept::PRESHUTDOWN
        } else {
            ServiceControlAccept::empty()
        },
        exit_code,
        checkpoint: u32::from(!wait_hint.is_zero()),
        wait_hint,
        process_id: None,
    }
}

fn service_main(_arguments: Vec<OsString>) {
    let Some(ctx) = SERVICE.get() else {
        return;
    };
    let name = ctx.config.windows.service.name.clone();
    let (stop_tx, mut stop_rx) = watch::channel(false);
    let stopping = stop_rx.clone();
    let handler = move |control| match control {
        ServiceControl::Stop | ServiceControl::Shutdown | ServiceControl::Preshutdown => {
            let _ = stop_tx.send(true);
            ServiceControlHandlerResult::NoError
        }
        ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
        _ => ServiceControlHandlerResult::NotImplemented,
    };
    let handle = match service_control_handler::register(&name, handler) {
        Ok(handle) => handle,
        Err(error) => {
            tracing::error!(%error, "cannot register the service's control handler");
            return;
        }
    };
    let report = move |state, code, wait| {
        if let Err(error) = handle.set_service_status(status(state, code, wait)) {
            tracing::error!(%error, ?state, "cannot report the service's state");
        }
    };
    report(
        ServiceState::StartPending,
        ServiceExitCode::NO_ERROR,
        START_WAIT,
    );
    let events = EventLog::open(&name).ok();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| {
            let stop = async move {
                let _ = stop_rx.wait_for(|stop| *stop).await;
                tracing::info!(
                    "stop requested by the service control manager: finishing the current store \
                     transaction, then stopping the loop and the gateway"
                );
                report(
                    ServiceState::StopPending,
                    ServiceExitCode::NO_ERROR,
                    STOP_WAIT,
                );
            };
            let ready = || {
                if *stopping.borrow() {
                    return; // asked to stop while starting: StopPending stands
                }
                tracing::info!("the service {name} is running");
                if let Some(events) = &events {
                    let _ = events.report(Event::Started, &format!("{name} started"));
                }
                report(
                    ServiceState::Running,
                    ServiceExitCode::NO_ERROR,
                    Duration::ZERO,
                );
            };
            runtime.block_on(crate::commands::serve::run_until(
                ctx, None, false, stop, ready,
            ))
        });
    let code = match result {
        Ok(()) => {
            tracing::info!("the service {name} stopped cleanly");
            if let Some(events) = &events {
                let _ = events.report(Event::Stopped, &format!("{name} stopped"));
            }
            ServiceExitCode::NO_ERROR
        }
        Err(error) => {
            tracing::error!("the service {name} stopped with an error: {error:#}");
            ServiceExitCode::ServiceSpecific(1)
        }
    };
    report(ServiceState::Stopped, code, Duration::ZERO);
}
