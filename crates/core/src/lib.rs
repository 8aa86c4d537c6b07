//! Strata's pure core: the fabric model, topology files, and path
//! computation. Synchronous and free of I/O, protobuf and locks, so every
//! planner above it can be tested (and dry-run) without a network.

pub mod model;
pub mod pathcomp;
pub mod render;
pub mod topology;
