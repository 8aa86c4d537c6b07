//! What a path request may use: the metric it minimises and the constraints
//! that prune edges before any search runs.

use std::collections::BTreeSet;

use super::graph::{EdgeId, NodeId, TeEdge, TeGraph};
use super::search::{Arcs, Weights};

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
    /// Bound on the cumulative one-way latency of the whole path.
    pub max_latency_us: Option<u64>,
    /// An edge is usable iff capacity − reserved ≥ bandwidth.
    pub bandwidth_gbps: f64,
    /// Admin groups with RFC 3630 semantics; an empty set is no constraint.
    pub include_any: BTreeSet<String>,
    pub include_all: BTreeSet<String>,
    pub exclude_any: BTreeSet<String>,
    /// Transit nodes to avoid; the request's own endpoints are never excluded.
    pub exclude_nodes: BTreeSet<String>,
    pub exclude_links: BTreeSet<String>,
    pub exclude_srlgs: BTreeSet<u32>,
    /// The deepest SID list the headend can push: `cspf` (and so
    /// `disjoint_from`) only returns paths whose compressed SID list fits.
    /// `k_shortest` and `disjoint_pair` leave this check to the caller.
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

/// An edge's weight under `m`. Latency and TE metric are taken as they are
/// (zero is legal); an IGP metric of zero is read as 1, as IS-IS and OSPF
/// would, so CSPF on the IGP metric agrees with what prefix SIDs follow.
pub fn edge_cost(e: &TeEdge, m: Metric) -> u64 {
    match m {
        Metric::Latency => u64::from(e.latency_us),
        Metric::Igp => u64::from(e.igp_metric.max(1)),
        Metric::Te => u64::from(e.te_metric),
        Metric::Hops => 1,
    }
}

pub(crate) fn weights(g: &TeGraph, m: Metric) -> Weights {
    Weights {
        cost: g.edges.iter().map(|e| edge_cost(e, m)).collect(),
        lat: g.edges.iter().map(|e| u64::from(e.latency_us)).collect(),
    }
}

/// Links (not directed edges) each constraint removed, so a NoPath error can
/// say what to relax. Each link is counted under the first reason that hit it.
#[derive(Debug, Default)]
pub(crate) struct Pruned<'g> {
    down: BTreeSet<&'g str>,
    degraded: BTreeSet<&'g str>,
    bandwidth: BTreeSet<&'g str>,
    groups: BTreeSet<&'g str>,
    links: BTreeSet<&'g str>,
    srlgs: BTreeSet<&'g str>,
    nodes: BTreeSet<&'g str>,
    bandwidth_gbps: f64,
}

impl Pruned<'_> {
    pub fn any(&self) -> bool {
        [
            &self.down,
            &self.degraded,
            &self.bandwidth,
            &self.groups,
            &self.links,
            &self.srlgs,
            &self.nodes,
        ]
        .iter()
        .any(|s| !s.is_empty())
    }

    pub fn reason(&self) -> String {
        let bw = format!("without {} Gbps of free bandwidth", self.bandwidth_gbps);
        let parts: Vec<String> = [
            (&self.down, "down"),
            (&self.degraded, "taken out of service as degraded"),
            (&self.bandwidth, bw.as_str()),
            (&self.groups, "failing the admin-group constraints"),
            (&self.links, "excluded by name"),
            (&self.srlgs, "in an excluded SRLG"),
            (&self.nodes, "touching an excluded node"),
        ]
        .iter()
        .filter(|(s, _)| !s.is_empty())
        .map(|(s, what)| {
            let n = s.len();
            format!("{n} link{} {what}", if n == 1 { "" } else { "s" })
        })
        .collect();
        if parts.is_empty() {
            "the endpoints are not connected".into()
        } else {
            format!("pruned {}; no route remains", parts.join(", "))
        }
    }
}

