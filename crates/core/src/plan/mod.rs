//! The planning core: the fabric's state as the controller holds it — the
//! topology, the TE and fiber graphs with their reservations, every accepted
//! intent's record and the indexes over them — and, per intent kind, the
//! checks and placements that turn a request into records. Pure and
//! synchronous: the daemon's execution pipeline takes the lock, plans here,
//! and does the device and disk I/O itself.

pub mod drain;
pub mod error;
#[cfg(test)]
mod fixtures;
pub mod margins;
pub mod policy;
pub mod pools;
pub mod records;
pub mod repair;
pub mod reroute;
pub mod service;
pub mod share;
pub mod topology;
pub mod update;
pub mod validate;
pub mod wavelength;
pub mod whatif;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::model::Topology;
use crate::pathcomp::optical::{FiberGraph, Spectrum};
use crate::pathcomp::{Path, TeGraph};
use crate::render::openconfig::srte;
use error::PlanError;
use pools::IdPool;
pub use records::{PolicyRecord, ServiceRecord, WavelengthRecord};
pub use validate::limits;

/// At most `limit` values of `map` with keys after `after` that `keep`
/// accepts, in key order, and whether more follow (keyset paging: a page
/// resumes after a key, so objects created or deleted between pages neither
/// shift nor repeat the others). Walks only from the cursor, so a page costs
/// its own size rather than the collection's (plus any values `keep` skips).
pub fn keyset_page<'a, V>(
    map: &'a BTreeMap<String, V>,
    after: Option<&str>,
    limit: usize,
    keep: impl FnMut(&&'a V) -> bool,
) -> (Vec<&'a V>, bool) {
    let start = match after {
        Some(key) => std::ops::Bound::Excluded(key),
        None => std::ops::Bound::Unbounded,
    };
    let mut values = map
        .range::<str, _>((start, std::ops::Bound::Unbounded))
        .map(|(_, v)| v)
        .filter(keep);
    let page: Vec<&V> = values.by_ref().take(limit).collect();
    let more = values.next().is_some();
    (page, more)
}

/// EVIs and VNIs Strata allocates from when a service does not name its own.
pub const EVI_RANGE: (u32, u32) = (1000, 65_535);
pub const VNI_RANGE: (u32, u32) = (10_000, 16_777_215);
pub const DEFAULT_COLOR: u32 = 100;
/// What the protocols allow: an EVPN EVI is a 16-bit service id, a VXLAN VNI
/// 24 bits, an SR policy color 32 bits — 0 is "none" in each.
pub const EVI_LIMITS: (u32, u32) = (1, 65_535);
pub const VNI_LIMITS: (u32, u32) = (1, 16_777_215);
pub const COLOR_LIMITS: (u32, u32) = (1, u32::MAX);

/// Where a controller allocates service ids from (a config file's `[pools]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pools {
    /// Inclusive EVI range for services that do not name their own.
    pub evi: (u32, u32),
    /// Inclusive VNI range for services that do not name their own.
    pub vni: (u32, u32),
    /// The color of a service's transport when its spec gives none.
    pub default_color: u32,
}

impl Default for Pools {
    fn default() -> Self {
        Pools {
            evi: EVI_RANGE,
            vni: VNI_RANGE,
            default_color: DEFAULT_COLOR,
        }
    }
}

impl Pools {
    /// Ranges ordered and inside what the protocols allow (a config file is
    /// checked the same way, with line numbers, before it gets here).
    pub fn validate(&self) -> Result<(), String> {
        let within = |name: &str, (min, max): (u32, u32), (lo, hi): (u32, u32)| {
            if min > max {
                Err(format!("{name} pool: min {min} is greater than max {max}"))
            } else if min < lo || max > hi {
                Err(format!(
                    "{name} pool {min}..={max} is not within {lo}..={hi}"
                ))
            } else {
                Ok(())
            }
        };
        within("evi", self.evi, EVI_LIMITS)?;
        within("vni", self.vni, VNI_LIMITS)?;
        if self.default_color < COLOR_LIMITS.0 {
            return Err("default color 0 means no color".into());
        }
        Ok(())
    }
}
pub const DEFAULT_MAX_SID_DEPTH: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Policy,
    Service,
    Wavelength,
}

