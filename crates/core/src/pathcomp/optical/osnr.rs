//! The ASE-only OSNR estimate Strata used before the physical-layer model
//! (`physics.rs`). Kept because the simulators compute their telemetry OSNR
//! the same way, and a test holds the two together: the model's ASE term
//! must reduce to it on default spans.

pub use super::plant::{
    DEFAULT_AMP_NOISE_FIGURE_DB as AMP_NOISE_FIGURE_DB, DEFAULT_LAUNCH_DBM as LAUNCH_DBM,
    DEFAULT_LOSS_DB_PER_KM as FIBER_LOSS_DB_PER_KM, DEFAULT_SPAN_KM as SPAN_KM,
};

/// ASE-limited OSNR (0.1 nm) at the end of a chain of fibers on default
/// spans. Every span adds noise proportional to its linear loss and noise
/// adds linearly across all spans of all fibers:
/// OSNR = 58 + P − NF − 10·log10(Σ_spans 10^(L_span/10)).
/// For one fiber of N equal spans this is the textbook
/// 58 + P − NF − L_span − 10·log10(N) the simulators use.
pub fn estimated_osnr_db(fiber_lengths_km: &[f64]) -> f64 {
    let noise: f64 = fiber_lengths_km
        .iter()
        .map(|&len| {
            let len = len.max(0.0);
            let spans = (len / SPAN_KM).ceil().max(1.0);
            let span_loss_db = (len / spans) * FIBER_LOSS_DB_PER_KM;
            spans * 10f64.powf(span_loss_db / 10.0)
        })
        .sum();
    // no fiber at all: back-to-back, one lossless span's worth of noise
    58.0 + LAUNCH_DBM - AMP_NOISE_FIGURE_DB - 10.0 * noise.max(1.0).log10()
}
