//! Where the logs are, and how much room they take.

use selfup_store::Home;

use super::check::Check;
use super::size::{human_bytes, tree_size};

/// Above this, the log directory is warned about.
const WARN_BYTES: u64 = 1024 * 1024 * 1024;

/// The log check: `selfup run` and `serve` log to stderr (the journal
/// under systemd) and to `logging.file`, by default in the home's `logs/`,
/// rotated by size (`logging.max_size_mb`, `backup_count`).
pub fn check(home: &Home) -> Check {
    let dir = home.logs_dir();
    let where_ = if cfg!(windows) {
        "selfup run and serve log to stderr, the service's errors also to the Application \
         Event Log (source: windows.service.name), and all to logging.file (by default \
         logs\\self_upgrading_loop.log in the home, rotated at logging.max_size_mb; level: \
         logging.level or SELFUP_LOG)"
    } else {
        "selfup run and serve log to stderr (under systemd: `journalctl -u selfup.service`) \
         and to logging.file (by default logs/self_upgrading_loop.log in the home, rotated \
         at logging.max_size_mb; level: logging.level or SELFUP_LOG)"
    };
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
                "lower logging.max_size_mb or logging.backup_count, or delete old files in {}",
                dir.display()
            ),
        )
    } else {
        Check::ok("logs", finding)
    }
}
