//! Device simulators: real gNMI servers holding OpenConfig-shaped trees, one
//! loopback port per device, with fault injection. `strata sim`, the lab, the
//! tests and the benches use them; the production crates never do.

// Production code answers bad input and failed I/O with errors, never a
// panic (tests may unwrap).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

// Paths inside the crate keep their `crate::simulators::…` form.
extern crate self as simulators;
pub(crate) use strata_core::model;
pub(crate) use strata_gnmi::{self as gnmi, net};
pub(crate) use strata_proto as proto;

pub mod arbitration;
pub mod control;
pub mod device;
pub mod fabric;
pub mod killable;
pub mod outbound;
pub mod physics;
pub mod schemas;
pub mod server;
pub mod set_log;
