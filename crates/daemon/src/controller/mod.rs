//! The controller: intents in, paths computed, devices programmed, events out.
//!
//! Every mutation goes through one pipeline (`pipeline`): plan and hold
//! resources under the state lock, release it, program devices with rollback,
//! journal, then commit or revert — so readers never see an intent the devices
//! did not accept, and no lock is held across device or disk I/O.

pub mod closed_loop;
mod deletion_hold;
mod device_writes;
pub mod error;
pub mod events;
mod intent;
mod margins;
mod osnr_watch;
mod persist;
mod pipeline;
mod policies;
pub mod pools;
pub mod programmer;
pub mod reconcile;
mod records;
pub mod reroute;
mod services;
mod wavelengths;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::model::Topology;
use crate::pathcomp::optical::{FiberGraph, Spectrum};
use crate::pathcomp::TeGraph;
use crate::render::openconfig::optical::LinePort;
use crate::render::openconfig::srte;
use crate::render::{Dialect, Need};
use crate::southbound::facts::{self, FactsCache};
use crate::state::FabricState;

pub use error::{quote, ApiError};
pub use intent::limits;
pub use osnr_watch::{DEFAULT_OSNR_ALARM_DB, OSNR_ALARM_HYSTERESIS_DB};

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
use events::EventLog;
use pools::IdPool;
use programmer::Programmer;
pub use records::{PolicyRecord, ServiceRecord, WavelengthRecord};

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

pub struct Inner {
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
    requests: HashMap<(Kind, String), (Vec<u8>, String)>,
    /// Object id → (request id, fingerprint) of the create that made it.
    origins: HashMap<String, (String, Vec<u8>)>,
    /// Transponder ports carrying a wavelength: (node, port) → wavelength id.
    ports: HashMap<(String, String), String>,
    /// Link → policies whose current path uses it, so a change to one link
    /// recomputes only the policies that ride it.
    link_index: HashMap<String, BTreeSet<String>>,
    /// Links currently degraded by telemetry.
    pub degraded: BTreeSet<String>,
    /// Lookups creates make on every request, kept so they cost O(1):
    /// (kind, name) → id.
    names: HashMap<(Kind, String), String>,
    /// Headend → rule numbers its policies hold in `strata-srte`.
    sequences: HashMap<String, BTreeSet<u32>>,
    /// (headend, color, endpoint) → the policy that holds it.
    steering: HashMap<(String, u32, String), String>,
    /// (PE, interface, VLAN) → the service attached there.
    attachment_index: HashMap<(String, String, u32), String>,
    /// Objects whose create is still programming devices or being journaled:
    /// they hold their resources but nobody sees them yet.
    pending: std::collections::HashSet<String>,
    /// Objects a request (a delete, a reroute) is changing right now: a
    /// second change of one object is refused until the first is done.
    busy: std::collections::HashSet<String>,
    next_id: u64,
}

