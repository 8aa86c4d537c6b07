//! What a client asks for, as the planners take it: one spec per intent kind,
//! in domain terms (no protobuf). The northbound turns strata.v1 messages
//! into these (refusing values no domain type can hold, like an unknown enum
//! number) and the planners check them against the fabric.

use crate::pathcomp::{Disjointness, Metric};

/// Path constraints as asked (names, not yet checked against the fabric).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConstraintsSpec {
    /// `None`: the default metric (latency).
    pub metric: Option<Metric>,
    /// 0 = unbounded.
    pub max_latency_us: u64,
    pub bandwidth_gbps: f64,
    pub include_any: Vec<String>,
    pub include_all: Vec<String>,
    pub exclude_any: Vec<String>,
    pub exclude_nodes: Vec<String>,
    pub exclude_links: Vec<String>,
    pub exclude_srlgs: Vec<u32>,
    /// "" = not placed against another policy.
    pub disjoint_from: String,
    pub disjointness: Option<Disjointness>,
    /// 0 = the headend's default.
    pub max_sid_depth: u32,
}

/// An SR-TE policy: a colored path from a headend to an endpoint.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PolicySpec {
    pub name: String,
    pub headend: String,
    pub endpoint: String,
    pub color: u32,
    pub constraints: ConstraintsSpec,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceType {
    /// Point to point: exactly two attachments.
    ELine,
    /// Multipoint: two or more attachments.
    ELan,
}

impl ServiceType {
    pub fn name(self) -> &'static str {
        match self {
            ServiceType::ELine => "E-Line",
            ServiceType::ELan => "E-LAN",
        }
    }
}

/// Where a service meets a customer: a PE's access interface and VLAN.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AttachmentSpec {
    pub device: String,
    pub interface: String,
    pub vlan: u32,
}

/// An EVPN service over SR-TE transport.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceSpec {
    pub name: String,
    /// `None`: not given (refused by the planner, naming `spec.type`).
    pub service_type: Option<ServiceType>,
    pub attachments: Vec<AttachmentSpec>,
    pub bandwidth_gbps: f64,
    /// 0 = allocate.
    pub evi: u32,
    /// 0 = allocate.
    pub vni: u32,
    /// "" = derived.
    pub route_target: String,
    /// 0 = the controller's default transport color.
    pub color: u32,
    pub transport: ConstraintsSpec,
}

/// A change to a live service, against the revision its caller read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceUpdate {
    pub id: String,
    pub revision: u64,
    /// The new bandwidth on each transport.
    pub bandwidth_gbps: f64,
}

/// A wavelength between two optical terminals.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WavelengthSpec {
    pub name: String,
    pub a: String,
    pub b: String,
    /// 0 = the default mode.
    pub operational_mode: u32,
    /// `None` = the default launch power.
    pub target_power_dbm: Option<f64>,
    /// `None` = the default margin over the mode's OSNR.
    pub osnr_margin_db: Option<f64>,
    /// 0 = allocate (first fit).
    pub frequency_mhz: u64,
    pub exclude_fibers: Vec<String>,
    /// "" = none: the packet link this wavelength backs.
    pub carries_link: String,
}
