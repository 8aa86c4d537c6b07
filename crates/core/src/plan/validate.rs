//! Validation at the API boundary: a request's spec, checked against the
//! fabric, becomes an intent the controller can place — or an error naming
//! the field (`spec.attachments[1].vlan`) and what is wrong with it.

use std::collections::BTreeSet;

use super::error::{invalid, not_found, precondition, quote, PlanError};
use super::{Fabric, DEFAULT_MAX_SID_DEPTH};
use crate::intent::{ConstraintsSpec, PolicySpec, ServiceSpec, ServiceType, WavelengthSpec};
use crate::model::{Layer, Node, Role};
use crate::pathcomp::{Constraints, Disjointness, Metric};

/// Upper bounds on what a northbound request may carry. Everything accepted
/// is kept (in the object, its journal record, the retry fingerprint and the
/// event ring) and some of it is pushed to devices, so each string and list
/// has a limit and a request over one is INVALID_ARGUMENT naming the field;
/// `MAX_REQUEST_BYTES` bounds the message as a whole before it is decoded.
/// The proto comments and the README's API section list the same numbers.
pub mod limits {
    /// Object names (`spec.name`). Everything else a request names (nodes,
    /// links, fibers, access interfaces, `disjoint_from`) must exist, so it is
    /// kept only as long as the topology's or the controller's own names;
    /// over-long ones are NOT_FOUND, quoted cut short.
    pub const NAME_CHARS: usize = 64;
    /// An admin group name: these are not looked up (a group no link has is
    /// valid, it just matches nothing), so they need their own bound.
    pub const ADMIN_GROUP_CHARS: usize = 256;
    /// A client's `request_id` (a UUID is 36).
    pub const REQUEST_ID_CHARS: usize = 128;
    /// Each of `include_any`, `include_all`, `exclude_any`: a link carries a
    /// handful of admin groups (classic TE has 32 bits of them).
    pub const ADMIN_GROUPS: usize = 64;
    /// `exclude_nodes`, `exclude_links`, `exclude_srlgs`, `exclude_fibers`:
    /// more than any fabric this controller places paths on.
    pub const EXCLUSIONS: usize = 1024;
    /// A service's attachments: an E-LAN gets a transport policy per ordered
    /// PE pair, so its size grows with the square of this.
    pub const ATTACHMENTS: usize = 256;
    /// One northbound request, encoded; larger is refused by the gRPC server
    /// (OUT_OF_RANGE) before it is decoded. The largest valid request is far
    /// smaller.
    pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;
}

/// Refuses a list longer than `max` before its entries are looked at, so an
/// oversized list costs one comparison.
pub fn at_most<T>(list: &[T], max: usize, field: &str) -> Result<(), PlanError> {
    if list.len() > max {
        return Err(invalid(
            field,
            format!("{} entries, at most {max}", list.len()),
        ));
    }
    Ok(())
}

/// Refuses a string longer than `max` bytes (names are ASCII; for anything
/// else bytes are what memory and the wire pay for).
pub fn chars_at_most(value: &str, max: usize, field: &str) -> Result<(), PlanError> {
    if value.len() > max {
        return Err(invalid(
            field,
            format!("{} is {} bytes, at most {max}", quote(value), value.len()),
        ));
    }
    Ok(())
}

/// A create's `request_id`: optional; at most `REQUEST_ID_CHARS` printable
/// ASCII characters (it is echoed in errors and kept for retries).
pub fn request_id(value: &str) -> Result<(), PlanError> {
    chars_at_most(value, limits::REQUEST_ID_CHARS, "request_id")?;
    if !value.chars().all(|c| c.is_ascii_graphic()) {
        return Err(invalid(
            "request_id",
            format!("{} must be printable ASCII without spaces", quote(value)),
        ));
    }
    Ok(())
}

pub fn name(value: &str, field: &str) -> Result<(), PlanError> {
    if value.is_empty() {
        return Err(invalid(field, "required"));
    }
    if value.len() > limits::NAME_CHARS
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
    inner: &'a Fabric,
    value: &str,
    field: &str,
    role: Role,
) -> Result<&'a Node, PlanError> {
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

pub(super) fn finite_non_negative(v: f64, field: &str, max: f64) -> Result<f64, PlanError> {
    if !v.is_finite() || v < 0.0 || v > max {
        return Err(invalid(
            field,
            format!("{v} must be a number in [0, {max}]"),
        ));
    }
    Ok(v)
}

