//! Runtime topology: nodes and links added, changed and removed while the
//! controller runs, one at a time or as the diff of a reloaded topology
//! file. A change is checked whole against the fabric before anything is
//! touched — names, ends, interfaces, and whether what it removes is in use
//! (policies on a link, services at a node, wavelengths carrying a link) —
//! and then applied whole, so a refused change leaves the fabric as it was.
//! A drained link has nothing left on it, so it can go. Packet layer only:
//! optical nodes and fibers still come from the topology file.

use std::collections::BTreeSet;

use super::error::{invalid, not_found, precondition, quote, PlanError};
use super::Fabric;
use crate::model::{Layer, Link, Node, Role, Topology};
use crate::pathcomp::TeNode;

/// One step of a topology change.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    AddNode(Node),
    /// A node's attributes (its name and role stay).
    UpdateNode(Node),
    RemoveNode(String),
    AddLink(Link),
    /// A link's attributes (its name and ends stay).
    UpdateLink(Link),
    RemoveLink(String),
}

impl Change {
    /// "node" or "link".
    pub fn kind(&self) -> &'static str {
        match self {
            Change::AddNode(_) | Change::UpdateNode(_) | Change::RemoveNode(_) => "node",
            _ => "link",
        }
    }

    /// "added", "updated" or "removed".
    pub fn verb(&self) -> &'static str {
        match self {
            Change::AddNode(_) | Change::AddLink(_) => "added",
            Change::UpdateNode(_) | Change::UpdateLink(_) => "updated",
            Change::RemoveNode(_) | Change::RemoveLink(_) => "removed",
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Change::AddNode(n) | Change::UpdateNode(n) => &n.name,
            Change::AddLink(l) | Change::UpdateLink(l) => &l.name,
            Change::RemoveNode(n) | Change::RemoveLink(n) => n,
        }
    }
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = match self.verb() {
            "added" => '+',
            "removed" => '-',
            _ => '~',
        };
        write!(f, "{sign} {} {}", self.kind(), self.name())
    }
}

/// A whole topology change, in the order it applies: links go before the
/// nodes they touch, nodes come before the links that need them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diff {
    pub changes: Vec<Change>,
}

impl Diff {
    pub fn one(change: Change) -> Diff {
        Diff {
            changes: vec![change],
        }
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Puts the steps in an order that applies: link removals, node
    /// removals, node additions and updates, link additions and updates.
    fn ordered(mut self) -> Diff {
        let rank = |c: &Change| match c {
            Change::RemoveLink(_) => 0,
            Change::RemoveNode(_) => 1,
            Change::AddNode(_) | Change::UpdateNode(_) => 2,
            Change::AddLink(_) | Change::UpdateLink(_) => 3,
        };
        self.changes.sort_by_key(rank);
        self
    }
}

/// Node attributes a file states (its interfaces are derived from links).
fn same_node(a: &Node, b: &Node) -> bool {
    Node {
        interfaces: Vec::new(),
        ..a.clone()
    } == Node {
        interfaces: Vec::new(),
        ..b.clone()
    }
}

fn same_ends(a: &Link, b: &Link) -> bool {
    a.a == b.a && a.b == b.b && a.layer == b.layer
}

/// What it takes to go from `current` to `new`: a node or link only in
/// `new` is added, only in `current` removed, in both but different
/// updated (a link whose ends or layer moved is removed and added again).
pub fn diff(current: &Topology, new: &Topology) -> Diff {
    let mut changes = Vec::new();
    for n in &new.nodes {
        match current.node(&n.name) {
            None => changes.push(Change::AddNode(n.clone())),
            Some(old) if old.role != n.role => {
                changes.push(Change::RemoveNode(n.name.clone()));
                changes.push(Change::AddNode(n.clone()));
            }
            Some(old) if !same_node(old, n) => changes.push(Change::UpdateNode(n.clone())),
            Some(_) => {}
        }
    }
    for n in &current.nodes {
        if new.node(&n.name).is_none() {
            changes.push(Change::RemoveNode(n.name.clone()));
        }
    }
    for l in &new.links {
        match current.link(&l.name) {
            None => changes.push(Change::AddLink(l.clone())),
            Some(old) if !same_ends(old, l) => {
                changes.push(Change::RemoveLink(l.name.clone()));
                changes.push(Change::AddLink(l.clone()));
            }
            Some(old) if old != l => changes.push(Change::UpdateLink(l.clone())),
            Some(_) => {}
        }
    }
    for l in &current.links {
        if new.link(&l.name).is_none() {
            changes.push(Change::RemoveLink(l.name.clone()));
        }
    }
    Diff { changes }.ordered()
}

/// A node removal takes the node's links with it: the diff spelled out.
fn expand(fabric: &Fabric, diff: &Diff) -> Diff {
    let mut out = Vec::new();
    let mut removed_links: BTreeSet<String> = diff
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::RemoveLink(l) => Some(l.clone()),
            _ => None,
        })
        .collect();
    for c in &diff.changes {
        if let Change::RemoveNode(n) = c {
            for l in fabric.topology.links_of(n) {
                if removed_links.insert(l.name.clone()) {
                    out.push(Change::RemoveLink(l.name.clone()));
                }
            }
        }
    }
    out.extend(diff.changes.iter().cloned());
    Diff { changes: out }.ordered()
}

