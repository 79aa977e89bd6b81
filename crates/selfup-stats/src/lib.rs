//! Statistics for selfup: sticky assignment, fixed-horizon and sequential
//! tests, health checks and design. Pure: no I/O, no clock.
//!
//! * [`assignment`] — GrowthBook-compatible hashing and bucket ranges.
//! * [`summary`], [`sketch`] — sufficient statistics (moments, counts, a
//!   mergeable rank sketch), so a look at millions of calls is O(1) in the calls.
//! * [`fixed`] — z, Welch, relative lift, Mann–Whitney, Hodges–Lehmann.
//! * [`sequential`] — normal mSPRT always-valid p-values and confidence sequences.
//! * [`health`] — sample-ratio mismatch, Benjamini–Hochberg, stratified comparison.
//! * [`design`] — power, sample size, minimum detectable effect.
//! * [`calculator`] — argument parsing and printable results for `selfup stats`.
//!
//! Conventions: two-sample functions take `(x, y)` and every difference is
//! `x − y` (as R and SciPy); too little data is the typed
//! [`Insufficient`] error, never a NaN.

#![warn(missing_docs)]

pub mod assignment;
pub mod calculator;
pub mod design;
pub mod dist;
pub mod error;
pub mod fixed;
pub mod health;
pub mod hypothesis;
pub mod sequential;
pub mod sketch;
pub mod summary;

pub use error::{Insufficient, Result, StatsError};
pub use hypothesis::{Alternative, TestResult};
pub use sketch::{RankSketch, Resolution};
pub use summary::{Moments, Proportion};
