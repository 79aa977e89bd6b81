//! Project automation for selfup, run as `cargo xtask <command>`.

mod plugins;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What `cargo xtask` without a known command prints.
const USAGE: &str = "usage: cargo xtask <command>

commands:
  plugins   build the example plugins (plugins/) for wasm32-wasip2 and pack
            them into target/plugins/<name>-<version>.zip and directories";

fn main() -> ExitCode {
    let command = std::env::args().nth(1);
    let root = repo_root();
    let result = match command.as_deref() {
        Some("plugins") => plugins::build_and_pack(&root).map(drop),
        Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => {
            eprintln!("unknown command `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
        None => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root: the parent of this crate's directory.
fn repo_root() -> PathBuf {
    let xtask_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask_dir.parent().unwrap_or(xtask_dir).to_path_buf()
}
