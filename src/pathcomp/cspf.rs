//! Constrained shortest paths: prune what the constraints forbid, then
//! Dijkstra on the chosen metric; with a latency bound the metric-shortest path
//! may break the bound while another path meets it, so a label-setting search
//! over (cost, latency) with dominance pruning finds the true optimum.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

use super::graph::{EdgeId, NodeId, TeEdge, TeGraph};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Latency,
    Igp,
    Te,
    Hops,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Constraints {
    pub metric: Metric,
    pub max_latency_us: Option<u64>,
    pub bandwidth_gbps: f64,
    pub include_any: BTreeSet<String>,
    pub include_all: BTreeSet<String>,
    pub exclude_any: BTreeSet<String>,
    pub exclude_nodes: BTreeSet<String>,
    pub exclude_links: BTreeSet<String>,
    pub exclude_srlgs: BTreeSet<u32>,
    pub max_sid_depth: Option<usize>,
}

impl Default for Constraints {
    fn default() -> Self {
        Constraints {
            metric: Metric::Latency,
            max_latency_us: None,
            bandwidth_gbps: 0.0,
            include_any: BTreeSet::new(),
            include_all: BTreeSet::new(),
            exclude_any: BTreeSet::new(),
            exclude_nodes: BTreeSet::new(),
            exclude_links: BTreeSet::new(),
            exclude_srlgs: BTreeSet::new(),
            max_sid_depth: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub edges: Vec<EdgeId>,
    pub nodes: Vec<NodeId>,
    pub cost: u64,
    pub latency_us: u64,
}

impl Path {
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

    /// The deterministic order: cost, latency, hops, then edge ids.
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
    #[error("the lowest-latency path takes {best_us} µs, over the bound of {bound_us} µs")]
    LatencyBound { best_us: u64, bound_us: u64 },
    #[error("no {kind}-disjoint path: {reason}")]
    NotDisjoint { kind: String, reason: String },
    #[error("the path needs {needed} SIDs, more than the maximum SID depth {max}")]
    SidDepth { needed: usize, max: usize },
}

pub fn edge_cost(e: &TeEdge, m: Metric) -> u64 {
    match m {
        Metric::Latency => u64::from(e.latency_us.max(1)),
        Metric::Igp => u64::from(e.igp_metric.max(1)),
        Metric::Te => u64::from(e.te_metric.max(1)),
        Metric::Hops => 1,
    }
}

/// Why edges were pruned, for a useful NoPath message.
#[derive(Default)]
pub(crate) struct Pruned {
    down: usize,
    bandwidth: usize,
    groups: usize,
    excluded: usize,
}

impl Pruned {
    fn reason(&self) -> String {
        let mut parts = Vec::new();
        for (n, what) in [
            (self.down, "down"),
            (self.bandwidth, "without the requested bandwidth"),
            (self.groups, "failing admin-group constraints"),
            (self.excluded, "excluded (links, nodes or SRLGs)"),
        ] {
            if n > 0 {
                parts.push(format!("{n} directed links {what}"));
            }
        }
        if parts.is_empty() {
            "the endpoints are not connected".into()
        } else {
            format!("{} were pruned; no route remains", parts.join(", "))
        }
    }
}

/// Which edges the constraints allow (src/dst are never excluded as nodes).
pub(crate) fn usable(
    g: &TeGraph,
    c: &Constraints,
    src: NodeId,
    dst: NodeId,
) -> (Vec<bool>, Pruned) {
    let mut pruned = Pruned::default();
    let excluded_node: Vec<bool> = g
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| i != src && i != dst && c.exclude_nodes.contains(&n.name))
        .collect();
    let ok = g
        .edges
        .iter()
        .map(|e| {
            if !e.up || e.pruned {
                pruned.down += 1;
                return false;
            }
            if e.capacity_gbps - e.reserved_gbps + 1e-9 < c.bandwidth_gbps {
                pruned.bandwidth += 1;
                return false;
            }
            let groups_ok = (c.include_any.is_empty()
                || c.include_any.iter().any(|a| e.admin_groups.contains(a)))
                && c.include_all.iter().all(|a| e.admin_groups.contains(a))
                && !c.exclude_any.iter().any(|a| e.admin_groups.contains(a));
            if !groups_ok {
                pruned.groups += 1;
                return false;
            }
            if c.exclude_links.contains(&e.link)
                || e.srlgs.iter().any(|s| c.exclude_srlgs.contains(s))
                || excluded_node[e.from]
                || excluded_node[e.to]
            {
                pruned.excluded += 1;
                return false;
            }
            true
        })
        .collect();
    (ok, pruned)
}

fn build(g: &TeGraph, src: NodeId, dst: NodeId, prev: &[Option<EdgeId>], metric: Metric) -> Path {
    let mut edges = Vec::new();
    let mut at = dst;
    while at != src {
        let Some(e) = prev[at] else { break };
        edges.push(e);
        at = g.edges[e].from;
    }
    edges.reverse();
    path_of(g, src, edges, metric)
}

pub(crate) fn path_of(g: &TeGraph, src: NodeId, edges: Vec<EdgeId>, metric: Metric) -> Path {
    let mut nodes = vec![src];
    let mut cost = 0;
    let mut latency = 0;
    for &e in &edges {
        let edge = &g.edges[e];
        nodes.push(edge.to);
        cost += edge_cost(edge, metric);
        latency += u64::from(edge.latency_us);
    }
    Path {
        edges,
        nodes,
        cost,
        latency_us: latency,
    }
}

/// Dijkstra on `metric` over usable edges; ties by (cost, latency, hops, edge id).
pub(crate) fn dijkstra(
    g: &TeGraph,
    ok: &[bool],
    src: NodeId,
    dst: NodeId,
    metric: Metric,
) -> Option<Path> {
    let n = g.nodes.len();
    let mut best: Vec<(u64, u64, usize)> = vec![(u64::MAX, u64::MAX, usize::MAX); n];
    let mut prev: Vec<Option<EdgeId>> = vec![None; n];
    let mut done = vec![false; n];
    let mut heap = BinaryHeap::new();
    best[src] = (0, 0, 0);
    heap.push(Reverse((0u64, 0u64, 0usize, src)));
    while let Some(Reverse((cost, lat, hops, u))) = heap.pop() {
        if done[u] || (cost, lat, hops) != best[u] {
            continue;
        }
        done[u] = true;
        if u == dst {
            break;
        }
        for &e in g.out_edges(u) {
            if !ok[e] {
                continue;
            }
            let edge = &g.edges[e];
            let v = edge.to;
            if done[v] {
                continue;
            }
            let cand = (
                cost + edge_cost(edge, metric),
                lat + u64::from(edge.latency_us),
                hops + 1,
            );
            let better = cand < best[v] || (cand == best[v] && prev[v].is_some_and(|p| e < p));
            if better {
                best[v] = cand;
                prev[v] = Some(e);
                heap.push(Reverse((cand.0, cand.1, cand.2, v)));
            }
        }
    }
    if best[dst].0 == u64::MAX {
        return None;
    }
    Some(build(g, src, dst, &prev, metric))
}

/// Exact resource-constrained shortest path: labels (cost, latency) per node,
/// dominated labels dropped, latency over the bound never extended.
fn constrained(
    g: &TeGraph,
    ok: &[bool],
    src: NodeId,
    dst: NodeId,
    metric: Metric,
    bound: u64,
) -> Option<Path> {
    struct Label {
        node: NodeId,
        edge: Option<EdgeId>,
        parent: usize,
    }
    let mut labels: Vec<Label> = vec![Label {
        node: src,
        edge: None,
        parent: usize::MAX,
    }];
    let mut frontier: Vec<Vec<(u64, u64)>> = vec![Vec::new(); g.nodes.len()];
    frontier[src].push((0, 0));
    let mut heap = BinaryHeap::new();
    heap.push(Reverse((0u64, 0u64, 0usize)));
    while let Some(Reverse((cost, lat, li))) = heap.pop() {
        let u = labels[li].node;
        if u == dst {
            let mut edges = Vec::new();
            let mut at = li;
            while let Some(e) = labels[at].edge {
                edges.push(e);
                at = labels[at].parent;
            }
            edges.reverse();
            return Some(path_of(g, src, edges, metric));
        }
        // a label is only useful while no other settled label at u dominates it
        for &e in g.out_edges(u) {
            if !ok[e] {
                continue;
            }
            let edge = &g.edges[e];
            let (c2, l2) = (
                cost + edge_cost(edge, metric),
                lat + u64::from(edge.latency_us),
            );
            if l2 > bound {
                continue;
            }
            let v = edge.to;
            // loops can never help: both resources only grow
            let mut at = li;
            let mut looped = false;
            loop {
                if labels[at].node == v {
                    looped = true;
                    break;
                }
                if labels[at].parent == usize::MAX {
                    break;
                }
                at = labels[at].parent;
            }
            if looped || frontier[v].iter().any(|&(c, l)| c <= c2 && l <= l2) {
                continue;
            }
            frontier[v].retain(|&(c, l)| !(c2 <= c && l2 <= l));
            frontier[v].push((c2, l2));
            labels.push(Label {
                node: v,
                edge: Some(e),
                parent: li,
            });
            heap.push(Reverse((c2, l2, labels.len() - 1)));
        }
    }
    None
}

pub fn cspf(g: &TeGraph, src: NodeId, dst: NodeId, c: &Constraints) -> Result<Path, PathError> {
    let name = |n: NodeId| {
        g.nodes
            .get(n)
            .map(|x| x.name.clone())
            .unwrap_or_else(|| n.to_string())
    };
    if src >= g.nodes.len() {
        return Err(PathError::UnknownNode(name(src)));
    }
    if dst >= g.nodes.len() {
        return Err(PathError::UnknownNode(name(dst)));
    }
    if src == dst {
        return Err(PathError::NoPath {
            from: name(src),
            to: name(dst),
            reason: "source and destination are the same node".into(),
        });
    }
    let (ok, pruned) = usable(g, c, src, dst);
    let Some(best) = dijkstra(g, &ok, src, dst, c.metric) else {
        return Err(PathError::NoPath {
            from: name(src),
            to: name(dst),
            reason: pruned.reason(),
        });
    };
    let Some(bound) = c.max_latency_us else {
        return Ok(best);
    };
    if best.latency_us <= bound {
        return Ok(best);
    }
    let fastest = if c.metric == Metric::Latency {
        best.clone()
    } else {
        dijkstra(g, &ok, src, dst, Metric::Latency).unwrap_or(best.clone())
    };
    if fastest.latency_us > bound {
        return Err(PathError::LatencyBound {
            best_us: fastest.latency_us,
            bound_us: bound,
        });
    }
    constrained(g, &ok, src, dst, c.metric, bound).ok_or(PathError::LatencyBound {
        best_us: fastest.latency_us,
        bound_us: bound,
    })
}
