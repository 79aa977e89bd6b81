//! `selfup service` on Windows: the service control manager's service
//! running `selfup service run` (see [`super::windows_main`]) as
//! LocalSystem, with its data directories (permissions for LocalSystem and
//! the Administrators only), its Event Log source and its registry
//! entries. `install` sets all of that up (and updates an existing
//! installation), `uninstall` removes it and keeps the data.

use std::ffi::OsStr;
use std::path::Path;
use std::time::{Duration, Instant};

use selfup_core::config::StartType;
use selfup_store::Home;
use windows_service::service::{
    ServiceAccess, ServiceAction, ServiceActionType, ServiceErrorControl, ServiceExitCode,
    ServiceFailureActions, ServiceFailureResetPeriod, ServiceInfo, ServiceStartType, ServiceState,
    ServiceStatus, ServiceType,
};
use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};

use super::absolute;
use super::windows_plan::ServicePlan;
use crate::cli::{ServiceArgs, ServiceCommand};
use crate::context::Context;
use crate::exit::Exit;
use crate::windows::registry::Installation;
use crate::windows::{acl, event_log};

/// How long `start` waits for the service to run (it compiles its plugins
/// before the gateway listens).
const START_TIMEOUT: Duration = Duration::from_secs(180);

/// How long `stop` waits (the service asks for 60 s to finish its
/// transaction and stop the loop and the gateway).
const STOP_TIMEOUT: Duration = Duration::from_secs(90);

/// `ERROR_SERVICE_DOES_NOT_EXIST`.
const NO_SUCH_SERVICE: i32 = 1060;

/// `ERROR_ACCESS_DENIED`.
const ACCESS_DENIED: i32 = 5;

/// Runs `selfup service …` against the service control manager.
pub fn run(ctx: &Context, args: &ServiceArgs, home_given: bool) -> anyhow::Result<()> {
    let name = &ctx.config.windows.service.name;
    match &args.command {
        ServiceCommand::Install {
            print,
            unit_dir,
            no_enable,
            no_start,
        } => {
            if unit_dir.is_some() || *no_enable {
                return Err(Exit::new(
                    2,
                    "--unit-dir and --no-enable are for systemd; on Windows use --no-start",
                )
                .into());
            }
            let home = home_given.then(|| absolute(ctx.home.root())).transpose()?;
            let config = ctx.config_source.as_deref().map(absolute).transpose()?;
            let plan = ServicePlan::new(
                &ctx.config,
                &std::env::current_exe()?,
                home.as_deref(),
                config.as_deref(),
            );
            if *print {
                print!("{}", plan.describe());
                return Ok(());
            }
            install(&plan, *no_start)
        }
        ServiceCommand::Uninstall { unit_dir } => {
            if unit_dir.is_some() {
                return Err(Exit::new(2, "--unit-dir is for systemd").into());
            }
            uninstall(name)
        }
        ServiceCommand::Start => start(name),
        ServiceCommand::Stop => stop(name),
        ServiceCommand::Status => status(name),
        ServiceCommand::Run => Err(Exit::new(2, "`selfup service run` starts before this").into()),
    }
}

/// A Windows error as an [`Exit`] that says what to do.
fn scm_error(doing: &str, error: windows_service::Error) -> anyhow::Error {
    let os = match &error {
        windows_service::Error::Winapi(e) => e.raw_os_error(),
        _ => None,
    };
    let hint = match os {
        Some(ACCESS_DENIED) => " (run as Administrator: an elevated PowerShell or command prompt)",
        _ => "",
    };
    Exit::new(1, format!("cannot {doing}: {}{hint}", describe(&error))).into()
}

fn describe(error: &windows_service::Error) -> String {
    match error {
        windows_service::Error::Winapi(e) => e.to_string(),
        other => other.to_string(),
    }
}

fn is_missing(error: &windows_service::Error) -> bool {
    matches!(error, windows_service::Error::Winapi(e) if e.raw_os_error() == Some(NO_SUCH_SERVICE))
}

