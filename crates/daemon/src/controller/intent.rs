//! Validation at the API boundary: a request's spec, checked against the
//! fabric, becomes an intent the controller can place — or an error naming
//! the field (`spec.attachments[1].vlan`) and what is wrong with it.

use std::collections::BTreeSet;

use super::error::{invalid, not_found, precondition, quote, ApiError};
use super::{Inner, DEFAULT_MAX_SID_DEPTH};
use crate::model::{Layer, Node, Role};
use crate::pathcomp::{Constraints, Disjointness, Metric};
use crate::proto::strata::v1 as api;

pub fn name(value: &str, field: &str) -> Result<(), ApiError> {
    if value.is_empty() {
        return Err(invalid(field, "required"));
    }
    if value.len() > 64
        || !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(invalid(
            field,
            format!(
                "{} must be 1-64 characters of letters, digits, '-', '_', '.'",
                quote(value)
            ),
        ));
    }
    Ok(())
}

pub fn node<'a>(
    inner: &'a Inner,
    value: &str,
    field: &str,
    role: Role,
) -> Result<&'a Node, ApiError> {
    if value.is_empty() {
        return Err(invalid(field, "required"));
    }
    let node = inner
        .topology
        .node(value)
        .ok_or_else(|| not_found(field, format!("node {}", quote(value))))?;
    if node.role != role {
        return Err(invalid(
            field,
            format!(
                "{value} is {}; {} is needed here",
                a_role_node(node.role),
                a_role_node(role)
            ),
        ));
    }
    Ok(node)
}

fn a_role_node(role: crate::model::Role) -> &'static str {
    match role {
        crate::model::Role::Packet => "a packet node",
        crate::model::Role::Optical => "an optical node",
    }
}

fn finite_non_negative(v: f64, field: &str, max: f64) -> Result<f64, ApiError> {
    if !v.is_finite() || v < 0.0 || v > max {
        return Err(invalid(
            field,
            format!("{v} must be a number in [0, {max}]"),
        ));
    }
    Ok(v)
}

pub struct PolicyIntent {
    pub headend: String,
    pub endpoint: String,
    pub endpoint_address: String,
    pub color: u32,
    pub constraints: Constraints,
    pub disjoint: Option<(String, Disjointness)>,
    pub max_sid_depth: usize,
}

/// Path constraints, placement disjoint from another policy, SID depth.
pub type CheckedConstraints = (Constraints, Option<(String, Disjointness)>, usize);

/// Checked constraints: path constraints, disjointness, SID depth.
pub fn constraints(
    inner: &Inner,
    c: Option<&api::Constraints>,
    field: &str,
) -> Result<CheckedConstraints, ApiError> {
    let default = api::Constraints::default();
    let c = c.unwrap_or(&default);
    let f = |name: &str| format!("{field}.{name}");
    let metric = match api::Metric::try_from(c.metric) {
        Ok(api::Metric::Unspecified) | Ok(api::Metric::Latency) => Metric::Latency,
        Ok(api::Metric::Igp) => Metric::Igp,
        Ok(api::Metric::Te) => Metric::Te,
        Ok(api::Metric::HopCount) => Metric::Hops,
        Err(_) => return Err(invalid(f("metric"), format!("unknown metric {}", c.metric))),
    };
    let bandwidth_gbps = finite_non_negative(c.bandwidth_gbps, &f("bandwidth_gbps"), 100_000.0)?;
    for (i, n) in c.exclude_nodes.iter().enumerate() {
        if inner.topology.node(n).is_none() {
            return Err(not_found(
                format!("{field}.exclude_nodes[{i}]"),
                format!("node {}", quote(n)),
            ));
        }
    }
    for (i, l) in c.exclude_links.iter().enumerate() {
        if inner.topology.link(l).is_none() {
            return Err(not_found(
                format!("{field}.exclude_links[{i}]"),
                format!("link {}", quote(l)),
            ));
        }
    }
    for (list, name) in [
        (&c.include_any, "include_any"),
        (&c.include_all, "include_all"),
        (&c.exclude_any, "exclude_any"),
    ] {
        if let Some(i) = list.iter().position(String::is_empty) {
            return Err(invalid(
                format!("{field}.{name}[{i}]"),
                "empty admin group name",
            ));
        }
    }
    let disjointness = match api::Disjointness::try_from(c.disjointness) {
        Ok(api::Disjointness::Unspecified) => None,
        Ok(api::Disjointness::Link) => Some(Disjointness::Link),
        Ok(api::Disjointness::Node) => Some(Disjointness::Node),
        Ok(api::Disjointness::Srlg) => Some(Disjointness::Srlg),
        Err(_) => {
            return Err(invalid(
                f("disjointness"),
                format!("unknown value {}", c.disjointness),
            ))
        }
    };
    let disjoint = match (c.disjoint_from.as_str(), disjointness) {
        ("", None) => None,
        ("", Some(_)) => {
            return Err(invalid(
                f("disjoint_from"),
                "required when disjointness is set",
            ))
        }
        (_, None) => {
            return Err(invalid(
                f("disjointness"),
                "required when disjoint_from is set",
            ))
        }
        (other, Some(kind)) => {
            if !inner.policies.contains_key(other) {
                return Err(not_found(
                    f("disjoint_from"),
                    format!("policy {}", quote(other)),
                ));
            }
            Some((other.to_string(), kind))
        }
    };
    let max_sid_depth = match c.max_sid_depth {
        0 => DEFAULT_MAX_SID_DEPTH,
        d @ 1..=16 => d as usize,
        d => return Err(invalid(f("max_sid_depth"), format!("{d} is not in 1..=16"))),
    };
    let constraints = Constraints {
        metric,
        max_latency_us: (c.max_latency_us > 0).then_some(c.max_latency_us),
        bandwidth_gbps,
        include_any: super::set_of(&c.include_any),
        include_all: super::set_of(&c.include_all),
        exclude_any: super::set_of(&c.exclude_any),
        exclude_nodes: super::set_of(&c.exclude_nodes),
        exclude_links: super::set_of(&c.exclude_links),
        exclude_srlgs: super::set_of(&c.exclude_srlgs),
        max_sid_depth: Some(max_sid_depth),
    };
    Ok((constraints, disjoint, max_sid_depth))
}

