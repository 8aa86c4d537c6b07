//! What a router's LLDP agent hears on each port (openconfig-lldp,
//! `/lldp/interfaces/interface[name]/neighbors/neighbor[id]/state`), kept per
//! device so the cabling check can compare it with the topology.

use std::collections::BTreeMap;

use crate::gnmi::path::strip_module;
use crate::proto::gnmi::{typed_value::Value as V, PathElem, TypedValue};

/// The neighbor heard on one port: its system name and port id, as far as
/// they have been reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Heard {
    pub system: Option<String>,
    pub port: Option<String>,
}

impl Heard {
    /// Both halves, once both have arrived.
    pub fn whole(&self) -> Option<(String, String)> {
        Some((self.system.clone()?, self.port.clone()?))
    }
}

/// Port → neighbor, for one device. A port with several neighbors (a shared
/// segment) keeps the last one reported: Strata's links are point to point.
pub type Neighbors = BTreeMap<String, Heard>;

/// Where an update or delete lands, if it is LLDP.
enum Site<'a> {
    /// Every port (a delete of `/lldp`, `/lldp/interfaces` or above it).
    All,
    Port(&'a str),
    /// A neighbor leaf of a port.
    Leaf(&'a str, &'a str),
}

fn site<'a>(prefix: &'a [PathElem], path: &'a [PathElem]) -> Option<Site<'a>> {
    let mut elems = prefix.iter().chain(path.iter());
    let Some(first) = elems.next() else {
        return Some(Site::All);
    };
    if strip_module(&first.name) != "lldp" {
        return None;
    }
    let rest: Vec<&PathElem> = elems.collect();
    let name = |i: usize| rest.get(i).map(|e| strip_module(&e.name));
    if name(0).is_none() || (name(0) == Some("interfaces") && name(1).is_none()) {
        return Some(Site::All);
    }
    if name(0) != Some("interfaces") || name(1) != Some("interface") {
        return None;
    }
    let Some(port) = rest[1].key.get("name").map(String::as_str) else {
        // interface without a key: every port.
        return Some(Site::All);
    };
    match (name(2), name(3), name(4), name(5)) {
        (Some("neighbors"), Some("neighbor"), Some("state"), Some(leaf)) => {
            Some(Site::Leaf(port, leaf))
        }
        (None, ..) | (Some("neighbors"), None, ..) | (Some("neighbors"), Some("neighbor"), ..) => {
            Some(Site::Port(port))
        }
        // config/state of the interface itself: not about the neighbor.
        _ => None,
    }
}

fn text(v: &TypedValue) -> Option<String> {
    match v.value.as_ref()? {
        V::StringVal(s) => Some(s.clone()),
        V::JsonIetfVal(b) | V::JsonVal(b) => serde_json::from_slice::<String>(b).ok(),
        _ => None,
    }
}

/// Takes one update if it is an LLDP neighbor's system name or port id;
/// returns whether it changed what is known.
pub fn update(
    neighbors: &mut Neighbors,
    prefix: &[PathElem],
    path: &[PathElem],
    val: &TypedValue,
) -> bool {
    let Some(Site::Leaf(port, leaf)) = site(prefix, path) else {
        return false;
    };
    let Some(value) = text(val) else {
        return false;
    };
    let heard = neighbors.entry(port.to_string()).or_default();
    let slot = match leaf {
        "system-name" => &mut heard.system,
        "port-id" => &mut heard.port,
        _ => return false,
    };
    if slot.as_deref() == Some(value.as_str()) {
        return false;
    }
    *slot = Some(value);
    true
}

/// Takes one delete if it removes an LLDP neighbor (or all of them); returns
/// whether it changed what is known.
pub fn delete(neighbors: &mut Neighbors, prefix: &[PathElem], path: &[PathElem]) -> bool {
    match site(prefix, path) {
        Some(Site::All) => {
            let had = !neighbors.is_empty();
            neighbors.clear();
            had
        }
        // A deleted leaf leaves the neighbor half known: forget it whole
        // rather than compare with half an identity.
        Some(Site::Port(port)) | Some(Site::Leaf(port, _)) => neighbors.remove(port).is_some(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gnmi::parse_path;

    fn p(s: &str) -> Vec<PathElem> {
        parse_path(s).expect("test path").elem
    }

    fn s(v: &str) -> TypedValue {
        TypedValue {
            value: Some(V::StringVal(v.into())),
        }
    }

    #[test]
    fn a_neighbor_is_known_once_both_its_name_and_port_arrived() {
        let mut n = Neighbors::new();
        let base = "/openconfig-lldp:lldp/interfaces/interface[name=et-0/0/1]/neighbors/neighbor[id=1]/state";
        assert!(update(
            &mut n,
            &[],
            &p(&format!("{base}/system-name")),
            &s("pe2")
        ));
        assert_eq!(n["et-0/0/1"].whole(), None);
        // Split anywhere between prefix and path.
        let prefix = p("/lldp/interfaces/interface[name=et-0/0/1]");
        assert!(update(
            &mut n,
            &prefix,
            &p("/neighbors/neighbor[id=1]/state/port-id"),
            &s("et-0/0/7")
        ));
        assert_eq!(
            n["et-0/0/1"].whole(),
            Some(("pe2".into(), "et-0/0/7".into()))
        );
        assert!(
            !update(&mut n, &[], &p(&format!("{base}/port-id")), &s("et-0/0/7")),
            "unchanged"
        );
        assert!(
            !update(&mut n, &[], &p(&format!("{base}/ttl")), &s("120")),
            "not an identity"
        );
        assert!(
            !update(
                &mut n,
                &[],
                &p("/interfaces/interface[name=et-0/0/1]/state/oper-status"),
                &s("UP")
            ),
            "not LLDP"
        );
        assert!(delete(&mut n, &[], &p(&format!("{base}/port-id"))));
        assert!(n.is_empty());
    }

    #[test]
    fn deleting_the_agent_or_a_port_forgets_what_it_heard() {
        let mut n = Neighbors::new();
        for port in ["a", "b"] {
            let base =
                format!("/lldp/interfaces/interface[name={port}]/neighbors/neighbor[id=1]/state");
            update(&mut n, &[], &p(&format!("{base}/system-name")), &s("x"));
        }
        assert!(delete(
            &mut n,
            &[],
            &p("/lldp/interfaces/interface[name=a]")
        ));
        assert_eq!(n.len(), 1);
        assert!(!delete(
            &mut n,
            &[],
            &p("/lldp/interfaces/interface[name=a]/config/enabled")
        ));
        assert!(delete(&mut n, &[], &p("/")));
        assert!(n.is_empty());
        assert!(!delete(&mut n, &[], &p("/interfaces/interface[name=b]")));
    }
}