/// Fills in what a topology file would derive for a packet link given
/// through the API: latency from length, TE metric from latency, the IGP
/// metric's default, and the SRLGs of what it rides.
pub fn complete_link(t: &Topology, l: &mut Link) {
    if l.latency_us == 0 {
        // Float-to-int `as` saturates; a bad length is refused by `check`.
        l.latency_us = (l.length_km.max(0.0) * crate::topology::MICROS_PER_KM).round() as u32;
    }
    if l.te_metric == 0 {
        l.te_metric = l.latency_us.max(1);
    }
    if l.igp_metric == 0 {
        l.igp_metric = crate::topology::DEFAULT_IGP_METRIC;
    }
    for r in &l.rides {
        if let Some(x) = t.link(r) {
            l.srlgs.extend(x.srlgs.iter().copied());
        }
    }
}

/// At most this many entries in a node's or link's list fields.
pub const MAX_LIST: usize = 256;

/// A link, interface or group name: what a topology file takes, bounded.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// At most this many bytes in a name.
pub const MAX_NAME: usize = 128;

/// A node name as a topology file has it, `[a-z0-9][a-z0-9-_.]*` (names
/// appear in gNMI paths, file names and CLI arguments), bounded.
fn valid_node_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= MAX_NAME
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
}

fn check_node_fields(n: &Node, field: &str) -> Result<(), PlanError> {
    if !valid_node_name(&n.name) {
        return Err(invalid(
            format!("{field}.name"),
            format!(
                "{} is not [a-z0-9][a-z0-9-_.]* of at most {MAX_NAME} bytes",
                quote(&n.name)
            ),
        ));
    }
    if n.role != Role::Packet {
        return Err(invalid(
            format!("{field}.role"),
            "only packet nodes change at run time (optical ones change in the topology file)",
        ));
    }
    if n.router_id.is_none() {
        return Err(invalid(
            format!("{field}.router_id"),
            "a packet node needs a router id",
        ));
    }
    if n.node_sid.is_none() {
        return Err(invalid(
            format!("{field}.node_sid"),
            "a packet node needs a node SID",
        ));
    }
    if n.access_interfaces.len() > MAX_LIST {
        return Err(invalid(
            format!("{field}.access_interfaces"),
            format!(
                "at most {MAX_LIST} entries, got {}",
                n.access_interfaces.len()
            ),
        ));
    }
    let mut seen = BTreeSet::new();
    for i in &n.access_interfaces {
        if !valid_name(i) || !seen.insert(i) {
            return Err(invalid(
                format!("{field}.access_interfaces"),
                format!("{} is empty, too long or repeated", quote(i)),
            ));
        }
    }
    if n.site.as_ref().is_some_and(|s| s.len() > 256) {
        return Err(invalid(format!("{field}.site"), "at most 256 bytes"));
    }
    Ok(())
}

