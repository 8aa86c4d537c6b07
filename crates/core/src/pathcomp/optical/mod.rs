//! The fiber layer: routes by length, a physical-layer model of what a
//! channel meets on them (ASE, GN-model NLI, transmitter noise, CD, PMD,
//! PDL), operational modes as data, and first-fit spectrum assignment on
//! the 75 GHz grid. See `docs/optical.md`.

mod feasibility;
mod grid;
mod modes;
mod physics;
mod plant;
mod rwa;

pub use feasibility::{live, planned, RouteFiber};
pub use grid::{channel_frequency_mhz, channel_index, Spectrum, CHANNEL_COUNT};
pub use modes::{all_mode_ids, mode, penalty_at, ranked, Mode, ModeId, PenaltyCurve, MODES};
pub use physics::{
    channel_budget, dbm_to_w, full_band, judge, span_ase_nsr, span_loss_db, span_nli_nsr,
    thousands, Budget, Carrier, Hop, Limit, Verdict, PLANCK_J_S, REF_BANDWIDTH_HZ,
};
pub use plant::{
    equal_spans, FiberPlant, FiberType, DEFAULT_AMP_NOISE_FIGURE_DB, DEFAULT_LAUNCH_DBM,
    DEFAULT_LOSS_DB_PER_KM, DEFAULT_SPAN_KM,
};
pub use rwa::{plan_wavelength, Ask, FiberGraph, RwaError, WavelengthPlan};
