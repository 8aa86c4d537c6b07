//! What the controller keeps per accepted intent, and its API view.

use std::collections::{BTreeMap, BTreeSet};

use crate::intent::{PolicySpec, ServiceSpec, WavelengthSpec};
use crate::object::{self, PathView, SegmentTarget, SegmentView};
use crate::pathcomp::optical::WavelengthPlan;
use crate::pathcomp::{Constraints, Disjointness, Path, Segment, TeGraph};
use crate::render::{DeviceEdit, Dialect, EvpnInstance, LinePort, SrtePolicy, WavelengthEnd};

#[derive(Debug, Clone)]
pub struct PolicyRecord {
    pub id: String,
    pub spec: PolicySpec,
    pub owner: Option<String>,
    pub headend: String,
    pub endpoint: String,
    pub endpoint_address: String,
    pub color: u32,
    pub constraints: Constraints,
    pub disjoint: Option<(String, Disjointness)>,
    pub max_sid_depth: usize,
    pub path: Path,
    pub segments: Vec<Segment>,
    pub revision: u64,
    pub discriminator: u32,
    /// The policy's rule number on its headend (its binding SID follows).
    pub sequence_id: u32,
    /// Degraded links this policy was moved off (it returns when they recover).
    pub displaced_by: BTreeSet<String>,
    /// Why the policy has no feasible path right now (it is reported down).
    pub stranded: Option<String>,
    /// Services sharing this transport, oldest first, with the bandwidth
    /// each reserved: the policy reserves their sum and lives while one
    /// remains (`plan::share`). Empty for a standalone policy.
    pub shares: Vec<(String, f64)>,
}

pub fn label_of(s: &Segment) -> u32 {
    match s {
        Segment::Node { label, .. } | Segment::Adjacency { label, .. } => *label,
    }
}

pub fn labels(segments: &[Segment]) -> Vec<u32> {
    segments.iter().map(label_of).collect()
}

pub fn computed_path(g: &TeGraph, path: &Path, segments: &[Segment]) -> PathView {
    PathView {
        nodes: path.node_names(g),
        links: path.links(g),
        latency_us: path.latency_us,
        cost: path.cost,
        segments: segments
            .iter()
            .map(|s| match s {
                Segment::Node { node, label } => SegmentView {
                    label: *label,
                    target: g
                        .nodes
                        .get(*node)
                        .map(|n| SegmentTarget::Node(n.name.clone())),
                },
                Segment::Adjacency { edge, label } => SegmentView {
                    label: *label,
                    target: g
                        .edges
                        .get(*edge)
                        .map(|e| SegmentTarget::Adjacency(e.link.clone())),
                },
            })
            .collect(),
    }
}

impl PolicyRecord {
    pub fn view(&self, g: &TeGraph) -> object::Policy {
        object::Policy {
            id: self.id.clone(),
            spec: self.spec.clone(),
            path: computed_path(g, &self.path, &self.segments),
            state: if self.stranded.is_some() {
                object::PolicyState::Down
            } else {
                object::PolicyState::Programmed
            },
            revision: self.revision,
            owner: self.owner.clone(),
            endpoint_address: self.endpoint_address.clone(),
            shares: self.shares.clone(),
        }
    }

    pub fn labels(&self) -> Vec<u32> {
        labels(&self.segments)
    }

    /// The policy on its current path, as render takes it.
    pub fn render<R>(&self, make: impl FnOnce(&SrtePolicy<'_>) -> R) -> R {
        let labels = self.labels();
        make(&SrtePolicy {
            name: &self.spec.name,
            sequence_id: self.sequence_id,
            endpoint: &self.endpoint_address,
            color: self.color,
            labels: &labels,
            discriminator: self.discriminator,
        })
    }

    /// The headend configuration for the current path.
    pub fn config(&self, d: Dialect) -> DeviceEdit {
        self.render(|p| d.policy(p))
    }

    /// The Set moving the policy onto `segments` as candidate path
    /// `discriminator`: the rule replaced with only the new segment list, so
    /// the new list is in and the old one out in one commit.
    pub fn move_to(&self, d: Dialect, segments: &[Segment], discriminator: u32) -> DeviceEdit {
        let labels = labels(segments);
        d.reroute(&SrtePolicy {
            name: &self.spec.name,
            sequence_id: self.sequence_id,
            endpoint: &self.endpoint_address,
            color: self.color,
            labels: &labels,
            discriminator,
        })
    }

    /// The Set putting the policy back on its current path (undoes `move_to`).
    pub fn move_back(&self, d: Dialect) -> DeviceEdit {
        self.move_to(d, &self.segments, self.discriminator)
    }

    /// What takes the policy off its headend.
    pub fn removal(&self, d: Dialect) -> DeviceEdit {
        d.policy_removal(self.sequence_id)
    }
}

#[derive(Debug, Clone)]
pub struct ServiceRecord {
    pub id: String,
    pub spec: ServiceSpec,
    pub evi: u32,
    pub vni: u32,
    pub route_target: String,
    pub route_distinguishers: BTreeMap<String, String>,
    /// PE → (interface, VLAN) attachments on it.
    pub attachments: BTreeMap<String, Vec<(String, u32)>>,
    pub policies: Vec<String>,
    pub revision: u64,
}

impl ServiceRecord {
    /// The EVPN instance and attachment circuits on `pe` (empty elsewhere).
    pub fn config_on(&self, pe: &str, d: Dialect) -> DeviceEdit {
        match (self.attachments.get(pe), self.route_distinguishers.get(pe)) {
            (Some(atts), Some(rd)) => d.evpn(&EvpnInstance {
                service: &self.spec.name,
                evi: self.evi,
                vni: self.vni,
                route_distinguisher: rd,
                route_target: &self.route_target,
                attachments: atts,
            }),
            _ => DeviceEdit::default(),
        }
    }

