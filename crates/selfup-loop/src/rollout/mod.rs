//! Rollouts: what each has seen ([`stats`]) and how a stage is judged
//! ([`gates`]). The controller that acts on the verdicts is in
//! [`crate::lifecycle`].

pub mod gates;
pub mod stats;
