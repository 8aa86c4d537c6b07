//! The packet-layer TE graph path computation works on: directed edges (two
//! per link) with TE attributes and mutable state (up, latency, reservations).

use std::collections::{BTreeSet, HashMap};

use crate::model::{Layer, Role, Topology};

pub type NodeId = usize;
pub type EdgeId = usize;

/// Adjacency SIDs are locally significant; Strata allocates them from here.
pub const ADJ_SID_BASE: u32 = 24_000;

#[derive(Debug, Clone, PartialEq)]
pub struct TeNode {
    pub name: String,
    pub node_sid: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TeEdge {
    pub link: String,
    pub from: NodeId,
    pub to: NodeId,
    pub latency_us: u32,
    pub te_metric: u32,
    pub igp_metric: u32,
    pub capacity_gbps: f64,
    pub reserved_gbps: f64,
    pub srlgs: BTreeSet<u32>,
    pub admin_groups: BTreeSet<String>,
    /// IGP adjacency up: prefix SIDs forward over it.
    pub up: bool,
    /// Taken out of path computation by the controller (degraded by
    /// telemetry) while the IGP may still use it: explicit paths avoid it, and
    /// SID compression still assumes the IGP forwards over it.
    pub pruned: bool,
    pub adj_sid: u32,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TeGraph {
    pub nodes: Vec<TeNode>,
    pub edges: Vec<TeEdge>,
    out: Vec<Vec<EdgeId>>,
    by_name: HashMap<String, NodeId>,
    by_link: HashMap<String, Vec<EdgeId>>,
}

impl TeGraph {
    pub fn new(nodes: Vec<TeNode>) -> Self {
        let by_name = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.clone(), i))
            .collect();
        let out = vec![Vec::new(); nodes.len()];
        TeGraph {
            nodes,
            edges: Vec::new(),
            out,
            by_name,
            by_link: HashMap::new(),
        }
    }

    pub fn add_edge(&mut self, mut e: TeEdge) -> EdgeId {
        let id = self.edges.len();
        e.adj_sid = ADJ_SID_BASE + id as u32;
        self.out[e.from].push(id);
        self.by_link.entry(e.link.clone()).or_default().push(id);
        self.edges.push(e);
        id
    }

    /// Packet-role nodes and packet links, two directed edges per link.
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
            let (Some(a), Some(b)) = (g.node_id(&l.a.node), g.node_id(&l.b.node)) else {
                continue;
            };
            for (from, to) in [(a, b), (b, a)] {
                g.add_edge(TeEdge {
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
                });
            }
        }
        g
    }

    pub fn node_id(&self, name: &str) -> Option<NodeId> {
        self.by_name.get(name).copied()
    }

    pub fn out_edges(&self, n: NodeId) -> &[EdgeId] {
        self.out.get(n).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn edges_of_link<'a>(&'a self, link: &str) -> impl Iterator<Item = EdgeId> + 'a {
        self.by_link.get(link).into_iter().flatten().copied()
    }

    pub fn set_link_up(&mut self, link: &str, up: bool) {
        for e in self.by_link.get(link).cloned().unwrap_or_default() {
            self.edges[e].up = up;
        }
    }

    pub fn set_link_pruned(&mut self, link: &str, pruned: bool) {
        for e in self.by_link.get(link).cloned().unwrap_or_default() {
            self.edges[e].pruned = pruned;
        }
    }

    pub fn set_link_latency(&mut self, link: &str, us: u32) {
        for e in self.by_link.get(link).cloned().unwrap_or_default() {
            self.edges[e].latency_us = us;
        }
    }
}
