//! Time, read only through [`Clock`], so that tests can run days in
//! milliseconds. Implementations that read a real clock live outside
//! this crate.

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}
