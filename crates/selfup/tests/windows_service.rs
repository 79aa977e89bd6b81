//! `selfup service` on Windows, against the real service control manager
//! (under Wine here: `scripts/wine/run-tests.sh`). Each test installs a
//! service with a name of its own, a data directory in a temporary
//! directory and a free port, and removes everything again, also when it
//! fails (the `Installed` guard).
//!
//! What Wine cannot show is checked only on Windows: Wine keeps no DACLs on
//! files (it maps them to Unix permission bits), and it accepts Event Log
//! writes without keeping them, so the data directory's permissions are
//! read back only on Windows and the Event Log is checked through its
//! source's registration.

#![cfg(windows)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use windows_service::service::{
    ServiceAccess, ServiceExitCode, ServiceStartType, ServiceState, ServiceStatus,
};
use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};

/// `ERROR_SERVICE_DOES_NOT_EXIST`.
const NO_SUCH_SERVICE: i32 = 1060;

/// A service this test installed, removed on drop whatever happened.
struct Installed {
    name: String,
    config: PathBuf,
    base: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Installed {
    /// A configuration for a new service (not installed yet).
    fn new(start_type: &str, port: u16) -> Self {
        remove_leftovers();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .subsec_nanos();
        let name = format!("SelfupTest{}x{nanos}", std::process::id());
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path().join("data");
        let config = dir.path().join("config.yaml");
        std::fs::write(
            &config,
            format!(
                "self_upgrading_loop:\n  gateway:\n    bind: \"127.0.0.1:{port}\"\n\
                 windows:\n  service:\n    name: \"{name}\"\n    start_type: {start_type}\n\
                 \x20 paths:\n    base: '{}'\n",
                base.display()
            ),
        )
        .expect("config.yaml");
        Self {
            name,
            config,
            base,
            port,
            _dir: dir,
        }
    }

    /// `selfup --config <config> service args…`
    fn selfup(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_selfup"))
            .arg("--config")
            .arg(&self.config)
            .arg("service")
            .args(args)
            .env_remove("SELFUP_HOME")
            .env_remove("SELFUP_LOG")
            .output()
            .expect("run selfup")
    }

    /// `selfup doctor --json`'s service.windows check: its status and finding.
    fn doctor_service_check(&self) -> (String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_selfup"))
            .arg("--config")
            .arg(&self.config)
            .args(["doctor", "--json"])
            .env_remove("SELFUP_HOME")
            .output()
            .expect("run selfup doctor");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "doctor printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        let checks = report["checks"].as_array().cloned().unwrap_or_default();
        let check = checks
            .iter()
            .find(|c| c["name"] == "service.windows")
            .unwrap_or_else(|| panic!("no service.windows check in {report}"));
        (
            check["status"].as_str().unwrap_or_default().to_owned(),
            check["finding"].as_str().unwrap_or_default().to_owned(),
        )
    }

    /// Runs `selfup service args…`, asserts success, returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.selfup(args);
        assert!(
            out.status.success(),
            "selfup service {args:?} failed with {}:\nstdout: {}\nstderr: {}\nlog: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn registry_key(&self) -> String {
        format!(r"SOFTWARE\OpenClaw\{}", self.name)
    }

    fn event_source_key(&self) -> String {
        format!(
            r"SYSTEM\CurrentControlSet\Services\EventLog\Application\{}",
            self.name
        )
    }

    /// The service's log file (empty if there is none yet).
    fn log(&self) -> String {
        std::fs::read_to_string(self.base.join("logs").join("self_upgrading_loop.log"))
            .unwrap_or_default()
    }

    /// The service's status, or `None` when it is not installed.
    fn status(&self) -> Option<ServiceStatus> {
        let manager = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)
            .expect("connect to the service control manager");
        match manager.open_service(&self.name, ServiceAccess::QUERY_STATUS) {
            Ok(service) => Some(service.query_status().expect("query status")),
            Err(windows_service::Error::Winapi(e)) if e.raw_os_error() == Some(NO_SUCH_SERVICE) => {
                None
            }
            Err(e) => panic!("cannot open the service {}: {e}", self.name),
        }
    }

