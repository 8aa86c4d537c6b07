//! `strata bench`: one module per suite, each measuring Strata against an
//! in-run peer and printing a table.

// Production code answers bad input and failed I/O with errors, never a
// panic (tests may unwrap).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

// Suites address the layers as they did inside the single crate.
pub(crate) use strata_core::{model, render};
pub(crate) use strata_daemon::{controller, daemon, gnmi, proto, security, southbound, telemetry};
pub(crate) use strata_lab as lab;
pub(crate) use strata_sim as simulators;

pub mod ingest;
pub mod memory;
pub mod networkx;
pub mod pathcomp;
pub mod plot;
pub mod provision;
pub mod reroute;
pub mod rng;

pub use reroute::{generated_fabric, print_header, print_row, reroute};
