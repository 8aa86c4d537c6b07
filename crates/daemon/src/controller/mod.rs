//! The controller: intents in, paths computed, devices programmed, events out.
//!
//! Every mutation goes through one pipeline (`pipeline`): plan and hold
//! resources under the state lock, release it, program devices with rollback,
//! journal, then commit or revert — so readers never see an intent the devices
//! did not accept, and no lock is held across device or disk I/O.

pub mod cabling;
pub mod closed_loop;
mod deletion_hold;
mod device_writes;
pub mod drain;
pub mod error;
pub mod events;
mod osnr_watch;
mod persist;
mod pipeline;
mod policies;
pub mod programmer;
pub mod reconcile;
mod repairs;
pub mod reroute;
mod services;
pub mod topology;
mod updates;
mod wavelengths;

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::model::Topology;
use crate::render::openconfig::optical::LinePort;
use crate::render::{Dialect, Need};
use crate::southbound::facts::{self, FactsCache};
use crate::state::FabricState;

use crate::plan::validate as intent;
pub use crate::plan::{
    keyset_page, limits, pools, Fabric, Kind, PolicyRecord, Pools, ServiceRecord, WavelengthRecord,
    COLOR_LIMITS, DEFAULT_COLOR, DEFAULT_MAX_SID_DEPTH, EVI_LIMITS, EVI_RANGE, VNI_LIMITS,
    VNI_RANGE,
};
pub use error::{quote, ApiError};
pub use osnr_watch::{DEFAULT_OSNR_ALARM_DB, OSNR_ALARM_HYSTERESIS_DB};

use events::EventLog;
use programmer::Programmer;

/// A create as the controller takes it: the intent, and what makes a retry
/// of the same request recognisable — the client's `request_id` and a
/// fingerprint of the request as it arrived (the northbound's encoding; a
/// retry with the same id and a different fingerprint is refused).
#[derive(Debug, Clone)]
pub struct Request<S> {
    pub request_id: String,
    pub fingerprint: Vec<u8>,
    pub spec: S,
}

pub struct Controller {
    inner: RwLock<Fabric>,
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
    telemetry: tokio::sync::broadcast::Sender<crate::object::TelemetrySample>,
    metrics: Arc<crate::metrics::Metrics>,
    /// What transponders said about their line interfaces, per session.
    facts: FactsCache,
    /// `osnr_watch`: readings this far (dB, f64 bits) below the prediction
    /// flag their wavelength.
    osnr_alarm_db: std::sync::atomic::AtomicU64,
    /// Itself, for work it hands to a blocking thread (`repairs`).
    me: std::sync::Weak<Controller>,
    /// Whether a background repair refresh runs or is wanted (`repairs`).
    repairs_pass: std::sync::atomic::AtomicU8,
    /// What the fabric was built with, for a replica's reload (`reload`):
    /// the topology before any runtime change the store holds.
    pools: Pools,
    base_topology: Topology,
    /// Starts and stops device sessions for nodes added and removed at run
    /// time (`topology`).
    node_devices: RwLock<Option<Arc<dyn topology::NodeDevices>>>,
    /// The topology file a reload reads again.
    topology_file: RwLock<Option<std::path::PathBuf>>,
    /// Topology changes take turns (`topology`).
    topology_turn: tokio::sync::Mutex<()>,
    /// Counts committed topology changes, so the closed loop knows when to
    /// look at the links again.
    topology_generation: std::sync::atomic::AtomicU64,
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
        let writes = Arc::new(device_writes::DeviceWrites::default());
        let direct = programmer.clone();
        let programmer: Arc<dyn Programmer> = Arc::new(device_writes::TurnTaking {
            inner: programmer,
            writes: writes.clone(),
        });
        let controller = Arc::new_cyclic(|me| Controller {
            me: me.clone(),
            repairs_pass: std::sync::atomic::AtomicU8::new(repairs::IDLE),
            node_devices: RwLock::new(None),
            topology_file: RwLock::new(None),
            topology_turn: tokio::sync::Mutex::new(()),
            topology_generation: std::sync::atomic::AtomicU64::new(0),
            base_topology: topology.clone(),
            inner: RwLock::new(Fabric::new(topology, pools)),
            pools,
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
    pub fn telemetry(&self) -> &tokio::sync::broadcast::Sender<crate::object::TelemetrySample> {
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

    pub fn read(&self) -> RwLockReadGuard<'_, Fabric> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Fabric> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// A retried create (same request id, same request) returns the object it
    /// created; the same id with a different request is refused.
    fn replay<T>(
        &self,
        kind: Kind,
        request_id: &str,
        fingerprint: &[u8],
        lookup: impl FnOnce(&Fabric, &str) -> Option<T>,
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
            Some((fp, _)) if fp != fingerprint => {
                Err(crate::plan::error::PlanError::AlreadyExists(format!(
                    "request_id {} was already used for a different request",
                    quote(request_id)
                ))
                .into())
            }
            Some((_, id)) => Ok(lookup(&inner, id)),
        }
    }
}

/// Device session changes become watchable events.
async fn forward_device_events(state: Arc<FabricState>, events: Arc<EventLog>) {
    use crate::object::{Change, DeviceEvent, Object, Session};
    use crate::state::Event;
    let mut rx = state.subscribe();
    // Holding the state would keep its channel open forever: the task ends
    // when the state (and its sender) goes.
    drop(state);
    loop {
        let ev = match rx.recv().await {
            Ok(ev) => ev,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(_) => return,
        };
        let (device, session, error) = match ev {
            Event::DeviceUp { device } => (device, Session::Up, String::new()),
            Event::DeviceDown { device, error } => (device, Session::Down, error),
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
            Object::Device(DeviceEvent {
                device,
                session,
                error,
            })
        });
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_etcd;
#[cfg(test)]
mod tests_openconfig;
#[cfg(test)]
mod tests_optical;