    /// Waits (at most a minute) for the service to reach `state`.
    fn wait_for(&self, state: ServiceState) -> ServiceStatus {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let status = self.status().expect("the service is installed");
            if status.current_state == state {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{} is {:?}, not {state:?}, after a minute; log:\n{}",
                self.name,
                status.current_state,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `GET /healthz`: the status code and body, or `None` when nothing listens.
    fn health(&self) -> Option<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let code = response.split(' ').nth(1)?.parse().ok()?;
        let body = response.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
        Some((code, body))
    }

    /// Waits (at most a minute) for the gateway to answer `/healthz`.
    fn wait_for_health(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some((200, body)) = self.health() {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "the gateway of {} did not answer /healthz within a minute; log:\n{}",
                self.name,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        // Whatever the test got to: stop and remove the service, its event
        // source and registry entries (the data goes with the temporary
        // directory).
        let _ = self.selfup(&["uninstall"]);
        remove_service(&self.name);
    }
}

/// Stops and removes the service `name` and its registry entries, without
/// selfup and ignoring every error.
fn remove_service(name: &str) {
    if let Ok(manager) = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)
        && let Ok(service) = manager.open_service(
            name,
            ServiceAccess::QUERY_STATUS | ServiceAccess::STOP | ServiceAccess::DELETE,
        )
    {
        let _ = service.stop();
        let deadline = Instant::now() + Duration::from_secs(30);
        while service
            .query_status()
            .is_ok_and(|s| s.current_state != ServiceState::Stopped)
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = service.delete();
    }
    let hklm = windows_registry::LOCAL_MACHINE;
    let _ = hklm.remove_tree(format!(r"SOFTWARE\OpenClaw\{name}"));
    let _ = hklm.remove_tree(format!(
        r"SYSTEM\CurrentControlSet\Services\EventLog\Application\{name}"
    ));
}

/// Removes the services an earlier run of these tests left behind when it
/// was killed before it could clean up (not this process's own).
fn remove_leftovers() {
    let ours = format!("SelfupTest{}x", std::process::id());
    let Ok(services) = windows_registry::LOCAL_MACHINE.open(r"SYSTEM\CurrentControlSet\Services")
    else {
        return;
    };
    let leftovers: Vec<String> = services
        .keys()
        .map(|keys| {
            keys.filter(|k| k.starts_with("SelfupTest") && !k.starts_with(&ours))
                .collect()
        })
        .unwrap_or_default();
    drop(services);
    for name in leftovers {
        remove_service(&name);
    }
}

/// A loopback port nothing listens on (right now).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Whether this runs under Wine (which has a `HKLM\Software\Wine` key).
fn under_wine() -> bool {
    windows_registry::LOCAL_MACHINE
        .open(r"Software\Wine")
        .is_ok()
}

fn key_exists(path: &str) -> bool {
    windows_registry::LOCAL_MACHINE.open(path).is_ok()
}

fn assert_in_order(text: &str, parts: &[&str]) {
    let mut rest = text;
    for part in parts {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => panic!("{part:?} is missing (or out of order) in:\n{text}"),
        }
    }
}

