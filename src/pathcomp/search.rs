//! The shortest-path core every algorithm here shares, generic over a small
//! graph trait so the packet TE graph and the fiber graph use the same code.
//!
//! Order: a path is better when its (cost, latency, hops) is smaller, and on a
//! full tie when its sequence of edge ids is lexicographically smaller. Both
//! searches below are exact for that total order, which is what makes every
//! answer deterministic regardless of heap or adjacency order.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::graph::{EdgeId, NodeId};

/// What the searches need to know about a directed graph.
pub(crate) trait Topo {
    fn node_count(&self) -> usize;
    fn edge_count(&self) -> usize;
    fn out_edges(&self, n: NodeId) -> &[EdgeId];
    fn in_edges(&self, n: NodeId) -> &[EdgeId];
    fn tail(&self, e: EdgeId) -> NodeId;
    fn head(&self, e: EdgeId) -> NodeId;
}

/// Per-edge weights of one query: the metric being minimised and latency
/// (the bounded resource and first tie-breaker).
pub(crate) struct Weights {
    pub cost: Vec<u64>,
    pub lat: Vec<u64>,
}

impl Weights {
    pub fn totals(&self, edges: &[EdgeId]) -> (u64, u64) {
        edges.iter().fold((0u64, 0u64), |(c, l), &e| {
            (
                c.saturating_add(self.cost[e]),
                l.saturating_add(self.lat[e]),
            )
        })
    }
}

const NONE: usize = usize::MAX;
type Key = (u64, u64, u32);
const UNSEEN: Key = (u64::MAX, u64::MAX, u32::MAX);

/// Dijkstra's working arrays, kept between runs (Yen runs one search per spur
/// node) and reset by the list of nodes actually touched.
pub(crate) struct Scratch {
    key: Vec<Key>,
    prev: Vec<EdgeId>,
    done: Vec<bool>,
    touched: Vec<NodeId>,
    heap: BinaryHeap<Reverse<(u64, u64, u32, NodeId)>>,
}

impl Scratch {
    pub fn new(nodes: usize) -> Self {
        Scratch {
            key: vec![UNSEEN; nodes],
            prev: vec![NONE; nodes],
            done: vec![false; nodes],
            touched: Vec::new(),
            heap: BinaryHeap::new(),
        }
    }

    fn reset(&mut self) {
        for &v in &self.touched {
            self.key[v] = UNSEEN;
            self.prev[v] = NONE;
            self.done[v] = false;
        }
        self.touched.clear();
        self.heap.clear();
    }
}

/// Compares `seq(a) + ea` with `seq(b) + eb`, where `seq(x)` is the settled
/// path to x and both have the same hop count. Walking back in lockstep, the
/// last difference seen is the earliest in the sequence, which decides.
fn lex_cmp<G: Topo>(
    g: &G,
    prev: &[EdgeId],
    mut a: NodeId,
    ea: EdgeId,
    mut b: NodeId,
    eb: EdgeId,
) -> Ordering {
    let mut verdict = ea.cmp(&eb);
    while a != b {
        let (pa, pb) = (prev[a], prev[b]);
        if pa == NONE || pb == NONE {
            break;
        }
        if pa != pb {
            verdict = pa.cmp(&pb);
        }
        a = g.tail(pa);
        b = g.tail(pb);
    }
    verdict
}

/// The best path from `src` to `dst` over edges with `ok[e]`, in the total
/// order above. Weights may be zero: hop count still grows along any path, so
/// every predecessor settles before its successors and no loop can win.
pub(crate) fn shortest<G: Topo>(
    g: &G,
    w: &Weights,
    ok: &[bool],
    src: NodeId,
    dst: NodeId,
    s: &mut Scratch,
) -> Option<Vec<EdgeId>> {
    s.reset();
    s.key[src] = (0, 0, 0);
    s.touched.push(src);
    s.heap.push(Reverse((0, 0, 0, src)));
    while let Some(Reverse((c, l, h, u))) = s.heap.pop() {
        if s.done[u] || (c, l, h) != s.key[u] {
            continue;
        }
        s.done[u] = true;
        if u == dst {
            break;
        }
        for &e in g.out_edges(u) {
            if !ok[e] {
                continue;
            }
            let v = g.head(e);
            if s.done[v] {
                continue;
            }
            let cand = (
                c.saturating_add(w.cost[e]),
                l.saturating_add(w.lat[e]),
                h.saturating_add(1),
            );
            let cur = s.key[v];
            let better = match cand.cmp(&cur) {
                Ordering::Less => true,
                Ordering::Greater => false,
                Ordering::Equal => {
                    let p = s.prev[v];
                    lex_cmp(g, &s.prev, u, e, g.tail(p), p) == Ordering::Less
                }
            };
            if better {
                if cur == UNSEEN {
                    s.touched.push(v);
                }
                s.key[v] = cand;
                s.prev[v] = e;
                s.heap.push(Reverse((cand.0, cand.1, cand.2, v)));
            }
        }
    }
    if !s.done[dst] {
        return None;
    }
    let mut edges = Vec::with_capacity(s.key[dst].2 as usize);
    let mut at = dst;
    while at != src {
        let e = s.prev[at];
        if e == NONE {
            return None;
        }
        edges.push(e);
        at = g.tail(e);
    }
    edges.reverse();
    Some(edges)
}

