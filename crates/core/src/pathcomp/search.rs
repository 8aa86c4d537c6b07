//! The shortest-path core every algorithm here shares, generic over a small
//! graph trait so the packet TE graph and the fiber graph use the same code.
//!
//! Order: a path is better when its (cost, latency, hops) is smaller, and on a
//! full tie when its sequence of edge ids is lexicographically smaller.
//! `shortest` here and the bounded search in `rcsp` are exact for that total
//! order, which is what makes every answer deterministic regardless of heap
//! or adjacency order.

use std::cell::RefCell;
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
/// computes answers on demand (`constraints::Lazy`, `view::CompactView`)
/// spares a query the pass over every edge that materialised arrays
/// (`Masked`) cost.
pub(crate) trait Arcs {
    /// The edge may be used.
    fn ok(&self, e: EdgeId) -> bool;
    fn cost(&self, e: EdgeId) -> u64;
    fn lat(&self, e: EdgeId) -> u64;

    /// Every edge's cost is its latency, so (cost, latency, hops) orders
    /// exactly as (cost, hops) and the search may use a smaller heap entry.
    fn cost_is_lat(&self) -> bool {
        false
    }

    /// Calls `f(edge, head, cost, lat)` for every usable edge leaving `u`;
    /// a view with its own adjacency overrides this to read it in place.
    #[inline]
    fn each_out<G: Topo>(&self, g: &G, u: NodeId, mut f: impl FnMut(EdgeId, NodeId, u64, u64)) {
        for &e in g.out_edges(u) {
            if self.ok(e) {
                f(e, g.head(e), self.cost(e), self.lat(e));
            }
        }
    }

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

/// One node's search state, kept together so relaxing an edge touches one
/// 32-byte slot of its head rather than three arrays.
#[derive(Clone, Copy)]
struct Slot {
    cost: u64,
    lat: u64,
    hops: u32,
    done: bool,
    prev: EdgeId,
}

const UNSEEN: Slot = Slot {
    cost: u64::MAX,
    lat: u64::MAX,
    hops: u32::MAX,
    done: false,
    prev: NONE,
};

impl Slot {
    fn key(&self) -> (u64, u64, u32) {
        (self.cost, self.lat, self.hops)
    }
}

/// A heap entry: the key and the node, ordered by key first.
trait Entry: Ord + Copy {
    fn pack(c: u64, l: u64, h: u32, v: NodeId) -> Self;
    /// (cost, latency, hops, node).
    fn unpack(self) -> (u64, u64, u32, NodeId);
    /// Whether the popped entry is still the node's current key.
    fn current(self, slot: &Slot) -> bool;
    fn heap(s: &mut Scratch) -> &mut BinaryHeap<Reverse<Self>>;
}

type Full = (u64, u64, u32, NodeId);

impl Entry for Full {
    #[inline]
    fn pack(c: u64, l: u64, h: u32, v: NodeId) -> Self {
        (c, l, h, v)
    }
    #[inline]
    fn unpack(self) -> (u64, u64, u32, NodeId) {
        self
    }
    #[inline]
    fn current(self, slot: &Slot) -> bool {
        (self.0, self.1, self.2) == slot.key()
    }
    fn heap(s: &mut Scratch) -> &mut BinaryHeap<Reverse<Self>> {
        &mut s.heap
    }
}

/// (cost, hops << 32 | node): 16 bytes, as petgraph's entries, for queries
/// where latency equals cost, so it adds nothing to the order and unpacks
/// as the cost. Only used when node ids fit 32 bits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Same(u64, u64);

impl Entry for Same {
    #[inline]
    fn pack(c: u64, _l: u64, h: u32, v: NodeId) -> Self {
        Same(c, (u64::from(h) << 32) | (v as u64 & 0xFFFF_FFFF))
    }
    #[inline]
    fn unpack(self) -> (u64, u64, u32, NodeId) {
        (
            self.0,
            self.0,
            (self.1 >> 32) as u32,
            (self.1 & 0xFFFF_FFFF) as NodeId,
        )
    }
    #[inline]
    fn current(self, slot: &Slot) -> bool {
        self.0 == slot.cost && (self.1 >> 32) as u32 == slot.hops
    }
    fn heap(s: &mut Scratch) -> &mut BinaryHeap<Reverse<Self>> {
        &mut s.same
    }
}

/// Dijkstra's working state, kept between runs (Yen runs one search per spur
/// node; `with_scratch` keeps one per thread for CSPF) and reset by the list
/// of nodes actually touched, so a run costs what it explores, not O(nodes).
pub(crate) struct Scratch {
    slots: Vec<Slot>,
    touched: Vec<NodeId>,
    heap: BinaryHeap<Reverse<Full>>,
    same: BinaryHeap<Reverse<Same>>,
}

impl Scratch {
    pub fn new(nodes: usize) -> Self {
        Scratch {
            slots: vec![UNSEEN; nodes],
            touched: Vec::new(),
            heap: BinaryHeap::new(),
            same: BinaryHeap::new(),
        }
    }

