//! Where the closed loop's measurements live in published OpenConfig state
//! (docs/openconfig.md, "Telemetry the closed loop reads"), and what their
//! values mean.
//!
//! Paths arrive split anywhere between a notification's prefix and its
//! updates, so every check reads the two as one sequence without joining them.

use std::net::Ipv4Addr;

use super::health::Reading;
use crate::gnmi::path::strip_module;
use crate::proto::gnmi::{typed_value::Value as V, PathElem, TypedValue};

/// RFC 8570 link loss is carried in units of 0.000003 %.
pub const LOSS_UNIT_PERCENT: f64 = 0.000_003;
/// The loss field is 24 bits wide (RFC 8570 4.4): anything larger is garbage.
const LOSS_MAX_RAW: f64 = 16_777_215.0;

/// An IS-IS system id (48 bits), as a number so lookups allocate nothing.
pub type SystemId = u64;

/// One extended-IS-reachability instance of the device's own LSP: the
/// neighbor it points at and the instance id within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InstanceKey {
    pub neighbor: SystemId,
    pub id: u64,
}

/// The leaves the closed loop judges links by, and the two that say which
/// link an IS-IS instance is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Leaf {
    /// `link-delay/state/delay`, µs.
    Delay,
    /// `link-loss/state/link-loss`, units of 0.000003 %.
    Loss,
    /// `link-id/state/local`: the local ifindex of the instance's link.
    LinkId,
    /// `/interfaces/interface/state/ifindex`.
    IfIndex,
    OperStatus,
    Osnr,
}

/// What a leaf is about: a named port, or an IS-IS instance whose port is
/// known only through the device's identity maps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Site<'a> {
    Port(&'a str),
    Instance(InstanceKey),
}

/// Which LSPs count as the device's own.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Own {
    /// Only this system's `.00-00` LSP.
    Is(SystemId),
    /// The device's system id is not known: no LSP can be trusted as its own.
    #[default]
    Unknown,
    /// Stateless classification (no device): any LSP.
    Any,
}

pub use crate::model::isis_system_id as system_id;

/// `system_id` as a number.
pub fn system_id_value(router_id: Ipv4Addr) -> SystemId {
    // Each BCD digit is one hex nibble.
    router_id.octets().iter().fold(0, |acc, &o| {
        (acc << 12) | (u64::from(o / 100) << 8) | (u64::from(o / 10 % 10) << 4) | u64::from(o % 10)
    })
}

// The paths are built where every other path Strata sends is: `render`.
pub use crate::render::openconfig::telemetry::{isis_subtlvs_path, own_lsp_id};

fn hex(b: u8) -> Option<u64> {
    (b as char).to_digit(16).map(u64::from)
}

/// `XXXX.XXXX.XXXX` (hex digits, any case) as a number.
pub fn parse_system_id(s: &str) -> Option<SystemId> {
    let b = s.as_bytes();
    if b.len() != 14 || b[4] != b'.' || b[9] != b'.' {
        return None;
    }
    let mut v = 0u64;
    for (i, &c) in b.iter().enumerate() {
        if i == 4 || i == 9 {
            continue;
        }
        v = (v << 4) | hex(c)?;
    }
    Some(v)
}

/// `XXXX.XXXX.XXXX.PP-FF` as (system id, pseudonode, fragment).
fn parse_lsp_id(s: &str) -> Option<(SystemId, u64, u64)> {
    let b = s.as_bytes();
    if b.len() != 20 || b[14] != b'.' || b[17] != b'-' {
        return None;
    }
    let two = |i: usize| Some((hex(b[i])? << 4) | hex(b[i + 1])?);
    Some((parse_system_id(s.get(..14)?)?, two(15)?, two(18)?))
}

/// Element `i` of `prefix` followed by `path`.
struct Joined<'a> {
    prefix: &'a [PathElem],
    path: &'a [PathElem],
}

impl<'a> Joined<'a> {
    fn len(&self) -> usize {
        self.prefix.len() + self.path.len()
    }

    fn at(&self, i: usize) -> Option<&'a PathElem> {
        if i < self.prefix.len() {
            self.prefix.get(i)
        } else {
            self.path.get(i - self.prefix.len())
        }
    }

    fn name(&self, i: usize) -> &'a str {
        self.at(i).map_or("", |e| strip_module(&e.name))
    }

    fn key(&self, i: usize, k: &str) -> Option<&'a str> {
        self.at(i)?.key.get(k).map(String::as_str)
    }
}

/// Depth of a sub-TLV's container (`link-delay`, `link-id`, …) in the LSDB path.
const SUBTLV_CONTAINER: usize = 18;
/// Depth of the `instance` list entry.
pub const INSTANCE: usize = 15;

