//! What the controller shows of its state: an accepted object as clients see
//! it (names, not graph indices), and the events that announce its changes.
//! Domain types; the northbound turns them into strata.v1 messages, the web
//! view into JSON.

use std::collections::BTreeMap;

use crate::intent::{PolicySpec, ServiceSpec, WavelengthSpec};

/// One SID of a path: a prefix SID of a node or an adjacency SID of a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentTarget {
    Node(String),
    Adjacency(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentView {
    pub label: u32,
    /// `None` only for an index the graph no longer has (never in practice).
    pub target: Option<SegmentTarget>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PathView {
    pub nodes: Vec<String>,
    pub links: Vec<String>,
    pub latency_us: u64,
    /// In the policy's metric.
    pub cost: u64,
    /// The SID list programmed on the headend.
    pub segments: Vec<SegmentView>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyState {
    /// The headend acked the current path.
    Programmed,
    /// No feasible path at the moment.
    Down,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub id: String,
    pub spec: PolicySpec,
    pub path: PathView,
    pub state: PolicyState,
    pub revision: u64,
    /// The service that created it as transport, if any (with shared
    /// transport, the longest-standing service still using it).
    pub owner: Option<String>,
    pub endpoint_address: String,
    /// Services whose traffic it carries and the bandwidth each reserved
    /// (the policy reserves their sum); empty for a standalone policy.
    pub shares: Vec<(String, f64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceState {
    Active,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub id: String,
    pub spec: ServiceSpec,
    pub evi: u32,
    pub vni: u32,
    pub route_target: String,
    /// Device → route distinguisher.
    pub route_distinguishers: BTreeMap<String, String>,
    /// Transport policy ids, owned by this service.
    pub transport_policies: Vec<String>,
    pub state: ServiceState,
    pub revision: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Wavelength {
    pub id: String,
    pub spec: WavelengthSpec,
    pub fibers: Vec<String>,
    pub nodes: Vec<String>,
    pub frequency_mhz: u64,
    /// Index on the 75 GHz grid.
    pub channel: u32,
    pub length_km: f64,
    pub estimated_osnr_db: f64,
    pub required_osnr_db: f64,
    pub a_port: String,
    pub b_port: String,
    pub revision: u64,
    /// The mode it is lit in (the one picked when the spec left it open).
    pub operational_mode: u32,
    pub mode_name: String,
    /// What is left of the planning GSNR (the worst channel of a full band)
    /// over the requirement, penalties and the spec's margin.
    pub planned_margin_db: f64,
    /// Predicted now, under the carriers actually lit on its fibers.
    pub gsnr_db: f64,
    /// -99 past a hard limit (CD, PMD, PDL) of the mode.
    pub osnr_margin_db: f64,
    /// What limits it, with the numbers.
    pub limit: String,
    /// Latest OSNR the far transponder reported, and whether it is below the
    /// prediction by more than the controller's alarm threshold.
    pub measured_osnr_db: Option<f64>,
    pub below_prediction: bool,
}

/// A device's southbound session as events report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Session {
    Up,
    Down,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeviceEvent {
    pub device: String,
    pub session: Session,
    pub error: String,
}

/// A link crossing a health threshold, or clearing it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BreachEvent {
    pub link: String,
    pub metric: String,
    pub value: f64,
    pub threshold: f64,
    pub cleared: bool,
}

/// A link whose cabling, as LLDP hears it at its ends, disagrees with the
/// topology (or agrees again).
#[derive(Debug, Clone, PartialEq)]
pub struct CablingEvent {
    pub link: String,
    pub miscabled: bool,
    pub ends: Vec<CablingEnd>,
}

/// One end of a link: who the topology says is plugged into it, and who LLDP
/// hears there (`None`: no neighbor heard, e.g. the link is down).
#[derive(Debug, Clone, PartialEq)]
pub struct CablingEnd {
    pub node: String,
    pub interface: String,
    pub expected: (String, String),
    pub heard: Option<(String, String)>,
}

/// A maintenance drain started (created) or ended (deleted), with what it
/// moved and what could not move.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DrainEvent {
    pub target: String,
    /// "link" or "node".
    pub kind: String,
    pub links: Vec<String>,
    pub reason: String,
    pub moved: Vec<String>,
    pub unmoved: Vec<String>,
}

/// A node or link added (created), changed (updated) or removed (deleted)
/// at run time, as the topology shows it after the change (`node`/`link`
/// empty for a removal).
#[derive(Debug, Clone, PartialEq)]
pub struct TopologyEvent {
    /// "node" or "link".
    pub kind: String,
    pub name: String,
    pub node: Option<crate::model::Node>,
    pub link: Option<crate::model::Link>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    Policy(Policy),
    Service(Service),
    Wavelength(Wavelength),
    Device(DeviceEvent),
    Breach(BreachEvent),
    Cabling(CablingEvent),
    Drain(DrainEvent),
    Topology(TopologyEvent),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    /// E.g. a policy rerouted.
    Updated,
    Deleted,
}

/// One change of the fabric, in revision order.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub revision: u64,
    pub timestamp_ns: i64,
    pub change: Change,
    pub reason: String,
    pub object: Object,
}

/// An object that events carry, stamped with the revision of its event.
pub trait Revisioned: Sized {
    fn at(self, revision: u64) -> Object;
}

impl Revisioned for Policy {
    fn at(mut self, revision: u64) -> Object {
        self.revision = revision;
        Object::Policy(self)
    }
}

impl Revisioned for Service {
    fn at(mut self, revision: u64) -> Object {
        self.revision = revision;
        Object::Service(self)
    }
}

impl Revisioned for Wavelength {
    fn at(mut self, revision: u64) -> Object {
        self.revision = revision;
        Object::Wavelength(self)
    }
}

/// Roughly what a value pins in memory (its heap strings and lists plus its
/// own size): what bounds the event ring, whatever the wire encoding.
pub trait Footprint {
    fn footprint(&self) -> usize;
}

fn strings(v: &[String]) -> usize {
    v.iter()
        .map(|s| s.len() + std::mem::size_of::<String>())
        .sum()
}

impl Footprint for crate::intent::ConstraintsSpec {
    fn footprint(&self) -> usize {
        strings(&self.include_any)
            + strings(&self.include_all)
            + strings(&self.exclude_any)
            + strings(&self.exclude_nodes)
            + strings(&self.exclude_links)
            + 4 * self.exclude_srlgs.len()
            + self.disjoint_from.len()
    }
}

impl Footprint for Policy {
    fn footprint(&self) -> usize {
        let s = &self.spec;
        s.name.len()
            + s.headend.len()
            + s.endpoint.len()
            + s.constraints.footprint()
            + strings(&self.path.nodes)
            + strings(&self.path.links)
            + self
                .path
                .segments
                .iter()
                .map(|g| match &g.target {
                    Some(SegmentTarget::Node(n)) | Some(SegmentTarget::Adjacency(n)) => n.len(),
                    None => 0,
                } + std::mem::size_of::<SegmentView>())
                .sum::<usize>()
            + self.id.len()
            + self.owner.as_ref().map_or(0, String::len)
            + self.endpoint_address.len()
            + self
                .shares
                .iter()
                .map(|(s, _)| s.len() + std::mem::size_of::<(String, f64)>())
                .sum::<usize>()
    }
}

impl Footprint for Service {
    fn footprint(&self) -> usize {
        let s = &self.spec;
        s.name.len()
            + s.attachments
                .iter()
                .map(|a| a.device.len() + a.interface.len() + std::mem::size_of_val(a))
                .sum::<usize>()
            + s.route_target.len()
            + s.transport.footprint()
            + self.id.len()
            + self.route_target.len()
            + self
                .route_distinguishers
                .iter()
                .map(|(k, v)| k.len() + v.len() + 2 * std::mem::size_of::<String>())
                .sum::<usize>()
            + strings(&self.transport_policies)
    }
}

impl Footprint for Wavelength {
    fn footprint(&self) -> usize {
        let s = &self.spec;
        s.name.len()
            + s.a.len()
            + s.b.len()
            + strings(&s.exclude_fibers)
            + s.carries_link.len()
            + self.id.len()
            + strings(&self.fibers)
            + strings(&self.nodes)
            + self.a_port.len()
            + self.b_port.len()
            + self.mode_name.len()
            + self.limit.len()
    }
}

impl Footprint for Event {
    fn footprint(&self) -> usize {
        std::mem::size_of::<Event>()
            + self.reason.len()
            + match &self.object {
                Object::Policy(p) => p.footprint(),
                Object::Service(s) => s.footprint(),
                Object::Wavelength(w) => w.footprint(),
                Object::Device(d) => d.device.len() + d.error.len(),
                Object::Breach(b) => b.link.len() + b.metric.len(),
                Object::Cabling(c) => {
                    c.link.len()
                        + c.ends
                            .iter()
                            .map(|e| {
                                let heard = e.heard.as_ref().map_or(0, |(n, i)| n.len() + i.len());
                                e.node.len()
                                    + e.interface.len()
                                    + e.expected.0.len()
                                    + e.expected.1.len()
                                    + heard
                            })
                            .sum::<usize>()
                }
                Object::Drain(d) => {
                    d.target.len()
                        + d.reason.len()
                        + [&d.links, &d.moved, &d.unmoved]
                            .iter()
                            .flat_map(|v| v.iter())
                            .map(|x| x.len() + 24)
                            .sum::<usize>()
                }
                // Names and a node's or link's attributes: a few hundred bytes.
                Object::Topology(t) => t.kind.len() + t.name.len() + 512,
            }
    }
}

/// One telemetry reading as operators watch it: where it was measured, the
/// value, and the link's health state after it.
#[derive(Debug, Clone, PartialEq)]
pub struct TelemetrySample {
    pub device: String,
    pub port: String,
    pub link: String,
    pub metric: String,
    pub value: f64,
    pub timestamp_ns: i64,
    pub state: String,
}
