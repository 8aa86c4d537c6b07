//! Whether a route is long enough to break a mode: an ASE-limited OSNR
//! estimate and the modes' requirements.

/// Amplifier spacing: a fiber is cut into ⌈len/80⌉ equal amplified spans.
pub const SPAN_KM: f64 = 80.0;
pub const FIBER_LOSS_DB_PER_KM: f64 = 0.22;
pub const AMP_NOISE_FIGURE_DB: f64 = 5.5;
/// Per-channel launch power into every span.
pub const LAUNCH_DBM: f64 = 0.0;

/// ASE-limited OSNR (0.1 nm) at the end of a chain of fibers. Every span adds
/// noise proportional to its linear loss and noise adds linearly across all
/// spans of all fibers:
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

/// A transceiver operational mode and the OSNR it needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Mode {
    pub id: u16,
    pub name: &'static str,
    /// Required OSNR (dB, 0.1 nm) for error-free operation after FEC.
    pub required_osnr_db: f64,
}

pub const MODES: &[Mode] = &[
    Mode {
        id: 1,
        name: "400ZR DP-16QAM cFEC",
        required_osnr_db: 26.0,
    },
    Mode {
        id: 2,
        name: "400ZR+ DP-16QAM oFEC",
        required_osnr_db: 24.0,
    },
    Mode {
        id: 3,
        name: "300G DP-8QAM oFEC",
        required_osnr_db: 21.0,
    },
    Mode {
        id: 4,
        name: "200G DP-QPSK oFEC",
        required_osnr_db: 17.0,
    },
];

pub fn mode(id: u16) -> Option<&'static Mode> {
    MODES.iter().find(|m| m.id == id)
}
