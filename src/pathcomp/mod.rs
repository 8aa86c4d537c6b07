//! Path computation: pure functions over the TE graph (no I/O, no locks).
//!
//! - `cspf`: constrained shortest path on latency / IGP / TE / hop count, with
//!   bandwidth, admin groups, exclusions and an exact latency bound.
//! - `k_shortest`: Yen's k loopless paths.
//! - `disjoint_pair` / `disjoint_from`: link-, node- or SRLG-disjoint paths.
//! - `compress`: the shortest SID list that steers traffic along a path.
//! - `optical`: 400ZR routing, spectrum assignment and OSNR feasibility.

mod cspf;
mod disjoint;
mod graph;
pub mod optical;
mod sids;
mod yen;

#[cfg(test)]
mod tests;

pub use cspf::{cspf, Constraints, Metric, Path, PathError};
pub use disjoint::{disjoint_from, disjoint_pair, Disjointness};
pub use graph::{EdgeId, NodeId, TeEdge, TeGraph, TeNode, ADJ_SID_BASE};
pub use sids::{compress, compress_with, expand, IgpSpf, Segment};
pub use yen::k_shortest;