fn check_link_fields(l: &Link, field: &str) -> Result<(), PlanError> {
    if !valid_name(&l.name) {
        return Err(invalid(
            format!("{field}.name"),
            format!("{} is empty, too long or has spaces", quote(&l.name)),
        ));
    }
    if l.layer != Layer::Packet {
        return Err(invalid(
            format!("{field}.layer"),
            "only packet links change at run time (optical links and fibers change in the topology file)",
        ));
    }
    for (end, e) in [("a", &l.a), ("b", &l.b)] {
        if e.node.is_empty() {
            return Err(invalid(format!("{field}.{end}.node"), "must name a node"));
        }
        if !valid_name(&e.interface) {
            return Err(invalid(
                format!("{field}.{end}.interface"),
                format!("{} is empty, too long or has spaces", quote(&e.interface)),
            ));
        }
    }
    for (name, len) in [
        ("srlgs", l.srlgs.len()),
        ("admin_groups", l.admin_groups.len()),
        ("rides", l.rides.len()),
    ] {
        if len > MAX_LIST {
            return Err(invalid(
                format!("{field}.{name}"),
                format!("at most {MAX_LIST} entries, got {len}"),
            ));
        }
    }
    if let Some(g) = l.admin_groups.iter().find(|g| !valid_name(g)) {
        return Err(invalid(
            format!("{field}.admin_groups"),
            format!("{} is empty, too long or has spaces", quote(g)),
        ));
    }
    if l.a.node == l.b.node {
        return Err(invalid(
            format!("{field}.b.node"),
            "a link joins two different nodes",
        ));
    }
    if !(l.capacity_gbps.is_finite() && l.capacity_gbps > 0.0) {
        return Err(invalid(
            format!("{field}.capacity_gbps"),
            format!("must be positive, got {}", l.capacity_gbps),
        ));
    }
    if !(l.length_km.is_finite() && l.length_km >= 0.0) {
        return Err(invalid(
            format!("{field}.length_km"),
            format!("must be zero or positive, got {}", l.length_km),
        ));
    }
    if l.te_metric == 0 || l.igp_metric == 0 {
        return Err(invalid(
            format!(
                "{field}.{}",
                if l.te_metric == 0 {
                    "te_metric"
                } else {
                    "igp_metric"
                }
            ),
            "must be at least 1",
        ));
    }
    Ok(())
}

/// Who uses `link`: policies whose path rides it, the services those
/// policies carry, and wavelengths that carry it. Empty: free to remove.
pub fn link_users(fabric: &Fabric, link: &str) -> Vec<String> {
    let mut users = Vec::new();
    let policies = fabric.policies_using(link);
    let services: BTreeSet<&str> = fabric
        .services
        .values()
        .filter(|s| s.policies.iter().any(|p| policies.contains(p)))
        .map(|s| s.id.as_str())
        .collect();
    users.extend(policies.iter().map(|p| format!("policy {p}")));
    users.extend(services.iter().map(|s| format!("service {s}")));
    users.extend(
        fabric
            .wavelengths
            .values()
            .filter(|w| w.spec.carries_link == link)
            .map(|w| format!("wavelength {}", w.id)),
    );
    users
}

/// Who uses `node` other than through its links: policies starting, ending
/// or passing there, and services attached to it.
pub fn node_users(fabric: &Fabric, node: &str) -> Vec<String> {
    let id = fabric.graph.node_id(node);
    let mut users: Vec<String> = fabric
        .policies
        .values()
        .filter(|p| {
            p.headend == node
                || p.endpoint == node
                || id.is_some_and(|id| p.path.nodes.contains(&id))
        })
        .map(|p| format!("policy {}", p.id))
        .collect();
    users.extend(
        fabric
            .services
            .values()
            .filter(|s| s.attachments.contains_key(node))
            .map(|s| format!("service {}", s.id)),
    );
    users
}

fn in_use(what: &str, name: &str, users: &[String]) -> PlanError {
    precondition(format!(
        "{what} {} is in use by {}; delete those first or drain it",
        quote(name),
        users.join(", ")
    ))
}

