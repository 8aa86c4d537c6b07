//! Strata's pure core: the fabric model, topology files, and path
//! computation. Synchronous and free of I/O, protobuf and locks, so every
//! planner above it can be tested (and dry-run) without a network.

// Production code answers bad input and failed I/O with errors, never a
// panic (tests may unwrap).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod intent;
pub mod model;
pub mod object;
pub mod pathcomp;
pub mod plan;
pub mod render;
pub mod suggest;
pub mod topology;
