//! Sequential tests: always-valid p-values and confidence sequences.
//!
//! The normal mixture SPRT (Robbins; Johari, Pekelis and Walsh, "Always valid
//! inference", 2017) for an asymptotically normal estimate `θ̂` with variance
//! `V`: with a `N(θ₀, τ²)` mixture over the alternative,
//! `Λ = √(V/(V+τ²)) · exp(τ²(θ̂−θ₀)² / (2V(V+τ²)))` is a martingale under the
//! null, so `P(sup Λ ≥ 1/α) ≤ α` however often one looks. The always-valid
//! p-value is `p_n = min(p_{n−1}, 1/Λ_n)`: it never rises. Guardrails use the
//! one-sided (half-normal) mixture. [`formulas`] holds the closed forms,
//! [`monitor`] the stateful test a rollout gate keeps between looks.

pub mod formulas;
pub mod monitor;

pub use formulas::{
    ln_mixture_ratio, ln_mixture_ratio_one_sided, one_sided_radius, optimal_mixing_variance,
    two_sided_radius,
};
pub use monitor::{SequentialConfig, SequentialLook, SequentialState, SequentialTest};