/// Checks `diff` against the fabric as a whole (each step against the
/// topology the earlier ones leave) and returns it spelled out (a node's
/// removal lists its links' removals) and in the order it applies.
/// `field` names the request field errors point at.
pub fn check(fabric: &Fabric, diff: &Diff, field: &str) -> Result<Diff, PlanError> {
    let diff = expand(fabric, diff);
    let mut t = fabric.topology.clone();
    for c in &diff.changes {
        match c {
            Change::RemoveLink(name) => {
                let Some(pos) = t.links.iter().position(|l| &l.name == name) else {
                    return Err(not_found(field, format!("link {}", quote(name))));
                };
                if t.links[pos].layer != Layer::Packet {
                    return Err(invalid(
                        field,
                        format!(
                            "{} is not a packet link (optical links and fibers change in the topology file only)",
                            quote(name)
                        ),
                    ));
                }
                let users = link_users(fabric, name);
                if !users.is_empty() {
                    return Err(in_use("link", name, &users));
                }
                // Bandwidth held with no policy recorded on the link: a
                // move onto it is being programmed right now.
                if fabric
                    .graph
                    .edges_of_link(name)
                    .any(|e| fabric.graph.edges[e].reserved_gbps > 1e-9)
                {
                    return Err(PlanError::Aborted(format!(
                        "link {} has bandwidth held by a change in progress; retry",
                        quote(name)
                    )));
                }
                t.links.remove(pos);
            }
            Change::RemoveNode(name) => {
                let Some(pos) = t.nodes.iter().position(|n| &n.name == name) else {
                    return Err(not_found(field, format!("node {}", quote(name))));
                };
                if t.nodes[pos].role != Role::Packet {
                    return Err(invalid(
                        field,
                        format!(
                            "{} is not a packet node (optical nodes change in the topology file only)",
                            quote(name)
                        ),
                    ));
                }
                let users = node_users(fabric, name);
                if !users.is_empty() {
                    return Err(in_use("node", name, &users));
                }
                t.nodes.remove(pos);
            }
            Change::AddNode(n) => {
                check_node_fields(n, field)?;
                // Drains and what-ifs name links and nodes alike: one name,
                // one thing.
                if t.node(&n.name).is_some() || t.link(&n.name).is_some() {
                    return Err(PlanError::AlreadyExists(format!(
                        "{field}.name: a node or link {} already exists",
                        quote(&n.name)
                    )));
                }
                check_node_unique(&t, n, field)?;
                let mut n = n.clone();
                n.interfaces.clear();
                t.nodes.push(n);
            }
            Change::UpdateNode(n) => {
                check_node_fields(n, field)?;
                let Some(pos) = t.nodes.iter().position(|x| x.name == n.name) else {
                    return Err(not_found(
                        format!("{field}.name"),
                        format!("node {}", quote(&n.name)),
                    ));
                };
                let old = t.nodes[pos].clone();
                if old.role != n.role {
                    return Err(invalid(
                        format!("{field}.role"),
                        "a node's role cannot change; remove it and add it again",
                    ));
                }
                check_node_unique(&t, n, field)?;
                if old.node_sid != n.node_sid {
                    let users = node_users(fabric, &n.name);
                    if !users.is_empty() {
                        return Err(precondition(format!(
                            "{field}.node_sid: node {} carries {}, whose segment lists use its SID",
                            quote(&n.name),
                            users.join(", ")
                        )));
                    }
                }
                for gone in old
                    .access_interfaces
                    .iter()
                    .filter(|i| !n.access_interfaces.contains(i))
                {
                    let users: Vec<String> = fabric
                        .services
                        .values()
                        .filter(|s| {
                            s.attachments
                                .get(&n.name)
                                .is_some_and(|a| a.iter().any(|(i, _)| i == gone))
                        })
                        .map(|s| format!("service {}", s.id))
                        .collect();
                    if !users.is_empty() {
                        return Err(precondition(format!(
                            "{field}.access_interfaces: {} {gone} is in use by {}",
                            n.name,
                            users.join(", ")
                        )));
                    }
                }
                t.nodes[pos] = Node {
                    interfaces: old.interfaces,
                    ..n.clone()
                };
            }
            Change::AddLink(l) => {
                check_link_fields(l, field)?;
                if t.link(&l.name).is_some() || t.node(&l.name).is_some() {
                    return Err(PlanError::AlreadyExists(format!(
                        "{field}.name: a link or node {} already exists",
                        quote(&l.name)
                    )));
                }
                check_link_ends(&t, l, field)?;
                check_rides(&t, l, field)?;
                t.links.push(l.clone());
                add_interfaces(&mut t, l);
            }
            Change::UpdateLink(l) => {
                check_link_fields(l, field)?;
                let Some(pos) = t.links.iter().position(|x| x.name == l.name) else {
                    return Err(not_found(
                        format!("{field}.name"),
                        format!("link {}", quote(&l.name)),
                    ));
                };
                if !same_ends(&t.links[pos], l) {
                    return Err(invalid(
                        format!("{field}.a"),
                        "a link's ends and layer cannot change; remove it and add it again",
                    ));
                }
                check_rides(&t, l, field)?;
                let reserved = fabric
                    .graph
                    .edges_of_link(&l.name)
                    .map(|e| fabric.graph.edges[e].reserved_gbps)
                    .fold(0.0, f64::max);
                if l.capacity_gbps + 1e-9 < reserved {
                    return Err(precondition(format!(
                        "{field}.capacity_gbps: {} Gbps is less than the {reserved} Gbps {} reserve on {}",
                        l.capacity_gbps,
                        fabric.policies_using(&l.name).join(", "),
                        l.name
                    )));
                }
                t.links[pos] = l.clone();
            }
        }
    }
    Ok(diff)
}

