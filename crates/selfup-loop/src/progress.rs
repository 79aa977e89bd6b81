//! What a cycle is doing right now, for a person waiting on `selfup cycle`:
//! the step, and the code scan's files. The service reports nothing (its
//! timeline and log say what happened); the default is [`Silent`].

use selfup_discovery::code::Progress;

/// Receives a cycle's steps as they begin, and the code scan's progress
/// (through [`Progress`]).
pub trait CycleProgress: Progress + Send {
    /// A step begins, e.g. "deciding 2 of 5: text-tools@1.2.0".
    fn step(&self, _what: &str) {}
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {}

impl CycleProgress for Silent {}
