//! One query's view of the edges over the graph's compact arrays
//! (`compact::Compact`): what `constraints::usable` and `weights` say for an
//! edge, decided per edge a search relaxes, from a 16-byte record. Only
//! constraints on SRLGs and admin groups read the edge's `TeEdge`, and only
//! for edges that have some.

use super::compact::{Compact, FITS_NOTHING, HAS_GROUPS, HAS_SRLGS, OPEN};
use super::constraints::{groups_ok, Constraints, Metric};
use super::graph::{EdgeId, NodeId, TeGraph};
use super::search::{Arcs, Topo};

/// A few ids: up to `INLINE` of them (the usual one or two exclusions, both
/// directions of a link) compared in place, more binary-searched. Checked on
/// every arc relaxed, so the common case must not chase a pointer or call.
const INLINE: usize = 4;

struct Ids {
    few: [usize; INLINE],
    len: usize,
    /// Sorted, when more than `INLINE`.
    many: Vec<usize>,
}

impl Ids {
    fn new(mut ids: Vec<usize>) -> Ids {
        ids.sort_unstable();
        ids.dedup();
        let mut few = [usize::MAX; INLINE];
        if ids.len() <= INLINE {
            few[..ids.len()].copy_from_slice(&ids);
            return Ids {
                few,
                len: ids.len(),
                many: Vec::new(),
            };
        }
        Ids {
            few,
            len: ids.len(),
            many: ids,
        }
    }
    // the loop over a fixed array is what was profiled (see BENCHMARKS.md)
    #[allow(clippy::manual_contains)]
    #[inline(always)]
    fn has(&self, x: usize) -> bool {
        if self.len <= INLINE {
            // unused slots hold usize::MAX, which no edge or node id reaches
            self.few.iter().any(|&f| f == x)
        } else {
            self.many.binary_search(&x).is_ok()
        }
    }
    fn is_empty(&self) -> bool {
        self.len == 0
    }
}

pub(crate) struct CompactView<'g> {
    g: &'g TeGraph,
    k: &'g Compact,
    c: &'g Constraints,
    /// Flags every usable edge has.
    need: u32,
    /// Set when the request asks for bandwidth, so `slack` must be read.
    bandwidth: Option<f64>,
    groups: bool,
    /// What the admin-group constraints say of an edge with no groups.
    groups_ok_without: bool,
    srlgs: bool,
    excluded_edges: Ids,
    /// Excluded transit nodes (never the endpoints).
    excluded_nodes: Ids,
    /// Nothing but up/not-pruned/not-overbooked to check: the plain query's
    /// arc test is one mask.
    only_flags: bool,
}

impl<'g> CompactView<'g> {
    pub fn new(
        g: &'g TeGraph,
        k: &'g Compact,
        c: &'g Constraints,
        src: NodeId,
        dst: NodeId,
    ) -> Self {
        let zero = c.bandwidth_gbps == 0.0;
        let mut nodes = if c.exclude_nodes.is_empty() {
            Vec::new()
        } else {
            g.nodes_named(&c.exclude_nodes)
        };
        nodes.retain(|&n| n != src && n != dst);
        let mut v = CompactView {
            g,
            k,
            c,
            need: if zero { OPEN | FITS_NOTHING } else { OPEN },
            bandwidth: (!zero).then_some(c.bandwidth_gbps),
            groups: !(c.include_any.is_empty()
                && c.include_all.is_empty()
                && c.exclude_any.is_empty()),
            groups_ok_without: c.include_any.is_empty() && c.include_all.is_empty(),
            srlgs: !c.exclude_srlgs.is_empty(),
            excluded_edges: Ids::new(
                c.exclude_links
                    .iter()
                    .flat_map(|l| g.edges_of_link(l))
                    .collect(),
            ),
            excluded_nodes: Ids::new(nodes),
            only_flags: false,
        };
        v.only_flags = v.bandwidth.is_none()
            && !v.groups
            && !v.srlgs
            && v.excluded_edges.is_empty()
            && v.excluded_nodes.is_empty();
        v
    }

    /// The arc at position `p` (tail `u`) may be used: exactly `usable`.
    #[inline(always)]
    fn ok_at(&self, p: usize, u: NodeId) -> bool {
        !self.excluded_nodes.has(u) && self.ok_leaving_at(p)
    }

    /// As `ok_at`, for an arc whose tail is known not to be excluded: a
    /// node the search settles was reached over an arc whose head passed the
    /// check, or is the source, which is never excluded.
    #[inline(always)]
    fn ok_leaving_at(&self, p: usize) -> bool {
        let arc = &self.k.arcs[p];
        if self.only_flags {
            return arc.flags & self.need == self.need;
        }
        let e = arc.edge as usize;
        arc.flags & self.need == self.need
            && self.bandwidth.is_none_or(|bw| self.k.slack[p] >= bw)
            && (!self.groups
                || if arc.flags & HAS_GROUPS == 0 {
                    self.groups_ok_without
                } else {
                    groups_ok(&self.g.edges[e], self.c)
                })
            && !self.excluded_edges.has(e)
            && (!self.srlgs
                || arc.flags & HAS_SRLGS == 0
                || !self.g.edges[e]
                    .srlgs
                    .iter()
                    .any(|s| self.c.exclude_srlgs.contains(s)))
            && !self.excluded_nodes.has(arc.head as usize)
    }

    #[inline(always)]
    fn cost_at(&self, p: usize) -> u64 {
        match self.c.metric {
            Metric::Latency => u64::from(self.k.arcs[p].lat),
            Metric::Te => u64::from(self.k.metrics[p][0]),
            Metric::Igp => u64::from(self.k.metrics[p][1].max(1)),
            Metric::Hops => 1,
        }
    }
}

impl Arcs for CompactView<'_> {
    fn ok(&self, e: EdgeId) -> bool {
        self.ok_at(self.k.pos(e), self.g.tail(e))
    }
    fn cost(&self, e: EdgeId) -> u64 {
        self.cost_at(self.k.pos(e))
    }
    fn lat(&self, e: EdgeId) -> u64 {
        u64::from(self.k.arcs[self.k.pos(e)].lat)
    }
    fn cost_is_lat(&self) -> bool {
        self.c.metric == Metric::Latency
    }

    /// Reads `u`'s arcs in place: contiguous records, no edge-id lookup.
    #[inline]
    fn each_out<G: Topo>(&self, _g: &G, u: NodeId, mut f: impl FnMut(EdgeId, NodeId, u64, u64)) {
        // only a settled node's arcs are walked (see `ok_leaving_at`), but an
        // outside caller may ask about any node
        if self.excluded_nodes.has(u) {
            return;
        }
        for p in self.k.range(u) {
            if self.ok_leaving_at(p) {
                let arc = &self.k.arcs[p];
                f(
                    arc.edge as usize,
                    arc.head as usize,
                    self.cost_at(p),
                    u64::from(arc.lat),
                );
            }
        }
    }
}