fn check_node_unique(t: &Topology, n: &Node, field: &str) -> Result<(), PlanError> {
    for other in t.nodes.iter().filter(|o| o.name != n.name) {
        if n.router_id.is_some() && other.router_id == n.router_id {
            return Err(PlanError::AlreadyExists(format!(
                "{field}.router_id: {} is {}'s",
                n.router_id.map(|r| r.to_string()).unwrap_or_default(),
                other.name
            )));
        }
        if n.node_sid.is_some() && other.node_sid == n.node_sid {
            return Err(PlanError::AlreadyExists(format!(
                "{field}.node_sid: {} is {}'s",
                n.node_sid.unwrap_or_default(),
                other.name
            )));
        }
    }
    Ok(())
}

fn check_link_ends(t: &Topology, l: &Link, field: &str) -> Result<(), PlanError> {
    for (end, e) in [("a", &l.a), ("b", &l.b)] {
        let Some(node) = t.node(&e.node) else {
            return Err(not_found(
                format!("{field}.{end}.node"),
                format!("node {}", quote(&e.node)),
            ));
        };
        if node.role != Role::Packet {
            return Err(invalid(
                format!("{field}.{end}.node"),
                format!("{} is not a packet node", quote(&e.node)),
            ));
        }
        if node.access_interfaces.contains(&e.interface) {
            return Err(invalid(
                format!("{field}.{end}.interface"),
                format!("{} {} is an access interface", e.node, e.interface),
            ));
        }
        if let Some(other) = t.links.iter().find(|x| {
            (x.a.node == e.node && x.a.interface == e.interface)
                || (x.b.node == e.node && x.b.interface == e.interface)
        }) {
            return Err(PlanError::AlreadyExists(format!(
                "{field}.{end}.interface: {} {} is already link {}'s",
                e.node, e.interface, other.name
            )));
        }
    }
    Ok(())
}

fn check_rides(t: &Topology, l: &Link, field: &str) -> Result<(), PlanError> {
    for r in &l.rides {
        match t.link(r) {
            Some(x) if x.layer != Layer::Packet => {}
            _ => {
                return Err(not_found(
                    format!("{field}.rides"),
                    format!("optical link or fiber {}", quote(r)),
                ))
            }
        }
    }
    Ok(())
}

