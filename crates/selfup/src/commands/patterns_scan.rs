//! `selfup patterns scan`: clones and abstraction gaps in source trees.

use crate::cli::PatternsScanArgs;
use crate::context::Context;
use crate::exit::Exit;

/// Scans the given paths (or the configured code paths) and prints the report.
pub fn run(_ctx: &Context, _args: &PatternsScanArgs) -> anyhow::Result<()> {
    Err(Exit::new(1, "the code scanner is being built (issue 6)").into())
}
