//! From the decoded file to a `Topology`: runs the checks in dependency order
//! (nodes, then links, then what links ride) and fills in derived values.

use std::collections::HashMap;

use super::error::Sink;
use super::file::TopologyFile;
use super::links::{self, LinkDraft};
use super::{nodes, rides};
use crate::model::{Link, Node, Topology};

/// Light in fiber covers about 204,000 km/s, i.e. 4.9 µs per km one way.
pub(crate) const MICROS_PER_KM: f64 = 4.9;

/// Runs every check even after failures, so the sink ends up with all of
/// them; returns the topology only if there were none.
pub(super) fn build(file: TopologyFile, sink: &mut Sink) -> Option<Topology> {
    if file.name.as_deref() == Some("") {
        sink.error("name", "must not be empty");
    }
    let node_index = nodes::check(&file.nodes, &file.defaults, sink);
    let mut drafts = links::check(file.links, &node_index, &file.defaults, sink);
    rides::resolve(&mut drafts, sink);
    if sink.has_errors() {
        return None;
    }

    let links: Vec<Link> = drafts.into_iter().filter_map(finish_link).collect();
    let mut nodes = node_index.nodes;
    add_interfaces(&mut nodes, &links);
    for (i, node) in nodes.iter().enumerate() {
        if let Some(clash) = node
            .access_interfaces
            .iter()
            .find(|a| node.interfaces.contains(a))
        {
            sink.error(
                format!("nodes[{i}].access_interfaces"),
                format!("{clash:?} is also used by a link of {}", node.name),
            );
        }
    }
    if sink.has_errors() {
        return None;
    }
    Some(Topology {
        name: file.name?,
        nodes,
        links,
    })
}

/// `None` only for drafts that had errors, which never get here.
fn finish_link(d: LinkDraft) -> Option<Link> {
    let length_km = d.length_km.unwrap_or(0.0);
    // Float-to-int `as` saturates, and lengths are finite and non-negative.
    let latency_us = d
        .latency_us
        .unwrap_or_else(|| (length_km * MICROS_PER_KM).round() as u32);
    Some(Link {
        name: d.name?,
        a: d.a?,
        b: d.b?,
        layer: d.layer?,
        length_km,
        latency_us,
        capacity_gbps: d.capacity_gbps,
        te_metric: d.te_metric.unwrap_or(latency_us.max(1)),
        igp_metric: d.igp_metric,
        srlgs: d.srlgs,
        admin_groups: d.admin_groups,
        rides: d.rides,
        plant: d.plant,
    })
}

/// Interfaces in the order links mention them, so device config and
/// simulator state come out in file order.
fn add_interfaces(nodes: &mut [Node], links: &[Link]) {
    let position: HashMap<String, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.clone(), i))
        .collect();
    for link in links {
        for end in [&link.a, &link.b] {
            if let Some(&i) = position.get(&end.node) {
                let interfaces = &mut nodes[i].interfaces;
                if !interfaces.contains(&end.interface) {
                    interfaces.push(end.interface.clone());
                }
            }
        }
    }
}
