//! Lints the workspace.
use std::process::Command as Cmd;

pub fn clippy(deny: bool) -> std::io::Result<std::process::ExitStatus> {
    let mut cmd = Cmd::new("cargo");
    cmd.arg("clippy");
    if deny {
        cmd.args(["--", "-D", "warnings"]);
    }
    cmd.status()
}
