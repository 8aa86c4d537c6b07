//! The Strata controller daemon: the execution pipeline that turns intents
//! and link conditions into device changes, the northbound `strata.v1` API,
//! the southbound gNMI sessions, the intent journal, telemetry ingest and the
//! closed loop — and `daemon::Daemon`, the one wiring every binary, lab, test
//! and bench starts.

// Production code answers bad input and failed I/O with errors, never a
// panic (tests may unwrap).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

// The pure layers below, under the names the modules use for them.
pub use strata_core::{intent, model, object, pathcomp, plan, render, suggest, topology};
pub use strata_gnmi::{self as gnmi, net};
pub use strata_proto as proto;

pub mod audit;
pub mod config;
pub mod controller;
pub mod daemon;
pub mod metrics;
pub mod northbound;
pub mod otel;
pub mod replica;
pub mod security;
pub mod shutdown;
pub mod southbound;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod web;
