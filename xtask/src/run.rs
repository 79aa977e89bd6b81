//! `cargo xtask demo` and `cargo xtask test`: build what they need, then
//! run the demo or every test.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::plugins;

/// The cargo that runs us, so the same toolchain builds everything.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

fn run(mut command: Command, what: &str) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("cannot start {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// Builds the example plugins and runs `selfup demo` on a fresh home.
pub fn demo(root: &Path, extra: &[String]) -> Result<()> {
    plugins::build_and_pack(root)?;
    let mut command = cargo();
    command
        .current_dir(root)
        .args([
            "run",
            "--quiet",
            "--package",
            "selfup",
            "--",
            "demo",
            "--plugins",
        ])
        .arg(root.join("target").join("plugins"))
        .arg("--trust")
        .arg(root.join("keys").join("dev.pub"))
        .args(extra);
    run(command, "the demo")
}

/// Builds the example plugins, then runs every test: the workspace's
/// (unit, integration and end-to-end against the built binary) and the
/// plugins' own native unit tests.
pub fn test(root: &Path, extra: &[String]) -> Result<()> {
    plugins::build_and_pack(root)?;
    let packages = root.join("target").join("plugins");

    let mut workspace = cargo();
    workspace
        .current_dir(root)
        .env("SELFUP_PLUGINS_DIR", &packages)
        .args(["test", "--workspace", "--locked"])
        .args(extra);
    run(workspace, "the workspace tests")?;

    let mut plugin_units = cargo();
    plugin_units
        .current_dir(root)
        .env(
            "CARGO_TARGET_DIR",
            root.join("target").join("plugins-native"),
        )
        .args(["test", "--quiet", "--manifest-path"])
        .arg(root.join("plugins").join("Cargo.toml"));
    run(plugin_units, "the plugins' unit tests")?;
    println!("all tests passed");
    Ok(())
}