fn manager(access: ServiceManagerAccess) -> anyhow::Result<ServiceManager> {
    ServiceManager::local_computer(None::<&str>, access)
        .map_err(|e| scm_error("connect to the service control manager", e))
}

/// The data directories: the base first, restricted to LocalSystem and the
/// Administrators, then the store's layout and `windows.paths` under it
/// (inheriting that), and any configured directory outside it restricted
/// the same way.
fn create_directories(plan: &ServicePlan) -> anyhow::Result<()> {
    let base = &plan.layout.base;
    let fail = |path: &Path, e: std::io::Error| {
        Exit::new(
            1,
            format!(
                "cannot prepare {}: {e} (run as Administrator; windows.paths in the configuration says where)",
                path.display()
            ),
        )
    };
    std::fs::create_dir_all(base).map_err(|e| fail(base, e))?;
    acl::restrict_to_system_and_administrators(base).map_err(|e| fail(base, e))?;
    Home::new(base.clone()).create()?;
    for (_, dir) in plan.layout.directories() {
        std::fs::create_dir_all(dir).map_err(|e| fail(dir, e))?;
        if !dir.starts_with(base) {
            acl::restrict_to_system_and_administrators(dir).map_err(|e| fail(dir, e))?;
        }
    }
    Ok(())
}

fn service_info(plan: &ServicePlan) -> ServiceInfo {
    ServiceInfo {
        name: plan.name.clone().into(),
        display_name: plan.display_name.clone().into(),
        service_type: ServiceType::OWN_PROCESS,
        start_type: match plan.start_type {
            StartType::Auto => ServiceStartType::AutoStart,
            StartType::Manual => ServiceStartType::OnDemand,
            StartType::Disabled => ServiceStartType::Disabled,
        },
        error_control: ServiceErrorControl::Normal,
        executable_path: plan.executable.clone(),
        launch_arguments: plan.arguments.clone(),
        dependencies: vec![],
        account_name: None, // LocalSystem
        account_password: None,
    }
}

/// Registers (or updates) the service and everything around it, and starts
/// it when its start type is automatic.
fn install(plan: &ServicePlan, no_start: bool) -> anyhow::Result<()> {
    let manager = manager(ServiceManagerAccess::CONNECT | ServiceManagerAccess::CREATE_SERVICE)?;
    create_directories(plan)?;
    println!(
        "prepared {} (LocalSystem and Administrators only)",
        plan.layout.base.display()
    );
    event_log::register_source(&plan.name)?;
    let info = service_info(plan);
    let access = ServiceAccess::QUERY_STATUS
        | ServiceAccess::START
        | ServiceAccess::CHANGE_CONFIG
        | ServiceAccess::QUERY_CONFIG;
    let service = match manager.open_service(&plan.name, access) {
        Ok(service) => {
            service
                .change_config(&info)
                .map_err(|e| scm_error(&format!("update the service {}", plan.name), e))?;
            println!("updated the service {}", plan.name);
            service
        }
        Err(e) if is_missing(&e) => {
            let service = manager
                .create_service(&info, access)
                .map_err(|e| scm_error(&format!("create the service {}", plan.name), e))?;
            println!(
                "registered the service {} ({})",
                plan.name, plan.display_name
            );
            service
        }
        Err(e) => return Err(scm_error(&format!("open the service {}", plan.name), e)),
    };
    service
        .set_description(&plan.description)
        .map_err(|e| scm_error("set the service's description", e))?;
    restart_on_failure(&service);
    plan.installation(env!("CARGO_PKG_VERSION"), Installation::now())
        .write(windows_registry::LOCAL_MACHINE, &plan.registry_key)?;
    println!("wrote HKEY_LOCAL_MACHINE\\{}", plan.registry_key);
    if plan.start_type == StartType::Auto && !no_start {
        start_service(&service, &plan.name)?;
    } else {
        println!("start it with `selfup service start`");
    }
    Ok(())
}

