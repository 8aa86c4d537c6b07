//! One query's view of the edges over the graph's compact arrays
//! (`compact::Compact`): what `constraints::usable` and `weights` say for an
//! edge, decided per edge a search relaxes, from a 16-byte record. Only
//! constraints on SRLGs and admin groups read the edge's `TeEdge`, and only
//! for edges that have some.

use super::compact::{Compact, FITS_NOTHING, HAS_GROUPS, HAS_SRLGS, OPEN};
use super::constraints::{groups_ok, Constraints, Metric};
use super::graph::{EdgeId, NodeId, TeGraph};
use super::search::{Arcs, Topo};

/// A few ids, sorted: scanned when short (the usual one or two exclusions),
/// binary-searched when long.
struct Ids(Vec<usize>);

impl Ids {
    fn new(mut ids: Vec<usize>) -> Ids {
        ids.sort_unstable();
        ids.dedup();
        Ids(ids)
    }
    #[inline]
    fn has(&self, x: usize) -> bool {
        if self.0.len() <= 8 {
            self.0.contains(&x)
        } else {
            self.0.binary_search(&x).is_ok()
        }
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
        let mut nodes = g.nodes_named(&c.exclude_nodes);
        nodes.retain(|&n| n != src && n != dst);
        CompactView {
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
        }
    }

    /// The arc at position `p` (tail `u`) may be used: exactly `usable`.
    #[inline]
    fn ok_at(&self, p: usize, u: NodeId) -> bool {
        let arc = &self.k.arcs[p];
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
            && !self.excluded_nodes.has(u)
            && !self.excluded_nodes.has(arc.head as usize)
    }

    #[inline]
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
        for p in self.k.range(u) {
            if self.ok_at(p, u) {
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
