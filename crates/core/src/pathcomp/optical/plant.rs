//! The physical attributes of a fiber link: fiber kind, loss, dispersion,
//! span plan and amplifiers, with Strata's long-standing assumptions as
//! defaults. Plain data for `physics.rs`.

use serde::{Deserialize, Serialize};

/// Kinds of fiber whose constants the topology file can name instead of
/// giving them one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FiberType {
    /// ITU-T G.652 standard single-mode fiber.
    #[serde(rename = "SSMF")]
    Ssmf,
    /// ITU-T G.655 non-zero dispersion-shifted fiber.
    #[serde(rename = "NZDSF")]
    Nzdsf,
}

/// Per-kind constants: (dispersion ps/nm/km, effective area µm²). Both from
/// GNPy's example equipment library (`eqpt_config.json`, Fiber "SSMF":
/// 1.67e-5 s/m², 83e-12 m²; "NZDF": 0.5e-5 s/m², 72e-12 m²), which is what
/// the GNPy oracle test compares against.
impl FiberType {
    pub fn dispersion_ps_nm_km(self) -> f64 {
        match self {
            FiberType::Ssmf => 16.7,
            FiberType::Nzdsf => 5.0,
        }
    }

    pub fn effective_area_um2(self) -> f64 {
        match self {
            FiberType::Ssmf => 83.0,
            FiberType::Nzdsf => 72.0,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FiberType::Ssmf => "SSMF",
            FiberType::Nzdsf => "NZDSF",
        }
    }
}

/// Default amplifier spacing: a fiber without a span plan is cut into
/// ⌈length/80⌉ equal amplified spans (what Strata always assumed).
pub const DEFAULT_SPAN_KM: f64 = 80.0;
/// Cabled SSMF with splices, Strata's long-standing planning value.
pub const DEFAULT_LOSS_DB_PER_KM: f64 = 0.22;
pub const DEFAULT_AMP_NOISE_FIGURE_DB: f64 = 5.5;
/// Per-channel power the line amplifiers launch into every span.
pub const DEFAULT_LAUNCH_DBM: f64 = 0.0;
/// 0.04 ps/√km: GNPy's SSMF `pmd_coef` 1.265e-15 s/√m, a typical modern
/// cable (ITU-T G.652.D's link design value is 0.2 ps/√km).
pub const DEFAULT_PMD_PS_PER_SQRT_KM: f64 = 0.04;

/// What light meets on one fiber link, from end a to end b: spans of fiber
/// each followed by an amplifier that restores the launch power.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiberPlant {
    pub fiber_type: FiberType,
    pub loss_db_per_km: f64,
    pub dispersion_ps_nm_km: f64,
    pub effective_area_um2: f64,
    pub pmd_ps_per_sqrt_km: f64,
    /// Span lengths in order from a to b; they add up to the link's length.
    pub spans_km: Vec<f64>,
    pub amp_noise_figure_db: f64,
    /// Per-channel launch power into each span (the line amplifiers' target).
    pub launch_dbm: f64,
    /// Connector and patch-panel loss per span.
    pub connector_loss_db: f64,
    /// End-of-life allowance per span (ageing, future repair splices).
    pub eol_margin_db: f64,
    /// Polarization-dependent loss of the whole link (amplifiers, ROADM).
    pub pdl_db: f64,
}

impl FiberPlant {
    /// Today's assumptions for a fiber of `length_km`: SSMF, 0.22 dB/km,
    /// ⌈length/80⌉ equal spans, NF 5.5 dB, 0 dBm per channel, no connector,
    /// ageing or PDL allowance.
    pub fn defaults(length_km: f64) -> Self {
        FiberPlant {
            fiber_type: FiberType::Ssmf,
            loss_db_per_km: DEFAULT_LOSS_DB_PER_KM,
            dispersion_ps_nm_km: FiberType::Ssmf.dispersion_ps_nm_km(),
            effective_area_um2: FiberType::Ssmf.effective_area_um2(),
            pmd_ps_per_sqrt_km: DEFAULT_PMD_PS_PER_SQRT_KM,
            spans_km: equal_spans(length_km),
            amp_noise_figure_db: DEFAULT_AMP_NOISE_FIGURE_DB,
            launch_dbm: DEFAULT_LAUNCH_DBM,
            connector_loss_db: 0.0,
            eol_margin_db: 0.0,
            pdl_db: 0.0,
        }
    }

    pub fn length_km(&self) -> f64 {
        self.spans_km.iter().sum()
    }
}

/// ⌈length/80⌉ equal spans (one for a zero-length fiber).
pub fn equal_spans(length_km: f64) -> Vec<f64> {
    let length_km = if length_km.is_finite() {
        length_km.max(0.0)
    } else {
        0.0
    };
    // `as` saturates; lengths are validated finite and far below usize::MAX
    let n = ((length_km / DEFAULT_SPAN_KM).ceil() as usize).max(1);
    vec![length_km / n as f64; n]
}
