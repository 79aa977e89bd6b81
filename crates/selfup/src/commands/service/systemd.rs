//! `selfup service` on Linux: a systemd unit (`selfup.service`) that runs
//! `selfup run` on this home, restarts it when it fails and stops it with
//! SIGTERM, which `selfup run` handles by finishing the current transaction
//! and stopping the loop and the gateway. `install --print` prints the unit
//! instead of installing it.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{absolute, selfup_arguments};
use crate::cli::{ServiceArgs, ServiceCommand};
use crate::context::Context;
use crate::exit::Exit;

/// The unit's name.
pub const UNIT: &str = "selfup.service";

/// Where system units go.
pub const SYSTEM_UNIT_DIR: &str = "/etc/systemd/system";

/// The systemd unit running `selfup run` for `home` (and `config`).
pub fn unit_text(
    exe: &Path,
    home: &Path,
    config: Option<&Path>,
    description: &str,
    auto_start: bool,
) -> String {
    let quote = |p: &Path| {
        let s = p.display().to_string();
        if s.contains([' ', '"', '\\']) {
            format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
        } else {
            s
        }
    };
    let mut exec = quote(exe);
    for argument in selfup_arguments(home, config, &["run"]) {
        exec.push(' ');
        exec.push_str(&quote(Path::new(&argument)));
    }
    format!(
        "# Written by `selfup service install`; remove with `selfup service uninstall`.
[Unit]
Description={description}
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart={exec}
WorkingDirectory={home}
Restart=on-failure
RestartSec=5
# selfup run stops cleanly on SIGTERM: the current store transaction
# finishes, then the loop and the gateway stop.
KillSignal=SIGTERM
TimeoutStopSec=60
NoNewPrivileges=yes
PrivateTmp=yes
{install}",
        home = quote(home),
        install = if auto_start {
            "\n[Install]\nWantedBy=multi-user.target\n"
        } else {
            ""
        }
    )
}

/// Runs `selfup service …` with systemd.
pub fn run(ctx: &Context, args: &ServiceArgs) -> anyhow::Result<()> {
    if !cfg!(target_os = "linux") {
        return Err(Exit::new(
            2,
            "selfup service works with systemd on Linux and the service control manager on Windows; \
             on this system run `selfup run` under your own supervisor",
        )
        .into());
    }
    let service = &ctx.config.windows.service;
    let auto = service.start_type == selfup_core::config::StartType::Auto;
    match &args.command {
        ServiceCommand::Install {
            print,
            unit_dir,
            no_enable,
            no_start,
        } => {
            if *no_start {
                return Err(Exit::new(
                    2,
                    "--no-start is for the Windows service; with systemd use --no-enable",
                )
                .into());
            }
            let exe = std::env::current_exe()?;
            let home = absolute(ctx.home.root())?;
            let config = ctx.config_source.as_deref().map(absolute).transpose()?;
            let text = unit_text(&exe, &home, config.as_deref(), &service.description, auto);
            if *print {
                print!("{text}");
                return Ok(());
            }
            let dir = unit_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(SYSTEM_UNIT_DIR));
            let path = dir.join(UNIT);
            std::fs::create_dir_all(&dir)
                .and_then(|()| std::fs::write(&path, &text))
                .map_err(|e| {
                    Exit::new(
                        2,
                        format!(
                            "cannot write {}: {e} (run as root, or --print the unit and install it yourself)",
                            path.display()
                        ),
                    )
                })?;
            println!("wrote {}", path.display());
            std::fs::create_dir_all(ctx.home.root())?;
            if *no_enable {
                return Ok(());
            }
            systemctl(&["daemon-reload"])?;
            if auto {
                systemctl(&["enable", "--now", UNIT])?;
                println!("enabled and started {UNIT}");
            } else {
                println!("installed {UNIT}; start it with `selfup service start`");
            }
            Ok(())
        }
        ServiceCommand::Uninstall { unit_dir } => {
            let dir = unit_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(SYSTEM_UNIT_DIR));
            let path = dir.join(UNIT);
            if unit_dir.is_none() {
                // Stopping may fail if it is not running; removing goes on.
                let _ = systemctl(&["disable", "--now", UNIT]);
            }
            match std::fs::remove_file(&path) {
                Ok(()) => println!(
                    "removed {} (the home and its data are kept)",
                    path.display()
                ),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    println!("{} is not installed", path.display())
                }
                Err(e) => {
                    return Err(
                        Exit::new(2, format!("cannot remove {}: {e}", path.display())).into(),
                    );
                }
            }
            if unit_dir.is_none() {
                systemctl(&["daemon-reload"])?;
            }
            Ok(())
        }
        ServiceCommand::Start => systemctl(&["start", UNIT]),
        ServiceCommand::Stop => systemctl(&["stop", UNIT]),
        ServiceCommand::Run => Err(Exit::new(
            2,
            "`selfup service run` is what the Windows service control manager starts; under systemd the unit runs `selfup run`",
        )
        .into()),
        ServiceCommand::Status => {
            // `systemctl status` exits 3 for a stopped unit: its text says it.
            let status = Command::new("systemctl")
                .args(["status", "--no-pager", UNIT])
                .status()
                .map_err(|e| Exit::new(2, format!("cannot run systemctl: {e}")))?;
            if !status.success() {
                return Err(Exit::new(1, format!("{UNIT} is not running")).into());
            }
            Ok(())
        }
    }
}

fn systemctl(args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new("systemctl").args(args).status().map_err(|e| {
        Exit::new(
            2,
            format!("cannot run systemctl ({e}); is this a systemd machine? `selfup service install --print` prints the unit"),
        )
    })?;
    if !status.success() {
        return Err(Exit::new(1, format!("systemctl {} failed ({status})", args.join(" "))).into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_runs_selfup_run_on_the_home_and_stops_with_sigterm() {
        let text = unit_text(
            Path::new("/usr/local/bin/selfup"),
            Path::new("/var/lib/selfup"),
            Some(Path::new("/etc/selfup/config.yaml")),
            "OpenClaw Self-Upgrading Loop",
            true,
        );
        assert!(text.contains(
            "ExecStart=/usr/local/bin/selfup --home /var/lib/selfup --config /etc/selfup/config.yaml run\n"
        ));
        assert!(text.contains("KillSignal=SIGTERM\n"));
        assert!(text.contains("Restart=on-failure\n"));
        assert!(text.contains("WantedBy=multi-user.target"));
        let manual = unit_text(Path::new("/x"), Path::new("/h"), None, "d", false);
        assert!(!manual.contains("[Install]"));
        assert!(manual.contains("ExecStart=/x --home /h run\n"));
    }

    #[test]
    fn paths_with_spaces_are_quoted() {
        let text = unit_text(
            Path::new("/opt/my tools/selfup"),
            Path::new("/srv/self up"),
            None,
            "d",
            true,
        );
        assert!(
            text.contains("ExecStart=\"/opt/my tools/selfup\" --home \"/srv/self up\" run"),
            "{text}"
        );
    }
}