/// Checks element `i` (0..=INSTANCE) of an LSDB path against the contract;
/// collects the neighbor and instance keys on the way.
fn isis_elem(j: &Joined<'_>, i: usize, own: Own, key: &mut InstanceKey) -> bool {
    let name = j.name(i);
    match i {
        0 => name == "network-instances",
        1 => name == "network-instance" && j.key(i, "name") == Some("DEFAULT"),
        2 => name == "protocols",
        3 => {
            name == "protocol"
                && j.key(i, "identifier").map(strip_module) == Some("ISIS")
                && j.key(i, "name") == Some("default")
        }
        4 => name == "isis",
        5 => name == "levels",
        6 => name == "level" && j.key(i, "level-number") == Some("2"),
        7 => name == "link-state-database",
        8 => {
            name == "lsp"
                && match (own, j.key(i, "lsp-id").and_then(parse_lsp_id)) {
                    (Own::Is(me), Some((sys, 0, 0))) => sys == me,
                    (Own::Any, Some(_)) => true,
                    _ => false,
                }
        }
        9 => name == "tlvs",
        10 => {
            name == "tlv" && j.key(i, "type").map(strip_module) == Some("EXTENDED_IS_REACHABILITY")
        }
        11 => name == "extended-is-reachability",
        12 => name == "neighbors",
        13 => {
            name == "neighbor"
                && match j.key(i, "system-id").and_then(parse_system_id) {
                    Some(n) => {
                        key.neighbor = n;
                        true
                    }
                    None => false,
                }
        }
        14 => name == "instances",
        15 => {
            name == "instance"
                && match j.key(i, "id").and_then(|v| v.parse().ok()) {
                    Some(id) => {
                        key.id = id;
                        true
                    }
                    None => false,
                }
        }
        _ => false,
    }
}

/// The sub-TLV type identity a container belongs to.
fn subtlv_type(container: &str) -> Option<&'static str> {
    Some(match container {
        "link-delay" => "IS_REACHABILITY_LINK_DELAY",
        "link-loss" => "IS_REACHABILITY_LINK_LOSS",
        "link-id" => "IS_REACHABILITY_LINK_ID",
        "min-max-link-delay" => "IS_REACHABILITY_MIN_MAX_LINK_DELAY",
        "link-delay-variation" => "IS_REACHABILITY_LINK_DELAY_VARIATION",
        _ => return None,
    })
}

/// Classifies `prefix` + `path` as a link leaf.
pub fn classify<'a>(
    prefix: &'a [PathElem],
    path: &'a [PathElem],
    own: Own,
) -> Option<(Leaf, Site<'a>)> {
    let j = Joined { prefix, path };
    let len = j.len();
    // Most leaves (counters, min/max delay, powers, sub-TLV types) are none
    // of ours: the leaf name alone turns them away.
    let last = j.name(len.checked_sub(1)?);
    if !matches!(
        last,
        "delay" | "link-loss" | "local" | "oper-status" | "ifindex" | "instant"
    ) {
        return None;
    }
    let port = || j.key(1, "name");
    match (len, j.name(0), j.name(1)) {
        (4, "interfaces", "interface") if j.name(2) == "state" => {
            let leaf = match last {
                "oper-status" => Leaf::OperStatus,
                "ifindex" => Leaf::IfIndex,
                _ => return None,
            };
            Some((leaf, Site::Port(port()?)))
        }
        (6, "components", "component")
            if j.name(2) == "optical-channel"
                && j.name(3) == "state"
                && j.name(4) == "osnr"
                && last == "instant" =>
        {
            Some((Leaf::Osnr, Site::Port(port()?)))
        }
        (21, "network-instances", _) => {
            let container = j.name(SUBTLV_CONTAINER);
            let leaf = match (container, last) {
                ("link-delay", "delay") => Leaf::Delay,
                ("link-loss", "link-loss") => Leaf::Loss,
                ("link-id", "local") => Leaf::LinkId,
                _ => return None,
            };
            if j.name(19) != "state" || !subtlv_matches(&j, container) {
                return None;
            }
            let mut key = InstanceKey { neighbor: 0, id: 0 };
            (0..=INSTANCE)
                .all(|i| isis_elem(&j, i, own, &mut key))
                .then_some((leaf, Site::Instance(key)))
        }
        _ => None,
    }
}