#[derive(Debug, Clone)]
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
    inner: &Fabric,
    c: &ConstraintsSpec,
    field: &str,
) -> Result<CheckedConstraints, PlanError> {
    let f = |name: &str| format!("{field}.{name}");
    let metric = c.metric.unwrap_or(Metric::Latency);
    let bandwidth_gbps = finite_non_negative(c.bandwidth_gbps, &f("bandwidth_gbps"), 100_000.0)?;
    // Every list's length first: an oversized one is refused without
    // looking at its entries.
    at_most(&c.exclude_nodes, limits::EXCLUSIONS, &f("exclude_nodes"))?;
    at_most(&c.exclude_links, limits::EXCLUSIONS, &f("exclude_links"))?;
    at_most(&c.exclude_srlgs, limits::EXCLUSIONS, &f("exclude_srlgs"))?;
    for (list, name) in [
        (&c.include_any, "include_any"),
        (&c.include_all, "include_all"),
        (&c.exclude_any, "exclude_any"),
    ] {
        at_most(list, limits::ADMIN_GROUPS, &f(name))?;
    }
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
        for (i, group) in list.iter().enumerate() {
            let at = format!("{field}.{name}[{i}]");
            if group.is_empty() {
                return Err(invalid(at, "empty admin group name"));
            }
            chars_at_most(group, limits::ADMIN_GROUP_CHARS, &at)?;
            if group.chars().any(char::is_control) {
                return Err(invalid(
                    at,
                    format!("{} has control characters", quote(group)),
                ));
            }
        }
    }
    let disjoint = match (c.disjoint_from.as_str(), c.disjointness) {
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

pub fn endpoint_address(node: &Node, field: &str) -> Result<String, PlanError> {
    node.router_id.map(|r| r.to_string()).ok_or_else(|| {
        precondition(format!(
            "{field}: node {} has no router_id to use as policy endpoint",
            node.name
        ))
    })
}

pub fn policy(inner: &Fabric, spec: &PolicySpec) -> Result<PolicyIntent, PlanError> {
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
        constraints(inner, &spec.constraints, "spec.constraints")?;
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

pub fn service(inner: &Fabric, spec: &ServiceSpec) -> Result<ServiceIntent, PlanError> {
    name(&spec.name, "spec.name")?;
    at_most(&spec.attachments, limits::ATTACHMENTS, "spec.attachments")?;
    let count = spec.attachments.len();
    match spec.service_type {
        Some(ServiceType::ELine) if count != 2 => {
            return Err(invalid(
                "spec.attachments",
                format!("an E-Line has exactly 2 attachments, got {count}"),
            ))
        }
        Some(ServiceType::ELan) if count < 2 => {
            return Err(invalid(
                "spec.attachments",
                format!("an E-LAN needs at least 2 attachments, got {count}"),
            ))
        }
        Some(ServiceType::ELine) | Some(ServiceType::ELan) => {}
        None => {
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
        rt => Some(route_target(rt, "spec.route_target")?),
    };
    let (mut transport, disjoint, max_sid_depth) =
        constraints(inner, &spec.transport, "spec.transport")?;
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

/// A route target (or distinguisher) as devices take it, one of the RFC 4360
/// forms: `ASN:NN` with a 2-byte ASN and a 4-byte number, `ASN:NN` with a
/// 4-byte ASN and a 2-byte number, or `IPv4:NN` with a 2-byte number. Decimal
/// digits without signs or leading zeros, dots only in the address, one colon:
/// the value is written into device configuration, so nothing else passes.
pub fn route_target(value: &str, field: &str) -> Result<String, PlanError> {
    let bad = |why: &str| {
        invalid(
            field,
            format!("{} is not ASN:NN or IPv4:NN ({why})", quote(value)),
        )
    };
    // "255.255.255.255:65535" is the longest valid form.
    if value.len() > 21 {
        return Err(bad("too long"));
    }
    let Some((admin, assigned)) = value.split_once(':') else {
        return Err(bad("no ':'"));
    };
    let Some(number) = decimal(assigned) else {
        return Err(bad("the part after ':' must be a decimal number"));
    };
    let number_max = if let Some(asn) = decimal(admin) {
        match asn {
            0..=0xFFFF => u64::from(u32::MAX),
            0x1_0000..=0xFFFF_FFFF => 0xFFFF,
            _ => return Err(bad("the ASN is over 4294967295")),
        }
    } else if admin.contains('.')
        && admin.split('.').all(|octet| decimal(octet).is_some())
        && admin.parse::<std::net::Ipv4Addr>().is_ok()
    {
        0xFFFF
    } else {
        return Err(bad("the part before ':' must be an ASN or an IPv4 address"));
    };
    if number > number_max {
        return Err(bad(&format!("{number} is over {number_max} for this form")));
    }
    Ok(value.to_string())
}

/// An unsigned decimal of at most 10 digits, without sign or leading zeros.
fn decimal(s: &str) -> Option<u64> {
    let digits = !s.is_empty() && s.len() <= 10 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse().ok()
}

#[derive(Debug)]
pub struct WavelengthIntent {
    pub a: String,
    pub b: String,
    /// `None`: pick the fastest mode both ends offer that closes the route.
    pub mode: Option<&'static crate::pathcomp::optical::Mode>,
    pub power_dbm: f64,
    pub margin_db: f64,
    pub channel: Option<usize>,
    pub exclude_fibers: BTreeSet<String>,
    pub carries_link: Option<String>,
}

pub fn wavelength(inner: &Fabric, spec: &WavelengthSpec) -> Result<WavelengthIntent, PlanError> {
    use crate::pathcomp::optical;
    name(&spec.name, "spec.name")?;
    let a = node(inner, &spec.a, "spec.a", Role::Optical)?;
    let b = node(inner, &spec.b, "spec.b", Role::Optical)?;
    if a.name == b.name {
        return Err(invalid("spec.b", "must differ from spec.a"));
    }
    let mode = match spec.operational_mode {
        0 => None,
        id => Some(
            u16::try_from(id)
                .ok()
                .and_then(optical::mode)
                .ok_or_else(|| {
                    invalid(
                        "spec.operational_mode",
                        format!(
                            "{id} is not a supported mode {:?} (0 picks one)",
                            optical::all_mode_ids()
                        ),
                    )
                })?,
        ),
    };
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
    at_most(
        &spec.exclude_fibers,
        limits::EXCLUSIONS,
        "spec.exclude_fibers",
    )?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_targets_take_only_the_rfc_4360_forms() {
        for ok in [
            "65000:100",
            "0:0",
            "65535:4294967295",
            "4200000000:65535",
            "65536:1",
            "192.0.2.1:100",
            "255.255.255.255:65535",
        ] {
            assert_eq!(route_target(ok, "rt").as_deref(), Ok(ok), "{ok}");
        }
        for bad in [
            "ev\"il]\n/x:1",
            "65000",
            ":1",
            "65000:",
            "65000:1:2",
            "65000:+1",
            "+65000:1",
            " 65000:1",
            "65000:1 ",
            "65000:01",
            "065000:1",
            "65536:65536",
            "4294967296:1",
            "65000:4294967296",
            "192.0.2.1:65536",
            "192.0.2:1",
            "192.0.2.256:1",
            "192.0.2.01:1",
            "1.2.3.4.5:1",
            "a.b.c.d:1",
            "x:1",
            "65000:1\n",
            "６５０００:1",
        ] {
            let err = route_target(bad, "spec.route_target").unwrap_err();
            assert!(
                err.to_string().starts_with("spec.route_target: "),
                "{bad:?}: {err}"
            );
        }
        let long = format!("{}:1", "9".repeat(100_000));
        let err = route_target(&long, "rt").unwrap_err().to_string();
        assert!(err.len() < 200, "the input is quoted cut short: {err}");
    }

    #[test]
    fn lists_and_strings_over_their_limit_name_the_field() {
        let big = vec![0u32; limits::EXCLUSIONS + 1];
        assert_eq!(
            at_most(&big, limits::EXCLUSIONS, "spec.constraints.exclude_srlgs")
                .unwrap_err()
                .to_string(),
            "spec.constraints.exclude_srlgs: 1025 entries, at most 1024"
        );
        assert!(at_most(&big[1..], limits::EXCLUSIONS, "x").is_ok());
        let long = "x".repeat(limits::REQUEST_ID_CHARS + 1);
        let err = request_id(&long).unwrap_err().to_string();
        assert!(err.starts_with("request_id: \"xxx"), "{err}");
        assert!(err.ends_with("129 bytes, at most 128"), "{err}");
        assert!(request_id("").is_ok());
        assert!(request_id("3f2a9c1e-0b7d-4e55-9a51-6a1b2c3d4e5f").is_ok());
        assert!(request_id("a b").is_err());
        assert!(request_id("a\nb").is_err());
    }
}