impl Inner {
    /// Records a placed policy: reserves its bandwidth and indexes its links.
    fn insert_policy(&mut self, record: PolicyRecord) {
        if record.sequence_id != 0 {
            self.sequences
                .entry(record.headend.clone())
                .or_default()
                .insert(record.sequence_id);
        }
        policies::reserve(
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
        self.policies.insert(record.id.clone(), record);
    }

    /// Forgets a policy: releases its bandwidth and unindexes its links.
    fn remove_policy(&mut self, id: &str) -> Option<PolicyRecord> {
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
        policies::release(
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

    /// Records a service: claims its EVI and VNI.
    fn insert_service(&mut self, record: ServiceRecord) {
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
    fn remove_service(&mut self, id: &str) -> Option<ServiceRecord> {
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
    fn insert_wavelength(&mut self, record: WavelengthRecord) {
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
    fn carried_srlgs(&mut self, record: &WavelengthRecord, add: bool) {
        let edges: Vec<usize> = self
            .graph
            .edges_of_link(&record.spec.carries_link)
            .collect();
        for e in edges {
            let srlgs = &mut self.graph.edges[e].srlgs;
            for s in &record.carried_srlgs {
                if add {
                    srlgs.insert(*s);
                } else {
                    srlgs.remove(s);
                }
            }
        }
    }

    /// Forgets a wavelength, undoing everything `insert_wavelength` did.
    fn remove_wavelength(&mut self, id: &str) -> Option<WavelengthRecord> {
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
    fn forget_origin(&mut self, kind: Kind, id: &str) {
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
    fn free_sequence(&self, headend: &str, also: &BTreeSet<u32>) -> Result<u32, ApiError> {
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

    fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{}", self.next_id)
    }

    fn name_taken(&self, kind: Kind, name: &str) -> Option<String> {
        self.names.get(&(kind, name.to_string())).cloned()
    }

    /// The policy steering `color` traffic from `headend` to `endpoint`.
    fn steered_by(&self, headend: &str, color: u32, endpoint: &str) -> Option<&PolicyRecord> {
        self.steering
            .get(&(headend.to_string(), color, endpoint.to_string()))
            .and_then(|id| self.policies.get(id))
    }

    /// The service attached at `interface` VLAN `vlan` of `pe`.
    pub(crate) fn attached_at(&self, pe: &str, interface: &str, vlan: u32) -> Option<&String> {
        self.attachment_index
            .get(&(pe.to_string(), interface.to_string(), vlan))
    }
}

pub struct Controller {
    inner: RwLock<Inner>,
    /// Reroutes take turns: each re-plans from what the previous one
    /// committed. Neither the API nor reconciliation waits on it.
    reroutes: tokio::sync::Mutex<()>,
    /// Every Set goes through here: it takes its device's write turn.
    programmer: Arc<dyn Programmer>,
    /// The devices themselves, for reconciliation's guarded repair (which
    /// takes the write turn itself).
    direct: Arc<dyn Programmer>,
    /// Which devices are being changed, and how often they were.
    writes: Arc<device_writes::DeviceWrites>,
    /// The intent journal; `None` keeps intents in memory only (tests, bench).
    store: Option<Arc<crate::store::Store>>,
    events: Arc<EventLog>,
    sessions: Option<Arc<FabricState>>,
    telemetry: tokio::sync::broadcast::Sender<crate::proto::strata::v1::TelemetrySample>,
    metrics: Arc<crate::metrics::Metrics>,
    /// What transponders said about their line interfaces, per session.
    facts: FactsCache,
    /// `osnr_watch`: readings this far (dB, f64 bits) below the prediction
    /// flag their wavelength.
    osnr_alarm_db: std::sync::atomic::AtomicU64,
}

impl Controller {
    pub fn new(
        topology: Topology,
        programmer: Arc<dyn Programmer>,
        sessions: Option<Arc<FabricState>>,
    ) -> Arc<Self> {
        Self::with_store(topology, programmer, sessions, None)
    }

    /// A controller that journals every accepted change in `store` before
    /// answering. Call `restore` with the store's replay before serving.
    pub fn with_store(
        topology: Topology,
        programmer: Arc<dyn Programmer>,
        sessions: Option<Arc<FabricState>>,
        store: Option<Arc<crate::store::Store>>,
    ) -> Arc<Self> {
        Self::with_pools(topology, programmer, sessions, store, Pools::default())
    }

    /// As [`Controller::with_store`], allocating service ids from `pools`
    /// (validate them first: see [`Pools::validate`]).
    pub fn with_pools(
        topology: Topology,
        programmer: Arc<dyn Programmer>,
        sessions: Option<Arc<FabricState>>,
        store: Option<Arc<crate::store::Store>>,
        pools: Pools,
    ) -> Arc<Self> {
        let graph = TeGraph::packet_layer(&topology);
        let fibers = FiberGraph::from_topology(&topology);
        let spectrum = Spectrum::default();
        let writes = Arc::new(device_writes::DeviceWrites::default());
        let direct = programmer.clone();
        let programmer: Arc<dyn Programmer> = Arc::new(device_writes::TurnTaking {
            inner: programmer,
            writes: writes.clone(),
        });
        let controller = Arc::new(Controller {
            inner: RwLock::new(Inner {
                topology,
                graph,
                fibers,
                spectrum,
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
                pending: Default::default(),
                busy: Default::default(),
                names: HashMap::new(),
                steering: HashMap::new(),
                sequences: HashMap::new(),
                attachment_index: HashMap::new(),
                next_id: 0,
            }),
            reroutes: tokio::sync::Mutex::new(()),
            programmer,
            direct,
            writes,
            store,
            events: Arc::new(EventLog::default()),
            sessions,
            telemetry: tokio::sync::broadcast::channel(16_384).0,
            metrics: Arc::new(crate::metrics::Metrics::default()),
            facts: FactsCache::default(),
            osnr_alarm_db: std::sync::atomic::AtomicU64::new(
                osnr_watch::DEFAULT_OSNR_ALARM_DB.to_bits(),
            ),
        });
        if let Some(state) = &controller.sessions {
            tokio::spawn(forward_device_events(
                state.clone(),
                controller.events.clone(),
            ));
        }
        controller
    }

    pub fn events(&self) -> &Arc<EventLog> {
        &self.events
    }

    pub fn metrics(&self) -> &Arc<crate::metrics::Metrics> {
        &self.metrics
    }

    /// Live link telemetry for `Events.WatchTelemetry`.
    pub fn telemetry(
        &self,
    ) -> &tokio::sync::broadcast::Sender<crate::proto::strata::v1::TelemetrySample> {
        &self.telemetry
    }

    pub fn sessions(&self) -> Option<&Arc<FabricState>> {
        self.sessions.as_ref()
    }

    /// Models `device` announced, if its session is up (None when the
    /// controller runs without sessions, as in tests and benches).
    fn models(&self, device: &str) -> Option<Vec<String>> {
        let status = self.sessions.as_ref()?.device(device)?;
        (status.state == crate::state::SessionState::Up).then_some(status.models)
    }

    /// How `device` is spoken to.
    pub fn dialect(&self, device: &str) -> Dialect {
        self.models(device)
            .map(|m| Dialect::for_models(&m))
            .unwrap_or_default()
    }

    /// Refuses an intent on a device whose Capabilities lack a model it needs,
    /// rather than program it blindly. A device not up is let through: the
    /// Set will say it is unreachable.
    fn check_models(&self, device: &str, need: Need, what: &str) -> Result<(), ApiError> {
        let Some(models) = self.models(device) else {
            return Ok(());
        };
        match self.dialect(device).missing_model(need, &models) {
            Some(m) => Err(error::precondition(format!(
                "device {device} lacks {m} (needed for {what}); not programmed"
            ))),
            None => Ok(()),
        }
    }

    /// Which session of `device` facts belong to.
    fn session_number(&self, device: &str) -> u64 {
        self.sessions
            .as_ref()
            .and_then(|s| s.device(device))
            .map_or(0, |d| d.connects)
    }

    /// The components behind `interface` on transponder `device`, read from
    /// it once per session.
    pub(crate) async fn line_port(
        &self,
        device: &str,
        interface: &str,
    ) -> Result<LinePort, ApiError> {
        let session = self.session_number(device);
        if let Some(f) = self.facts.get(device, session, interface) {
            return Ok(f);
        }
        let req =
            facts::request(device, interface).map_err(|e| error::precondition(e.to_string()))?;
        let resp = self.programmer.get(device, req).await.map_err(|e| {
            ApiError::Device(format!(
                "cannot read the components behind {device} {interface}: {e}"
            ))
        })?;
        let found = facts::parse(device, interface, &resp)
            .map_err(|e| error::precondition(e.to_string()))?;
        self.facts.put(device, session, found.clone());
        Ok(found)
    }

    /// The line interface whose optical channel is `component` on `device`,
    /// if its facts are known.
    pub fn interface_of_component(&self, device: &str, component: &str) -> Option<String> {
        self.facts
            .interface_of(device, self.session_number(device), component)
    }

    /// Discovered facts, if already known for the current session.
    pub(crate) fn known_line_port(&self, device: &str, interface: &str) -> Option<LinePort> {
        self.facts
            .get(device, self.session_number(device), interface)
    }

    pub fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// A retried create (same request id, same request) returns the object it
    /// created; the same id with a different request is refused.
    fn replay<T>(
        &self,
        kind: Kind,
        request_id: &str,
        fingerprint: &[u8],
        lookup: impl FnOnce(&Inner, &str) -> Option<T>,
    ) -> Result<Option<T>, ApiError> {
        if request_id.is_empty() {
            return Ok(None);
        }
        let inner = self.read();
        match inner.requests.get(&(kind, request_id.to_string())) {
            None => Ok(None),
            Some((fp, id)) if fp == fingerprint && inner.pending.contains(id) => {
                Err(ApiError::Unavailable(format!(
                    "request_id {} is still being applied ({id}); retry",
                    quote(request_id)
                )))
            }
            Some((fp, _)) if fp != fingerprint => Err(ApiError::AlreadyExists(format!(
                "request_id {} was already used for a different request",
                quote(request_id)
            ))),
            Some((_, id)) => Ok(lookup(&inner, id)),
        }
    }

    fn remember(inner: &mut Inner, kind: Kind, request_id: &str, fingerprint: Vec<u8>, id: &str) {
        if !request_id.is_empty() {
            inner.requests.insert(
                (kind, request_id.to_string()),
                (fingerprint.clone(), id.to_string()),
            );
            inner
                .origins
                .insert(id.to_string(), (request_id.to_string(), fingerprint));
        }
    }
}

/// Device session changes become watchable events.
async fn forward_device_events(state: Arc<FabricState>, events: Arc<EventLog>) {
    use crate::proto::strata::v1::{event, Change, DeviceEvent, SessionState};
    use crate::state::Event;
    let mut rx = state.subscribe();
    loop {
        let ev = match rx.recv().await {
            Ok(ev) => ev,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(_) => return,
        };
        let (device, session, error) = match ev {
            Event::DeviceUp { device } => (device, SessionState::Up, String::new()),
            Event::DeviceDown { device, error } => (device, SessionState::Down, error),
        };
        let reason = format!(
            "device {device} session {}",
            if error.is_empty() {
                "up".to_string()
            } else {
                format!("down: {error}")
            }
        );
        events.publish(Change::Updated, &reason, |_| {
            event::Object::Device(DeviceEvent {
                device,
                session: session as i32,
                error,
            })
        });
    }
}

pub(crate) fn set_of<T: Ord + Clone>(v: &[T]) -> BTreeSet<T> {
    v.iter().cloned().collect()
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_openconfig;
#[cfg(test)]
mod tests_optical;