#[test]
fn the_service_installs_runs_stops_cleanly_and_uninstalls_keeping_the_data() {
    let svc = Installed::new("auto", free_port());
    let name = svc.name.clone();

    // Install: directories, event source, service, registry; auto starts it.
    let out = svc.ok(&["install"]);
    assert_in_order(
        &out,
        &[
            &format!("prepared {}", svc.base.display()),
            &format!("registered the service {name} (OpenClaw AI Self-Upgrading Loop)"),
            &format!(r"wrote HKEY_LOCAL_MACHINE\SOFTWARE\OpenClaw\{name}"),
            &format!("started {name}"),
        ],
    );
    let running = svc.wait_for(ServiceState::Running);
    assert!(running.process_id.is_some(), "{running:?}");
    let health = svc.wait_for_health();
    assert!(health.contains(r#""status":"ok""#), "{health}");
    let status = svc.ok(&["status"]);
    assert!(
        status.starts_with(&format!("{name}: running (pid ")),
        "{status}"
    );

    // What the service control manager was given.
    let manager = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)
        .expect("connect");
    let config = manager
        .open_service(&name, ServiceAccess::QUERY_CONFIG)
        .expect("open")
        .query_config()
        .expect("query config");
    assert_eq!(config.start_type, ServiceStartType::AutoStart);
    assert_eq!(
        config.display_name.to_string_lossy(),
        "OpenClaw AI Self-Upgrading Loop"
    );
    let command_line = config.executable_path.to_string_lossy().into_owned();
    assert!(command_line.contains("selfup.exe"), "{command_line}");
    assert!(
        command_line.ends_with(&format!(
            "--home {} --config {} service run",
            svc.base.display(),
            svc.config.display()
        )),
        "{command_line}"
    );

    // The registry entries.
    let key = windows_registry::LOCAL_MACHINE
        .open(svc.registry_key())
        .expect("the installation's registry key");
    let exe_dir = Path::new(env!("CARGO_BIN_EXE_selfup"))
        .parent()
        .expect("a directory");
    let install_path = key.get_string("InstallPath").expect("InstallPath");
    assert!(
        Path::new(&install_path).ends_with(exe_dir.file_name().expect("debug")),
        "{install_path}"
    );
    assert_eq!(
        key.get_string("Version").expect("Version"),
        env!("CARGO_PKG_VERSION")
    );
    let date = key.get_string("InstallDate").expect("InstallDate");
    assert!(
        date.len() == 19 && date.as_bytes()[4] == b'-' && date.as_bytes()[10] == b' ',
        "yyyy-MM-dd HH:mm:ss: {date}"
    );
    assert_eq!(
        PathBuf::from(key.get_string("DataPath").expect("DataPath")),
        svc.base
    );
    assert_eq!(
        PathBuf::from(key.get_string("ConfigFile").expect("ConfigFile")),
        svc.config
    );
    assert_eq!(key.get_string("ServiceName").expect("ServiceName"), name);
    drop(key);
    assert!(
        !key_exists(r"SOFTWARE\OpenClaw\SelfUpgradingLoop")
            || windows_registry::LOCAL_MACHINE
                .open(r"SOFTWARE\OpenClaw\SelfUpgradingLoop")
                .and_then(|k| k.get_string("ServiceName"))
                .map_or(true, |n| n != name),
        "the seed's key is not this test's"
    );

    // The Event Log source.
    let source = windows_registry::LOCAL_MACHINE
        .open(svc.event_source_key())
        .expect("the event source is registered");
    assert!(
        source
            .get_string("EventMessageFile")
            .expect("EventMessageFile")
            .ends_with("EventLogMessages.dll")
    );
    assert_eq!(source.get_u32("TypesSupported").expect("TypesSupported"), 7);
    drop(source);

    // The data directories, and the store the service opened in them.
    for dir in ["plugins", "registry", "snapshots", "logs", "artifacts"] {
        assert!(svc.base.join(dir).is_dir(), "{dir} is missing");
    }
    assert!(svc.base.join("selfup.db").is_file());
    if !under_wine() {
        for ace in ["(A;OICI;FA;;;SY)", "(A;OICI;FA;;;BA)"] {
            assert!(status.contains(ace), "{ace} in the data's DACL: {status}");
        }
        assert!(status.contains("(D:PAI"), "a protected DACL: {status}");
    }

    assert_eq!(
        svc.doctor_service_check(),
        ("ok".into(), format!("the {name} service is running"))
    );

    // A stop request from the manager stops selfup the way Ctrl-C does.
    let out = svc.ok(&["stop"]);
    assert!(
        out.contains(&format!("stopped {name} (exit code 0)")),
        "{out}"
    );
    svc.wait_for(ServiceState::Stopped);
    assert_eq!(svc.health(), None, "the gateway stopped");
    let (doctor_status, finding) = svc.doctor_service_check();
    assert_eq!(doctor_status, "warn", "{finding}");
    assert!(
        finding.starts_with(&format!("the {name} service is stopped")),
        "{finding}"
    );
    assert_in_order(
        &svc.log(),
        &[
            &format!("the service {name} is running"),
            "stop requested by the service control manager",
            &format!("the service {name} stopped cleanly"),
        ],
    );
    let db = rusqlite::Connection::open(svc.base.join("selfup.db")).expect("open the store");
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(integrity, "ok");
    drop(db);
    let out = svc.selfup(&["status"]);
    assert_eq!(out.status.code(), Some(1), "status exits 1 when stopped");

    // Started again with `service start`, stopped by `uninstall`.
    let out = svc.ok(&["start"]);
    assert!(out.contains(&format!("started {name}")), "{out}");
    svc.wait_for_health();
    let out = svc.ok(&["uninstall"]);
    assert_in_order(
        &out,
        &[
            &format!("stopped {name} (exit code 0)"),
            &format!("removed the service {name}"),
            &format!("removed the event source {name}"),
            &format!(r"removed HKEY_LOCAL_MACHINE\SOFTWARE\OpenClaw\{name}"),
            &format!("the data in {} is kept", svc.base.display()),
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while svc.status().is_some() {
        assert!(Instant::now() < deadline, "{name} is still registered");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(!key_exists(&svc.registry_key()));
    assert!(!key_exists(&svc.event_source_key()));
    assert!(svc.base.join("selfup.db").is_file(), "the data is kept");
    assert_eq!(svc.health(), None);
    let out = svc.ok(&["uninstall"]);
    assert!(
        out.contains(&format!("the service {name} is not installed")),
        "{out}"
    );
}

#[test]
fn a_service_that_cannot_start_says_so_in_its_status_and_its_log() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let svc = Installed::new("manual", taken.local_addr().expect("addr").port());
    let name = svc.name.clone();
    let out = svc.ok(&["install"]);
    assert!(
        out.contains("start it with `selfup service start`"),
        "{out}"
    );
    assert_eq!(
        svc.status().expect("installed").current_state,
        ServiceState::Stopped,
        "a manual service is not started by install"
    );

    let out = svc.selfup(&["start"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{name} stopped while starting (selfup exit code 1)"
        )),
        "{stderr}"
    );
    let status = svc.wait_for(ServiceState::Stopped);
    assert_eq!(status.exit_code, ServiceExitCode::ServiceSpecific(1));
    let log = svc.log();
    assert!(log.contains("ERROR"), "{log}");
    assert!(
        log.contains(&format!(
            "the service {name} stopped with an error: cannot listen on 127.0.0.1:{}",
            svc.port
        )),
        "{log}"
    );
    drop(taken);
}

#[test]
fn a_stop_request_while_the_service_starts_stops_it_cleanly() {
    let svc = Installed::new("manual", free_port());
    let name = svc.name.clone();
    svc.ok(&["install"]);
    // Start without waiting for Running, then ask it to stop at once: it
    // takes the stop while it starts (or, on a fast machine, just after).
    let manager = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)
        .expect("connect");
    manager
        .open_service(&name, ServiceAccess::START)
        .expect("open")
        .start::<&str>(&[])
        .expect("start");
    let out = svc.ok(&["stop"]);
    assert!(
        out.contains(&format!("stopped {name} (exit code 0)")),
        "{out}"
    );
    assert_eq!(
        svc.status().expect("installed").exit_code,
        ServiceExitCode::Win32(0)
    );
    assert_in_order(
        &svc.log(),
        &[
            "stop requested by the service control manager",
            &format!("the service {name} stopped cleanly"),
        ],
    );
}