/// Which edges the constraints allow. The endpoints are never excluded as
/// nodes: a request names them, so excluding them can only be a mistake.
pub(crate) fn usable<'g>(
    g: &'g TeGraph,
    c: &Constraints,
    src: NodeId,
    dst: NodeId,
) -> (Vec<bool>, Pruned<'g>) {
    let mut pruned = Pruned {
        bandwidth_gbps: c.bandwidth_gbps,
        ..Pruned::default()
    };
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
            let link = e.link.as_str();
            let bucket = if !e.up {
                &mut pruned.down
            } else if e.pruned {
                &mut pruned.degraded
            } else if e.capacity_gbps - e.reserved_gbps + 1e-9 < c.bandwidth_gbps {
                &mut pruned.bandwidth
            } else if !groups_ok(e, c) {
                &mut pruned.groups
            } else if c.exclude_links.contains(link) {
                &mut pruned.links
            } else if e.srlgs.iter().any(|s| c.exclude_srlgs.contains(s)) {
                &mut pruned.srlgs
            } else if excluded_node[e.from] || excluded_node[e.to] {
                &mut pruned.nodes
            } else {
                return true;
            };
            bucket.insert(link);
            false
        })
        .collect();
    (ok, pruned)
}

/// RFC 3630 affinities: include-any needs one shared group, include-all
/// needs every group, exclude-any forbids every group.
pub(crate) fn groups_ok(e: &TeEdge, c: &Constraints) -> bool {
    (c.include_any.is_empty() || c.include_any.iter().any(|a| e.admin_groups.contains(a)))
        && c.include_all.iter().all(|a| e.admin_groups.contains(a))
        && !c.exclude_any.iter().any(|a| e.admin_groups.contains(a))
}

/// One query's view of the edges, answered on demand from the graph: what
/// `usable` and `weights` say for an edge, without their pass over every
/// edge (a search to a destination usually touches a fraction of them).
/// Named exclusions are resolved to ids once, so no name is compared per edge.
pub(crate) struct Lazy<'g> {
    g: &'g TeGraph,
    c: &'g Constraints,
    /// Edge ids of the excluded links, sorted.
    excluded_edges: Vec<EdgeId>,
    /// Excluded transit nodes, sorted (never the endpoints).
    excluded_nodes: Vec<NodeId>,
}

impl<'g> Lazy<'g> {
    pub fn new(g: &'g TeGraph, c: &'g Constraints, src: NodeId, dst: NodeId) -> Self {
        let mut excluded_edges: Vec<EdgeId> = c
            .exclude_links
            .iter()
            .flat_map(|l| g.edges_of_link(l))
            .collect();
        excluded_edges.sort_unstable();
        let mut excluded_nodes = g.nodes_named(&c.exclude_nodes);
        excluded_nodes.retain(|&n| n != src && n != dst);
        excluded_nodes.sort_unstable();
        Lazy {
            g,
            c,
            excluded_edges,
            excluded_nodes,
        }
    }
}

impl Arcs for Lazy<'_> {
    /// Exactly `usable(..).0[e]`.
    #[inline]
    fn ok(&self, e: EdgeId) -> bool {
        let edge = &self.g.edges[e];
        let c = self.c;
        edge.up
            && !edge.pruned
            && edge.capacity_gbps - edge.reserved_gbps + 1e-9 >= c.bandwidth_gbps
            && groups_ok(edge, c)
            && (self.excluded_edges.is_empty() || self.excluded_edges.binary_search(&e).is_err())
            && (c.exclude_srlgs.is_empty()
                || !edge.srlgs.iter().any(|s| c.exclude_srlgs.contains(s)))
            && (self.excluded_nodes.is_empty()
                || (self.excluded_nodes.binary_search(&edge.from).is_err()
                    && self.excluded_nodes.binary_search(&edge.to).is_err()))
    }
    #[inline]
    fn cost(&self, e: EdgeId) -> u64 {
        edge_cost(&self.g.edges[e], self.c.metric)
    }
    #[inline]
    fn lat(&self, e: EdgeId) -> u64 {
        u64::from(self.g.edges[e].latency_us)
    }
}
