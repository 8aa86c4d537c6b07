//! Southbound: one gNMI session task per device. Each connects, checks the
//! device's Capabilities, subscribes to its telemetry, and serialises the Sets
//! and Gets the controller sends it; on any failure it reconnects with capped,
//! jittered backoff. Sessions share nothing, so a slow or dead device never
//! holds up another. `request` turns render's edits into Sets, `facts`
//! discovers what a device is made of.

pub mod backoff;
pub mod coalesce;
mod codec;
pub mod credentials;
pub mod facts;
pub mod fence;
pub mod request;
pub mod session;

pub use session::{DeviceTarget, SessionConfig, Southbound, SouthboundError};