/// The fabric's state: what is planned against, and what plans change.
pub struct Fabric {
    pub topology: Topology,
    pub graph: TeGraph,
    pub fibers: FiberGraph,
    pub spectrum: Spectrum,
    pub policies: BTreeMap<String, PolicyRecord>,
    pub services: BTreeMap<String, ServiceRecord>,
    pub wavelengths: BTreeMap<String, WavelengthRecord>,
    pub evis: IdPool,
    pub vnis: IdPool,
    /// The color given to a service's transport when its spec names none.
    pub default_color: u32,
    /// (kind, request id) → (fingerprint of the request, object id).
    pub requests: HashMap<(Kind, String), (Vec<u8>, String)>,
    /// Object id → (request id, fingerprint) of the create that made it.
    pub origins: HashMap<String, (String, Vec<u8>)>,
    /// Transponder ports carrying a wavelength: (node, port) → wavelength id.
    pub ports: HashMap<(String, String), String>,
    /// Link → policies whose current path uses it, so a change to one link
    /// recomputes only the policies that ride it.
    pub link_index: HashMap<String, BTreeSet<String>>,
    /// Links currently degraded by telemetry.
    pub degraded: BTreeSet<String>,
    /// Maintenance drains in force, by target (`plan::drain`).
    pub drains: drain::Drains,
    /// Lookups creates make on every request, kept so they cost O(1):
    /// (kind, name) → id.
    pub names: HashMap<(Kind, String), String>,
    /// Headend → rule numbers its policies hold in `strata-srte`.
    pub sequences: HashMap<String, BTreeSet<u32>>,
    /// (headend, color, endpoint) → the policy that holds it.
    pub steering: HashMap<(String, u32, String), String>,
    /// (PE, interface, VLAN) → the service attached there.
    pub attachment_index: HashMap<(String, String, u32), String>,
    /// Objects whose create is still programming devices or being journaled:
    /// they hold their resources but nobody sees them yet.
    pub pending: std::collections::HashSet<String>,
    /// Objects a request (a delete, a reroute) is changing right now: a
    /// second change of one object is refused until the first is done.
    pub busy: std::collections::HashSet<String>,
    pub next_id: u64,
    /// Per policy and link it rides, where it goes if that link fails
    /// (`repair`): read by `reroute::plan_all`, refreshed by whoever has
    /// time after placements and TE changes. Empty is correct, only slower.
    pub repairs: repair::RepairCache,
}

impl Fabric {
    /// The fabric of `topology` with nothing placed on it yet; service ids
    /// come from `pools` (validate them first: see [`Pools::validate`]).
    pub fn new(topology: Topology, pools: Pools) -> Self {
        Fabric {
            graph: TeGraph::packet_layer(&topology),
            fibers: FiberGraph::from_topology(&topology),
            topology,
            spectrum: Spectrum::default(),
            policies: BTreeMap::new(),
            services: BTreeMap::new(),
            wavelengths: BTreeMap::new(),
            evis: IdPool::new("evi", pools.evi.0, pools.evi.1),
            vnis: IdPool::new("vni", pools.vni.0, pools.vni.1),
            default_color: pools.default_color,
            requests: HashMap::new(),
            origins: HashMap::new(),
            ports: HashMap::new(),
            link_index: HashMap::new(),
            degraded: BTreeSet::new(),
            drains: Default::default(),
            pending: Default::default(),
            busy: Default::default(),
            names: HashMap::new(),
            steering: HashMap::new(),
            sequences: HashMap::new(),
            attachment_index: HashMap::new(),
            next_id: 0,
            repairs: repair::RepairCache::default(),
        }
    }
    /// Records a placed policy: reserves its bandwidth and indexes its links.
    pub fn insert_policy(&mut self, record: PolicyRecord) {
        if record.sequence_id != 0 {
            self.sequences
                .entry(record.headend.clone())
                .or_default()
                .insert(record.sequence_id);
        }
        policy::reserve(
            &mut self.graph,
            &record.path,
            record.constraints.bandwidth_gbps,
        );
        for link in record.path.links(&self.graph) {
            self.link_index
                .entry(link)
                .or_default()
                .insert(record.id.clone());
        }
        self.names
            .insert((Kind::Policy, record.spec.name.clone()), record.id.clone());
        self.steering.insert(
            (
                record.headend.clone(),
                record.color,
                record.endpoint.clone(),
            ),
            record.id.clone(),
        );
        self.repairs.touch(&record.id);
        self.policies.insert(record.id.clone(), record);
    }

    /// Forgets a policy: releases its bandwidth and unindexes its links.
    pub fn remove_policy(&mut self, id: &str) -> Option<PolicyRecord> {
        let record = self.policies.remove(id)?;
        if let Some(seqs) = self.sequences.get_mut(&record.headend) {
            seqs.remove(&record.sequence_id);
        }
        self.names.remove(&(Kind::Policy, record.spec.name.clone()));
        self.steering.remove(&(
            record.headend.clone(),
            record.color,
            record.endpoint.clone(),
        ));
        policy::release(
            &mut self.graph,
            &record.path,
            record.constraints.bandwidth_gbps,
        );
        for link in record.path.links(&self.graph) {
            if let Some(set) = self.link_index.get_mut(&link) {
                set.remove(id);
                if set.is_empty() {
                    self.link_index.remove(&link);
                }
            }
        }
        Some(record)
    }

