//! SID-list compression. A node (prefix) SID for N means "forward along the
//! IGP shortest path(s) to N" — over every up edge, on the IGP metric, with
//! no regard for TE constraints. An explicit path is spelled with the fewest
//! segments by taking, from each position, the farthest node the IGP would
//! reach along exactly this path (the sub-path is the *unique* IGP shortest
//! path, so no ECMP split can stray), and an adjacency SID where not even
//! the next hop qualifies.
//!
//! Greedy is optimal here: a sub-path of a unique shortest path is itself a
//! unique shortest path, so the farthest point reachable in one segment only
//! moves forward as the start does, and jumping farthest never loses.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use super::graph::{EdgeId, NodeId, TeGraph};
use super::path::{node_name, Path, PathError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    Node { node: NodeId, label: u32 },
    Adjacency { edge: EdgeId, label: u32 },
}

impl Segment {
    pub fn label(&self) -> u32 {
        match *self {
            Segment::Node { label, .. } | Segment::Adjacency { label, .. } => label,
        }
    }
}

/// The IGP weight of an edge: zero is read as 1, as IS-IS and OSPF would.
fn igp(g: &TeGraph, e: EdgeId) -> u64 {
    u64::from(g.edges[e].igp_metric.max(1))
}

/// One source's IGP shortest-path DAG, summarised.
#[derive(Debug, Clone)]
struct Tree {
    dist: Vec<u64>,
    /// How many distinct shortest paths reach each node, saturating at 2:
    /// all that matters is "exactly one".
    count: Vec<u8>,
    /// The last edge of a shortest path to each node — *the* last edge
    /// when `count` is 1.
    via: Vec<EdgeId>,
}

/// IGP shortest-path trees per source, computed on first use and kept, so
/// compressing many paths on one graph costs one SPF per distinct source.
/// Holds the graph borrowed: a change to the graph needs a new `IgpSpf`.
pub struct IgpSpf<'g> {
    g: &'g TeGraph,
    trees: HashMap<NodeId, Tree>,
}

/// IGP trees taken out of an `IgpSpf` to be resumed on another graph with
/// the same IGP view — a what-if's fresh copy of the fabric: failures prune
/// edges and move reservations, neither of which the IGP sees.
#[derive(Debug, Clone, Default)]
pub struct IgpTrees {
    /// What the trees were computed on: every edge's ends, IGP metric and
    /// adjacency state, in edge order (which is also adjacency order).
    view: Vec<(NodeId, NodeId, u32, bool)>,
    nodes: usize,
    trees: HashMap<NodeId, Tree>,
}

/// At most this many trees are kept (each is three node-sized arrays).
const KEPT_TREES: usize = 4096;

fn igp_view(g: &TeGraph) -> Vec<(NodeId, NodeId, u32, bool)> {
    g.edges
        .iter()
        .map(|e| (e.from, e.to, e.igp_metric, e.up))
        .collect()
}

impl<'g> IgpSpf<'g> {
    pub fn new(g: &'g TeGraph) -> Self {
        IgpSpf {
            g,
            trees: HashMap::new(),
        }
    }

    /// As `new`, starting with `kept`'s trees if they were computed on the
    /// same IGP view as `g` (else none).
    pub fn resume(g: &'g TeGraph, kept: IgpTrees) -> Self {
        let same = kept.nodes == g.nodes.len() && kept.view == igp_view(g);
        IgpSpf {
            g,
            trees: if same { kept.trees } else { HashMap::new() },
        }
    }

    /// The trees computed so far, to resume on a graph with the same IGP
    /// view (bounded: past `KEPT_TREES`, none are kept).
    pub fn keep(self) -> IgpTrees {
        let trees = if self.trees.len() > KEPT_TREES {
            HashMap::new()
        } else {
            self.trees
        };
        IgpTrees {
            view: igp_view(self.g),
            nodes: self.g.nodes.len(),
            trees,
        }
    }

    pub fn graph(&self) -> &'g TeGraph {
        self.g
    }

    fn tree(&mut self, src: NodeId) -> &Tree {
        let g = self.g;
        self.trees.entry(src).or_insert_with(|| spf(g, src))
    }

    /// The IGP distance from `src` to `dst` and whether exactly one shortest
    /// path achieves it (`None` if unreachable).
    pub fn distance(&mut self, src: NodeId, dst: NodeId) -> Option<(u64, bool)> {
        if src >= self.g.nodes.len() || dst >= self.g.nodes.len() {
            return None;
        }
        let t = self.tree(src);
        (t.dist[dst] != u64::MAX).then(|| (t.dist[dst], t.count[dst] == 1))
    }

    /// The unique IGP shortest path from `src` to `dst`, if it is unique.
    pub fn unique_path(&mut self, src: NodeId, dst: NodeId) -> Option<Vec<EdgeId>> {
        let (_, unique) = self.distance(src, dst)?;
        if !unique {
            return None;
        }
        let g = self.g;
        let t = self.tree(src);
        let mut edges = Vec::new();
        let mut at = dst;
        while at != src {
            let e = *t.via.get(at)?;
            if e == usize::MAX || edges.len() > g.nodes.len() {
                return None;
            }
            edges.push(e);
            at = g.edges[e].from;
        }
        edges.reverse();
        Some(edges)
    }
}

