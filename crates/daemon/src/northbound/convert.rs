//! strata.v1 ↔ domain: the one place wire types meet the controller's. A
//! request becomes a domain spec (refusing, with the field's name, what no
//! domain type can hold: a missing spec, an enum number the API does not
//! define); domain objects and events become strata.v1 messages.

use prost::Message;

use crate::controller::error::invalid;
use crate::controller::{ApiError, Request};
use crate::intent::{
    AttachmentSpec, ConstraintsSpec, PolicySpec, ServiceSpec, ServiceType, ServiceUpdate,
    WavelengthSpec,
};
use crate::object;
use crate::pathcomp::{Disjointness, Metric};
use crate::proto::strata::v1 as api;

// ---- requests in ----------------------------------------------------------

fn metric(value: i32, field: &str) -> Result<Option<Metric>, ApiError> {
    Ok(match api::Metric::try_from(value) {
        Ok(api::Metric::Unspecified) => None,
        Ok(api::Metric::Latency) => Some(Metric::Latency),
        Ok(api::Metric::Igp) => Some(Metric::Igp),
        Ok(api::Metric::Te) => Some(Metric::Te),
        Ok(api::Metric::HopCount) => Some(Metric::Hops),
        Err(_) => return Err(invalid(field, format!("unknown metric {value}"))),
    })
}

fn disjointness(value: i32, field: &str) -> Result<Option<Disjointness>, ApiError> {
    Ok(match api::Disjointness::try_from(value) {
        Ok(api::Disjointness::Unspecified) => None,
        Ok(api::Disjointness::Link) => Some(Disjointness::Link),
        Ok(api::Disjointness::Node) => Some(Disjointness::Node),
        Ok(api::Disjointness::Srlg) => Some(Disjointness::Srlg),
        Err(_) => return Err(invalid(field, format!("unknown value {value}"))),
    })
}

/// Constraints as asked; absent = all defaults.
pub fn constraints_spec(
    c: Option<api::Constraints>,
    field: &str,
) -> Result<ConstraintsSpec, ApiError> {
    let c = c.unwrap_or_default();
    Ok(ConstraintsSpec {
        metric: metric(c.metric, &format!("{field}.metric"))?,
        max_latency_us: c.max_latency_us,
        bandwidth_gbps: c.bandwidth_gbps,
        include_any: c.include_any,
        include_all: c.include_all,
        exclude_any: c.exclude_any,
        exclude_nodes: c.exclude_nodes,
        exclude_links: c.exclude_links,
        exclude_srlgs: c.exclude_srlgs,
        disjoint_from: c.disjoint_from,
        disjointness: disjointness(c.disjointness, &format!("{field}.disjointness"))?,
        max_sid_depth: c.max_sid_depth,
    })
}

pub fn policy_spec(s: api::PolicySpec) -> Result<PolicySpec, ApiError> {
    Ok(PolicySpec {
        constraints: constraints_spec(s.constraints, "spec.constraints")?,
        name: s.name,
        headend: s.headend,
        endpoint: s.endpoint,
        color: s.color,
    })
}

pub fn service_spec(s: api::ServiceSpec) -> Result<ServiceSpec, ApiError> {
    let service_type = match api::ServiceType::try_from(s.r#type) {
        Ok(api::ServiceType::ELine) => Some(ServiceType::ELine),
        Ok(api::ServiceType::ELan) => Some(ServiceType::ELan),
        // The planner names the field for an absent type, after the name.
        Ok(api::ServiceType::Unspecified) => None,
        Err(_) => {
            return Err(invalid(
                "spec.type",
                "must be SERVICE_TYPE_E_LINE or SERVICE_TYPE_E_LAN",
            ))
        }
    };
    Ok(ServiceSpec {
        transport: constraints_spec(s.transport, "spec.transport")?,
        name: s.name,
        service_type,
        attachments: s
            .attachments
            .into_iter()
            .map(|a| AttachmentSpec {
                device: a.device,
                interface: a.interface,
                vlan: a.vlan,
            })
            .collect(),
        bandwidth_gbps: s.bandwidth_gbps,
        evi: s.evi,
        vni: s.vni,
        route_target: s.route_target,
        color: s.color,
    })
}