/// Distances from every node to `dst` on one weight (reverse Dijkstra), and
/// the first edge of such a shortest path. `u64::MAX` marks "cannot reach".
pub(crate) fn distances_to<G: Topo>(
    g: &G,
    weight: &[u64],
    ok: &[bool],
    dst: NodeId,
) -> (Vec<u64>, Vec<EdgeId>) {
    let n = g.node_count();
    let mut dist = vec![u64::MAX; n];
    let mut next = vec![NONE; n];
    let mut heap = BinaryHeap::new();
    dist[dst] = 0;
    heap.push(Reverse((0u64, dst)));
    while let Some(Reverse((d, u))) = heap.pop() {
        if d != dist[u] {
            continue;
        }
        for &e in g.in_edges(u) {
            if !ok[e] {
                continue;
            }
            let v = g.tail(e);
            let nd = d.saturating_add(weight[e]);
            if nd < dist[v] {
                dist[v] = nd;
                next[v] = e;
                heap.push(Reverse((nd, v)));
            }
        }
    }
    (dist, next)
}

/// Why no path was returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Miss {
    Unreachable,
    /// Paths exist, but the fastest of them takes `best_us`.
    OverBound {
        best_us: u64,
    },
}

/// The best path whose latency is at most `bound` (if any bound). Fast path:
/// plain Dijkstra, whose answer usually meets the bound. Otherwise an exact
/// resource-constrained search, guided and pruned by reverse distances.
/// `cost_is_latency` says the metric is latency itself, so Dijkstra's answer
/// already is the fastest path and the bound check is direct.
#[allow(clippy::too_many_arguments)]
pub(crate) fn best_path<G: Topo>(
    g: &G,
    w: &Weights,
    ok: &[bool],
    src: NodeId,
    dst: NodeId,
    bound: Option<u64>,
    cost_is_latency: bool,
    s: &mut Scratch,
) -> Result<Vec<EdgeId>, Miss> {
    let first = shortest(g, w, ok, src, dst, s).ok_or(Miss::Unreachable)?;
    let Some(bound) = bound else {
        return Ok(first);
    };
    let (_, first_lat) = w.totals(&first);
    if first_lat <= bound {
        return Ok(first);
    }
    if cost_is_latency {
        return Err(Miss::OverBound { best_us: first_lat });
    }
    let (to_lat, next) = distances_to(g, &w.lat, ok, dst);
    let best_us = to_lat[src];
    if best_us > bound {
        return Err(Miss::OverBound { best_us });
    }
    // The fastest path is feasible, so its cost caps what is worth exploring.
    let mut cap = 0u64;
    let mut at = src;
    let mut steps = 0;
    while at != dst && steps <= g.node_count() {
        let e = next[at];
        if e == NONE {
            return Err(Miss::OverBound { best_us });
        }
        cap = cap.saturating_add(w.cost[e]);
        at = g.head(e);
        steps += 1;
    }
    let (to_cost, _) = distances_to(g, &w.cost, ok, dst);
    let guide = Guide {
        bound,
        cap,
        to_cost: &to_cost,
        to_lat: &to_lat,
    };
    constrained(g, w, ok, src, dst, &guide).ok_or(Miss::OverBound { best_us })
}

/// Lower bounds from every node to the destination, and the limits.
struct Guide<'a> {
    bound: u64,
    cap: u64,
    to_cost: &'a [u64],
    to_lat: &'a [u64],
}

