//! Is the service running for this home? The gateway answering `/healthz`
//! on the configured address, and on Linux the systemd unit, if one exists.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use super::check::Check;

/// What to do when the gateway is not running.
const START: &str = "start it: `selfup run` (or `selfup serve` beside `selfup run --loop-only`); if it runs on another address, set gateway.bind in the configuration";

/// How long to wait for the gateway to answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Probes the gateway on `bind` (a wildcard address is probed on loopback).
pub async fn gateway(bind: SocketAddr) -> Check {
    let mut addr = bind;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    let url = format!("http://{addr}/healthz");
    let client = match reqwest::Client::builder().timeout(PROBE_TIMEOUT).build() {
        Ok(c) => c,
        Err(e) => return Check::warn("service", format!("cannot probe {url}: {e}"), START),
    };
    let response = match client.get(&url).send().await {
        Ok(r) => r,
        Err(e) => {
            let why = if e.is_timeout() {
                "no answer within 2 s"
            } else {
                "nothing answers"
            };
            return Check::warn(
                "service",
                format!("the gateway is not running: {why} at http://{addr} (gateway.bind)"),
                START,
            );
        }
    };
    let status = response.status();
    let body: Option<serde_json::Value> = response.json().await.ok();
    match body {
        Some(body) if status.is_success() && body["status"] == "ok" => {
            let capabilities = body["capabilities"].as_array().map_or(0, Vec::len);
            let queued = body["telemetry"]["queued"].as_u64().unwrap_or(0);
            Check::ok(
                "service",
                format!(
                    "a selfup gateway answers at http://{addr}: {capabilities} capabilities routed, {queued} telemetry records queued"
                ),
            )
        }
        _ => Check::fail(
            "service",
            format!(
                "http://{addr} answers, but not as a selfup gateway (GET /healthz gave {status})"
            ),
            "another program holds the gateway's address: stop it, or move selfup with gateway.bind",
        ),
    }
}

/// On Windows, the state of the service `name` (`windows.service.name`), if
/// it is installed.
#[cfg(windows)]
pub fn windows_service(name: &str) -> Option<Check> {
    use windows_service::service::ServiceState;
    let events = format!(
        "see why: `Get-EventLog -LogName Application -Source {name} -Newest 20` and the log file; then `selfup service start`"
    );
    Some(match crate::commands::service::windows::state(name) {
        Ok(None) => return None,
        Ok(Some((ServiceState::Running, _))) => {
            Check::ok("service.windows", format!("the {name} service is running"))
        }
        Ok(Some((ServiceState::Stopped, how))) if how == "exit code 0" || how.contains("1077") => {
            Check::warn(
                "service.windows",
                format!("the {name} service is stopped ({how})"),
                format!(
                    "start it: `selfup service start` (or `Start-Service {name}` in an elevated PowerShell)"
                ),
            )
        }
        Ok(Some((ServiceState::Stopped, how))) => Check::fail(
            "service.windows",
            format!("the {name} service stopped with {how}"),
            events,
        ),
        Ok(Some((state, _))) => Check::warn(
            "service.windows",
            format!("the {name} service is {state:?}"),
            "wait a minute and run `selfup doctor` again; if it stays so, `selfup service stop` then `selfup service start`",
        ),
        Err(e) => Check::warn(
            "service.windows",
            format!("cannot ask the service control manager about {name}: {e}"),
            "run `selfup doctor` from an elevated PowerShell",
        ),
    })
}

/// On Linux, the state of a `selfup` systemd unit, if one is installed.
pub fn systemd() -> Option<Check> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let unit_dirs = [
        "/etc/systemd/system",
        "/lib/systemd/system",
        "/usr/lib/systemd/system",
    ];
    if !unit_dirs
        .iter()
        .any(|d| std::path::Path::new(d).join("selfup.service").is_file())
    {
        return None;
    }
    let output = std::process::Command::new("systemctl")
        .args(["is-active", "selfup.service"])
        .output()
        .ok()?;
    let state = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    Some(match state.as_str() {
        "active" => Check::ok("service.systemd", "the selfup.service unit is active"),
        "failed" => Check::fail(
            "service.systemd",
            "the selfup.service unit has failed",
            "see why: `journalctl -u selfup.service -n 50`; then `systemctl restart selfup.service`",
        ),
        other => Check::warn(
            "service.systemd",
            format!("the selfup.service unit is {other}"),
            "start it: `systemctl start selfup.service` (and `systemctl enable selfup.service` to start it at boot)",
        ),
    })
}