pub fn wavelength_spec(s: api::WavelengthSpec) -> WavelengthSpec {
    WavelengthSpec {
        name: s.name,
        a: s.a,
        b: s.b,
        operational_mode: s.operational_mode,
        target_power_dbm: s.target_power_dbm,
        osnr_margin_db: s.osnr_margin_db,
        frequency_mhz: s.frequency_mhz,
        exclude_fibers: s.exclude_fibers,
        carries_link: s.carries_link,
    }
}

/// A create request: its spec is required; the fingerprint that recognises
/// a retry is the spec's encoding as it arrived.
fn request<P: Message, S>(
    request_id: String,
    spec: Option<P>,
    to_domain: impl FnOnce(P) -> Result<S, ApiError>,
) -> Result<Request<S>, ApiError> {
    let spec = spec.ok_or_else(|| invalid("spec", "required"))?;
    let fingerprint = spec.encode_to_vec();
    Ok(Request {
        request_id,
        fingerprint,
        spec: to_domain(spec)?,
    })
}

pub fn create_policy(r: api::CreatePolicyRequest) -> Result<Request<PolicySpec>, ApiError> {
    request(r.request_id, r.spec, policy_spec)
}

pub fn create_service(r: api::CreateServiceRequest) -> Result<Request<ServiceSpec>, ApiError> {
    request(r.request_id, r.spec, service_spec)
}

pub fn create_wavelength(
    r: api::CreateWavelengthRequest,
) -> Result<Request<WavelengthSpec>, ApiError> {
    request(r.request_id, r.spec, |s| Ok(wavelength_spec(s)))
}

/// A service update: today its bandwidth, which must be given.
pub fn update_service(r: api::UpdateServiceRequest) -> Result<ServiceUpdate, ApiError> {
    let Some(bandwidth_gbps) = r.bandwidth_gbps else {
        return Err(invalid(
            "bandwidth_gbps",
            "required: the service's new bandwidth (nothing else is changed by UpdateService yet)",
        ));
    };
    Ok(ServiceUpdate {
        id: r.id,
        revision: r.revision,
        bandwidth_gbps,
    })
}

/// A policy update: its id, the revision read and the whole new constraints.
pub fn update_policy(
    r: api::UpdatePolicyRequest,
) -> Result<(String, u64, crate::intent::ConstraintsSpec), ApiError> {
    if r.constraints.is_none() {
        return Err(invalid(
            "constraints",
            "required: the policy's whole new constraints",
        ));
    }
    Ok((
        r.id,
        r.revision,
        constraints_spec(r.constraints, "constraints")?,
    ))
}

// ---- objects out ----------------------------------------------------------

pub fn api_constraints(c: &ConstraintsSpec) -> api::Constraints {
    api::Constraints {
        metric: match c.metric {
            None => api::Metric::Unspecified,
            Some(Metric::Latency) => api::Metric::Latency,
            Some(Metric::Igp) => api::Metric::Igp,
            Some(Metric::Te) => api::Metric::Te,
            Some(Metric::Hops) => api::Metric::HopCount,
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
            None => api::Disjointness::Unspecified,
            Some(Disjointness::Link) => api::Disjointness::Link,
            Some(Disjointness::Node) => api::Disjointness::Node,
            Some(Disjointness::Srlg) => api::Disjointness::Srlg,
        } as i32,
        max_sid_depth: c.max_sid_depth,
    }
}

/// Absent when every constraint is the default, as clients sent it.
fn api_constraints_opt(c: &ConstraintsSpec) -> Option<api::Constraints> {
    (c != &ConstraintsSpec::default()).then(|| api_constraints(c))
}

pub fn api_policy_spec(s: &PolicySpec) -> api::PolicySpec {
    api::PolicySpec {
        name: s.name.clone(),
        headend: s.headend.clone(),
        endpoint: s.endpoint.clone(),
        color: s.color,
        constraints: api_constraints_opt(&s.constraints),
    }
}

