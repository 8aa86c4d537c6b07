//! A whole simulated fabric in one process: every device of a topology on its
//! own loopback port, a shared "physical world" (link faults, fiber cuts) that
//! drives what each device measures, and crash/restart of single devices.
//!
//! The fabric is driven by the same topology file the controller reads, so the
//! link a test impairs here is the link whose telemetry the controller sees.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dashmap::DashMap;
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::device::{ifindex, isis_system_id, packet_interfaces, SimDevice, ISIS_PROTOCOL};
use super::physics::{self, LinkFault};
use crate::gnmi::parse_path;
use crate::gnmi::tree::{Access, Change, Tree};
use crate::model::{Layer, Link, Role, Topology};
use crate::proto::gnmi::Path;

#[derive(Debug, Clone)]
pub struct SimOptions {
    /// How often devices refresh what they measure (delay, loss, OSNR, counters).
    pub measure_interval: Duration,
    /// Bind every device to 127.0.0.1:0 instead of its topology address
    /// (tests: no port clashes between parallel runs).
    pub ephemeral_ports: bool,
}

/// A certificate chain and its private key, PEM.
pub type PemIdentity = (Vec<u8>, Vec<u8>);

/// How simulated devices guard their gNMI port, as a real device would:
/// TLS with a certificate naming the device, and a username and password
/// (gNMI `username`/`password` metadata). Empty: plaintext, anyone.
#[derive(Clone, Default)]
pub struct SimSecurity {
    /// Per device: its certificate chain and key (PEM). Devices without
    /// one serve plaintext.
    pub identities: Arc<HashMap<String, PemIdentity>>,
    /// The login every device demands.
    pub login: Option<(String, String)>,
}

impl std::fmt::Debug for SimSecurity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimSecurity")
            .field("tls_devices", &self.identities.len())
            .field("username", &self.login.as_ref().map(|l| l.0.as_str()))
            .finish()
    }
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            measure_interval: Duration::from_millis(200),
            ephemeral_ports: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FabricError {
    #[error("no device named {0:?} in the topology")]
    UnknownDevice(String),
    #[error("no link named {0:?} in the topology")]
    UnknownLink(String),
    #[error("cannot listen on {addr} for device {device}: {source}")]
    Bind {
        device: String,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("invalid fault: {0}")]
    InvalidFault(String),
}

struct Running {
    kill: CancellationToken,
    task: JoinHandle<()>,
}

pub struct SimFabric {
    topology: Topology,
    options: SimOptions,
    security: SimSecurity,
    devices: BTreeMap<String, Arc<SimDevice>>,
    addresses: DashMap<String, SocketAddr>,
    faults: DashMap<String, LinkFault>,
    running: Mutex<HashMap<String, Running>>,
    tick: std::sync::atomic::AtomicU64,
    /// (router, interface) → ifindex, as every router's factory tree has it.
    ifindexes: HashMap<(String, String), u32>,
    /// router → IS-IS system id.
    isis_ids: HashMap<String, String>,
    /// Patch cords plugged other than the topology says (`miscable`): which
    /// (node, interface) a (node, interface) faces now. LLDP reports this.
    cabling: DashMap<(String, String), (String, String)>,
}

impl SimFabric {
    pub fn new(topology: &Topology, options: SimOptions) -> Arc<Self> {
        Self::with_security(topology, options, SimSecurity::default())
    }