pub fn endpoint_address(node: &Node, field: &str) -> Result<String, ApiError> {
    node.router_id.map(|r| r.to_string()).ok_or_else(|| {
        precondition(format!(
            "{field}: node {} has no router_id to use as policy endpoint",
            node.name
        ))
    })
}

pub fn policy(inner: &Inner, spec: &api::PolicySpec) -> Result<PolicyIntent, ApiError> {
    name(&spec.name, "spec.name")?;
    let headend = node(inner, &spec.headend, "spec.headend", Role::Packet)?;
    let endpoint = node(inner, &spec.endpoint, "spec.endpoint", Role::Packet)?;
    if headend.name == endpoint.name {
        return Err(invalid("spec.endpoint", "must differ from spec.headend"));
    }
    if spec.color == 0 {
        return Err(invalid("spec.color", "must be 1..=4294967295"));
    }
    let (constraints, disjoint, max_sid_depth) =
        constraints(inner, spec.constraints.as_ref(), "spec.constraints")?;
    Ok(PolicyIntent {
        headend: headend.name.clone(),
        endpoint: endpoint.name.clone(),
        endpoint_address: endpoint_address(endpoint, "spec.endpoint")?,
        color: spec.color,
        constraints,
        disjoint,
        max_sid_depth,
    })
}

pub struct ServiceIntent {
    /// PE → (interface, VLAN) attachments.
    pub attachments: std::collections::BTreeMap<String, Vec<(String, u32)>>,
    pub evi: Option<u32>,
    pub vni: Option<u32>,
    pub route_target: Option<String>,
    pub color: u32,
    pub transport: Constraints,
    pub max_sid_depth: usize,
}

pub fn service(inner: &Inner, spec: &api::ServiceSpec) -> Result<ServiceIntent, ApiError> {
    name(&spec.name, "spec.name")?;
    let count = spec.attachments.len();
    match api::ServiceType::try_from(spec.r#type) {
        Ok(api::ServiceType::ELine) if count != 2 => {
            return Err(invalid(
                "spec.attachments",
                format!("an E-Line has exactly 2 attachments, got {count}"),
            ))
        }
        Ok(api::ServiceType::ELan) if count < 2 => {
            return Err(invalid(
                "spec.attachments",
                format!("an E-LAN needs at least 2 attachments, got {count}"),
            ))
        }
        Ok(api::ServiceType::ELine) | Ok(api::ServiceType::ELan) => {}
        _ => {
            return Err(invalid(
                "spec.type",
                "must be SERVICE_TYPE_E_LINE or SERVICE_TYPE_E_LAN",
            ))
        }
    }
    let mut attachments: std::collections::BTreeMap<String, Vec<(String, u32)>> =
        Default::default();
    let mut seen = BTreeSet::new();
    for (i, a) in spec.attachments.iter().enumerate() {
        let f = |n: &str| format!("spec.attachments[{i}].{n}");
        let pe = node(inner, &a.device, &f("device"), Role::Packet)?;
        if a.interface.is_empty() {
            return Err(invalid(f("interface"), "required"));
        }
        if !pe.access_interfaces.contains(&a.interface) {
            return Err(not_found(
                f("interface"),
                format!(
                    "access interface {} on {} (it has {:?})",
                    quote(&a.interface),
                    pe.name,
                    pe.access_interfaces
                ),
            ));
        }
        if !(1..=4094).contains(&a.vlan) {
            return Err(invalid(
                f("vlan"),
                format!("{} is not a VLAN id in 1..=4094", a.vlan),
            ));
        }
        if !seen.insert((a.device.clone(), a.interface.clone(), a.vlan)) {
            return Err(invalid(
                f("vlan"),
                "the same device/interface/VLAN is attached twice",
            ));
        }
        if let Some(other) = inner.attached_at(&a.device, &a.interface, a.vlan) {
            return Err(precondition(format!(
                "{}: {} {} VLAN {} is already used by service {}",
                f("vlan"),
                a.device,
                a.interface,
                a.vlan,
                other
            )));
        }
        if pe.router_id.is_none() {
            return Err(precondition(format!(
                "{}: {} has no router_id for its route distinguisher",
                f("device"),
                pe.name
            )));
        }
        attachments
            .entry(pe.name.clone())
            .or_default()
            .push((a.interface.clone(), a.vlan));
    }
    finite_non_negative(spec.bandwidth_gbps, "spec.bandwidth_gbps", 100_000.0)?;
    let evi = match spec.evi {
        0 => None,
        e => {
            inner
                .evis
                .check_free(e)
                .map_err(|why| precondition(format!("spec.evi: {why}")))?;
            Some(e)
        }
    };
    let vni = match spec.vni {
        0 => None,
        v => {
            inner
                .vnis
                .check_free(v)
                .map_err(|why| precondition(format!("spec.vni: {why}")))?;
            Some(v)
        }
    };
    let route_target = match spec.route_target.as_str() {
        "" => None,
        rt => {
            let ok = rt.split_once(':').is_some_and(|(a, b)| {
                !a.is_empty() && !b.is_empty() && b.chars().all(|c| c.is_ascii_digit())
            });
            if !ok {
                return Err(invalid(
                    "spec.route_target",
                    format!("{} is not ASN:NN or IP:NN", quote(rt)),
                ));
            }
            Some(rt.to_string())
        }
    };
    let (mut transport, disjoint, max_sid_depth) =
        constraints(inner, spec.transport.as_ref(), "spec.transport")?;
    if disjoint.is_some() {
        return Err(invalid(
            "spec.transport.disjoint_from",
            "not supported for service transport",
        ));
    }
    transport.bandwidth_gbps = spec.bandwidth_gbps;
    Ok(ServiceIntent {
        attachments,
        evi,
        vni,
        route_target,
        color: if spec.color == 0 {
            inner.default_color
        } else {
            spec.color
        },
        transport,
        max_sid_depth,
    })
}

