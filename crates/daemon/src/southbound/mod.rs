//! Southbound: one gNMI session task per device. Each connects, checks the
//! device's Capabilities, subscribes to its telemetry, and serialises the Sets
//! and Gets the controller sends it; on any failure it reconnects with capped,
//! jittered backoff. Sessions share nothing, so a slow or dead device never
//! holds up another.

pub mod backoff;
pub mod coalesce;
mod codec;
pub mod session;

pub use session::{DeviceTarget, SessionConfig, Southbound, SouthboundError};