    /// Room for `nodes`; every slot is clean between runs, so growing only
    /// appends clean ones.
    fn fit(&mut self, nodes: usize) {
        if self.slots.len() < nodes {
            self.slots.resize(nodes, UNSEEN);
        }
    }

    fn reset(&mut self) {
        for &v in &self.touched {
            self.slots[v] = UNSEEN;
        }
        self.touched.clear();
        self.heap.clear();
        self.same.clear();
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::new(0));
}

/// Runs `f` with this thread's scratch sized for `nodes` (a fresh one if it
/// is already in use further up the stack).
pub(crate) fn with_scratch<T>(nodes: usize, f: impl FnOnce(&mut Scratch) -> T) -> T {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut s) => {
            s.fit(nodes);
            f(&mut s)
        }
        Err(_) => f(&mut Scratch::new(nodes)),
    })
}

/// Compares `seq(a) + ea` with `seq(b) + eb`, where `seq(x)` is the settled
/// path to x and both have the same hop count. Walking back in lockstep, the
/// last difference seen is the earliest in the sequence, which decides.
fn lex_cmp<G: Topo>(
    g: &G,
    slots: &[Slot],
    mut a: NodeId,
    ea: EdgeId,
    mut b: NodeId,
    eb: EdgeId,
) -> Ordering {
    let mut verdict = ea.cmp(&eb);
    while a != b {
        let (pa, pb) = (slots[a].prev, slots[b].prev);
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

/// The best path from `src` to `dst` over the usable edges, in the total
/// order above. Weights may be zero: hop count still grows along any path, so
/// every predecessor settles before its successors and no loop can win.
pub(crate) fn shortest<G: Topo, A: Arcs>(
    g: &G,
    a: &A,
    src: NodeId,
    dst: NodeId,
    s: &mut Scratch,
) -> Option<Vec<EdgeId>> {
    s.fit(g.node_count());
    if a.cost_is_lat() && u32::try_from(g.node_count()).is_ok() {
        search::<G, A, Same>(g, a, src, dst, s)
    } else {
        search::<G, A, Full>(g, a, src, dst, s)
    }
}

fn search<G: Topo, A: Arcs, E: Entry>(
    g: &G,
    a: &A,
    src: NodeId,
    dst: NodeId,
    s: &mut Scratch,
) -> Option<Vec<EdgeId>> {
    s.reset();
    s.slots[src] = Slot {
        cost: 0,
        lat: 0,
        hops: 0,
        done: false,
        prev: NONE,
    };
    s.touched.push(src);
    E::heap(s).push(Reverse(E::pack(0, 0, 0, src)));
    while let Some(Reverse(top)) = E::heap(s).pop() {
        let (c, l, h, u) = top.unpack();
        let slot = &mut s.slots[u];
        if slot.done || !top.current(slot) {
            continue;
        }
        slot.done = true;
        if u == dst {
            break;
        }
        a.each_out(g, u, |e, v, ec, el| {
            let cur = s.slots[v];
            if cur.done {
                return;
            }
            let cand = (
                c.saturating_add(ec),
                l.saturating_add(el),
                h.saturating_add(1),
            );
            let better = match cand.cmp(&cur.key()) {
                Ordering::Less => true,
                Ordering::Greater => false,
                Ordering::Equal => {
                    let p = cur.prev;
                    p == NONE || lex_cmp(g, &s.slots, u, e, g.tail(p), p) == Ordering::Less
                }
            };
            if better {
                if cur.prev == NONE && cur.key() == UNSEEN.key() {
                    s.touched.push(v);
                }
                s.slots[v] = Slot {
                    cost: cand.0,
                    lat: cand.1,
                    hops: cand.2,
                    done: false,
                    prev: e,
                };
                E::heap(s).push(Reverse(E::pack(cand.0, cand.1, cand.2, v)));
            }
        });
    }
    if !s.slots[dst].done {
        return None;
    }
    let mut edges = Vec::with_capacity(s.slots[dst].hops as usize);
    let mut at = dst;
    while at != src {
        let e = s.slots[at].prev;
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