pub struct WavelengthIntent {
    pub a: String,
    pub b: String,
    pub mode: crate::pathcomp::optical::Mode,
    pub power_dbm: f64,
    pub margin_db: f64,
    pub channel: Option<usize>,
    pub exclude_fibers: BTreeSet<String>,
    pub carries_link: Option<String>,
}

pub fn wavelength(inner: &Inner, spec: &api::WavelengthSpec) -> Result<WavelengthIntent, ApiError> {
    use crate::pathcomp::optical;
    name(&spec.name, "spec.name")?;
    let a = node(inner, &spec.a, "spec.a", Role::Optical)?;
    let b = node(inner, &spec.b, "spec.b", Role::Optical)?;
    if a.name == b.name {
        return Err(invalid("spec.b", "must differ from spec.a"));
    }
    let mode_id = if spec.operational_mode == 0 {
        1
    } else {
        spec.operational_mode
    };
    let mode = optical::MODES
        .iter()
        .find(|m| u32::from(m.id) == mode_id)
        .cloned()
        .ok_or_else(|| {
            let ids: Vec<u16> = optical::MODES.iter().map(|m| m.id).collect();
            invalid(
                "spec.operational_mode",
                format!("{mode_id} is not a supported mode {ids:?}"),
            )
        })?;
    let power_dbm = spec.target_power_dbm.unwrap_or(-10.0);
    if !power_dbm.is_finite() || !(-20.0..=3.0).contains(&power_dbm) {
        return Err(invalid(
            "spec.target_power_dbm",
            format!("{power_dbm} dBm is not in [-20, 3]"),
        ));
    }
    let margin_db = finite_non_negative(
        spec.osnr_margin_db.unwrap_or(1.0),
        "spec.osnr_margin_db",
        20.0,
    )?;
    let channel = match spec.frequency_mhz {
        0 => None,
        f => Some(optical::channel_index(f).ok_or_else(|| {
            invalid(
                "spec.frequency_mhz",
                format!("{f} MHz is not on the 75 GHz grid 193100000 + n*75000 MHz within 191.3-196.1 THz"),
            )
        })?),
    };
    for (i, fiber) in spec.exclude_fibers.iter().enumerate() {
        if !inner
            .topology
            .link(fiber)
            .is_some_and(|l| l.layer == Layer::Fiber)
        {
            return Err(not_found(
                format!("spec.exclude_fibers[{i}]"),
                format!("fiber {}", quote(fiber)),
            ));
        }
    }
    let carries_link = match spec.carries_link.as_str() {
        "" => None,
        l => match inner.topology.link(l) {
            None => return Err(not_found("spec.carries_link", format!("link {}", quote(l)))),
            Some(link) if link.layer != Layer::Packet => {
                return Err(invalid(
                    "spec.carries_link",
                    format!("{l} is not a packet link"),
                ))
            }
            Some(_) => Some(l.to_string()),
        },
    };
    Ok(WavelengthIntent {
        a: a.name.clone(),
        b: b.name.clone(),
        mode,
        power_dbm,
        margin_db,
        channel,
        exclude_fibers: super::set_of(&spec.exclude_fibers),
        carries_link,
    })
}
