//! Strata: a software-defined network controller for metro DCI fabrics.
//!
//! See `../shared/DESIGN.md` for the rooms and the one-way data flow.

pub mod gnmi;
pub mod lab;
pub mod model;
pub mod proto;
pub mod southbound;
pub mod state;
pub mod telemetry;
pub mod topology;

#[path = "../simulators/mod.rs"]
pub mod simulators;
