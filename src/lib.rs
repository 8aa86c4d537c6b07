//! Strata: a software-defined network controller for metro DCI fabrics.
//!
//! See `../shared/DESIGN.md` for the rooms and the one-way data flow.

pub mod bench;
pub mod controller;
pub mod daemon;
pub mod gnmi;
pub mod lab;
pub mod metrics;
pub mod model;
pub mod net;
pub mod northbound;
pub mod otel;
pub mod pathcomp;
pub mod proto;
pub mod render;
pub mod southbound;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod topology;
pub mod watch;

#[path = "../simulators/mod.rs"]
pub mod simulators;