/// Restart after 5, 30 and 60 s when the service fails (systemd's
/// `Restart=on-failure`), also when it stops with an error rather than
/// crashing. Not every service control manager keeps failure actions (Wine
/// does not); the service runs without them.
fn restart_on_failure(service: &windows_service::service::Service) {
    let restart = |secs| ServiceAction {
        action_type: ServiceActionType::Restart,
        delay: Duration::from_secs(secs),
    };
    let actions = ServiceFailureActions {
        reset_period: ServiceFailureResetPeriod::After(Duration::from_secs(24 * 60 * 60)),
        reboot_msg: None,
        command: None,
        actions: Some(vec![restart(5), restart(30), restart(60)]),
    };
    let set = service
        .update_failure_actions(actions)
        .and_then(|()| service.set_failure_actions_on_non_crash_failures(true));
    if let Err(e) = set {
        println!(
            "warning: the service control manager did not take the restart-on-failure actions ({}); the service will not restart by itself after a failure",
            describe(&e)
        );
    }
}

fn wait_for(
    service: &windows_service::service::Service,
    timeout: Duration,
    done: impl Fn(&ServiceStatus) -> bool,
) -> anyhow::Result<ServiceStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        let status = service
            .query_status()
            .map_err(|e| scm_error("query the service's status", e))?;
        if done(&status) || Instant::now() >= deadline {
            return Ok(status);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn exit_code(status: &ServiceStatus) -> String {
    match status.exit_code {
        ServiceExitCode::Win32(0) => "exit code 0".to_owned(),
        ServiceExitCode::Win32(1077) => "not started since boot".to_owned(),
        ServiceExitCode::Win32(code) => format!("Windows error {code}"),
        ServiceExitCode::ServiceSpecific(code) => format!("selfup exit code {code}"),
    }
}

fn start_service(service: &windows_service::service::Service, name: &str) -> anyhow::Result<()> {
    let before = service
        .query_status()
        .map_err(|e| scm_error("query the service's status", e))?;
    if before.current_state == ServiceState::Running {
        println!("{name} is already running");
        return Ok(());
    }
    service
        .start::<&OsStr>(&[])
        .map_err(|e| scm_error(&format!("start the service {name}"), e))?;
    let status = wait_for(service, START_TIMEOUT, |s| {
        matches!(
            s.current_state,
            ServiceState::Running | ServiceState::Stopped
        )
    })?;
    match status.current_state {
        ServiceState::Running => {
            println!("started {name}");
            Ok(())
        }
        ServiceState::Stopped => Err(Exit::new(
            1,
            format!(
                "{name} stopped while starting ({}); see its log file and the Application event log (source {name}), or run `selfup doctor`",
                exit_code(&status)
            ),
        )
        .into()),
        other => Err(Exit::new(
            1,
            format!(
                "{name} is still {other:?} after {} s; see its log file, or `selfup service status` later",
                START_TIMEOUT.as_secs()
            ),
        )
        .into()),
    }
}

fn open(name: &str, access: ServiceAccess) -> anyhow::Result<windows_service::service::Service> {
    manager(ServiceManagerAccess::CONNECT)?
        .open_service(name, access)
        .map_err(|e| {
            if is_missing(&e) {
                Exit::new(
                    1,
                    format!("the service {name} is not installed (`selfup service install`)"),
                )
                .into()
            } else {
                scm_error(&format!("open the service {name}"), e)
            }
        })
}

fn start(name: &str) -> anyhow::Result<()> {
    let service = open(name, ServiceAccess::QUERY_STATUS | ServiceAccess::START)?;
    start_service(&service, name)
}

fn stop_service(service: &windows_service::service::Service, name: &str) -> anyhow::Result<()> {
    let mut status = service
        .query_status()
        .map_err(|e| scm_error("query the service's status", e))?;
    if status.current_state == ServiceState::StartPending && status.controls_accepted.is_empty() {
        // A starting service that takes no stop yet: stop it once it runs.
        status = wait_for(service, START_TIMEOUT, |s| {
            s.current_state != ServiceState::StartPending || !s.controls_accepted.is_empty()
        })?;
    }
    if status.current_state == ServiceState::Stopped {
        println!("{name} is not running");
        return Ok(());
    }
    if status.current_state != ServiceState::StopPending {
        service
            .stop()
            .map_err(|e| scm_error(&format!("stop the service {name}"), e))?;
    }
    let status = wait_for(service, STOP_TIMEOUT, |s| {
        s.current_state == ServiceState::Stopped
    })?;
    if status.current_state != ServiceState::Stopped {
        return Err(Exit::new(
            1,
            format!(
                "{name} is still {:?} after {} s; see its log file",
                status.current_state,
                STOP_TIMEOUT.as_secs()
            ),
        )
        .into());
    }
    println!("stopped {name} ({})", exit_code(&status));
    Ok(())
}

fn stop(name: &str) -> anyhow::Result<()> {
    let service = open(name, ServiceAccess::QUERY_STATUS | ServiceAccess::STOP)?;
    stop_service(&service, name)
}

/// The state of the service `name` for `selfup doctor`: `None` when it is
/// not installed; the state and, when stopped, how it last ended.
pub fn state(name: &str) -> Result<Option<(ServiceState, String)>, String> {
    let manager = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)
        .map_err(|e| describe(&e))?;
    let service = match manager.open_service(name, ServiceAccess::QUERY_STATUS) {
        Ok(service) => service,
        Err(e) if is_missing(&e) => return Ok(None),
        Err(e) => return Err(describe(&e)),
    };
    let status = service.query_status().map_err(|e| describe(&e))?;
    Ok(Some((status.current_state, exit_code(&status))))
}

