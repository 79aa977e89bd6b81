//! Where the logs are, and how much room they take.

use selfup_store::Home;

use super::check::Check;
use super::size::{human_bytes, tree_size};

/// Above this, the log directory is warned about.
const WARN_BYTES: u64 = 1024 * 1024 * 1024;

/// The log check: selfup logs to stderr (the journal under systemd); the
/// home's `logs/` directory is where an operator redirects them to.
pub fn check(home: &Home) -> Check {
    let dir = home.logs_dir();
    let where_ =
        "selfup logs to stderr (under systemd: `journalctl -u selfup.service`; level: SELFUP_LOG)";
    if !dir.is_dir() {
        return Check::ok(
            "logs",
            format!("{where_}; {} does not exist", dir.display()),
        );
    }
    let (files, bytes) = tree_size(&dir);
    let finding = format!(
        "{where_}; {} holds {files} file(s), {}",
        dir.display(),
        human_bytes(bytes)
    );
    if bytes > WARN_BYTES {
        Check::warn(
            "logs",
            finding,
            format!(
                "rotate or delete old files in {} (e.g. with logrotate)",
                dir.display()
            ),
        )
    } else {
        Check::ok("logs", finding)
    }
}