    /// As `new`, with every device guarding its port as `security` says.
    pub fn with_security(
        topology: &Topology,
        options: SimOptions,
        security: SimSecurity,
    ) -> Arc<Self> {
        let devices = topology
            .nodes
            .iter()
            .filter_map(|n| {
                SimDevice::from_topology(topology, &n.name).map(|d| (n.name.clone(), Arc::new(d)))
            })
            .collect();
        let mut ifindexes = HashMap::new();
        let mut isis_ids = HashMap::new();
        for n in topology.nodes.iter().filter(|n| n.role == Role::Packet) {
            for (i, _) in packet_interfaces(topology, &n.name) {
                if let Some(x) = ifindex(topology, &n.name, &i) {
                    ifindexes.insert((n.name.clone(), i), x);
                }
            }
            if let Some(r) = n.router_id {
                isis_ids.insert(n.name.clone(), isis_system_id(r));
            }
        }
        Arc::new(SimFabric {
            security,
            topology: topology.clone(),
            options,
            devices,
            addresses: DashMap::new(),
            faults: DashMap::new(),
            running: Mutex::new(HashMap::new()),
            tick: Default::default(),
            ifindexes,
            isis_ids,
            cabling: DashMap::new(),
        })
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    pub fn device(&self, name: &str) -> Option<&Arc<SimDevice>> {
        self.devices.get(name)
    }

    pub fn devices(&self) -> impl Iterator<Item = &Arc<SimDevice>> {
        self.devices.values()
    }

    /// Bench only: every device serves SAMPLE subscriptions back to back, as
    /// fast as its subscriber reads, one notification per interface or
    /// component (a router's batch of that port's leaves under one prefix).
    pub fn burst_sampling(&self) {
        for d in self.devices.values() {
            d.set_burst(true);
        }
    }

    /// Where a device listens (after `start`).
    pub fn address(&self, name: &str) -> Option<SocketAddr> {
        self.addresses.get(name).map(|a| *a)
    }

    /// Starts every device's gNMI server, then the measurement loop.
    pub async fn start(self: &Arc<Self>) -> Result<JoinHandle<()>, FabricError> {
        for name in self.devices.keys() {
            self.start_device(name).await?;
        }
        // Devices answer with measurements from their first request on.
        self.measure_once();
        let fabric = self.clone();
        Ok(tokio::spawn(async move { fabric.measure_loop().await }))
    }

    async fn start_device(&self, name: &str) -> Result<(), FabricError> {
        let device = self
            .devices
            .get(name)
            .ok_or_else(|| FabricError::UnknownDevice(name.to_string()))?
            .clone();
        let addr = match self.addresses.get(name) {
            Some(a) => *a, // a restart keeps the port the controller knows
            None if self.options.ephemeral_ports => SocketAddr::from(([127, 0, 0, 1], 0)),
            None => self
                .topology
                .node(name)
                .map(|n| n.address)
                .ok_or_else(|| FabricError::UnknownDevice(name.to_string()))?,
        };
        let listener = crate::net::listen(addr).map_err(|source| FabricError::Bind {
            device: name.to_string(),
            addr,
            source,
        })?;
        let bound = listener.local_addr().map_err(|source| FabricError::Bind {
            device: name.to_string(),
            addr,
            source,
        })?;
        self.addresses.insert(name.to_string(), bound);
        let kill = CancellationToken::new();
        device.set_alive(true);
        let serve_kill = kill.clone();
        let dev_name = name.to_string();
        let guard = super::server::Guard {
            identity: self.security.identities.get(name).cloned(),
            login: self.security.login.clone(),
        };
        let task = tokio::spawn(async move {
            if let Err(e) = super::server::serve(device, listener, serve_kill, guard).await {
                tracing::warn!(device = %dev_name, error = %e, "gNMI server stopped");
            }
        });
        let previous = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), Running { kill, task });
        if let Some(prev) = previous {
            prev.kill.cancel();
        }
        Ok(())
    }

    /// Power-cuts a device: its server and every connection to it die now.
    pub async fn crash(&self, name: &str) -> Result<(), FabricError> {
        let device = self
            .device(name)
            .ok_or_else(|| FabricError::UnknownDevice(name.to_string()))?;
        device.set_alive(false);
        self.stop_server(name).await;
        // Its neighbours lose light and hellos now, not at the next round.
        self.remeasure_around(name).await;
        tracing::info!(device = name, "simulated device crashed");
        Ok(())
    }

    /// Kills only a device's gNMI server (its management plane): every
    /// connection to it dies, but it keeps forwarding and measuring, so its
    /// links stay up. `restart` brings the server back.
    pub async fn stop_gnmi(&self, name: &str) -> Result<(), FabricError> {
        self.device(name)
            .ok_or_else(|| FabricError::UnknownDevice(name.to_string()))?;
        self.stop_server(name).await;
        tracing::info!(device = name, "simulated device's gNMI server stopped");
        Ok(())
    }

    /// Kills a device's gNMI server and every connection to it, and waits
    /// until it is gone.
    async fn stop_server(&self, name: &str) {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name);
        if let Some(r) = running {
            r.kill.cancel();
            let _ = r.task.await;
        }
    }

    /// Boots a crashed device on the same port; `wipe` loses its configuration.
    pub async fn restart(&self, name: &str, wipe: bool) -> Result<(), FabricError> {
        let device = self
            .device(name)
            .ok_or_else(|| FabricError::UnknownDevice(name.to_string()))?;
        if wipe {
            device.wipe();
        }
        self.start_device(name).await?;
        self.remeasure_around(name).await;
        tracing::info!(device = name, wipe, "simulated device restarted");
        Ok(())
    }

    pub async fn shutdown(&self) {
        let all: Vec<Running> = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .map(|(_, r)| r)
            .collect();
        for r in all {
            r.kill.cancel();
            let _ = r.task.await;
        }
    }

    fn link(&self, name: &str) -> Result<&Link, FabricError> {
        self.topology
            .link(name)
            .ok_or_else(|| FabricError::UnknownLink(name.to_string()))
    }

    fn edit_fault(&self, link: &str, f: impl FnOnce(&mut LinkFault)) -> Result<(), FabricError> {
        self.link(link)?;
        let mut entry = self.faults.entry(link.to_string()).or_default();
        f(&mut entry);
        Ok(())
    }

    /// Adds delay (µs) and loss (%) on a link, on top of its propagation delay.
    pub fn impair(
        &self,
        link: &str,
        extra_delay_us: u32,
        loss_percent: f64,
    ) -> Result<(), FabricError> {
        if !(0.0..=100.0).contains(&loss_percent) {
            return Err(FabricError::InvalidFault(format!(
                "loss_percent {loss_percent} is not in [0, 100]"
            )));
        }
        self.edit_fault(link, |f| {
            f.extra_delay_us = extra_delay_us;
            f.loss_percent = loss_percent;
        })
    }

    pub fn cut(&self, link: &str) -> Result<(), FabricError> {
        self.edit_fault(link, |f| f.cut = true)
    }

    pub fn degrade_osnr(&self, link: &str, penalty_db: f64) -> Result<(), FabricError> {
        if !penalty_db.is_finite() || penalty_db < 0.0 {
            return Err(FabricError::InvalidFault(format!(
                "OSNR penalty {penalty_db} dB must be ≥ 0"
            )));
        }
        self.edit_fault(link, |f| f.osnr_penalty_db = penalty_db)
    }

    /// Clears every fault on a link, and plugs its cords back as the
    /// topology says (and those of the link it was swapped with).
    pub fn restore(&self, link: &str) -> Result<(), FabricError> {
        let l = self.link(link)?;
        self.faults.remove(link);
        let ends = [
            (l.a.node.clone(), l.a.interface.clone()),
            (l.b.node.clone(), l.b.interface.clone()),
        ];
        self.cabling
            .retain(|at, faces| !ends.contains(at) && !ends.contains(faces));
        Ok(())
    }

    /// Swaps the far ends of two packet links, as two patch cords crossed at
    /// a patch panel: `first`'s a-end now faces `second`'s b-end and the
    /// other way round. Only what LLDP hears changes (the links' measurements
    /// stay those of the topology); `restore` of either link undoes it.
    pub fn miscable(&self, first: &str, second: &str) -> Result<(), FabricError> {
        let (x, y) = (self.link(first)?, self.link(second)?);
        if x.name == y.name {
            return Err(FabricError::InvalidFault(format!(
                "miscabling needs two different links, got {first:?} twice"
            )));
        }
        if let Some(l) = [x, y].into_iter().find(|l| l.layer != Layer::Packet) {
            return Err(FabricError::InvalidFault(format!(
                "{:?} is not a packet link: only packet ports speak LLDP",
                l.name
            )));
        }
        let end = |e: &crate::model::Endpoint| (e.node.clone(), e.interface.clone());
        for (at, faces) in [
            (end(&x.a), end(&y.b)),
            (end(&y.b), end(&x.a)),
            (end(&y.a), end(&x.b)),
            (end(&x.b), end(&y.a)),
        ] {
            self.cabling.insert(at, faces);
        }
        Ok(())
    }

    /// The (node, interface) that `node`'s `interface` is plugged into now.
    fn facing(
        &self,
        node: &str,
        interface: &str,
        topology_peer: &crate::model::Endpoint,
    ) -> (String, String) {
        self.cabling
            .get(&(node.to_string(), interface.to_string()))
            .map(|f| f.clone())
            .unwrap_or_else(|| (topology_peer.node.clone(), topology_peer.interface.clone()))
    }

    pub fn fault(&self, link: &str) -> LinkFault {
        self.faults.get(link).map(|f| *f).unwrap_or_default()
    }

    /// Is anything this link rides (transitively) cut, or is a device at
    /// either end of it powered off?
    fn underlay_cut(&self, link: &Link) -> bool {
        link.rides.iter().any(|r| {
            self.fault(r).cut
                || self
                    .topology
                    .link(r)
                    .is_some_and(|l| self.end_dead(l) || self.underlay_cut(l))
        })
    }

    /// A crashed device at either end sends no light and no hellos: the
    /// surviving end sees the link as a cut.
    fn end_dead(&self, link: &Link) -> bool {
        [&link.a.node, &link.b.node]
            .iter()
            .any(|n| self.devices.get(n.as_str()).is_some_and(|d| !d.is_alive()))
    }

    /// Does `link` end at `node`, or ride (transitively) a link that does?
    fn depends_on(&self, link: &Link, node: &str) -> bool {
        link.touches(node)
            || link.rides.iter().any(|r| {
                self.topology
                    .link(r)
                    .is_some_and(|l| self.depends_on(l, node))
            })
    }

    /// Measures, out of turn, every live device with a link that depends on
    /// `node`, so a crash or a boot shows in their telemetry at once. No time
    /// passes for their counters.
    async fn remeasure_around(&self, node: &str) {
        let affected: std::collections::BTreeSet<&str> = self
            .topology
            .links
            .iter()
            .filter(|l| self.depends_on(l, node))
            .flat_map(|l| [l.a.node.as_str(), l.b.node.as_str()])
            .chain([node])
            .collect();
        let tick = self.tick.load(std::sync::atomic::Ordering::Relaxed);
        for name in affected {
            if let Some(device) = self.devices.get(name) {
                if !device.is_alive() {
                    continue;
                }
                match device.role {
                    Role::Packet => self.measure_packet(device, tick, 0.0),
                    Role::Optical => self.measure_optical(device, tick),
                }
                tokio::task::yield_now().await;
            }
        }
    }

    async fn measure_loop(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(self.options.measure_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            ticker.tick().await;
            let tick = self.tick.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            // Device by device, yielding in between: a round over hundreds of
            // devices must not hold a runtime worker while gNMI requests wait.
            for device in self.devices.values() {
                self.measure_device(device, tick);
                tokio::task::yield_now().await;
            }
        }
    }

    /// One measurement round on every live device (public for deterministic tests).
    pub fn measure_once(&self) {
        let tick = self.tick.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        for device in self.devices.values() {
            self.measure_device(device, tick);
        }
    }

    fn measure_device(&self, device: &SimDevice, tick: u64) {
        if !device.is_alive() {
            return;
        }
        match device.role {
            Role::Packet => {
                self.measure_packet(device, tick, self.options.measure_interval.as_secs_f64())
            }
            Role::Optical => self.measure_optical(device, tick),
        }
    }

    fn measure_packet(&self, device: &SimDevice, tick: u64, dt: f64) {
        let name = device.name.as_str();
        let Some(own) = self.isis_ids.get(name) else {
            return;
        };
        let lsp = format!(
            "{ISIS_PROTOCOL}/isis/levels/level[level-number=2]/link-state-database/lsp[lsp-id={own}.00-00]"
        );
        let tlv = format!("{lsp}/tlvs/tlv[type=EXTENDED_IS_REACHABILITY]");
        device.device_write(|tree| {
            let mut changes = Vec::new();
            set_leaves(
                tree,
                &lsp,
                &json!({"state": {"lsp-id": format!("{own}.00-00")}}),
                &mut changes,
            );
            set_leaves(
                tree,
                &tlv,
                &json!({"state": {"type": format!("{LSDB_TYPES}:EXTENDED_IS_REACHABILITY")}}),
                &mut changes,
            );
            for link in self
                .topology
                .links_of(name)
                .filter(|l| l.layer == Layer::Packet)
            {
                let (end, peer) = if link.a.node == name {
                    (&link.a, &link.b)
                } else {
                    (&link.b, &link.a)
                };
                let seed = physics::seed_of(&link.name) ^ physics::seed_of(name);
                let r = physics::packet_reading(
                    link.latency_us,
                    &self.fault(&link.name),
                    self.underlay_cut(link) || self.end_dead(link),
                    seed,
                    tick,
                );
                self.hear_lldp(tree, name, end, peer, r.up, &mut changes);
                let base = format!("/interfaces/interface[name={}]", end.interface);
                let status = if r.up { "UP" } else { "DOWN" };
                set_leaves(
                    tree,
                    &format!("{base}/state"),
                    &json!({"oper-status": status}),
                    &mut changes,
                );
                if r.up {
                    // ~30-60 % utilisation of the link, varying slowly per link
                    let util =
                        0.3 + 0.3 * (0.5 + 0.5 * ((tick as f64) / 50.0 + (seed % 97) as f64).sin());
                    let octets = (link.capacity_gbps * 1e9 / 8.0 * util * dt) as u64;
                    bump_counters(tree, &base, octets, &mut changes);
                }
                let (Some(local), Some(neighbor)) = (
                    self.ifindexes.get(&(name.to_string(), end.interface.clone())),
                    self.isis_ids.get(&peer.node),
                ) else {
                    continue;
                };
                let remote = self
                    .ifindexes
                    .get(&(peer.node.clone(), peer.interface.clone()))
                    .copied()
                    .unwrap_or(0);
                let nbr = format!("{tlv}/extended-is-reachability/neighbors/neighbor[system-id={neighbor}]");
                let instance = format!("{nbr}/instances/instance[id={local}]");
                if !r.up {
                    // The adjacency is gone: IS-IS withdraws the link from the LSP.
                    withdraw(tree, &instance, &nbr, &mut changes);
                    continue;
                }
                let subtlv = |kind: &str, body: Value| {
                    let mut v = json!({"state": {"type": format!("{LSDB_TYPES}:IS_REACHABILITY_{kind}")}});
                    if let (Some(obj), Some(b)) = (v.as_object_mut(), body.as_object()) {
                        obj.extend(b.clone());
                    }
                    (kind.to_string(), v)
                };
                set_leaves(
                    tree,
                    &nbr,
                    &json!({"state": {"system-id": neighbor}}),
                    &mut changes,
                );
                set_leaves(
                    tree,
                    &instance,
                    &json!({"state": {"id": local, "metric": 10}}),
                    &mut changes,
                );
                let delay = |us: u32| us.clamp(1, MAX_DELAY_US);
                for (kind, body) in [
                    subtlv("LINK_ID", json!({"link-id": {"state": {"local": local, "remote": remote}}})),
                    subtlv("LINK_DELAY", json!({"link-delay": {"state": {"a-bit": false, "delay": delay(r.one_way_delay_us)}}})),
                    subtlv("MIN_MAX_LINK_DELAY", json!({"min-max-link-delay": {"state": {
                        "a-bit": false, "min-delay": delay(r.min_delay_us), "max-delay": delay(r.max_delay_us)}}})),
                    subtlv("LINK_DELAY_VARIATION", json!({"link-delay-variation": {"state": {"delay": r.delay_variation_us.min(MAX_DELAY_US)}}})),
                    subtlv("LINK_LOSS", json!({"link-loss": {"state": {"a-bit": false, "link-loss": loss_units(r.loss_percent)}}})),
                ] {
                    set_leaves(
                        tree,
                        &format!("{instance}/subtlvs/subtlv[type=IS_REACHABILITY_{kind}]"),
                        &body,
                        &mut changes,
                    );
                }
            }
            changes
        });
    }

    /// What LLDP hears on `end`: the system and port plugged into it while
    /// the link is up; nothing (the neighbor aged out) while it is down.
    fn hear_lldp(
        &self,
        tree: &mut Tree,
        name: &str,
        end: &crate::model::Endpoint,
        peer: &crate::model::Endpoint,
        up: bool,
        changes: &mut Vec<Change>,
    ) {
        let neighbor = format!(
            "/lldp/interfaces/interface[name={}]/neighbors/neighbor[id={LLDP_NEIGHBOR_ID}]",
            end.interface
        );
        if !up {
            if let Ok(p) = parse_path(&neighbor) {
                if let Ok(c) = tree.delete(&p, Access::Device) {
                    changes.extend(c);
                }
            }
            return;
        }
        let (node, port) = self.facing(name, &end.interface, peer);
        let chassis = self
            .topology
            .node(&node)
            .and_then(|n| n.router_id)
            .map_or_else(|| node.clone(), |r| r.to_string());
        set_leaves(
            tree,
            &neighbor,
            &json!({"state": {
                "id": LLDP_NEIGHBOR_ID, "system-name": node, "chassis-id": chassis,
                "chassis-id-type": "NETWORK_ADDRESS", "port-id": port,
                "port-id-type": "INTERFACE_NAME", "ttl": 120
            }}),
            changes,
        );
    }

    fn measure_optical(&self, device: &SimDevice, tick: u64) {
        let name = device.name.as_str();
        // Channel provisioning of the far ends, read before taking our own lock.
        let mut peer_freq: HashMap<String, Option<Value>> = HashMap::new();
        for link in self
            .topology
            .links_of(name)
            .filter(|l| l.layer != Layer::Packet)
        {
            if let Some(peer) = link.peer_of(name) {
                let freq = self.devices.get(&peer.node).and_then(|d| {
                    d.read(|t| {
                        t.leaf_value(&och(&peer.interface, "config/frequency"))
                            .cloned()
                    })
                });
                peer_freq.insert(link.name.clone(), freq);
            }
        }
        device.device_write(|tree| {
            let mut changes = Vec::new();
            for link in self.topology.links_of(name).filter(|l| l.layer != Layer::Packet) {
                let end = if link.a.node == name { &link.a } else { &link.b };
                let ours = tree.leaf_value(&och(&end.interface, "config/frequency")).cloned();
                let power = tree
                    .leaf_value(&och(&end.interface, "config/target-output-power"))
                    .and_then(Value::as_f64)
                    .unwrap_or(-10.0);
                let provisioned = ours.is_some() && ours == peer_freq.get(&link.name).cloned().flatten();
                let mut fault = self.fault(&link.name);
                fault.cut |= self.underlay_cut(link) || self.end_dead(link);
                let seed = physics::seed_of(&link.name);
                let r = physics::optical_reading(link.length_km, power, &fault, provisioned, seed, tick);
                let stat = |v: f64| json!({"instant": v, "avg": v, "min": v, "max": v});
                let state = json!({
                    "osnr": stat(r.osnr_db), "pre-fec-ber": stat(r.pre_fec_ber), "q-value": stat(r.q_db),
                    "chromatic-dispersion": stat(r.chromatic_dispersion_ps_nm),
                    "input-power": stat(r.input_power_dbm), "output-power": stat(r.output_power_dbm),
                });
                let base = format!("/components/component[name=och-{}]", end.interface);
                set_leaves(tree, &format!("{base}/optical-channel/state"), &state, &mut changes);
                let oper = if r.up { "ACTIVE" } else { "INACTIVE" };
                set_leaves(
                    tree,
                    &format!("{base}/state"),
                    &json!({"oper-status": format!("openconfig-platform-types:{oper}")}),
                    &mut changes,
                );
                let line = if r.up { "UP" } else { "DOWN" };
                set_leaves(
                    tree,
                    &format!("/interfaces/interface[name={}]/state", end.interface),
                    &json!({"oper-status": line}),
                    &mut changes,
                );
            }
            changes
        });
    }
}

