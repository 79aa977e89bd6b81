//! The current commit, from git.
use std::process::Command;

pub fn head_commit() -> Option<String> {
    let out = Command::new("git").args(["rev-parse", "HEAD"]).output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}
