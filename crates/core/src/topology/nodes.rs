//! Node checks: names, identifiers that must be unique across the fabric, and
//! the gNMI address each device is reached at.

use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::Hash;
use std::net::SocketAddr;

use super::error::Sink;
use super::file::{DefaultsFile, NodeFile};
use crate::model::{GeoPoint, Node, Role};

/// MPLS labels 0–15 are reserved; labels are 20 bits.
const NODE_SID_RANGE: std::ops::RangeInclusive<u32> = 16..=1_048_575;

/// What link checks need to know about the nodes.
pub(super) struct NodeIndex {
    /// Every declared name, with its role when that decoded. A name is here
    /// even if the node has other errors, so links to it are not reported as
    /// dangling.
    pub roles: HashMap<String, Option<Role>>,
    /// Nodes complete enough to become model nodes, in file order.
    pub nodes: Vec<Node>,
}

pub(super) fn check(files: &[NodeFile], defaults: &DefaultsFile, sink: &mut Sink) -> NodeIndex {
    let mut names = Unique::new("node name");
    let mut addresses = Unique::new("address");
    let mut router_ids = Unique::new("router_id");
    let mut node_sids = Unique::new("node_sid");
    let mut index = NodeIndex {
        roles: HashMap::new(),
        nodes: Vec::new(),
    };

    for file in files {
        let path = file.path();
        if let Some(name) = &file.name {
            if !valid_name(name) {
                sink.error(
                    format!("{path}.name"),
                    format!(
                        "invalid node name \"{name}\": use lowercase letters, digits, '-', '_' \
                         and '.', starting with a letter or digit"
                    ),
                );
            }
            if names.claim(name.clone(), &path, "name", sink) {
                index.roles.insert(name.clone(), file.role);
            }
        }
        if let Some(location) = &file.location {
            check_location(location, &path, sink);
        }
        if let Some(id) = file.router_id {
            router_ids.claim(id, &path, "router_id", sink);
        }
        if let Some(sid) = file.node_sid {
            if file.role == Some(Role::Optical) {
                sink.error(
                    format!("{path}.node_sid"),
                    "optical nodes have no node SID; node_sid is for packet nodes",
                );
            } else if !NODE_SID_RANGE.contains(&sid) {
                sink.error(
                    format!("{path}.node_sid"),
                    format!(
                        "node_sid {sid} is not a usable MPLS label ({}..={})",
                        NODE_SID_RANGE.start(),
                        NODE_SID_RANGE.end()
                    ),
                );
            } else {
                node_sids.claim(sid, &path, "node_sid", sink);
            }
        }
        let address = address_of(file, defaults, sink);
        if let Some(address) = address {
            let note = if file.address.is_none() {
                " (derived from defaults.address_base)"
            } else {
                ""
            };
            addresses.claim_noted(address, &path, "address", note, sink);
        }

        if let (Some(name), Some(role), Some(address)) = (&file.name, file.role, address) {
            index.nodes.push(Node {
                name: name.clone(),
                role,
                site: file.site.clone(),
                location: file.location,
                address,
                router_id: file.router_id,
                node_sid: file.node_sid,
                interfaces: Vec::new(),
                access_interfaces: access_interfaces(file, role, defaults, sink),
            });
        }
    }
    index
}

/// `[a-z0-9][a-z0-9-_.]*`: names appear in gNMI paths, file names and CLI
/// arguments, so keep them boring.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
}

fn check_location(location: &GeoPoint, path: &str, sink: &mut Sink) {
    for (key, value, limit) in [("lat", location.lat, 90.0), ("lon", location.lon, 180.0)] {
        if !(value.is_finite() && (-limit..=limit).contains(&value)) {
            sink.error(
                format!("{path}.location.{key}"),
                format!("{key} {value} is outside [-{limit}, {limit}]"),
            );
        }
    }
}

/// The explicit address, else `address_base` plus the node's position in the
/// file. Position rather than "n-th node without an address" so that giving
/// one node an explicit address does not move every later node's port.
fn address_of(file: &NodeFile, defaults: &DefaultsFile, sink: &mut Sink) -> Option<SocketAddr> {
    if file.address.is_some() || file.address_reported {
        return file.address;
    }
    let field = format!("{}.address", file.path());
    let Some(base) = defaults.address_base else {
        sink.error(
            field,
            "missing address, and no defaults.address_base to derive one from",
        );
        return None;
    };
    let port = u16::try_from(file.index)
        .ok()
        .and_then(|offset| base.port().checked_add(offset));
    match port {
        Some(port) => Some(SocketAddr::new(base.ip(), port)),
        None => {
            sink.error(
                field,
                format!(
                    "address derived from defaults.address_base {base} + {} is past port 65535",
                    file.index
                ),
            );
            None
        }
    }
}

/// First-come ownership of values that must be unique.
struct Unique<K> {
    what: &'static str,
    owners: HashMap<K, String>,
}

impl<K: Eq + Hash + Debug> Unique<K> {
    fn new(what: &'static str) -> Self {
        Unique {
            what,
            owners: HashMap::new(),
        }
    }

    /// Records `value` for the item at `path`; false (and an error on
    /// `path.key`) if an earlier item has it. `Debug` so names come out
    /// quoted and addresses plain.
    fn claim(&mut self, value: K, path: &str, key: &str, sink: &mut Sink) -> bool {
        self.claim_noted(value, path, key, "", sink)
    }

    fn claim_noted(
        &mut self,
        value: K,
        path: &str,
        key: &str,
        note: &str,
        sink: &mut Sink,
    ) -> bool {
        if let Some(owner) = self.owners.get(&value) {
            let message = format!(
                "duplicate {} {value:?}{note}, already used by {}",
                self.what,
                sink.place(owner)
            );
            sink.error(format!("{path}.{key}"), message);
            return false;
        }
        self.owners.insert(value, path.to_string());
        true
    }
}

/// A packet node's own access ports, else the fabric default; optical nodes
/// have none (services attach to routers).
fn access_interfaces(
    file: &NodeFile,
    role: Role,
    defaults: &DefaultsFile,
    sink: &mut Sink,
) -> Vec<String> {
    let path = format!("{}.access_interfaces", file.path());
    if role == Role::Optical {
        if file.access_interfaces.is_some() {
            sink.error(
                path,
                "optical nodes have no access interfaces; services attach to packet nodes",
            );
        }
        return Vec::new();
    }
    let list = file
        .access_interfaces
        .clone()
        .or_else(|| defaults.access_interfaces.clone())
        .unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    for name in &list {
        if name.is_empty() || !seen.insert(name) {
            sink.error(
                path.clone(),
                format!("access interface {name:?} is empty or listed twice"),
            );
        }
    }
    list
}