const LSDB_TYPES: &str = "openconfig-isis-lsdb-types";
/// RFC 8570 delays are 24-bit microseconds.
const MAX_DELAY_US: u32 = 16_777_215;

/// Loss in RFC 8570 units of 0.000003 %, at most 2^24 - 2.
pub fn loss_units(loss_percent: f64) -> u32 {
    let units = (loss_percent / 0.000_003).round();
    if units.is_nan() || units <= 0.0 {
        0
    } else {
        units.min(16_777_214.0) as u32
    }
}

/// Removes a link's IS reachability instance, and the neighbor once it has
/// no link left.
/// One neighbor per point-to-point port: its LLDP entry has a fixed id, so a
/// recabled port shows new values under the same entry.
const LLDP_NEIGHBOR_ID: &str = "1";

fn withdraw(tree: &mut Tree, instance: &str, neighbor: &str, changes: &mut Vec<Change>) {
    let (Ok(ip), Ok(np)) = (parse_path(instance), parse_path(neighbor)) else {
        return;
    };
    if let Ok(c) = tree.delete(&ip, Access::Device) {
        changes.extend(c);
    }
    let left = parse_path(&format!("{neighbor}/instances/instance"))
        .ok()
        .and_then(|p| tree.find(&p).ok())
        .is_some_and(|f| !f.is_empty());
    if !left {
        if let Ok(c) = tree.delete(&np, Access::Device) {
            changes.extend(c);
        }
    }
}

