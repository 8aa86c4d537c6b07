//! A computed path, its deterministic order, and what can go wrong.

use std::collections::BTreeSet;

use super::constraints::{edge_cost, Metric};
use super::graph::{EdgeId, NodeId, TeGraph};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub edges: Vec<EdgeId>,
    /// Source first, destination last: `edges.len() + 1` nodes.
    pub nodes: Vec<NodeId>,
    /// Total of the metric the path was computed on.
    pub cost: u64,
    pub latency_us: u64,
}

impl Path {
    /// Builds a path from a chain of edges starting at `src`, costed on
    /// `metric`. Edge ids must be edges of `g` (unknown ones are skipped).
    pub fn from_edges(g: &TeGraph, src: NodeId, edges: Vec<EdgeId>, metric: Metric) -> Path {
        let mut nodes = Vec::with_capacity(edges.len() + 1);
        nodes.push(src);
        let (mut cost, mut latency) = (0u64, 0u64);
        for e in edges.iter().filter_map(|&e| g.edges.get(e)) {
            nodes.push(e.to);
            cost = cost.saturating_add(edge_cost(e, metric));
            latency = latency.saturating_add(u64::from(e.latency_us));
        }
        Path {
            edges,
            nodes,
            cost,
            latency_us: latency,
        }
    }

    pub fn links(&self, g: &TeGraph) -> Vec<String> {
        self.edges
            .iter()
            .filter_map(|e| g.edges.get(*e))
            .map(|e| e.link.clone())
            .collect()
    }

    pub fn node_names(&self, g: &TeGraph) -> Vec<String> {
        self.nodes
            .iter()
            .filter_map(|n| g.nodes.get(*n))
            .map(|n| n.name.clone())
            .collect()
    }

    pub fn srlgs(&self, g: &TeGraph) -> BTreeSet<u32> {
        self.edges
            .iter()
            .filter_map(|e| g.edges.get(*e))
            .flat_map(|e| e.srlgs.iter().copied())
            .collect()
    }

    /// Nodes strictly between the endpoints.
    pub fn transit(&self) -> &[NodeId] {
        match self.nodes.len() {
            0..=2 => &[],
            n => &self.nodes[1..n - 1],
        }
    }

    /// The deterministic order every result follows: cost, then latency, then
    /// hop count, then the edge-id sequence lexicographically.
    pub fn sort_key(&self) -> (u64, u64, usize, Vec<EdgeId>) {
        (
            self.cost,
            self.latency_us,
            self.edges.len(),
            self.edges.clone(),
        )
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PathError {
    #[error("unknown node {0:?}")]
    UnknownNode(String),
    #[error("no path from {from} to {to}: {reason}")]
    NoPath {
        from: String,
        to: String,
        reason: String,
    },
    #[error("paths exist, but the lowest-latency one takes {best_us} µs, over the bound of {bound_us} µs")]
    LatencyBound { best_us: u64, bound_us: u64 },
    #[error("no {kind}-disjoint path: {reason}")]
    NotDisjoint { kind: String, reason: String },
    #[error("the path needs {needed} SIDs, more than the maximum SID depth {max}")]
    SidDepth { needed: usize, max: usize },
}

pub(crate) fn node_name(g: &TeGraph, n: NodeId) -> String {
    g.nodes
        .get(n)
        .map(|x| x.name.clone())
        .unwrap_or_else(|| format!("#{n}"))
}

/// The checks every request starts with: both endpoints exist and differ.
pub(crate) fn check_endpoints(g: &TeGraph, src: NodeId, dst: NodeId) -> Result<(), PathError> {
    for n in [src, dst] {
        if n >= g.nodes.len() {
            return Err(PathError::UnknownNode(node_name(g, n)));
        }
    }
    if src == dst {
        return Err(PathError::NoPath {
            from: node_name(g, src),
            to: node_name(g, dst),
            reason: "source and destination are the same node".into(),
        });
    }
    Ok(())
}
