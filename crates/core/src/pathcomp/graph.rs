//! The packet-layer TE graph path computation works on: directed edges (two
//! per link) carrying TE attributes plus the state the controller changes at
//! run time (up/down, measured latency, reservations).

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::OnceLock;

use super::compact::Compact;
use super::search::Topo;
use crate::model::{Layer, Role, Topology};

pub type NodeId = usize;
pub type EdgeId = usize;

/// Adjacency SIDs are locally significant; Strata allocates them from here so
/// the label of an edge is stable for a given topology file.
pub const ADJ_SID_BASE: u32 = 24_000;

#[derive(Debug, Clone, PartialEq)]
pub struct TeNode {
    pub name: String,
    pub node_sid: Option<u32>,
}

/// Laid out by hand (`repr(C)`, cache-line aligned): what a search reads
/// for every edge it relaxes (ends, metrics, state, bandwidth) sits in the
/// first 64 bytes, so one cache line serves it; names and sets follow.
#[derive(Debug, Clone, PartialEq)]
#[repr(C, align(64))]
pub struct TeEdge {
    pub from: NodeId,
    pub to: NodeId,
    pub capacity_gbps: f64,
    /// Set by the caller as policies reserve and release bandwidth.
    pub reserved_gbps: f64,
    pub latency_us: u32,
    pub te_metric: u32,
    pub igp_metric: u32,
    /// `ADJ_SID_BASE + edge id`, assigned by `add_edge`.
    pub adj_sid: u32,
    /// IGP adjacency up: prefix SIDs forward over it.
    pub up: bool,
    /// Taken out of path computation by the controller (degraded by
    /// telemetry) while the IGP may still use it: explicit paths avoid it, and
    /// SID compression still assumes the IGP forwards over it.
    pub pruned: bool,
    /// The model link name; both directions of a link share it, which is what
    /// link-disjointness and link exclusions look at.
    pub link: String,
    pub srlgs: BTreeSet<u32>,
    pub admin_groups: BTreeSet<String>,
}

/// The edges of a `TeGraph`, read-only: every change goes through
/// `TeGraph::update_edge` (or the `set_link_*` helpers), which keeps the
/// searches' compact copy in step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Edges(Vec<TeEdge>);

impl Deref for Edges {
    type Target = [TeEdge];
    fn deref(&self) -> &[TeEdge] {
        &self.0
    }
}

impl<'a> IntoIterator for &'a Edges {
    type Item = &'a TeEdge;
    type IntoIter = std::slice::Iter<'a, TeEdge>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// An edge's attributes as path computation sees them, as the change log
/// records them: enough to say whether a path computed earlier is still
/// the best (see `plan::repair`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EdgeState {
    pub latency_us: u32,
    pub te_metric: u32,
    pub igp_metric: u32,
    pub up: bool,
    pub pruned: bool,
    /// capacity − reserved + 1e-9: what `usable` compares with a request.
    pub slack_gbps: f64,
    /// A hash of the SRLG and admin-group sets: only whether they changed.
    pub sets: u64,
}

impl EdgeState {
    pub fn of(e: &TeEdge) -> EdgeState {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        e.srlgs.hash(&mut h);
        e.admin_groups.hash(&mut h);
        EdgeState {
            latency_us: e.latency_us,
            te_metric: e.te_metric,
            igp_metric: e.igp_metric,
            up: e.up,
            pruned: e.pruned,
            slack_gbps: e.capacity_gbps - e.reserved_gbps + 1e-9,
            sets: h.finish(),
        }
    }
}

/// The last `LOG_CAP` attribute changes, each with the edge's state before
/// it, numbered by the graph's version. A clone starts an empty log at the
/// same version (a scratch copy's readers never ask about its past).
#[derive(Debug, Default)]
struct ChangeLog {
    /// Version of `records[0]`; the graph's version is `first + len`.
    first: u64,
    records: VecDeque<(EdgeId, EdgeState)>,
}

