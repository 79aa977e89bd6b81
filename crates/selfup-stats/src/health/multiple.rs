//! Benjamini–Hochberg control of the false discovery rate across many metrics.

use crate::error::{Result, StatsError};

/// BH-adjusted p-values (q-values), in the input order:
/// `q_(i) = min_{j ≥ i} min(1, m·p_(j)/j)` over the sorted p-values.
pub fn benjamini_hochberg(p_values: &[f64]) -> Result<Vec<f64>> {
    if p_values.iter().any(|p| !(0.0..=1.0).contains(p)) {
        return Err(StatsError::invalid("p-values", "numbers in [0, 1]"));
    }
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut adjusted = vec![0.0; m];
    let mut running = 1.0f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        running = running.min(p_values[i] * m as f64 / (rank + 1) as f64);
        adjusted[i] = running.min(1.0);
    }
    Ok(adjusted)
}

/// Which hypotheses BH rejects at false discovery rate `q`.
pub fn benjamini_hochberg_reject(p_values: &[f64], q: f64) -> Result<Vec<bool>> {
    crate::error::check_open_unit("q", q)?;
    Ok(benjamini_hochberg(p_values)?
        .into_iter()
        .map(|a| a <= q)
        .collect())
}