    /// Moves a placed policy onto `path`: its reservation and link index
    /// follow, nothing else about it changes (a reroute's commit, hundreds
    /// at a time: only the links it left or joined are touched). Returns the
    /// links it rode, or `None` if there is no such policy.
    pub fn repath_policy(&mut self, id: &str, path: Path) -> Option<Vec<String>> {
        let record = self.policies.get_mut(id)?;
        let gbps = record.constraints.bandwidth_gbps;
        let old = std::mem::replace(&mut record.path, path);
        policy::release(&mut self.graph, &old, gbps);
        policy::reserve(&mut self.graph, &record.path, gbps);
        let from = old.links(&self.graph);
        let to = record.path.links(&self.graph);
        for link in from.iter().filter(|l| !to.contains(l)) {
            if let Some(set) = self.link_index.get_mut(link) {
                set.remove(id);
                if set.is_empty() {
                    self.link_index.remove(link);
                }
            }
        }
        for link in to.iter().filter(|l| !from.contains(l)) {
            self.link_index
                .entry(link.clone())
                .or_default()
                .insert(id.to_string());
        }
        self.repairs.touch(id);
        Some(from)
    }

    /// Records a service: claims its EVI and VNI.
    pub fn insert_service(&mut self, record: ServiceRecord) {
        self.evis.claim(record.evi);
        self.vnis.claim(record.vni);
        self.names
            .insert((Kind::Service, record.spec.name.clone()), record.id.clone());
        for (pe, atts) in &record.attachments {
            for (interface, vlan) in atts {
                self.attachment_index
                    .insert((pe.clone(), interface.clone(), *vlan), record.id.clone());
            }
        }
        self.services.insert(record.id.clone(), record);
    }

    /// Forgets a service: releases its EVI and VNI (its policies stay until
    /// removed one by one).
    pub fn remove_service(&mut self, id: &str) -> Option<ServiceRecord> {
        let record = self.services.remove(id)?;
        self.evis.release(record.evi);
        self.vnis.release(record.vni);
        self.names
            .remove(&(Kind::Service, record.spec.name.clone()));
        for (pe, atts) in &record.attachments {
            for (interface, vlan) in atts {
                self.attachment_index
                    .remove(&(pe.clone(), interface.clone(), *vlan));
            }
        }
        self.forget_origin(Kind::Service, id);
        Some(record)
    }

    /// Records a wavelength: lights its channel on its fibers, takes its
    /// transponder ports, and gives the packet link it carries its SRLGs.
    pub fn insert_wavelength(&mut self, record: WavelengthRecord) {
        self.spectrum
            .occupy(&record.plan.fibers, record.plan.channel, record.mode);
        for (node, port) in [
            (&record.spec.a, &record.a_port),
            (&record.spec.b, &record.b_port),
        ] {
            self.ports
                .insert((node.clone(), port.clone()), record.id.clone());
        }
        self.carried_srlgs(&record, true);
        self.names.insert(
            (Kind::Wavelength, record.spec.name.clone()),
            record.id.clone(),
        );
        self.wavelengths.insert(record.id.clone(), record);
    }

    /// Gives the packet link a wavelength carries its fibers' SRLGs (or takes
    /// them back).
    pub fn carried_srlgs(&mut self, record: &WavelengthRecord, add: bool) {
        let edges: Vec<usize> = self
            .graph
            .edges_of_link(&record.spec.carries_link)
            .collect();
        for e in edges {
            self.graph.update_edge(e, |edge| {
                for s in &record.carried_srlgs {
                    if add {
                        edge.srlgs.insert(*s);
                    } else {
                        edge.srlgs.remove(s);
                    }
                }
            });
        }
    }

    /// Forgets a wavelength, undoing everything `insert_wavelength` did.
    pub fn remove_wavelength(&mut self, id: &str) -> Option<WavelengthRecord> {
        let record = self.wavelengths.remove(id)?;
        self.names
            .remove(&(Kind::Wavelength, record.spec.name.clone()));
        self.spectrum
            .release(&record.plan.fibers, record.plan.channel);
        self.ports.retain(|_, w| w != id);
        self.carried_srlgs(&record, false);
        self.forget_origin(Kind::Wavelength, id);
        Some(record)
    }