struct Label {
    node: NodeId,
    edge: EdgeId,
    parent: usize,
    cost: u64,
    lat: u64,
    hops: u32,
    alive: bool,
}

/// Compares `labels[pa].seq + ea` with `labels[b].seq` (same hop count).
fn label_lex_cmp(labels: &[Label], mut pa: usize, ea: EdgeId, b: usize) -> Ordering {
    let mut verdict = ea.cmp(&labels[b].edge);
    let mut pb = labels[b].parent;
    while pa != pb && pa != NONE && pb != NONE {
        if labels[pa].edge != labels[pb].edge {
            verdict = labels[pa].edge.cmp(&labels[pb].edge);
        }
        pa = labels[pa].parent;
        pb = labels[pb].parent;
    }
    verdict
}

/// Exact label-setting search for the best path (in the total order) with
/// latency ≤ bound. Labels are partial paths (cost, latency); at each node
/// only labels no other label dominates survive — one with cost and latency
/// both no worse is at least as good after any common extension. Pops follow
/// A* on (cost + cost-to-go, latency + latency-to-go, hops): reverse distances
/// are consistent lower bounds, and hops strictly grow along edges, so the
/// first label popped at `dst` is the optimum. Labels that cannot meet the
/// bound even on the fastest way home, or cannot beat the fastest path's
/// cost, are never created.
fn constrained<G: Topo>(
    g: &G,
    w: &Weights,
    ok: &[bool],
    src: NodeId,
    dst: NodeId,
    guide: &Guide<'_>,
) -> Option<Vec<EdgeId>> {
    let mut labels = vec![Label {
        node: src,
        edge: NONE,
        parent: NONE,
        cost: 0,
        lat: 0,
        hops: 0,
        alive: true,
    }];
    let mut frontier: Vec<Vec<usize>> = vec![Vec::new(); g.node_count()];
    frontier[src].push(0);
    let mut heap = BinaryHeap::new();
    heap.push(Reverse((
        guide.to_cost[src],
        guide.to_lat[src],
        0u32,
        0usize,
    )));
    let mut beaten: Vec<usize> = Vec::new();
    while let Some(Reverse((_, _, _, li))) = heap.pop() {
        if !labels[li].alive {
            continue;
        }
        let (u, cost, lat, hops) = (
            labels[li].node,
            labels[li].cost,
            labels[li].lat,
            labels[li].hops,
        );
        if u == dst {
            let mut edges = Vec::with_capacity(hops as usize);
            let mut at = li;
            while labels[at].edge != NONE {
                edges.push(labels[at].edge);
                at = labels[at].parent;
            }
            edges.reverse();
            return Some(edges);
        }
        for &e in g.out_edges(u) {
            if !ok[e] {
                continue;
            }
            let v = g.head(e);
            let (c2, l2, h2) = (
                cost.saturating_add(w.cost[e]),
                lat.saturating_add(w.lat[e]),
                hops.saturating_add(1),
            );
            if l2.saturating_add(guide.to_lat[v]) > guide.bound
                || c2.saturating_add(guide.to_cost[v]) > guide.cap
            {
                continue;
            }
            // an existing label at v at least as good in every respect wins
            let dominated = frontier[v].iter().any(|&j| {
                let o = &labels[j];
                o.cost <= c2
                    && o.lat <= l2
                    && ((o.cost, o.lat) != (c2, l2)
                        || o.hops < h2
                        || (o.hops == h2 && label_lex_cmp(&labels, li, e, j) != Ordering::Less))
            });
            if dominated {
                continue;
            }
            beaten.clear();
            beaten.extend(frontier[v].iter().copied().filter(|&j| {
                let o = &labels[j];
                c2 <= o.cost && l2 <= o.lat
            }));
            for &j in &beaten {
                labels[j].alive = false;
            }
            frontier[v].retain(|&j| labels[j].alive);
            let id = labels.len();
            labels.push(Label {
                node: v,
                edge: e,
                parent: li,
                cost: c2,
                lat: l2,
                hops: h2,
                alive: true,
            });
            frontier[v].push(id);
            heap.push(Reverse((
                c2.saturating_add(guide.to_cost[v]),
                l2.saturating_add(guide.to_lat[v]),
                h2,
                id,
            )));
        }
    }
    None
}
