//! Can agents reach `/mcp` the way the gateway is bound? A gateway bound
//! beyond loopback whose `mcp_allowed_hosts` names only loopback refuses
//! every remote MCP client with 403 (the DNS-rebinding guard).

use selfup_core::config::GatewayConfig;

use super::check::Check;

/// Host names that only ever reach this machine.
const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The check, or none when the gateway listens on loopback only.
pub fn check(gateway: &GatewayConfig) -> Option<Check> {
    if gateway.bind.ip().is_loopback() {
        return None;
    }
    let hosts = &gateway.mcp_allowed_hosts;
    let only_loopback = !hosts.is_empty()
        && hosts.iter().all(|h| {
            let name = h.rsplit_once(':').map_or(h.as_str(), |(name, port)| {
                if port.chars().all(|c| c.is_ascii_digit()) && !name.ends_with(':') {
                    name
                } else {
                    h
                }
            });
            LOOPBACK_NAMES.contains(&name.trim_matches(['[', ']']))
        });
    Some(if only_loopback {
        Check::warn(
            "gateway.mcp_hosts",
            format!(
                "the gateway listens on {} but /mcp accepts only loopback Host headers: remote MCP clients get 403",
                gateway.bind
            ),
            "list the names agents use in gateway.mcp_allowed_hosts, e.g. [\"selfup.internal\"]",
        )
    } else {
        Check::ok(
            "gateway.mcp_hosts",
            if hosts.is_empty() {
                "/mcp accepts any Host header (gateway.mcp_allowed_hosts is empty)".to_owned()
            } else {
                format!("/mcp accepts Host headers {}", hosts.join(", "))
            },
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::doctor::check::Status;

    fn gateway(bind: &str, hosts: &[&str]) -> GatewayConfig {
        GatewayConfig {
            bind: bind.parse().expect("address"),
            mcp_allowed_hosts: hosts.iter().map(|h| h.to_string()).collect(),
            ..GatewayConfig::default()
        }
    }

    #[test]
    fn loopback_binds_need_no_check() {
        assert_eq!(check(&gateway("127.0.0.1:8787", &["localhost"])), None);
    }

    #[test]
    fn a_wide_bind_with_loopback_hosts_only_warns() {
        let warned = check(&gateway(
            "0.0.0.0:8787",
            &["localhost", "127.0.0.1:8787", "[::1]"],
        ));
        assert_eq!(warned.map(|c| c.status), Some(Status::Warn));
        let named = check(&gateway("0.0.0.0:8787", &["localhost", "selfup.internal"]));
        assert_eq!(named.map(|c| c.status), Some(Status::Ok));
        let any = check(&gateway("[::]:8787", &[]));
        assert_eq!(any.map(|c| c.status), Some(Status::Ok));
    }
}