fn add_interfaces(t: &mut Topology, l: &Link) {
    for e in [&l.a, &l.b] {
        if let Some(n) = t.nodes.iter_mut().find(|n| n.name == e.node) {
            if !n.interfaces.contains(&e.interface) {
                n.interfaces.push(e.interface.clone());
            }
        }
    }
}

fn remove_interfaces(t: &mut Topology, l: &Link) {
    for e in [&l.a, &l.b] {
        if let Some(n) = t.nodes.iter_mut().find(|n| n.name == e.node) {
            n.interfaces.retain(|i| i != &e.interface);
        }
    }
}

/// The SRLGs the graph's edges of `l` carry: its own, plus those of the
/// fibers under the wavelengths that carry it.
fn edge_srlgs(fabric: &Fabric, l: &Link) -> BTreeSet<u32> {
    let mut s = l.srlgs.clone();
    for w in fabric.wavelengths.values() {
        if w.spec.carries_link == l.name {
            s.extend(w.carried_srlgs.iter().copied());
        }
    }
    s
}

/// The drains a diff ends: those whose target (a link or node) it removes.
pub fn drains_ended(fabric: &Fabric, diff: &Diff) -> Vec<String> {
    diff.changes
        .iter()
        .filter_map(|c| match c {
            Change::RemoveLink(n) | Change::RemoveNode(n) => {
                fabric.drains.contains_key(n).then(|| n.clone())
            }
            _ => None,
        })
        .collect()
}

/// Applies a diff [`check`] returned. Every step was checked, so none can
/// fail here; the TE graph's structure changes (its version moves past
/// every repair entry computed before), a removed link leaves the drains
/// and the degraded set.
pub fn apply(fabric: &mut Fabric, diff: &Diff) {
    for c in &diff.changes {
        match c {
            Change::RemoveLink(name) => {
                if let Some(pos) = fabric.topology.links.iter().position(|l| &l.name == name) {
                    let l = fabric.topology.links.remove(pos);
                    remove_interfaces(&mut fabric.topology, &l);
                }
                fabric.graph.remove_link(name);
                fabric.degraded.remove(name);
                fabric.link_index.remove(name);
                // A drain of the link itself ends with it; others (a node's,
                // a fiber's) just no longer list it.
                fabric.drains.retain(|target, _| target != name);
                for d in fabric.drains.values_mut() {
                    d.links.retain(|l| l != name);
                }
            }
            Change::RemoveNode(name) => {
                fabric.topology.nodes.retain(|n| &n.name != name);
                fabric.graph.remove_node(name);
                fabric.sequences.remove(name);
                fabric.drains.retain(|target, _| target != name);
            }
            Change::AddNode(n) => {
                let mut n = n.clone();
                n.interfaces.clear();
                fabric.graph.add_node(TeNode {
                    name: n.name.clone(),
                    node_sid: n.node_sid,
                });
                fabric.topology.nodes.push(n);
            }
            Change::UpdateNode(n) => {
                if let Some(old) = fabric.topology.nodes.iter_mut().find(|x| x.name == n.name) {
                    let interfaces = std::mem::take(&mut old.interfaces);
                    *old = Node {
                        interfaces,
                        ..n.clone()
                    };
                }
                if let Some(id) = fabric.graph.node_id(&n.name) {
                    fabric.graph.nodes[id].node_sid = n.node_sid;
                }
            }
            Change::AddLink(l) => {
                fabric.topology.links.push(l.clone());
                add_interfaces(&mut fabric.topology, l);
                fabric.graph.add_link(l);
            }
            Change::UpdateLink(l) => {
                let srlgs = edge_srlgs(fabric, l);
                if let Some(old) = fabric.topology.links.iter_mut().find(|x| x.name == l.name) {
                    *old = l.clone();
                }
                fabric.graph.update_link(&l.name, |e| {
                    e.capacity_gbps = l.capacity_gbps;
                    e.latency_us = l.latency_us;
                    e.te_metric = l.te_metric;
                    e.igp_metric = l.igp_metric;
                    e.srlgs = srlgs.clone();
                    e.admin_groups = l.admin_groups.clone();
                });
            }
        }
    }
}

#[cfg(test)]
mod tests;
