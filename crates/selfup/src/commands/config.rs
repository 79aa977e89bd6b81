//! `selfup config check|show`.

use std::path::Path;

use crate::context::{Context, load_config};
use crate::exit::Exit;

/// Checks `file`; valid → a one-line confirmation, invalid → exit 2.
pub fn check(file: &Path) -> anyhow::Result<()> {
    load_config(file)?;
    println!("{}: valid", file.display());
    Ok(())
}

/// Prints the effective configuration as YAML.
pub fn show(ctx: &Context) -> anyhow::Result<()> {
    let source = match &ctx.config_source {
        Some(path) => format!(
            "# effective configuration: {} with defaults filled in",
            path.display()
        ),
        None => "# effective configuration: built-in defaults (no config file)".to_owned(),
    };
    let yaml = ctx
        .config
        .to_yaml()
        .map_err(|e| Exit::new(1, format!("cannot print the configuration: {e}")))?;
    println!("{source}\n{yaml}");
    Ok(())
}