    /// Drops the retry memory of a deleted object's create.
    pub fn forget_origin(&mut self, kind: Kind, id: &str) {
        if let Some((request_id, _)) = self.origins.remove(id) {
            self.requests.remove(&(kind, request_id));
        }
    }

    /// Policies whose current path uses `link`.
    pub fn policies_using(&self, link: &str) -> Vec<String> {
        self.link_index
            .get(link)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Link → policies whose current path uses it.
    pub fn link_index(&self) -> &HashMap<String, BTreeSet<String>> {
        &self.link_index
    }

    /// The lowest rule number free on `headend`, not counting `also` (numbers
    /// a plan has handed out but not yet recorded).
    pub fn free_sequence(&self, headend: &str, also: &BTreeSet<u32>) -> Result<u32, PlanError> {
        let taken = self.sequences.get(headend);
        (1..=srte::MAX_SEQUENCE_ID)
            .find(|n| !also.contains(n) && !taken.is_some_and(|t| t.contains(n)))
            .ok_or_else(|| {
                error::precondition(format!(
                    "{headend} has no free SR-TE rule (binding SIDs {}–{} all in use)",
                    srte::BSID_BASE + 1,
                    srte::BSID_MAX
                ))
            })
    }

    pub fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{}", self.next_id)
    }

    pub fn name_taken(&self, kind: Kind, name: &str) -> Option<String> {
        self.names.get(&(kind, name.to_string())).cloned()
    }

    /// The policy steering `color` traffic from `headend` to `endpoint`.
    pub fn steered_by(&self, headend: &str, color: u32, endpoint: &str) -> Option<&PolicyRecord> {
        self.steering
            .get(&(headend.to_string(), color, endpoint.to_string()))
            .and_then(|id| self.policies.get(id))
    }

    /// The service attached at `interface` VLAN `vlan` of `pe`.
    pub fn attached_at(&self, pe: &str, interface: &str, vlan: u32) -> Option<&String> {
        self.attachment_index
            .get(&(pe.to_string(), interface.to_string(), vlan))
    }

    /// Marks `id` as being changed; refused if another request is changing it.
    pub fn claim(&mut self, what: &str, id: &str) -> Result<(), PlanError> {
        if self.pending.contains(id) || !self.busy.insert(id.to_string()) {
            return Err(PlanError::Aborted(format!(
                "{what} {id} is being changed by another request; read it again and retry"
            )));
        }
        Ok(())
    }

    pub fn unclaim(&mut self, id: &str) {
        self.busy.remove(id);
    }

    /// Being created or being changed: not to be touched by anyone else.
    pub fn in_flight(&self, id: &str) -> bool {
        self.pending.contains(id) || self.busy.contains(id)
    }

    /// Remembers the create that made `id`, so a retry of it is recognised.
    pub fn remember(&mut self, kind: Kind, request_id: &str, fingerprint: Vec<u8>, id: &str) {
        if !request_id.is_empty() {
            self.requests.insert(
                (kind, request_id.to_string()),
                (fingerprint.clone(), id.to_string()),
            );
            self.origins
                .insert(id.to_string(), (request_id.to_string(), fingerprint));
        }
    }

    /// Holds a planned policy: its name, steering, rule number and bandwidth
    /// are taken, but nobody sees it until [`Fabric::reveal`].
    pub fn hold_policy(&mut self, record: PolicyRecord) {
        self.pending.insert(record.id.clone());
        self.insert_policy(record);
    }

    /// Holds a planned service (its transports are held one by one).
    pub fn hold_service(&mut self, record: ServiceRecord) {
        self.pending.insert(record.id.clone());
        self.insert_service(record);
    }

    /// Holds a planned wavelength: its channel, ports and SRLGs are taken.
    pub fn hold_wavelength(&mut self, record: WavelengthRecord) {
        self.pending.insert(record.id.clone());
        self.insert_wavelength(record);
    }

    /// Makes held objects visible: the devices and the journal have them.
    pub fn reveal<'a>(&mut self, ids: impl IntoIterator<Item = &'a String>) {
        for id in ids {
            self.pending.remove(id);
        }
    }

    /// Gives back everything a held create took, as if it was never planned.
    pub fn release_held(&mut self, kind: Kind, id: &str) {
        self.pending.remove(id);
        match kind {
            Kind::Policy => {
                self.remove_policy(id);
            }
            Kind::Service => {
                self.remove_service(id);
            }
            Kind::Wavelength => {
                self.remove_wavelength(id);
            }
        }
        self.forget_origin(kind, id);
    }
}

pub fn set_of<T: Ord + Clone>(v: &[T]) -> BTreeSet<T> {
    v.iter().cloned().collect()
}

#[cfg(test)]
mod tests;
