//! `strata bench`: one module per suite, each measuring Strata against an
//! in-run peer and printing a table.

pub mod ingest;
pub mod memory;
pub mod networkx;
pub mod pathcomp;
pub mod plot;
pub mod provision;
pub mod reroute;
pub mod rng;

pub use reroute::{generated_fabric, print_header, print_row, reroute};