fn och(port: &str, leaf: &str) -> Path {
    parse_path(&format!(
        "/components/component[name=och-{port}]/optical-channel/{leaf}"
    ))
    .unwrap_or_default()
}

/// Writes each leaf of a flat-or-nested JSON object under `base`, recording
/// only the leaves whose value changed.
fn set_leaves(tree: &mut Tree, base: &str, value: &Value, changes: &mut Vec<Change>) {
    let Some(obj) = value.as_object() else { return };
    for (k, v) in obj {
        let path = format!("{base}/{k}");
        if v.is_object() {
            set_leaves(tree, &path, v, changes);
            continue;
        }
        let Ok(p) = parse_path(&path) else { continue };
        match tree.set_leaf(&p, v.clone()) {
            Ok(true) => changes.push(Change::Updated(p)),
            Ok(false) => {}
            Err(e) => tracing::error!(path, error = %e, "simulator wrote outside its schema"),
        }
    }
}

fn bump_counters(tree: &mut Tree, base: &str, octets: u64, changes: &mut Vec<Change>) {
    let pkts = octets / 1000;
    for (leaf, add) in [
        ("in-octets", octets),
        ("out-octets", octets),
        ("in-pkts", pkts),
        ("out-pkts", pkts),
        ("in-unicast-pkts", pkts),
        ("out-unicast-pkts", pkts),
    ] {
        let Ok(p) = parse_path(&format!("{base}/state/counters/{leaf}")) else {
            continue;
        };
        let current = tree.leaf_value(&p).and_then(Value::as_u64).unwrap_or(0);
        if tree
            .set_leaf(&p, Value::from(current.wrapping_add(add)))
            .unwrap_or(false)
        {
            changes.push(Change::Updated(p));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8570_loss_units_saturate() {
        assert_eq!(loss_units(0.0), 0);
        assert_eq!(loss_units(0.000_003), 1);
        assert_eq!(loss_units(1.5), 500_000);
        assert_eq!(loss_units(100.0), 16_777_214);
        assert_eq!(loss_units(f64::NAN), 0);
    }

    #[test]
    fn system_ids_are_router_ids_in_bcd() {
        assert_eq!(
            isis_system_id("10.255.0.1".parse().unwrap()),
            "0102.5500.0001"
        );
        assert_eq!(
            isis_system_id("192.168.1.20".parse().unwrap()),
            "1921.6800.1020"
        );
    }
}
