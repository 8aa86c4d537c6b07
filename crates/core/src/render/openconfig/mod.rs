//! The OpenConfig dialect (openconfig/public v5.9.0, RFC 7951 JSON_IETF), as
//! `docs/openconfig.md` specifies it: SR-TE as openconfig-pf-srte forwarding
//! rules, EVPN as L2VSI network instances, 400ZR as platform components and
//! terminal-device logical channels.

pub mod evpn;
pub mod optical;
pub mod owned;
pub mod srte;
pub mod telemetry;

use super::{Need, Path};
use crate::model::Role;

pub fn required_models(need: Need) -> &'static [&'static str] {
    match need {
        Need::SrtePolicy => &["openconfig-network-instance", "openconfig-pf-srte"],
        Need::Evpn => &[
            "openconfig-interfaces",
            "openconfig-vlan",
            "openconfig-network-instance",
        ],
        Need::Wavelength => &["openconfig-platform", "openconfig-terminal-device"],
    }
}

/// The list a container holds and its key, so a container too large to read
/// at once can be read entry by entry.
pub fn container_list(base: &Path) -> Option<(&'static str, &'static str)> {
    match base.elems.as_slice() {
        [e] if e.keys.is_empty() => match e.name.as_str() {
            "network-instances" => Some(("network-instance", "name")),
            "interfaces" => Some(("interface", "name")),
            "components" => Some(("component", "name")),
            _ => None,
        },
        _ => None,
    }
}

pub fn containers(role: Role) -> Vec<Path> {
    match role {
        Role::Packet => vec![network_instances(), interfaces()],
        Role::Optical => vec![components(), terminal_device()],
    }
}

pub fn network_instances() -> Path {
    Path::root().child("network-instances")
}

pub fn network_instance(name: &str) -> Path {
    network_instances().entry("network-instance", &[("name", name)])
}

pub fn interfaces() -> Path {
    Path::root().child("interfaces")
}

pub fn interface(name: &str) -> Path {
    interfaces().entry("interface", &[("name", name)])
}

pub fn components() -> Path {
    Path::root().child("components")
}

pub fn component(name: &str) -> Path {
    components().entry("component", &[("name", name)])
}

pub fn terminal_device() -> Path {
    Path::root().child("terminal-device")
}
