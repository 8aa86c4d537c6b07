//! 400ZR over the fiber layer: routes by length, OSNR feasibility per mode,
//! and first-fit spectrum assignment on the 75 GHz grid.

mod grid;
mod osnr;
mod rwa;

pub use grid::{channel_frequency_mhz, channel_index, Spectrum, CHANNEL_COUNT};
pub use osnr::{
    estimated_osnr_db, mode, Mode, AMP_NOISE_FIGURE_DB, FIBER_LOSS_DB_PER_KM, LAUNCH_DBM, MODES,
    SPAN_KM,
};
pub use rwa::{plan_wavelength, FiberGraph, RwaError, WavelengthPlan};
