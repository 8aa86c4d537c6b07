//! Suurballe's algorithm: the pair of edge-disjoint (or, with node splitting,
//! node-disjoint) paths of least total cost, as a minimum-cost flow of two
//! units found with two Dijkstra runs (the second on reduced costs over the
//! residual graph, so no negative edges are ever relaxed).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::graph::{EdgeId, NodeId};
use super::search::{Topo, Weights};

const NONE: usize = usize::MAX;

/// The graph the flow runs on: the usable edges, and with `split` every
/// transit node v cut into v (in) → n+v (out) by a zero-cost edge, so a unit
/// of flow through v uses that edge and no second path can.
struct Work {
    nodes: usize,
    from: Vec<NodeId>,
    to: Vec<NodeId>,
    cost: Vec<u64>,
    /// The original edge, or NONE for a split edge.
    origin: Vec<EdgeId>,
    out: Vec<Vec<EdgeId>>,
    inn: Vec<Vec<EdgeId>>,
}

impl Work {
    fn build<G: Topo>(
        g: &G,
        w: &Weights,
        ok: &[bool],
        src: NodeId,
        dst: NodeId,
        split: bool,
    ) -> Work {
        let n = g.node_count();
        let nodes = if split { 2 * n } else { n };
        let mut work = Work {
            nodes,
            from: Vec::new(),
            to: Vec::new(),
            cost: Vec::new(),
            origin: Vec::new(),
            out: vec![Vec::new(); nodes],
            inn: vec![Vec::new(); nodes],
        };
        let exit = |v: NodeId| {
            if split && v != src && v != dst {
                n + v
            } else {
                v
            }
        };
        for e in (0..g.edge_count()).filter(|&e| ok[e]) {
            work.add(exit(g.tail(e)), g.head(e), w.cost[e], e);
        }
        if split {
            for v in (0..n).filter(|&v| v != src && v != dst) {
                work.add(v, n + v, 0, NONE);
            }
        }
        work
    }

    fn add(&mut self, from: NodeId, to: NodeId, cost: u64, origin: EdgeId) {
        let id = self.from.len();
        self.from.push(from);
        self.to.push(to);
        self.cost.push(cost);
        self.origin.push(origin);
        self.out[from].push(id);
        self.inn[to].push(id);
    }
}

/// A step of the second search: a work edge taken forward, or a first-path
/// edge taken backwards (which cancels it).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    None,
    Forward(EdgeId),
    Backward(EdgeId),
}

/// Two paths (original edge ids) of least total cost that share no directed
/// edge — and, with `split`, no transit node — or None when the usable graph
/// has no two such paths. Sharing a link in opposite directions is left to
/// the caller to check: a min-cost flow only does that with zero-cost edges.
pub(crate) fn suurballe<G: Topo>(
    g: &G,
    w: &Weights,
    ok: &[bool],
    src: NodeId,
    dst: NodeId,
    split: bool,
) -> Option<(Vec<EdgeId>, Vec<EdgeId>)> {
    let work = Work::build(g, w, ok, src, dst, split);
    let m = work.nodes;

    // 1. shortest-path tree from src
    let mut dist = vec![u64::MAX; m];
    let mut prev = vec![NONE; m];
    let mut heap = BinaryHeap::new();
    dist[src] = 0;
    heap.push(Reverse((0u64, src)));
    while let Some(Reverse((d, u))) = heap.pop() {
        if d != dist[u] {
            continue;
        }
        for &e in &work.out[u] {
            let v = work.to[e];
            let nd = d.saturating_add(work.cost[e]);
            if nd < dist[v] {
                dist[v] = nd;
                prev[v] = e;
                heap.push(Reverse((nd, v)));
            }
        }
    }
    if dist[dst] == u64::MAX {
        return None;
    }
    let mut in_first = vec![false; work.from.len()];
    let mut first = Vec::new();
    let mut at = dst;
    while at != src {
        let e = prev[at];
        if e == NONE || first.len() > work.from.len() {
            return None;
        }
        in_first[e] = true;
        first.push(e);
        at = work.from[e];
    }

    // 2. on reduced costs c + d(u) − d(v) ≥ 0, first-path edges reversed at 0
    let mut dist2 = vec![u64::MAX; m];
    let mut step = vec![Step::None; m];
    dist2[src] = 0;
    heap.push(Reverse((0u64, src)));
    while let Some(Reverse((d, u))) = heap.pop() {
        if d != dist2[u] {
            continue;
        }
        let forward = work.out[u]
            .iter()
            .filter(|&&e| !in_first[e])
            .map(|&e| (work.to[e], Step::Forward(e)));
        let backward = work.inn[u]
            .iter()
            .filter(|&&e| in_first[e])
            .map(|&e| (work.from[e], Step::Backward(e)));
        for (v, s) in forward.chain(backward) {
            if dist[v] == u64::MAX {
                continue;
            }
            let reduced = match s {
                Step::Forward(e) => work.cost[e].saturating_add(dist[u]).saturating_sub(dist[v]),
                _ => 0,
            };
            let nd = d.saturating_add(reduced);
            if nd < dist2[v] {
                dist2[v] = nd;
                step[v] = s;
                heap.push(Reverse((nd, v)));
            }
        }
    }
    if dist2[dst] == u64::MAX {
        return None;
    }

    // 3. the flow: first path minus what the second cancelled, plus the rest
    let mut used = in_first;
    let mut at = dst;
    let mut guard = 0;
    while at != src {
        guard += 1;
        if guard > 2 * m + 2 {
            return None;
        }
        match step[at] {
            Step::Forward(e) => {
                used[e] = true;
                at = work.from[e];
            }
            Step::Backward(e) => {
                used[e] = false;
                at = work.to[e];
            }
            Step::None => return None,
        }
    }
    let a = take_path(&work, &mut used, src, dst)?;
    let b = take_path(&work, &mut used, src, dst)?;
    Some((a, b))
}

/// Walks one unit of flow from src to dst (lowest edge id first, for
/// determinism), consuming its edges; loops (possible only through zero-cost
/// cycles) are cut out, which never raises the cost. Returns original ids.
fn take_path(work: &Work, used: &mut [bool], src: NodeId, dst: NodeId) -> Option<Vec<EdgeId>> {
    let mut edges: Vec<EdgeId> = Vec::new();
    let mut pos = vec![NONE; work.nodes];
    pos[src] = 0;
    let mut at = src;
    while at != dst {
        let e = work.out[at].iter().copied().find(|&e| used[e])?;
        used[e] = false;
        at = work.to[e];
        if pos[at] != NONE {
            // back at a node already on the walk: drop the loop
            let keep = pos[at];
            for &dropped in &edges[keep..] {
                pos[work.to[dropped]] = NONE;
            }
            edges.truncate(keep);
            pos[at] = keep;
        } else {
            edges.push(e);
            pos[at] = edges.len();
        }
    }
    Some(
        edges
            .into_iter()
            .map(|e| work.origin[e])
            .filter(|&e| e != NONE)
            .collect(),
    )
}
