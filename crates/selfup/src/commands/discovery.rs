//! `selfup patterns list|trends` and `selfup gaps`: what discovery found.

use crate::cli::{GapsArgs, PatternsCommand};
use crate::context::Context;
use crate::exit::Exit;

/// `selfup patterns list|trends`.
pub fn patterns(_ctx: &Context, _command: &PatternsCommand) -> anyhow::Result<()> {
    Err(Exit::new(1, "pattern history is being built (issue 6)").into())
}

/// `selfup gaps`.
pub fn gaps(_ctx: &Context, _args: &GapsArgs) -> anyhow::Result<()> {
    Err(Exit::new(1, "gap analysis is being built (issue 6)").into())
}
