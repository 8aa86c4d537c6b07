//! Path computation: pure functions over the TE graph (no I/O, no async, no
//! locks). Every answer is deterministic: paths are ordered by metric cost,
//! then latency, then hop count, then their edge-id sequence.
//!
//! - `cspf`: constrained shortest path on latency / IGP / TE / hop count, with
//!   bandwidth, admin groups, exclusions and an exact latency bound.
//! - `k_shortest`: Yen's k loopless paths under the same constraints.
//! - `disjoint_pair` / `disjoint_from`: link-, node- or SRLG-disjoint paths.
//! - `compress`: the fewest SIDs that steer traffic along a path.
//! - `optical`: 400ZR routing, spectrum assignment and OSNR feasibility.

mod compact;
mod constraints;
mod cspf;
mod disjoint;
mod graph;
pub mod optical;
mod path;
mod rcsp;
mod search;
mod sids;
mod suurballe;
mod view;
mod yen;

#[cfg(test)]
mod tests;

pub use constraints::{edge_cost, Constraints, Metric};
pub use cspf::{cspf, cspf_with, SID_DEPTH_CANDIDATES};
pub use disjoint::{are_disjoint, disjoint_from, disjoint_pair, Disjointness, PAIR_CANDIDATES};
pub use graph::{EdgeId, EdgeState, Edges, NodeId, TeEdge, TeGraph, TeNode, ADJ_SID_BASE};
pub use path::{Path, PathError};
pub use sids::{compress, compress_with, expand, IgpSpf, IgpTrees, Segment};
pub use yen::k_shortest;
