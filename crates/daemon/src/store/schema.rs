//! The journal's schema ↔ domain: specs and shown objects as they are
//! written to disk (`strata.store.v1`) and read back. The journal has its
//! own messages (not the API's), so either can change without the other.

use crate::intent::{
    AttachmentSpec, ConstraintsSpec, PolicySpec, ServiceSpec, ServiceType, WavelengthSpec,
};
use crate::object::{self, PathView, SegmentTarget, SegmentView};
use crate::pathcomp::{Disjointness, Metric};
use crate::proto::strata::store::v1 as store;

pub fn constraints(c: &ConstraintsSpec) -> store::Constraints {
    store::Constraints {
        metric: match c.metric {
            None => store::Metric::Unspecified,
            Some(Metric::Latency) => store::Metric::Latency,
            Some(Metric::Igp) => store::Metric::Igp,
            Some(Metric::Te) => store::Metric::Te,
            Some(Metric::Hops) => store::Metric::HopCount,
        } as i32,
        max_latency_us: c.max_latency_us,
        bandwidth_gbps: c.bandwidth_gbps,
        include_any: c.include_any.clone(),
        include_all: c.include_all.clone(),
        exclude_any: c.exclude_any.clone(),
        exclude_nodes: c.exclude_nodes.clone(),
        exclude_links: c.exclude_links.clone(),
        exclude_srlgs: c.exclude_srlgs.clone(),
        disjoint_from: c.disjoint_from.clone(),
        disjointness: match c.disjointness {
            None => store::Disjointness::Unspecified,
            Some(Disjointness::Link) => store::Disjointness::Link,
            Some(Disjointness::Node) => store::Disjointness::Node,
            Some(Disjointness::Srlg) => store::Disjointness::Srlg,
        } as i32,
        max_sid_depth: c.max_sid_depth,
    }
}

pub fn constraints_spec(c: Option<&store::Constraints>) -> Result<ConstraintsSpec, String> {
    let Some(c) = c else {
        return Ok(ConstraintsSpec::default());
    };
    Ok(ConstraintsSpec {
        metric: match store::Metric::try_from(c.metric) {
            Ok(store::Metric::Unspecified) => None,
            Ok(store::Metric::Latency) => Some(Metric::Latency),
            Ok(store::Metric::Igp) => Some(Metric::Igp),
            Ok(store::Metric::Te) => Some(Metric::Te),
            Ok(store::Metric::HopCount) => Some(Metric::Hops),
            Err(_) => return Err(format!("unknown metric {}", c.metric)),
        },
        max_latency_us: c.max_latency_us,
        bandwidth_gbps: c.bandwidth_gbps,
        include_any: c.include_any.clone(),
        include_all: c.include_all.clone(),
        exclude_any: c.exclude_any.clone(),
        exclude_nodes: c.exclude_nodes.clone(),
        exclude_links: c.exclude_links.clone(),
        exclude_srlgs: c.exclude_srlgs.clone(),
        disjoint_from: c.disjoint_from.clone(),
        disjointness: match store::Disjointness::try_from(c.disjointness) {
            Ok(store::Disjointness::Unspecified) => None,
            Ok(store::Disjointness::Link) => Some(Disjointness::Link),
            Ok(store::Disjointness::Node) => Some(Disjointness::Node),
            Ok(store::Disjointness::Srlg) => Some(Disjointness::Srlg),
            Err(_) => return Err(format!("unknown disjointness {}", c.disjointness)),
        },
        max_sid_depth: c.max_sid_depth,
    })
}

pub fn policy_spec(s: &PolicySpec) -> store::PolicySpec {
    store::PolicySpec {
        name: s.name.clone(),
        headend: s.headend.clone(),
        endpoint: s.endpoint.clone(),
        color: s.color,
        constraints: Some(constraints(&s.constraints)),
    }
}

pub fn policy_spec_of(s: &store::PolicySpec) -> Result<PolicySpec, String> {
    Ok(PolicySpec {
        name: s.name.clone(),
        headend: s.headend.clone(),
        endpoint: s.endpoint.clone(),
        color: s.color,
        constraints: constraints_spec(s.constraints.as_ref())?,
    })
}

