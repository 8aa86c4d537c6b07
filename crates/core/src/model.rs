//! Fabric types shared by every room: nodes, links and their TE attributes.
//!
//! Pure data: no I/O, no locking. `topology` builds these from a file, `state`
//! holds them at run time, `pathcomp` and `render` read them.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr};

use serde::{Deserialize, Serialize};

/// What a device does in the fabric, which decides the models it speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// IP/MPLS router (PE/P): SR-TE policies, EVPN instances, link delay/loss.
    Packet,
    /// Optical terminal device: 400ZR logical and optical channels.
    Optical,
}

/// The layer a link lives on. Packet links may ride optical channels, which
/// ride fiber spans; a fault low in the stack takes down what rides on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    Packet,
    Optical,
    Fiber,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub name: String,
    pub role: Role,
    /// Human site name, e.g. "Northern Virginia".
    pub site: Option<String>,
    pub location: Option<GeoPoint>,
    /// Where the device's gNMI server listens (for the lab: its simulator).
    pub address: SocketAddr,
    pub router_id: Option<Ipv4Addr>,
    /// SR-MPLS prefix-SID label of the node's loopback (packet nodes).
    pub node_sid: Option<u32>,
    /// Interface names used by links, in file order, without duplicates.
    pub interfaces: Vec<String>,
    /// Customer-facing ports (packet nodes) where services attach.
    pub access_interfaces: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Endpoint {
    pub node: String,
    pub interface: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub name: String,
    pub a: Endpoint,
    pub b: Endpoint,
    pub layer: Layer,
    pub length_km: f64,
    /// One-way propagation latency in microseconds.
    pub latency_us: u32,
    pub capacity_gbps: f64,
    pub te_metric: u32,
    pub igp_metric: u32,
    /// Shared-risk link groups: the link's own plus those of everything it rides.
    pub srlgs: BTreeSet<u32>,
    pub admin_groups: BTreeSet<String>,
    /// Names of the lower-layer links this link is carried over (e.g. the fiber
    /// spans under a packet link).
    pub rides: Vec<String>,
    /// A fiber link's physical plant as the topology file gives it; `None`
    /// means the defaults for its length (`FiberPlant::defaults`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plant: Option<crate::pathcomp::optical::FiberPlant>,
}

impl Link {
    pub fn touches(&self, node: &str) -> bool {
        self.a.node == node || self.b.node == node
    }

    /// The far end seen from `node`, if the link touches it.
    pub fn peer_of(&self, node: &str) -> Option<&Endpoint> {
        if self.a.node == node {
            Some(&self.b)
        } else if self.b.node == node {
            Some(&self.a)
        } else {
            None
        }
    }
}

/// A validated fabric: every link endpoint names a node, names are unique.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Topology {
    pub name: String,
    pub nodes: Vec<Node>,
    pub links: Vec<Link>,
}

impl Topology {
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.name == name)
    }

    /// Links with an endpoint on `node`.
    pub fn links_of<'a>(&'a self, node: &'a str) -> impl Iterator<Item = &'a Link> + 'a {
        self.links.iter().filter(move |l| l.touches(node))
    }
}

/// A router's IS-IS system id: its router id in BCD, 12 digits in three
/// dotted groups (`10.255.0.1` → `0102.5500.0001`). Devices name their own
/// LSP after it, so the controller and the simulators must agree on it.
pub fn isis_system_id(router_id: std::net::Ipv4Addr) -> String {
    let digits: String = router_id
        .octets()
        .iter()
        .map(|o| format!("{o:03}"))
        .collect();
    format!("{}.{}.{}", &digits[0..4], &digits[4..8], &digits[8..12])
}