pub fn api_service_spec(s: &ServiceSpec) -> api::ServiceSpec {
    api::ServiceSpec {
        name: s.name.clone(),
        r#type: match s.service_type {
            None => api::ServiceType::Unspecified,
            Some(ServiceType::ELine) => api::ServiceType::ELine,
            Some(ServiceType::ELan) => api::ServiceType::ELan,
        } as i32,
        attachments: s
            .attachments
            .iter()
            .map(|a| api::Attachment {
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
        transport: api_constraints_opt(&s.transport),
    }
}

pub fn api_wavelength_spec(s: &WavelengthSpec) -> api::WavelengthSpec {
    api::WavelengthSpec {
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

pub fn api_path(p: &object::PathView) -> api::ComputedPath {
    api::ComputedPath {
        nodes: p.nodes.clone(),
        links: p.links.clone(),
        latency_us: p.latency_us,
        cost: p.cost,
        segments: p
            .segments
            .iter()
            .map(|s| api::Segment {
                label: s.label,
                target: s.target.as_ref().map(|t| match t {
                    object::SegmentTarget::Node(n) => api::segment::Target::Node(n.clone()),
                    object::SegmentTarget::Adjacency(l) => {
                        api::segment::Target::Adjacency(l.clone())
                    }
                }),
            })
            .collect(),
    }
}

pub fn policy(p: &object::Policy) -> api::Policy {
    api::Policy {
        id: p.id.clone(),
        spec: Some(api_policy_spec(&p.spec)),
        path: Some(api_path(&p.path)),
        state: match p.state {
            object::PolicyState::Programmed => api::PolicyState::Programmed,
            object::PolicyState::Down => api::PolicyState::Down,
        } as i32,
        revision: p.revision,
        owner: p.owner.clone().unwrap_or_default(),
        endpoint_address: p.endpoint_address.clone(),
        shares: p
            .shares
            .iter()
            .map(|(service, bandwidth_gbps)| api::TransportShare {
                service: service.clone(),
                bandwidth_gbps: *bandwidth_gbps,
            })
            .collect(),
    }
}

pub fn service(s: &object::Service) -> api::Service {
    api::Service {
        id: s.id.clone(),
        spec: Some(api_service_spec(&s.spec)),
        evi: s.evi,
        vni: s.vni,
        route_target: s.route_target.clone(),
        route_distinguishers: s.route_distinguishers.clone().into_iter().collect(),
        transport_policies: s.transport_policies.clone(),
        state: match s.state {
            object::ServiceState::Active => api::ServiceState::Active,
        } as i32,
        revision: s.revision,
    }
}

pub fn wavelength(w: &object::Wavelength) -> api::Wavelength {
    api::Wavelength {
        id: w.id.clone(),
        spec: Some(api_wavelength_spec(&w.spec)),
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
        mode_name: w.mode_name.clone(),
        planned_margin_db: w.planned_margin_db,
        gsnr_db: w.gsnr_db,
        osnr_margin_db: w.osnr_margin_db,
        limit: w.limit.clone(),
        measured_osnr_db: w.measured_osnr_db,
        below_prediction: w.below_prediction,
    }
}

pub fn session(s: object::Session) -> api::SessionState {
    match s {
        object::Session::Up => api::SessionState::Up,
        object::Session::Down => api::SessionState::Down,
    }
}

pub fn event(e: &object::Event) -> api::Event {
    use object::Object;
    api::Event {
        revision: e.revision,
        timestamp_ns: e.timestamp_ns,
        change: match e.change {
            object::Change::Created => api::Change::Created,
            object::Change::Updated => api::Change::Updated,
            object::Change::Deleted => api::Change::Deleted,
        } as i32,
        reason: e.reason.clone(),
        object: Some(match &e.object {
            Object::Policy(p) => api::event::Object::Policy(policy(p)),
            Object::Service(s) => api::event::Object::Service(service(s)),
            Object::Wavelength(w) => api::event::Object::Wavelength(wavelength(w)),
            Object::Device(d) => api::event::Object::Device(api::DeviceEvent {
                device: d.device.clone(),
                session: session(d.session) as i32,
                error: d.error.clone(),
            }),
            Object::Breach(b) => api::event::Object::Breach(api::BreachEvent {
                link: b.link.clone(),
                metric: b.metric.clone(),
                value: b.value,
                threshold: b.threshold,
                cleared: b.cleared,
            }),
            Object::Cabling(c) => api::event::Object::Cabling(api::CablingEvent {
                link: c.link.clone(),
                miscabled: c.miscabled,
                ends: c
                    .ends
                    .iter()
                    .map(|e| {
                        let (heard_node, heard_interface) = e.heard.clone().unwrap_or_default();
                        api::CablingEnd {
                            node: e.node.clone(),
                            interface: e.interface.clone(),
                            expected_node: e.expected.0.clone(),
                            expected_interface: e.expected.1.clone(),
                            heard_node,
                            heard_interface,
                        }
                    })
                    .collect(),
            }),
            Object::Drain(d) => api::event::Object::Drain(api::DrainEvent {
                drain: Some(api::DrainInfo {
                    target: d.target.clone(),
                    kind: d.kind.clone(),
                    links: d.links.clone(),
                    reason: d.reason.clone(),
                    revision: e.revision,
                }),
                moved_policies: d.moved.clone(),
                unmoved_policies: d.unmoved.clone(),
            }),
            Object::Topology(t) => api::event::Object::Topology(api::TopologyEvent {
                kind: t.kind.clone(),
                name: t.name.clone(),
                node: t.node.as_ref().map(super::topology_changes::node),
                link: t.link.as_ref().map(super::topology_changes::link),
            }),
        }),
    }
}

/// A drain in force, as the API shows it.
pub fn drain_info(d: &crate::plan::drain::Drain) -> api::DrainInfo {
    api::DrainInfo {
        target: d.target.clone(),
        kind: d.kind.as_str().into(),
        links: d.links.clone(),
        reason: d.reason.clone(),
        revision: d.revision,
    }
}

pub fn sample(s: &object::TelemetrySample) -> api::TelemetrySample {
    api::TelemetrySample {
        device: s.device.clone(),
        port: s.port.clone(),
        link: s.link.clone(),
        metric: s.metric.clone(),
        value: s.value,
        timestamp_ns: s.timestamp_ns,
        state: s.state.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_constraints() -> api::Constraints {
        api::Constraints {
            metric: api::Metric::Igp as i32,
            max_latency_us: 5_000,
            bandwidth_gbps: 12.5,
            include_any: vec!["gold".into()],
            include_all: vec!["metro".into()],
            exclude_any: vec!["lossy".into()],
            exclude_nodes: vec!["p3".into()],
            exclude_links: vec!["l9".into()],
            exclude_srlgs: vec![7, 9],
            disjoint_from: "pol-1".into(),
            disjointness: api::Disjointness::Srlg as i32,
            max_sid_depth: 6,
        }
    }

    #[test]
    fn specs_survive_the_round_trip_to_the_domain_and_back() {
        let policy = api::PolicySpec {
            name: "p".into(),
            headend: "pe1".into(),
            endpoint: "pe2".into(),
            color: 7,
            constraints: Some(full_constraints()),
        };
        assert_eq!(
            api_policy_spec(&policy_spec(policy.clone()).unwrap()),
            policy
        );
        let bare = api::PolicySpec {
            constraints: None,
            ..policy
        };
        assert_eq!(api_policy_spec(&policy_spec(bare.clone()).unwrap()), bare);
        let service = api::ServiceSpec {
            name: "s".into(),
            r#type: api::ServiceType::ELan as i32,
            attachments: vec![api::Attachment {
                device: "pe1".into(),
                interface: "eth9".into(),
                vlan: 100,
            }],
            bandwidth_gbps: 1.0,
            evi: 5,
            vni: 6,
            route_target: "65000:1".into(),
            color: 3,
            transport: Some(full_constraints()),
        };
        assert_eq!(
            api_service_spec(&service_spec(service.clone()).unwrap()),
            service
        );
        let wavelength = api::WavelengthSpec {
            name: "w".into(),
            a: "ot1".into(),
            b: "ot2".into(),
            operational_mode: 2,
            target_power_dbm: Some(-3.0),
            osnr_margin_db: None,
            frequency_mhz: 193_100_000,
            exclude_fibers: vec!["f1".into()],
            carries_link: "l1".into(),
        };
        assert_eq!(
            api_wavelength_spec(&wavelength_spec(wavelength.clone())),
            wavelength
        );
    }

    #[test]
    fn numbers_the_api_does_not_define_are_refused_naming_the_field() {
        let c = api::Constraints {
            metric: 99,
            ..Default::default()
        };
        let e = constraints_spec(Some(c), "spec.transport").unwrap_err();
        assert_eq!(e.to_string(), "spec.transport.metric: unknown metric 99");
        let c = api::Constraints {
            disjointness: -1,
            ..Default::default()
        };
        let e = constraints_spec(Some(c), "spec.constraints").unwrap_err();
        assert_eq!(
            e.to_string(),
            "spec.constraints.disjointness: unknown value -1"
        );
        let s = api::ServiceSpec {
            r#type: 42,
            ..Default::default()
        };
        assert!(service_spec(s)
            .unwrap_err()
            .to_string()
            .starts_with("spec.type: "));
        let e = create_policy(api::CreatePolicyRequest::default()).unwrap_err();
        assert_eq!(e.to_string(), "spec: required");
    }
}
