//! SID-list compression. A node (prefix) SID for N means "follow the IGP
//! shortest path(s) to N"; the explicit path is spelled with the fewest
//! segments by taking, from each position, the farthest node the IGP would
//! reach along exactly this path (unique shortest path, no ECMP), and an
//! adjacency SID where even the next hop is not that.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Mutex;

use super::cspf::{Path, PathError};
use super::graph::{EdgeId, NodeId, TeGraph};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    Node { node: NodeId, label: u32 },
    Adjacency { edge: EdgeId, label: u32 },
}

/// IGP shortest-path trees per source, computed on demand and cached (over
/// all up edges, unconstrained: that is what prefix SIDs follow).
pub struct IgpSpf<'g> {
    g: &'g TeGraph,
    trees: Mutex<HashMap<NodeId, Tree>>,
}

#[derive(Clone)]
struct Tree {
    dist: Vec<u64>,
    /// Number of distinct equal-cost shortest paths (saturating at 2).
    count: Vec<u8>,
}

impl<'g> IgpSpf<'g> {
    pub fn new(g: &'g TeGraph) -> Self {
        IgpSpf {
            g,
            trees: Mutex::new(HashMap::new()),
        }
    }

    fn tree(&self, src: NodeId) -> Tree {
        let mut trees = self.trees.lock().unwrap_or_else(|e| e.into_inner());
        trees.entry(src).or_insert_with(|| spf(self.g, src)).clone()
    }
}

fn spf(g: &TeGraph, src: NodeId) -> Tree {
    let n = g.nodes.len();
    let mut dist = vec![u64::MAX; n];
    let mut count = vec![0u8; n];
    let mut heap = BinaryHeap::new();
    dist[src] = 0;
    count[src] = 1;
    heap.push(Reverse((0u64, src)));
    while let Some(Reverse((d, u))) = heap.pop() {
        if d != dist[u] {
            continue;
        }
        for &e in g.out_edges(u) {
            let edge = &g.edges[e];
            if !edge.up {
                continue;
            }
            let nd = d + u64::from(edge.igp_metric.max(1));
            let v = edge.to;
            if nd < dist[v] {
                dist[v] = nd;
                count[v] = count[u];
                heap.push(Reverse((nd, v)));
            } else if nd == dist[v] {
                count[v] = count[v].saturating_add(count[u]).min(2);
            }
        }
    }
    Tree { dist, count }
}

/// Is `edges` (a sub-path starting at its first edge's tail) the one and only
/// IGP shortest path between its ends?
fn unique_shortest(g: &TeGraph, tree: &Tree, edges: &[EdgeId]) -> bool {
    let Some(last) = edges.last() else {
        return false;
    };
    let end = g.edges[*last].to;
    let cost: u64 = edges
        .iter()
        .map(|e| u64::from(g.edges[*e].igp_metric.max(1)))
        .sum();
    tree.dist[end] == cost && tree.count[end] == 1 && edges.iter().all(|e| g.edges[*e].up)
}

pub fn compress(
    g: &TeGraph,
    path: &Path,
    max_depth: Option<usize>,
) -> Result<Vec<Segment>, PathError> {
    compress_with(&IgpSpf::new(g), path, max_depth)
}

pub fn compress_with(
    spf: &IgpSpf<'_>,
    path: &Path,
    max_depth: Option<usize>,
) -> Result<Vec<Segment>, PathError> {
    let g = spf.g;
    let mut segments = Vec::new();
    let mut i = 0;
    while i < path.edges.len() {
        let start = g.edges[path.edges[i]].from;
        let tree = spf.tree(start);
        // farthest j such that edges[i..=j] is the unique shortest path and the
        // node at its end has a node SID
        let mut best = None;
        for j in i..path.edges.len() {
            if !unique_shortest(g, &tree, &path.edges[i..=j]) {
                break;
            }
            let end = g.edges[path.edges[j]].to;
            if let Some(label) = g.nodes[end].node_sid {
                best = Some((j, end, label));
            }
        }
        match best {
            Some((j, node, label)) => {
                segments.push(Segment::Node { node, label });
                i = j + 1;
            }
            None => {
                let e = path.edges[i];
                segments.push(Segment::Adjacency {
                    edge: e,
                    label: g.edges[e].adj_sid,
                });
                i += 1;
            }
        }
    }
    if let Some(max) = max_depth {
        if segments.len() > max {
            return Err(PathError::SidDepth {
                needed: segments.len(),
                max,
            });
        }
    }
    Ok(segments)
}

/// Expands segments back into the edges they forward over, for checks.
pub fn expand(g: &TeGraph, src: NodeId, segments: &[Segment]) -> Option<Vec<EdgeId>> {
    let mut at = src;
    let mut out = Vec::new();
    for s in segments {
        match *s {
            Segment::Adjacency { edge, .. } => {
                if g.edges.get(edge)?.from != at {
                    return None;
                }
                out.push(edge);
                at = g.edges[edge].to;
            }
            Segment::Node { node, .. } => {
                // walk the unique shortest path backwards from node to at
                let tree = spf(g, at);
                if tree.count.get(node).copied()? != 1 {
                    return None;
                }
                let mut rev = Vec::new();
                let mut cur = node;
                while cur != at {
                    let e = g
                        .edges
                        .iter()
                        .enumerate()
                        .find(|(_, e)| {
                            e.up && e.to == cur
                                && tree.dist[e.from] != u64::MAX
                                && tree.dist[e.from] + u64::from(e.igp_metric.max(1))
                                    == tree.dist[cur]
                        })
                        .map(|(i, _)| i)?;
                    rev.push(e);
                    cur = g.edges[e].from;
                }
                rev.reverse();
                out.extend(rev);
                at = node;
            }
        }
    }
    Some(out)
}
