//! The fiber layer: routes by length, a physical-layer model of what a
//! channel meets on them (ASE, GN-model NLI, transmitter noise, CD, PMD,
//! PDL), operational modes as data, and first-fit spectrum assignment on
//! the 75 GHz grid. See `docs/optical.md`.

mod grid;
mod modes;
mod osnr;
mod physics;
mod plant;
mod rwa;

pub use grid::{channel_frequency_mhz, channel_index, Spectrum, CHANNEL_COUNT};
pub use modes::{all_mode_ids, mode, penalty_at, ranked, Mode, ModeId, PenaltyCurve, MODES};
pub use osnr::{estimated_osnr_db, AMP_NOISE_FIGURE_DB, FIBER_LOSS_DB_PER_KM, LAUNCH_DBM, SPAN_KM};
pub use physics::{
    channel_budget, dbm_to_w, full_band, judge, span_ase_nsr, span_loss_db, span_nli_nsr,
    thousands, Budget, Carrier, Hop, Limit, Verdict, PLANCK_J_S, REF_BANDWIDTH_HZ,
};
pub use plant::{equal_spans, FiberPlant, FiberType};
pub use rwa::{plan_wavelength, FiberGraph, RwaError, WavelengthPlan};
