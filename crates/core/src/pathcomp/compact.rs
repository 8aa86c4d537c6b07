//! The TE graph's edges as a search reads them: out-edges grouped by tail
//! (CSR) in 16-byte records, so relaxing a node reads one or two cache lines
//! instead of one 64-byte `TeEdge` line per edge. The records mirror state
//! the controller changes at run time, so `TeGraph` rebuilds or patches them
//! on every mutation (`TeGraph::update_edge`); nothing else writes edges.

use super::graph::{EdgeId, NodeId, TeEdge};

/// Link up and not pruned as degraded.
pub(crate) const OPEN: u32 = 1;
/// Free bandwidth ≥ 0 (a reservation may overbook), so a request for no
/// bandwidth need not read `slack`.
pub(crate) const FITS_NOTHING: u32 = 1 << 1;
/// Any SRLG / admin group: a query constraining those reads the `TeEdge`
/// only for the edges that have some.
pub(crate) const HAS_SRLGS: u32 = 1 << 2;
pub(crate) const HAS_GROUPS: u32 = 1 << 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub(crate) struct Arc {
    pub head: u32,
    pub edge: u32,
    pub lat: u32,
    pub flags: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Compact {
    /// Out-arcs of node u are `arcs[start[u]..start[u + 1]]`, in the order
    /// `out_edges(u)` lists them.
    start: Vec<usize>,
    pub arcs: Vec<Arc>,
    /// TE and IGP metric per arc, read only by queries on those metrics.
    pub metrics: Vec<[u32; 2]>,
    /// capacity − reserved + 1e-9, read only by bandwidth requests; the same
    /// float expression `usable` evaluates, so comparisons agree bit for bit.
    pub slack: Vec<f64>,
    /// Arc position of each edge id.
    pos: Vec<usize>,
}

/// What `Compact` keeps for one edge.
fn arc_of(id: u32, e: &TeEdge, head: u32) -> (Arc, [u32; 2], f64) {
    let slack = e.capacity_gbps - e.reserved_gbps + 1e-9;
    let mut flags = 0;
    if e.up && !e.pruned {
        flags |= OPEN;
    }
    if slack >= 0.0 {
        flags |= FITS_NOTHING;
    }
    if !e.srlgs.is_empty() {
        flags |= HAS_SRLGS;
    }
    if !e.admin_groups.is_empty() {
        flags |= HAS_GROUPS;
    }
    let arc = Arc {
        head,
        edge: id,
        lat: e.latency_us,
        flags,
    };
    (arc, [e.te_metric, e.igp_metric], slack)
}

impl Compact {
    /// `None` when ids do not fit the 32-bit records (4 billion edges: not a
    /// TE graph this controller will see; searches then read `TeEdge`s).
    pub fn build(nodes: usize, edges: &[TeEdge], out: &[Vec<EdgeId>]) -> Option<Compact> {
        u32::try_from(nodes).ok()?;
        u32::try_from(edges.len()).ok()?;
        let mut c = Compact {
            start: Vec::with_capacity(nodes + 1),
            arcs: Vec::with_capacity(edges.len()),
            metrics: Vec::with_capacity(edges.len()),
            slack: Vec::with_capacity(edges.len()),
            pos: vec![0; edges.len()],
        };
        for list in out.iter().take(nodes) {
            c.start.push(c.arcs.len());
            for &id in list {
                let e = edges.get(id)?;
                let (arc, m, s) = arc_of(id as u32, e, e.to as u32);
                c.pos[id] = c.arcs.len();
                c.arcs.push(arc);
                c.metrics.push(m);
                c.slack.push(s);
            }
        }
        c.start.resize(nodes + 1, c.arcs.len());
        Some(c)
    }

    /// Re-reads edge `id` after a change to its attributes.
    pub fn refresh(&mut self, id: EdgeId, e: &TeEdge) {
        let Some(&p) = self.pos.get(id) else {
            return;
        };
        let (arc, m, s) = arc_of(id as u32, e, self.arcs[p].head);
        self.arcs[p] = arc;
        self.metrics[p] = m;
        self.slack[p] = s;
    }

    /// Arc positions of `u`'s out-edges.
    #[inline]
    pub fn range(&self, u: NodeId) -> std::ops::Range<usize> {
        match (self.start.get(u), self.start.get(u + 1)) {
            (Some(&a), Some(&b)) => a..b,
            _ => 0..0,
        }
    }

    #[inline]
    pub fn pos(&self, e: EdgeId) -> usize {
        self.pos[e]
    }
}