/// Dijkstra counting shortest paths. IGP weights are ≥ 1, so every
/// predecessor on a shortest path settles (with its final count) before the
/// node it leads to.
fn spf(g: &TeGraph, src: NodeId) -> Tree {
    let n = g.nodes.len();
    let mut t = Tree {
        dist: vec![u64::MAX; n],
        count: vec![0; n],
        via: vec![usize::MAX; n],
    };
    let mut heap = BinaryHeap::new();
    t.dist[src] = 0;
    t.count[src] = 1;
    heap.push(Reverse((0u64, src)));
    while let Some(Reverse((d, u))) = heap.pop() {
        if d != t.dist[u] {
            continue;
        }
        for &e in g.out_edges(u) {
            if !g.edges[e].up {
                continue;
            }
            let v = g.edges[e].to;
            let nd = d.saturating_add(igp(g, e));
            if nd < t.dist[v] {
                t.dist[v] = nd;
                t.count[v] = t.count[u];
                t.via[v] = e;
                heap.push(Reverse((nd, v)));
            } else if nd == t.dist[v] {
                t.count[v] = t.count[v].saturating_add(t.count[u]).min(2);
            }
        }
    }
    t
}

/// The fewest segments that steer traffic along `path`; `SidDepth` if that
/// is more than `max_depth`. See the module comment for the rules.
pub fn compress(
    g: &TeGraph,
    path: &Path,
    max_depth: Option<usize>,
) -> Result<Vec<Segment>, PathError> {
    compress_with(&mut IgpSpf::new(g), path, max_depth)
}

/// `compress` with a shared SPF cache, for many paths on one graph.
pub fn compress_with(
    spf: &mut IgpSpf<'_>,
    path: &Path,
    max_depth: Option<usize>,
) -> Result<Vec<Segment>, PathError> {
    let g = spf.g;
    check_chain(g, path)?;
    let mut segments = Vec::new();
    let mut i = 0;
    while i < path.edges.len() {
        let start = path.nodes[i];
        let tree = spf.tree(start);
        // farthest j such that edges[i..=j] is the unique shortest path from
        // start, ending at a node with a SID
        let mut best = None;
        let mut cost = 0u64;
        for j in i..path.edges.len() {
            let e = path.edges[j];
            let end = g.edges[e].to;
            cost = cost.saturating_add(igp(g, e));
            let unique = g.edges[e].up && tree.dist[end] == cost && tree.count[end] == 1;
            if !unique {
                break;
            }
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
                let edge = path.edges[i];
                segments.push(Segment::Adjacency {
                    edge,
                    label: g.edges[edge].adj_sid,
                });
                i += 1;
            }
        }
    }
    match max_depth {
        Some(max) if segments.len() > max => Err(PathError::SidDepth {
            needed: segments.len(),
            max,
        }),
        _ => Ok(segments),
    }
}

/// The path must be a chain of this graph's edges matching its node list.
fn check_chain(g: &TeGraph, path: &Path) -> Result<(), PathError> {
    let bad = |why: &str| PathError::NoPath {
        from: path
            .nodes
            .first()
            .map_or_else(String::new, |&n| node_name(g, n)),
        to: path
            .nodes
            .last()
            .map_or_else(String::new, |&n| node_name(g, n)),
        reason: format!("the path to compress is not valid on this graph: {why}"),
    };
    if path.nodes.len() != path.edges.len() + 1 {
        return Err(bad("node and edge counts disagree"));
    }
    for (i, &e) in path.edges.iter().enumerate() {
        let Some(edge) = g.edges.get(e) else {
            return Err(bad("unknown edge id"));
        };
        if edge.from != path.nodes[i] || edge.to != path.nodes[i + 1] {
            return Err(bad("edges do not join up"));
        }
    }
    Ok(())
}

/// The edges a SID list forwards over from `src`: a node segment follows the
/// unique IGP shortest path (`None` if there is none, or it is ECMP), an
/// adjacency must leave the current node.
pub fn expand(g: &TeGraph, src: NodeId, segments: &[Segment]) -> Option<Vec<EdgeId>> {
    let mut spf = IgpSpf::new(g);
    let mut at = src;
    let mut out = Vec::new();
    for s in segments {
        match *s {
            Segment::Adjacency { edge, .. } => {
                let e = g.edges.get(edge)?;
                if e.from != at {
                    return None;
                }
                out.push(edge);
                at = e.to;
            }
            Segment::Node { node, .. } => {
                if node == at {
                    return None;
                }
                out.extend(spf.unique_path(at, node)?);
                at = node;
            }
        }
    }
    Some(out)
}