pub fn path(p: &PathView) -> store::Path {
    store::Path {
        nodes: p.nodes.clone(),
        links: p.links.clone(),
        latency_us: p.latency_us,
        cost: p.cost,
        segments: p
            .segments
            .iter()
            .map(|s| store::Segment {
                label: s.label,
                target: s.target.as_ref().map(|t| match t {
                    SegmentTarget::Node(n) => store::segment::Target::Node(n.clone()),
                    SegmentTarget::Adjacency(l) => store::segment::Target::Adjacency(l.clone()),
                }),
            })
            .collect(),
    }
}

pub fn path_of(p: &store::Path) -> PathView {
    PathView {
        nodes: p.nodes.clone(),
        links: p.links.clone(),
        latency_us: p.latency_us,
        cost: p.cost,
        segments: p
            .segments
            .iter()
            .map(|s| SegmentView {
                label: s.label,
                target: s.target.as_ref().map(|t| match t {
                    store::segment::Target::Node(n) => SegmentTarget::Node(n.clone()),
                    store::segment::Target::Adjacency(l) => SegmentTarget::Adjacency(l.clone()),
                }),
            })
            .collect(),
    }
}

pub fn policy(p: &object::Policy) -> store::Policy {
    store::Policy {
        id: p.id.clone(),
        spec: Some(policy_spec(&p.spec)),
        path: Some(path(&p.path)),
        revision: p.revision,
        owner: p.owner.clone().unwrap_or_default(),
        endpoint_address: p.endpoint_address.clone(),
        shares: p
            .shares
            .iter()
            .map(|(service, bandwidth_gbps)| store::TransportShare {
                service: service.clone(),
                bandwidth_gbps: *bandwidth_gbps,
            })
            .collect(),
    }
}

pub fn service_spec(s: &ServiceSpec) -> store::ServiceSpec {
    store::ServiceSpec {
        name: s.name.clone(),
        r#type: match s.service_type {
            None => store::ServiceType::Unspecified,
            Some(ServiceType::ELine) => store::ServiceType::ELine,
            Some(ServiceType::ELan) => store::ServiceType::ELan,
        } as i32,
        attachments: s
            .attachments
            .iter()
            .map(|a| store::ServiceAttachment {
                device: a.device.clone(),
                interface: a.interface.clone(),
                vlan: a.vlan,
            })
            .collect(),
        bandwidth_gbps: s.bandwidth_gbps,
        evi: s.evi,
        vni: s.vni,
        route_target: s.route_target.clone(),
        color: s.color,
        transport: Some(constraints(&s.transport)),
    }
}

