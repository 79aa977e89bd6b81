//! `selfup service install|uninstall|start|stop|status`: selfup as a system
//! service running `selfup run` on one home, stopped the way Ctrl-C stops
//! `selfup run` (the current store transaction finishes, then the loop and
//! the gateway stop). On Linux a systemd unit ([`systemd`]); on Windows a
//! service of the service control manager ([`windows`], the service's own
//! side in [`windows_main`]), with its registry entries, data directories
//! and Event Log source. What the Windows service is made of — names,
//! command line, directories, keys — is [`windows_plan`], pure and tested
//! everywhere.

#[cfg(not(windows))]
mod systemd;
#[cfg(windows)]
pub mod windows;
#[cfg(windows)]
mod windows_main;
pub mod windows_plan;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::{GlobalArgs, ServiceArgs};
use crate::context::Context;
use crate::logging::ErrorSink;

/// Runs `selfup service …`. `home_given`: whether `--home` (or
/// `SELFUP_HOME`) named the home, rather than the default.
pub fn run(ctx: &Context, args: &ServiceArgs, home_given: bool) -> anyhow::Result<()> {
    #[cfg(windows)]
    {
        windows::run(ctx, args, home_given)
    }
    #[cfg(not(windows))]
    {
        let _ = home_given; // systemd runs on the home selfup was given or found
        systemd::run(ctx, args)
    }
}

/// `selfup service run`: runs selfup under the Windows service control
/// manager until it asks it to stop. Called before any async runtime
/// exists (the dispatcher owns the thread it is called on).
pub fn run_as_service(global: &GlobalArgs) -> ExitCode {
    #[cfg(windows)]
    {
        windows_main::run(global)
    }
    #[cfg(not(windows))]
    {
        let _ = global;
        eprintln!(
            "error: `selfup service run` is what the Windows service control manager starts; run `selfup run` instead"
        );
        ExitCode::from(2)
    }
}

/// Where the service's errors go besides its log file: on Windows the
/// Event Log under the service's source (the seed's name when the
/// configuration did not load); elsewhere nowhere else.
pub fn error_sink(ctx: Option<&Context>) -> Option<ErrorSink> {
    #[cfg(windows)]
    {
        let name = ctx.map_or_else(
            || selfup_core::config::WindowsServiceConfig::default().name,
            |ctx| ctx.config.windows.service.name.clone(),
        );
        windows_main::event_log_sink(&name)
    }
    #[cfg(not(windows))]
    {
        let _ = ctx;
        None
    }
}

/// selfup's arguments for a service on `home` (and `config`): the global
/// options, then `command`.
pub fn selfup_arguments(home: &Path, config: Option<&Path>, command: &[&str]) -> Vec<OsString> {
    let mut arguments = vec![OsString::from("--home"), home.as_os_str().to_owned()];
    if let Some(config) = config {
        arguments.push("--config".into());
        arguments.push(config.as_os_str().to_owned());
    }
    arguments.extend(command.iter().map(OsString::from));
    arguments
}

/// `path` made absolute against the current directory.
fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    Ok(if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir()?.join(path)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_arguments_name_the_home_the_config_and_the_command() {
        let args = selfup_arguments(
            Path::new("/srv/self up"),
            Some(Path::new("/etc/selfup.yaml")),
            &["service", "run"],
        );
        assert_eq!(
            args,
            [
                "--home",
                "/srv/self up",
                "--config",
                "/etc/selfup.yaml",
                "service",
                "run"
            ]
        );
        assert_eq!(
            selfup_arguments(Path::new("/h"), None, &["run"]),
            ["--home", "/h", "run"]
        );
    }
}
