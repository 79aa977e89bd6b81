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
/// With `--llm` (or `--hybrid`), an OpenAI-compatible server is started on
/// loopback first (`selfup-llm`'s `fake_server` example) and the demo's
/// decisions are made by the llm (or hybrid) engine asking it.
pub fn demo(root: &Path, extra: &[String]) -> Result<()> {
    plugins::build_and_pack(root)?;
    let engine = extra.iter().find_map(|a| match a.as_str() {
        "--llm" => Some("llm"),
        "--hybrid" => Some("hybrid"),
        _ => None,
    });
    let extra: Vec<String> = extra
        .iter()
        .filter(|a| !matches!(a.as_str(), "--llm" | "--hybrid"))
        .cloned()
        .collect();
    let mut server = None;
    let mut llm_args = Vec::new();
    if let Some(engine) = engine {
        let mut child = cargo()
            .current_dir(root)
            .args([
                "run",
                "--quiet",
                "--package",
                "selfup-llm",
                "--example",
                "fake_server",
            ])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start the loopback LLM server: {e}"))?;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line)?;
        }
        let url = line.trim().to_owned();
        if !url.starts_with("http://") {
            let _ = child.kill();
            bail!("the loopback LLM server did not print its URL (got {url:?})");
        }
        eprintln!("loopback OpenAI-compatible server at {url}");
        llm_args = vec![
            "--engine".to_owned(),
            engine.to_owned(),
            "--llm-base-url".to_owned(),
            url,
        ];
        server = Some(child);
    }
    let result = demo_run(root, &extra, &llm_args);
    if let Some(mut child) = server {
        let _ = child.kill();
        let _ = child.wait();
    }
    result
}

fn demo_run(root: &Path, extra: &[String], llm_args: &[String]) -> Result<()> {
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
        .args(llm_args)
        .args(extra);
    // The demo's HTML report (it prints the path).
    if !extra
        .iter()
        .any(|a| a == "--report" || a.starts_with("--report="))
    {
        command
            .arg("--report")
            .arg(root.join("target").join("demo-report.html"));
    }
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
