//! The shortest-path core every algorithm here shares, generic over a small
//! graph trait so the packet TE graph and the fiber graph use the same code.
//!
//! Order: a path is better when its (cost, latency, hops) is smaller, and on a
//! full tie when its sequence of edge ids is lexicographically smaller.
//! `shortest` here and the bounded search in `rcsp` are exact for that total
//! order, which is what makes every answer deterministic regardless of heap
//! or adjacency order.

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

/// What a search reads about an edge during one query. Searches only ask
/// about edges leaving the nodes they settle, so an implementation that
/// computes answers on demand (`constraints::Lazy`) spares a query the pass
/// over every edge that materialised arrays (`Masked`) cost.
pub(crate) trait Arcs {
    /// The edge may be used.
    fn ok(&self, e: EdgeId) -> bool;
    fn cost(&self, e: EdgeId) -> u64;
    fn lat(&self, e: EdgeId) -> u64;

    /// Total (cost, latency) of a chain of edges.
    fn totals(&self, edges: &[EdgeId]) -> (u64, u64) {
        edges.iter().fold((0u64, 0u64), |(c, l), &e| {
            (
                c.saturating_add(self.cost(e)),
                l.saturating_add(self.lat(e)),
            )
        })
    }
}

/// Weights for every edge, and a mask of the usable ones.
pub(crate) struct Masked<'a> {
    pub w: &'a Weights,
    pub ok: &'a [bool],
}

impl Arcs for Masked<'_> {
    fn ok(&self, e: EdgeId) -> bool {
        self.ok[e]
    }
    fn cost(&self, e: EdgeId) -> u64 {
        self.w.cost[e]
    }
    fn lat(&self, e: EdgeId) -> u64 {
        self.w.lat[e]
    }
}

pub(crate) const NONE: usize = usize::MAX;
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
pub(crate) fn shortest<G: Topo, A: Arcs>(
    g: &G,
    a: &A,
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
            let v = g.head(e);
            if s.done[v] || !a.ok(e) {
                continue;
            }
            let cand = (
                c.saturating_add(a.cost(e)),
                l.saturating_add(a.lat(e)),
                h.saturating_add(1),
            );
            let cur = s.key[v];
            let better = match cand.cmp(&cur) {
                Ordering::Less => true,
                Ordering::Greater => false,
                Ordering::Equal => {
                    let p = s.prev[v];
                    p == NONE || lex_cmp(g, &s.prev, u, e, g.tail(p), p) == Ordering::Less
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
pub(crate) fn distances_to<G: Topo, A: Arcs>(
    g: &G,
    a: &A,
    weight: impl Fn(EdgeId) -> u64,
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
            if !a.ok(e) {
                continue;
            }
            let v = g.tail(e);
            let nd = d.saturating_add(weight(e));
            if nd < dist[v] {
                dist[v] = nd;
                next[v] = e;
                heap.push(Reverse((nd, v)));
            }
        }
    }
    (dist, next)
}