/// Bounds the log's memory (~48 bytes a record); a reader asking about an
/// older version is told it cannot know.
const LOG_CAP: usize = 1 << 16;

impl Clone for ChangeLog {
    fn clone(&self) -> Self {
        ChangeLog {
            first: self.version(),
            records: VecDeque::new(),
        }
    }
}

impl ChangeLog {
    fn version(&self) -> u64 {
        self.first + self.records.len() as u64
    }
    fn push(&mut self, e: EdgeId, before: EdgeState) {
        if self.records.len() == LOG_CAP {
            self.records.pop_front();
            self.first += 1;
        }
        self.records.push_back((e, before));
    }
    /// Forgets everything: no earlier version can be answered for.
    fn reset(&mut self) {
        self.first = self.version() + 1;
        self.records.clear();
    }
}

#[derive(Debug, Clone, Default)]
pub struct TeGraph {
    pub nodes: Vec<TeNode>,
    /// Read here, changed through `update_edge`.
    pub edges: Edges,
    out: Vec<Vec<EdgeId>>,
    inn: Vec<Vec<EdgeId>>,
    /// `edges[e].to` / `.from`, packed: a search reads the head of every
    /// edge it looks at, and the edge records are two cache lines each.
    heads: Vec<NodeId>,
    tails: Vec<NodeId>,
    by_name: HashMap<String, NodeId>,
    by_link: HashMap<String, Vec<EdgeId>>,
    /// Built on the first search after the last `add_edge`, patched by
    /// `update_edge`; `None` inside when ids overflow its 32-bit records.
    compact: OnceLock<Option<Compact>>,
    log: ChangeLog,
}

/// Two graphs are equal when their nodes and edges are: the indexes and the
/// compact copy are derived from those.
impl PartialEq for TeGraph {
    fn eq(&self, other: &Self) -> bool {
        self.nodes == other.nodes && self.edges == other.edges
    }
}

