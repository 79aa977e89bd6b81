//! What `selfup service install` sets up on Windows, worked out from the
//! configuration before anything is touched (and printed by `install
//! --print`): the service's names and start type (`windows.service`), the
//! command line the service control manager runs (`selfup.exe --home
//! BASE [--config FILE] service run`), the data directories
//! (`windows.paths`), the registry key of the installation and the key of
//! its Event Log source.

// Elsewhere only the tests use it.
#![cfg_attr(not(windows), allow(dead_code))]

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use selfup_core::config::{Config, StartType};

use super::selfup_arguments;
use crate::windows::event_log;
use crate::windows::layout::DataLayout;
use crate::windows::registry::{self, Installation};

/// The Windows service `selfup service install` sets up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePlan {
    /// `windows.service.name`.
    pub name: String,
    /// `windows.service.display_name`.
    pub display_name: String,
    /// `windows.service.description`.
    pub description: String,
    /// `windows.service.start_type`.
    pub start_type: StartType,
    /// selfup.exe.
    pub executable: PathBuf,
    /// The arguments the service control manager starts it with.
    pub arguments: Vec<OsString>,
    /// The data directories; `layout.base` is the service's home.
    pub layout: DataLayout,
    /// The configuration file the service runs with, if any.
    pub config_file: Option<PathBuf>,
    /// The installation's key under `HKEY_LOCAL_MACHINE`.
    pub registry_key: String,
    /// The Event Log source's key under `HKEY_LOCAL_MACHINE`.
    pub event_source_key: String,
}

impl ServicePlan {
    /// The plan for `config`, running `executable` on `home` (default:
    /// `windows.paths.base`) with `config_file`.
    pub fn new(
        config: &Config,
        executable: &Path,
        home: Option<&Path>,
        config_file: Option<&Path>,
    ) -> Self {
        let service = &config.windows.service;
        let layout = DataLayout::from_config(&config.windows.paths, home);
        Self {
            name: service.name.clone(),
            display_name: service.display_name.clone(),
            description: service.description.clone(),
            start_type: service.start_type,
            executable: executable.to_owned(),
            arguments: selfup_arguments(&layout.base, config_file, &["service", "run"]),
            config_file: config_file.map(Path::to_owned),
            registry_key: registry::installation_key(&service.name),
            event_source_key: event_log::source_key(&service.name),
            layout,
        }
    }

    /// The directory selfup.exe is in (the registry's `InstallPath`).
    pub fn install_path(&self) -> PathBuf {
        self.executable
            .parent()
            .map_or_else(PathBuf::new, Path::to_owned)
    }

    /// The registry entries of this installation.
    pub fn installation(&self, version: &str, install_date: String) -> Installation {
        Installation {
            install_path: self.install_path(),
            version: version.to_owned(),
            install_date,
            data_path: self.layout.base.clone(),
            config_file: self.config_file.clone(),
            service_name: self.name.clone(),
        }
    }

