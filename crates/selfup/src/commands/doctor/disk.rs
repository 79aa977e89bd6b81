//! Free space on the file system that holds the home.

use std::path::Path;

use super::check::Check;
use super::size::human_bytes;

/// Below this much free space (or 5 % of the file system), a warning.
const WARN_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// Below this much free space, a failure: SQLite and artifact writes are
/// about to fail.
const FAIL_BYTES: u64 = 256 * 1024 * 1024;

/// The disk check of the file system holding `root`.
pub fn check(root: &Path) -> Check {
    // The home may not exist yet; its nearest existing ancestor is on the
    // same file system as it will be.
    let probe = root.ancestors().find(|p| p.exists()).unwrap_or(root);
    let stats = match fs4::statvfs(probe) {
        Ok(stats) => stats,
        Err(e) => {
            return Check::warn(
                "disk",
                format!("cannot read the free space of {}: {e}", probe.display()),
                "check the file system by hand (`df -h` on Linux and macOS)",
            );
        }
    };
    let (free, total) = (stats.available_space(), stats.total_space());
    let share = if total == 0 {
        1.0
    } else {
        free as f64 / total as f64
    };
    let finding = format!(
        "{} free of {} ({:.0} %) on the file system of {}",
        human_bytes(free),
        human_bytes(total),
        share * 100.0,
        probe.display()
    );
    let action = "free space there (old logs, build caches, other programs' data), or move the home (--home / SELFUP_HOME) to a larger disk";
    if free < FAIL_BYTES {
        Check::fail("disk", finding, action)
    } else if free < WARN_BYTES || share < 0.05 {
        Check::warn("disk", finding, action)
    } else {
        Check::ok("disk", finding)
    }
}
