//! The `strata` command's library: the operator's live view (`strata watch`)
//! and, for the integration tests, the workspace's crates under one roof.
//!
//! The crates, from the bottom up (dependencies point down only):
//! `strata-core` (model, topology, pathcomp), `strata-proto` (wire types),
//! `strata-gnmi` (path codec, data tree), `strata-daemon` (pipeline,
//! northbound, southbound, journal, telemetry, closed loop), `strata-sim`
//! (simulated devices), `strata-lab`, `strata-bench`. See
//! `docs/architecture.md`.

// Production code answers bad input and failed I/O with errors, never a
// panic (tests may unwrap).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub use strata_bench as bench;
pub use strata_core::{intent, model, object, pathcomp, plan, topology};
pub use strata_daemon::{
    config, controller, daemon, gnmi, metrics, net, northbound, otel, proto, render, replica,
    security, southbound, state, store, telemetry,
};
pub use strata_lab as lab;
pub use strata_sim as simulators;

pub mod drain;
pub mod pages;
pub mod topo;
pub mod watch;
pub mod whatif;
