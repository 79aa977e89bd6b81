//! Project automation for selfup, run as `cargo xtask <command>`.

mod plugins;
mod run;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What `cargo xtask` without a known command prints.
const USAGE: &str = "usage: cargo xtask <command>

commands:
  plugins   build the example plugins (plugins/) for wasm32-wasip2 and pack
            them into target/plugins/<name>-<version>.zip and directories
  demo      build the plugins, then run `selfup demo` on a fresh home
            (extra arguments go to `selfup demo`, e.g. --days 5; --llm or
            --hybrid: decisions by an LLM engine asking an OpenAI-compatible
            server started on loopback)
  test      build the plugins, then run every test (extra arguments go to
            `cargo test`)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, extra) = match args.split_first() {
        Some((command, extra)) => (Some(command.as_str()), extra),
        None => (None, &[][..]),
    };
    let root = repo_root();
    let result = match command {
        Some("plugins") => plugins::build_and_pack(&root).map(drop),
        Some("demo") => run::demo(&root, extra),
        Some("test") => run::test(&root, extra),
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