pub fn service_spec_of(s: &store::ServiceSpec) -> Result<ServiceSpec, String> {
    Ok(ServiceSpec {
        name: s.name.clone(),
        service_type: match store::ServiceType::try_from(s.r#type) {
            Ok(store::ServiceType::ELine) => Some(ServiceType::ELine),
            Ok(store::ServiceType::ELan) => Some(ServiceType::ELan),
            _ => return Err(format!("unknown service type {}", s.r#type)),
        },
        attachments: s
            .attachments
            .iter()
            .map(|a| AttachmentSpec {
                device: a.device.clone(),
                interface: a.interface.clone(),
                vlan: a.vlan,
            })
            .collect(),
        bandwidth_gbps: s.bandwidth_gbps,
        evi: s.evi,
        vni: s.vni,
        route_target: s.route_target.clone(),
        color: s.color,
        transport: constraints_spec(s.transport.as_ref())?,
    })
}

pub fn service(s: &object::Service) -> store::Service {
    store::Service {
        id: s.id.clone(),
        spec: Some(service_spec(&s.spec)),
        evi: s.evi,
        vni: s.vni,
        route_target: s.route_target.clone(),
        route_distinguishers: s.route_distinguishers.clone().into_iter().collect(),
        transport_policies: s.transport_policies.clone(),
        revision: s.revision,
    }
}

pub fn wavelength_spec(s: &WavelengthSpec) -> store::WavelengthSpec {
    store::WavelengthSpec {
        name: s.name.clone(),
        a: s.a.clone(),
        b: s.b.clone(),
        operational_mode: s.operational_mode,
        target_power_dbm: s.target_power_dbm,
        osnr_margin_db: s.osnr_margin_db,
        frequency_mhz: s.frequency_mhz,
        exclude_fibers: s.exclude_fibers.clone(),
        carries_link: s.carries_link.clone(),
    }
}

pub fn wavelength_spec_of(s: &store::WavelengthSpec) -> WavelengthSpec {
    WavelengthSpec {
        name: s.name.clone(),
        a: s.a.clone(),
        b: s.b.clone(),
        operational_mode: s.operational_mode,
        target_power_dbm: s.target_power_dbm,
        osnr_margin_db: s.osnr_margin_db,
        frequency_mhz: s.frequency_mhz,
        exclude_fibers: s.exclude_fibers.clone(),
        carries_link: s.carries_link.clone(),
    }
}

pub fn wavelength(w: &object::Wavelength) -> store::Wavelength {
    store::Wavelength {
        id: w.id.clone(),
        spec: Some(wavelength_spec(&w.spec)),
        fibers: w.fibers.clone(),
        nodes: w.nodes.clone(),
        frequency_mhz: w.frequency_mhz,
        channel: w.channel,
        length_km: w.length_km,
        estimated_osnr_db: w.estimated_osnr_db,
        required_osnr_db: w.required_osnr_db,
        a_port: w.a_port.clone(),
        b_port: w.b_port.clone(),
        revision: w.revision,
        operational_mode: w.operational_mode,
        planned_margin_db: w.planned_margin_db,
    }
}

/// A runtime node as journaled (`None`: its removal's tombstone).
pub fn topology_node(
    name: &str,
    n: Option<&crate::model::Node>,
    revision: u64,
) -> store::TopologyNode {
    match n {
        None => store::TopologyNode {
            name: name.to_string(),
            removed: true,
            revision,
            ..Default::default()
        },
        Some(n) => store::TopologyNode {
            name: n.name.clone(),
            removed: false,
            site: n.site.clone().unwrap_or_default(),
            address: n.address.to_string(),
            router_id: n.router_id.map(|r| r.to_string()).unwrap_or_default(),
            node_sid: n.node_sid.unwrap_or(0),
            access_interfaces: n.access_interfaces.clone(),
            lat: n.location.map(|l| l.lat),
            lon: n.location.map(|l| l.lon),
            revision,
        },
    }
}

/// A journaled runtime node (`None` for a tombstone).
pub fn topology_node_of(n: &store::TopologyNode) -> Result<Option<crate::model::Node>, String> {
    if n.removed {
        return Ok(None);
    }
    let address = n
        .address
        .parse()
        .map_err(|e| format!("node {}: address {:?}: {e}", n.name, n.address))?;
    let router_id = match n.router_id.as_str() {
        "" => None,
        r => Some(
            r.parse()
                .map_err(|e| format!("node {}: router id {r:?}: {e}", n.name))?,
        ),
    };
    Ok(Some(crate::model::Node {
        name: n.name.clone(),
        role: crate::model::Role::Packet,
        site: (!n.site.is_empty()).then(|| n.site.clone()),
        location: match (n.lat, n.lon) {
            (Some(lat), Some(lon)) => Some(crate::model::GeoPoint { lat, lon }),
            _ => None,
        },
        address,
        router_id,
        node_sid: (n.node_sid != 0).then_some(n.node_sid),
        interfaces: Vec::new(),
        access_interfaces: n.access_interfaces.clone(),
    }))
}

/// A runtime packet link as journaled (`None`: its removal's tombstone).
pub fn topology_link(
    name: &str,
    l: Option<&crate::model::Link>,
    revision: u64,
) -> store::TopologyLink {
    match l {
        None => store::TopologyLink {
            name: name.to_string(),
            removed: true,
            revision,
            ..Default::default()
        },
        Some(l) => store::TopologyLink {
            name: l.name.clone(),
            removed: false,
            a_node: l.a.node.clone(),
            a_interface: l.a.interface.clone(),
            b_node: l.b.node.clone(),
            b_interface: l.b.interface.clone(),
            length_km: l.length_km,
            latency_us: l.latency_us,
            capacity_gbps: l.capacity_gbps,
            te_metric: l.te_metric,
            igp_metric: l.igp_metric,
            srlgs: l.srlgs.iter().copied().collect(),
            admin_groups: l.admin_groups.iter().cloned().collect(),
            rides: l.rides.clone(),
            revision,
        },
    }
}

/// A journaled runtime link (`None` for a tombstone).
pub fn topology_link_of(l: &store::TopologyLink) -> Option<crate::model::Link> {
    use crate::model::Endpoint;
    (!l.removed).then(|| crate::model::Link {
        name: l.name.clone(),
        a: Endpoint {
            node: l.a_node.clone(),
            interface: l.a_interface.clone(),
        },
        b: Endpoint {
            node: l.b_node.clone(),
            interface: l.b_interface.clone(),
        },
        layer: crate::model::Layer::Packet,
        length_km: l.length_km,
        latency_us: l.latency_us,
        capacity_gbps: l.capacity_gbps,
        te_metric: l.te_metric,
        igp_metric: l.igp_metric,
        srlgs: l.srlgs.iter().copied().collect(),
        admin_groups: l.admin_groups.iter().cloned().collect(),
        rides: l.rides.clone(),
        plant: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::strata::v1 as api;
    use prost::Message;

    /// Journals written before the schema was the journal's own embedded
    /// strata.v1 objects: the same bytes decode as the journal's messages.
    #[test]
    fn an_object_written_by_the_old_schema_reads_back_whole() {
        let old = api::Policy {
            id: "pol-1".into(),
            spec: Some(api::PolicySpec {
                name: "p".into(),
                headend: "pe1".into(),
                endpoint: "pe2".into(),
                color: 100,
                constraints: Some(api::Constraints {
                    metric: api::Metric::Te as i32,
                    exclude_srlgs: vec![4],
                    disjoint_from: "pol-0".into(),
                    disjointness: api::Disjointness::Srlg as i32,
                    ..Default::default()
                }),
            }),
            path: Some(api::ComputedPath {
                nodes: vec!["pe1".into(), "pe2".into()],
                links: vec!["l1".into()],
                latency_us: 70,
                cost: 10,
                segments: vec![api::Segment {
                    label: 16002,
                    target: Some(api::segment::Target::Node("pe2".into())),
                }],
            }),
            state: api::PolicyState::Programmed as i32,
            revision: 9,
            owner: "svc-2".into(),
            endpoint_address: "10.0.0.2".into(),
            // Not in the old schema.
            shares: Vec::new(),
        };
        let new = store::Policy::decode(old.encode_to_vec().as_slice()).unwrap();
        let spec = policy_spec_of(new.spec.as_ref().unwrap()).unwrap();
        assert_eq!(spec.constraints.metric, Some(Metric::Te));
        assert_eq!(spec.constraints.disjointness, Some(Disjointness::Srlg));
        assert_eq!(spec.constraints.exclude_srlgs, [4]);
        let path = path_of(new.path.as_ref().unwrap());
        assert_eq!(
            path.segments[0].target,
            Some(SegmentTarget::Node("pe2".into()))
        );
        assert_eq!((new.revision, new.owner.as_str()), (9, "svc-2"));
        assert_eq!(new.endpoint_address, "10.0.0.2");

        let old = api::Service {
            id: "svc-1".into(),
            spec: Some(api::ServiceSpec {
                name: "s".into(),
                r#type: api::ServiceType::ELan as i32,
                attachments: vec![api::Attachment {
                    device: "pe1".into(),
                    interface: "eth3".into(),
                    vlan: 7,
                }],
                ..Default::default()
            }),
            route_distinguishers: [("pe1".to_string(), "10.0.0.1:1".to_string())].into(),
            revision: 3,
            ..Default::default()
        };
        let new = store::Service::decode(old.encode_to_vec().as_slice()).unwrap();
        let spec = service_spec_of(new.spec.as_ref().unwrap()).unwrap();
        assert_eq!(spec.service_type, Some(ServiceType::ELan));
        assert_eq!(spec.attachments[0].vlan, 7);
        assert_eq!(new.route_distinguishers["pe1"], "10.0.0.1:1");
    }
}