    /// The command line as the services console shows it (arguments with
    /// spaces or quotes quoted the way Windows parses them).
    pub fn command_line(&self) -> String {
        std::iter::once(self.executable.as_os_str())
            .chain(self.arguments.iter().map(OsString::as_os_str))
            .map(|a| quote_argument(&a.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// What `install --print` prints.
    pub fn describe(&self) -> String {
        let start = match self.start_type {
            StartType::Auto => "automatic (started now and at boot)",
            StartType::Manual => "manual (`selfup service start`)",
            StartType::Disabled => "disabled",
        };
        let mut text = String::new();
        let _ = writeln!(text, "service       {}", self.name);
        let _ = writeln!(text, "display name  {}", self.display_name);
        let _ = writeln!(text, "description   {}", self.description);
        let _ = writeln!(text, "start type    {start}");
        let _ = writeln!(text, "account       LocalSystem");
        let _ = writeln!(text, "command line  {}", self.command_line());
        for (name, path) in self.layout.directories() {
            let _ = writeln!(text, "{:<13} {}", format!("{name} dir"), path.display());
        }
        let _ = writeln!(
            text,
            "registry      HKEY_LOCAL_MACHINE\\{}",
            self.registry_key
        );
        let _ = writeln!(
            text,
            "event source  HKEY_LOCAL_MACHINE\\{}",
            self.event_source_key
        );
        text
    }
}

/// One argument quoted as Windows' command-line parser (CommandLineToArgvW
/// and the C runtime) reads it back.
pub fn quote_argument(argument: &str) -> String {
    if !argument.is_empty() && !argument.contains([' ', '\t', '\n', '"']) {
        return argument.to_owned();
    }
    let mut quoted = String::from("\"");
    let mut backslashes = 0;
    for c in argument.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                quoted.push_str(&"\\".repeat(backslashes * 2 + 1));
                quoted.push('"');
                backslashes = 0;
            }
            _ => {
                quoted.push_str(&"\\".repeat(backslashes));
                quoted.push(c);
                backslashes = 0;
            }
        }
    }
    quoted.push_str(&"\\".repeat(backslashes * 2));
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_service_runs_selfup_on_program_data() {
        let plan = ServicePlan::new(
            &Config::default(),
            Path::new(r"C:\Program Files\OpenClaw\SelfUpgradingLoop\selfup.exe"),
            None,
            Some(Path::new(
                r"C:\Program Files\OpenClaw\SelfUpgradingLoop\config.yaml",
            )),
        );
        assert_eq!(plan.name, "OpenClawSelfUpgradingLoop");
        assert_eq!(plan.display_name, "OpenClaw AI Self-Upgrading Loop");
        assert_eq!(
            plan.description,
            "Autonomous capability expansion for OpenClaw AI agent"
        );
        assert_eq!(plan.start_type, StartType::Auto);
        assert_eq!(
            plan.command_line(),
            r#""C:\Program Files\OpenClaw\SelfUpgradingLoop\selfup.exe" --home C:\ProgramData\OpenClaw\SelfUpgradingLoop --config "C:\Program Files\OpenClaw\SelfUpgradingLoop\config.yaml" service run"#
        );
        assert_eq!(plan.registry_key, r"SOFTWARE\OpenClaw\SelfUpgradingLoop");
        assert_eq!(
            plan.event_source_key,
            r"SYSTEM\CurrentControlSet\Services\EventLog\Application\OpenClawSelfUpgradingLoop"
        );
        let installation = plan.installation("1.2.3", "2025-01-02 03:04:05".into());
        if cfg!(windows) {
            // Elsewhere `\` does not separate path components.
            assert_eq!(
                installation.install_path,
                PathBuf::from(r"C:\Program Files\OpenClaw\SelfUpgradingLoop")
            );
        }
        assert_eq!(
            installation.data_path,
            PathBuf::from(r"C:\ProgramData\OpenClaw\SelfUpgradingLoop")
        );
        let printed = plan.describe();
        assert!(
            printed.contains("logs dir      C:\\ProgramData\\OpenClaw\\SelfUpgradingLoop\\logs\n"),
            "{printed}"
        );
    }

    #[test]
    fn another_name_and_home_change_everything_that_depends_on_them() {
        let mut config = Config::default();
        config.windows.service.name = "SelfupTest7".into();
        config.windows.service.start_type = StartType::Manual;
        let plan = ServicePlan::new(
            &config,
            Path::new(r"Z:\build\selfup.exe"),
            Some(Path::new(r"C:\temp\data")),
            None,
        );
        assert_eq!(
            plan.arguments,
            ["--home", r"C:\temp\data", "service", "run"]
        );
        assert_eq!(
            plan.layout.registry,
            PathBuf::from(r"C:\temp\data\registry")
        );
        assert_eq!(plan.registry_key, r"SOFTWARE\OpenClaw\SelfupTest7");
        assert!(plan.event_source_key.ends_with(r"\Application\SelfupTest7"));
        assert_eq!(plan.installation("1", String::new()).config_file, None);
    }

    #[test]
    fn arguments_are_quoted_as_windows_reads_them() {
        assert_eq!(quote_argument("plain"), "plain");
        assert_eq!(quote_argument(""), "\"\"");
        assert_eq!(quote_argument(r"C:\a b\"), r#""C:\a b\\""#);
        assert_eq!(quote_argument(r#"say "hi""#), r#""say \"hi\"""#);
        assert_eq!(quote_argument(r#"a\"b"#), r#""a\\\"b""#);
    }
}