fn status(name: &str) -> anyhow::Result<()> {
    let service = open(name, ServiceAccess::QUERY_STATUS)?;
    let status = service
        .query_status()
        .map_err(|e| scm_error("query the service's status", e))?;
    match (status.current_state, status.process_id) {
        (ServiceState::Running, Some(pid)) => println!("{name}: running (pid {pid})"),
        (ServiceState::Stopped, _) => println!("{name}: stopped ({})", exit_code(&status)),
        (state, _) => println!("{name}: {state:?}"),
    }
    let key = crate::windows::registry::installation_key(name);
    match Installation::read(windows_registry::LOCAL_MACHINE, &key) {
        Ok(Some(i)) => {
            println!(
                "installed    {} on {} in {}",
                i.version,
                i.install_date,
                i.install_path.display()
            );
            let permissions = acl::dacl_sddl(&i.data_path)
                .unwrap_or_else(|e| format!("cannot read its permissions: {e}"));
            println!("data         {} ({permissions})", i.data_path.display());
            if let Some(file) = &i.config_file {
                println!("config       {}", file.display());
            }
        }
        Ok(None) => println!("no registry entries in HKEY_LOCAL_MACHINE\\{key}"),
        Err(e) => println!("{e}"),
    }
    if status.current_state != ServiceState::Running {
        return Err(Exit::new(1, format!("{name} is not running")).into());
    }
    Ok(())
}

/// Stops and removes the service, its Event Log source and its registry
/// entries; the data directory stays.
fn uninstall(name: &str) -> anyhow::Result<()> {
    let key = crate::windows::registry::installation_key(name);
    let installation = Installation::read(windows_registry::LOCAL_MACHINE, &key)?;
    let manager = manager(ServiceManagerAccess::CONNECT)?;
    let access = ServiceAccess::QUERY_STATUS | ServiceAccess::STOP | ServiceAccess::DELETE;
    match manager.open_service(name, access) {
        Ok(service) => {
            stop_service(&service, name)?;
            service
                .delete()
                .map_err(|e| scm_error(&format!("remove the service {name}"), e))?;
            println!("removed the service {name}");
        }
        Err(e) if is_missing(&e) => println!("the service {name} is not installed"),
        Err(e) => return Err(scm_error(&format!("open the service {name}"), e)),
    }
    if event_log::remove_source(name)? {
        println!("removed the event source {name}");
    }
    if Installation::remove(windows_registry::LOCAL_MACHINE, &key)? {
        println!("removed HKEY_LOCAL_MACHINE\\{key}");
    }
    match installation {
        Some(i) => println!("the data in {} is kept", i.data_path.display()),
        None => println!("the home and its data are kept"),
    }
    Ok(())
}
