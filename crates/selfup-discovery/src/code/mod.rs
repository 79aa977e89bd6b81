//! Patterns in source code: clones and abstraction gaps (being built).