/// The `subtlv[type=…]` entry is the one its container says (a mismatch is
/// a malformed path, not a reading to guess at).
fn subtlv_matches(j: &Joined<'_>, container: &str) -> bool {
    j.name(SUBTLV_CONTAINER - 2) == "subtlvs"
        && j.name(SUBTLV_CONTAINER - 1) == "subtlv"
        && match j.key(SUBTLV_CONTAINER - 1, "type") {
            Some(t) => Some(strip_module(t)) == subtlv_type(container),
            None => false,
        }
}

/// What a deleted path takes away from the device's link identity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Removed<'a> {
    /// An interface or its ifindex: its number no longer names it.
    Interface(&'a str),
    /// The own LSP or everything above it.
    AllInstances,
    Neighbor(SystemId),
    Instance(InstanceKey),
    /// The instance's link-id sub-TLV: the instance no longer says its link.
    LinkId(InstanceKey),
}

pub fn classify_delete<'a>(
    prefix: &'a [PathElem],
    path: &'a [PathElem],
    own: Own,
) -> Option<Removed<'a>> {
    let j = Joined { prefix, path };
    let len = j.len();
    if len == 0 {
        return None;
    }
    match j.name(0) {
        "interfaces" => {
            if j.name(1) != "interface" {
                return None;
            }
            let name = j.key(1, "name")?;
            let gone = len == 2
                || (j.name(2) == "state" && (len == 3 || (len == 4 && j.name(3) == "ifindex")));
            gone.then_some(Removed::Interface(name))
        }
        "network-instances" => {
            let mut key = InstanceKey { neighbor: 0, id: 0 };
            let checked = len.min(INSTANCE + 1);
            if !(0..checked).all(|i| isis_elem(&j, i, own, &mut key)) {
                return None;
            }
            Some(match len {
                // Above the LSP, the path must still cover it (keyed lists
                // were checked as far as they go).
                ..=13 => Removed::AllInstances,
                14..=15 => Removed::Neighbor(key.neighbor),
                16 => Removed::Instance(key),
                _ => {
                    let link_id = len == 17
                        || (j.name(17) == "subtlv"
                            && j.key(17, "type").map(strip_module)
                                == Some("IS_REACHABILITY_LINK_ID")
                            && (len == 18 || j.name(18) == "link-id"));
                    if j.name(16) != "subtlvs" || !link_id {
                        return None;
                    }
                    Removed::LinkId(key)
                }
            })
        }
        _ => None,
    }
}

pub use crate::gnmi::value::typed_as_f64 as number;

/// A string leaf (enumeration or identity), from a string or JSON text.
fn text(tv: &TypedValue) -> Option<&str> {
    match tv.value.as_ref()? {
        V::StringVal(s) => Some(s),
        V::JsonVal(b) | V::JsonIetfVal(b) => std::str::from_utf8(b)
            .ok()?
            .trim()
            .strip_prefix('"')?
            .strip_suffix('"'),
        _ => None,
    }
}

/// An ifindex or link identifier: a whole number in 0..=u32::MAX.
pub fn index(tv: &TypedValue) -> Option<u32> {
    match tv.value.as_ref()? {
        V::UintVal(u) => u32::try_from(*u).ok(),
        V::IntVal(i) => u32::try_from(*i).ok(),
        V::StringVal(s) => s.trim().parse().ok(),
        _ => {
            let v = number(tv)?;
            (v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v)).then_some(v as u32)
        }
    }
}

/// What a measurement leaf's value says, or why it is refused. `None` for
/// leaves that are identity, not measurement (ifindex, link-id).
pub fn judge(leaf: Leaf, val: &TypedValue) -> Option<Result<Reading, String>> {
    let n = || number(val).ok_or_else(|| "not a number".to_string());
    Some(match leaf {
        Leaf::Delay => n().and_then(|v| {
            if v.is_finite() && v >= 0.0 {
                Ok(Reading::DelayUs(v))
            } else {
                Err(format!("delay {v}"))
            }
        }),
        Leaf::Loss => n().and_then(|raw| {
            if raw.is_finite() && (0.0..=LOSS_MAX_RAW).contains(&raw) {
                Ok(Reading::LossPercent(raw * LOSS_UNIT_PERCENT))
            } else {
                Err(format!("link-loss {raw}"))
            }
        }),
        Leaf::OperStatus => match text(val) {
            Some(s) => Ok(Reading::Up(strip_module(s) == "UP")),
            None => Err("oper-status is not a string".into()),
        },
        Leaf::Osnr => n().and_then(|v| {
            if v.is_finite() {
                Ok(Reading::OsnrDb(v))
            } else {
                Err(format!("osnr {v}"))
            }
        }),
        Leaf::LinkId | Leaf::IfIndex => return None,
    })
}