impl TeGraph {
    pub fn new(nodes: Vec<TeNode>) -> Self {
        let by_name = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.clone(), i))
            .collect();
        TeGraph {
            out: vec![Vec::new(); nodes.len()],
            inn: vec![Vec::new(); nodes.len()],
            heads: Vec::new(),
            tails: Vec::new(),
            nodes,
            edges: Edges::default(),
            by_name,
            by_link: HashMap::new(),
            compact: OnceLock::new(),
            log: ChangeLog::default(),
        }
    }

    /// Adds a directed edge and assigns its adjacency SID; `None` when an end
    /// is not a node of the graph.
    pub fn add_edge(&mut self, mut e: TeEdge) -> Option<EdgeId> {
        if e.from >= self.nodes.len() || e.to >= self.nodes.len() {
            return None;
        }
        let id = self.edges.len();
        e.adj_sid = ADJ_SID_BASE.saturating_add(u32::try_from(id).unwrap_or(u32::MAX));
        self.out[e.from].push(id);
        self.inn[e.to].push(id);
        self.heads.push(e.to);
        self.tails.push(e.from);
        self.by_link.entry(e.link.clone()).or_default().push(id);
        self.edges.0.push(e);
        self.structure_changed();
        Some(id)
    }

    /// Changes edge `e`'s attributes (reservation, SRLGs, state, metrics);
    /// `false` for an unknown edge. Its ends and adjacency SID are structure,
    /// not attributes: whatever `f` does to them is undone.
    pub fn update_edge(&mut self, e: EdgeId, f: impl FnOnce(&mut TeEdge)) -> bool {
        let Some(edge) = self.edges.0.get_mut(e) else {
            return false;
        };
        let (from, to, adj_sid) = (edge.from, edge.to, edge.adj_sid);
        let before = EdgeState::of(edge);
        f(edge);
        edge.from = from;
        edge.to = to;
        edge.adj_sid = adj_sid;
        if let Some(Some(c)) = self.compact.get_mut() {
            c.refresh(e, edge);
        }
        if EdgeState::of(edge) != before {
            self.log.push(e, before);
        }
        true
    }

    /// Counts attribute changes: a result computed at version `v` saw the
    /// graph as it was before change `v`.
    pub fn version(&self) -> u64 {
        self.log.version()
    }

    /// The changes since version `v`, oldest first, each as (edge, its state
    /// before that change); `None` when the log no longer reaches back to `v`
    /// (or `v` is from before the last structural change).
    pub fn changes_since(&self, v: u64) -> Option<impl Iterator<Item = (EdgeId, EdgeState)> + '_> {
        if v < self.log.first || v > self.log.version() {
            return None;
        }
        Some(
            self.log
                .records
                .iter()
                .skip((v - self.log.first) as usize)
                .copied(),
        )
    }

    /// The searches' view of the edges, built on first use.
    pub(crate) fn compact(&self) -> Option<&Compact> {
        self.compact
            .get_or_init(|| Compact::build(self.nodes.len(), &self.edges, &self.out))
            .as_ref()
    }

    /// Packet-role nodes and packet links, two directed edges per link (a→b
    /// then b→a, in file order, so edge ids and adjacency SIDs are stable).
    pub fn packet_layer(t: &Topology) -> TeGraph {
        let nodes = t
            .nodes
            .iter()
            .filter(|n| n.role == Role::Packet)
            .map(|n| TeNode {
                name: n.name.clone(),
                node_sid: n.node_sid,
            })
            .collect();
        let mut g = TeGraph::new(nodes);
        for l in t.links.iter().filter(|l| l.layer == Layer::Packet) {
            g.add_link(l);
        }
        g
    }

    /// Adds a packet node at run time (a new id; ids of removed nodes are
    /// not reused, so every recorded path keeps meaning what it meant).
    /// `None` if a live node already has the name.
    pub fn add_node(&mut self, node: TeNode) -> Option<NodeId> {
        if self.by_name.contains_key(&node.name) {
            return None;
        }
        let id = self.nodes.len();
        self.by_name.insert(node.name.clone(), id);
        self.nodes.push(node);
        self.out.push(Vec::new());
        self.inn.push(Vec::new());
        self.structure_changed();
        Some(id)
    }

    /// Removes a node that no live edge touches; `false` if it is unknown
    /// or still has edges. Its id stays, nameless and isolated, so the ids
    /// of the nodes after it do not shift.
    pub fn remove_node(&mut self, name: &str) -> bool {
        let Some(&id) = self.by_name.get(name) else {
            return false;
        };
        if !self.out[id].is_empty() || !self.inn[id].is_empty() {
            return false;
        }
        self.by_name.remove(name);
        self.nodes[id] = TeNode {
            name: String::new(),
            node_sid: None,
        };
        self.structure_changed();
        true
    }

    /// Adds both directions of packet link `l` (a→b then b→a); `None` if an
    /// end is not a node of the graph or the link is already there.
    pub fn add_link(&mut self, l: &crate::model::Link) -> Option<[EdgeId; 2]> {
        let (Some(a), Some(b)) = (self.node_id(&l.a.node), self.node_id(&l.b.node)) else {
            return None;
        };
        if self.by_link.contains_key(&l.name) {
            return None;
        }
        let mut ids = [0; 2];
        for (i, (from, to)) in [(a, b), (b, a)].into_iter().enumerate() {
            ids[i] = self.add_edge(TeEdge {
                link: l.name.clone(),
                from,
                to,
                latency_us: l.latency_us,
                te_metric: l.te_metric,
                igp_metric: l.igp_metric,
                capacity_gbps: l.capacity_gbps,
                reserved_gbps: 0.0,
                srlgs: l.srlgs.clone(),
                admin_groups: l.admin_groups.clone(),
                up: true,
                pruned: false,
                adj_sid: 0,
            })?;
        }
        Some(ids)
    }

    /// Takes both directions of `link` out of the graph; `false` for an
    /// unknown link. The edges stay in place as tombstones (down, pruned,
    /// nameless, in no adjacency list) so that the other edges keep their
    /// ids and adjacency SIDs.
    pub fn remove_link(&mut self, link: &str) -> bool {
        let Some(ids) = self.by_link.remove(link) else {
            return false;
        };
        for e in ids {
            let (from, to) = (self.edges.0[e].from, self.edges.0[e].to);
            self.out[from].retain(|&x| x != e);
            self.inn[to].retain(|&x| x != e);
            let edge = &mut self.edges.0[e];
            edge.up = false;
            edge.pruned = true;
            edge.capacity_gbps = 0.0;
            edge.reserved_gbps = 0.0;
            edge.link = String::new();
            edge.srlgs.clear();
            edge.admin_groups.clear();
        }
        self.structure_changed();
        true
    }

    /// Whether `e` is a removed link's tombstone.
    pub fn is_removed(&self, e: EdgeId) -> bool {
        self.edges.get(e).is_some_and(|x| x.link.is_empty())
    }

    /// Nodes or edges came or went: the searches' compact copy is rebuilt on
    /// first use, and the change log can no longer vouch for any result
    /// computed before (a new edge may be a better path for anything).
    fn structure_changed(&mut self) {
        self.compact = OnceLock::new();
        self.log.reset();
    }

    pub fn node_id(&self, name: &str) -> Option<NodeId> {
        self.by_name.get(name).copied()
    }

    /// Every node carrying one of `names` (names may repeat across nodes,
    /// so this scans when the index would miss duplicates).
    pub(crate) fn nodes_named(&self, names: &BTreeSet<String>) -> Vec<NodeId> {
        if self.by_name.len() == self.nodes.len() {
            names.iter().filter_map(|n| self.node_id(n)).collect()
        } else {
            (0..self.nodes.len())
                .filter(|&i| names.contains(&self.nodes[i].name))
                .collect()
        }
    }

    pub fn out_edges(&self, n: NodeId) -> &[EdgeId] {
        self.out.get(n).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn in_edges(&self, n: NodeId) -> &[EdgeId] {
        self.inn.get(n).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Both directions of `link` (empty for an unknown link).
    pub fn edges_of_link<'a>(&'a self, link: &str) -> impl Iterator<Item = EdgeId> + 'a {
        self.by_link.get(link).into_iter().flatten().copied()
    }

    /// Applies `f` to both directions of `link`.
    pub fn update_link(&mut self, link: &str, f: impl Fn(&mut TeEdge)) {
        let ids = self.by_link.get(link).cloned().unwrap_or_default();
        for e in ids {
            self.update_edge(e, &f);
        }
    }

    pub fn set_link_up(&mut self, link: &str, up: bool) {
        self.update_link(link, |e| e.up = up);
    }

    pub fn set_link_pruned(&mut self, link: &str, pruned: bool) {
        self.update_link(link, |e| e.pruned = pruned);
    }

    pub fn set_link_latency(&mut self, link: &str, us: u32) {
        self.update_link(link, |e| e.latency_us = us);
    }
}

impl Topo for TeGraph {
    fn node_count(&self) -> usize {
        self.nodes.len()
    }
    fn edge_count(&self) -> usize {
        self.edges.len()
    }
    fn out_edges(&self, n: NodeId) -> &[EdgeId] {
        TeGraph::out_edges(self, n)
    }
    fn in_edges(&self, n: NodeId) -> &[EdgeId] {
        TeGraph::in_edges(self, n)
    }
    fn tail(&self, e: EdgeId) -> NodeId {
        self.tails[e]
    }
    fn head(&self, e: EdgeId) -> NodeId {
        self.heads[e]
    }
}