    /// What takes the service off `pe`.
    pub fn removal_on(&self, pe: &str, d: Dialect) -> DeviceEdit {
        match self.attachments.get(pe) {
            Some(atts) => d.evpn_removal(self.evi, atts),
            None => DeviceEdit::default(),
        }
    }

    pub fn view(&self) -> object::Service {
        object::Service {
            id: self.id.clone(),
            spec: self.spec.clone(),
            evi: self.evi,
            vni: self.vni,
            route_target: self.route_target.clone(),
            route_distinguishers: self.route_distinguishers.clone(),
            transport_policies: self.policies.clone(),
            state: object::ServiceState::Active,
            revision: self.revision,
        }
    }
}

#[derive(Debug, Clone)]
pub struct WavelengthRecord {
    pub id: String,
    pub spec: WavelengthSpec,
    pub plan: WavelengthPlan,
    pub mode: u16,
    pub power_dbm: f64,
    pub a_port: String,
    pub b_port: String,
    /// Client logical channel at each end (the OTN one is the next index).
    pub a_logical: u32,
    pub b_logical: u32,
    /// SRLGs this wavelength added to the packet link it carries.
    pub carried_srlgs: BTreeSet<u32>,
    pub revision: u64,
    /// Predicted under the carriers lit now (`margins.rs`); derived, not
    /// journaled.
    pub live: Live,
    /// Latest OSNR telemetry of its far end, and whether it reads below
    /// the prediction by more than the alarm threshold (`osnr_watch.rs`).
    pub measured_osnr_db: Option<f64>,
    pub below_prediction: bool,
}

/// A wavelength's predicted GSNR and margin under the current loading.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Live {
    pub gsnr_db: f64,
    pub margin_db: f64,
    pub limit: String,
}

impl Live {
    /// Rounded to 0.01 dB, as the API reports it; no verdict (a mode or a
    /// fiber this build does not know) is reported as no margin at all.
    pub fn of(v: Option<&crate::pathcomp::optical::Verdict>) -> Live {
        let r = |x: f64| {
            if x.is_finite() {
                (x * 100.0).round() / 100.0
            } else {
                0.0
            }
        };
        match v {
            Some(v) => Live {
                gsnr_db: r(v.budget.gsnr_db()),
                margin_db: if v.osnr_margin_db.is_finite() {
                    r(v.osnr_margin_db)
                } else {
                    f64::NEG_INFINITY
                },
                limit: v.explain(),
            },
            None => Live {
                gsnr_db: 0.0,
                margin_db: f64::NEG_INFINITY,
                limit: "no prediction: unknown mode or fiber".into(),
            },
        }
    }
}

impl WavelengthRecord {
    /// (node, line port, logical channel) at each end.
    pub fn ends(&self) -> [(&String, &String, u32); 2] {
        [
            (&self.spec.a, &self.a_port, self.a_logical),
            (&self.spec.b, &self.b_port, self.b_logical),
        ]
    }

    /// The tuned transponder and logical channels behind `line`.
    pub fn channel_config(&self, d: Dialect, line: &LinePort, client_channel: u32) -> DeviceEdit {
        d.wavelength(&WavelengthEnd {
            wavelength: &self.spec.name,
            line,
            client_channel,
            frequency_mhz: self.plan.frequency_mhz,
            target_power_dbm: self.power_dbm,
            operational_mode: self.mode,
        })
    }

    pub fn view(&self) -> object::Wavelength {
        object::Wavelength {
            id: self.id.clone(),
            spec: self.spec.clone(),
            fibers: self.plan.fibers.clone(),
            nodes: self.plan.nodes.clone(),
            frequency_mhz: self.plan.frequency_mhz,
            channel: self.plan.channel as u32,
            length_km: self.plan.length_km,
            estimated_osnr_db: self.plan.osnr_db,
            required_osnr_db: self.plan.required_osnr_db,
            a_port: self.a_port.clone(),
            b_port: self.b_port.clone(),
            revision: self.revision,
            operational_mode: u32::from(self.mode),
            mode_name: crate::pathcomp::optical::mode(self.mode)
                .map(|m| m.name.to_string())
                .unwrap_or_default(),
            planned_margin_db: self.plan.planned_margin_db,
            gsnr_db: self.live.gsnr_db,
            // JSON and the API want a number: past a hard limit there is none
            osnr_margin_db: if self.live.margin_db.is_finite() {
                self.live.margin_db
            } else {
                -99.0
            },
            limit: self.live.limit.clone(),
            measured_osnr_db: self.measured_osnr_db,
            below_prediction: self.below_prediction,
        }
    }
}
