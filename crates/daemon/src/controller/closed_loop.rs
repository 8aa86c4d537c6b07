//! The closed loop: link readings in, link health judged (smoothing,
//! thresholds, hysteresis, hold-down, silence), and on a transition the
//! affected policies re-placed through `link_condition`.
//!
//! Time comes from the readings and ticks, so a scripted sequence replays the
//! same way every time (see tests/closed_loop.rs).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::reroute::{LinkCondition, RerouteReport};
use super::Controller;
use crate::model::{Layer, Topology};
use crate::object::{BreachEvent, Change, Object, TelemetrySample};
use crate::telemetry::health::{
    class_of, HealthConfig, HealthPolicy, LinkHealth, Metric, Reading, State, Transition,
};
use crate::telemetry::PortReading;

pub struct ClosedLoop {
    controller: Arc<Controller>,
    /// Each link's health, with the thresholds it is judged by (shared: most
    /// links use the global ones, and a fabric can have 100k links).
    health: HashMap<String, (LinkHealth, Arc<HealthConfig>)>,
    /// device → interface or optical channel → link (nested so a lookup by
    /// borrowed names allocates nothing).
    ports: HashMap<String, HashMap<String, String>>,
    /// Fiber → packet links riding it.
    riders: HashMap<String, Vec<String>>,
    /// Packet links taken down because a fiber under them failed.
    fiber_down: HashMap<String, BTreeSet<String>>,
    /// Thresholds by link and class, for links added at run time.
    policy: HealthPolicy,
    /// The controller's topology generation the maps above were built at.
    generation: u64,
}

type Maps = (
    HashMap<String, (LinkHealth, Arc<HealthConfig>)>,
    HashMap<String, HashMap<String, String>>,
    HashMap<String, Vec<String>>,
);

/// Per link: its health and thresholds, the ports it is read on, and which
/// packet links ride which fibers.
fn maps(topology: &Topology, policy: &HealthPolicy) -> Maps {
    let global = Arc::new(policy.global.clone());
    // One shared config per class, so only links with their own override
    // hold a config of their own.
    let mut by_class: HashMap<Layer, Arc<HealthConfig>> = HashMap::new();
    let mut ports: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut health = HashMap::new();
    let mut riders: HashMap<String, Vec<String>> = HashMap::new();
    for l in &topology.links {
        for end in [&l.a, &l.b] {
            // Optical readings name a component the device chose; they are
            // mapped back to the interface through the discovered facts.
            let port = end.interface.clone();
            ports
                .entry(end.node.clone())
                .or_default()
                .insert(port, l.name.clone());
        }
        let class = class_of(l.layer);
        let thresholds = if policy.links.contains_key(&l.name) {
            Arc::new(policy.for_link(&l.name, class))
        } else if policy.classes.contains_key(class) {
            by_class
                .entry(l.layer)
                .or_insert_with(|| Arc::new(policy.for_link(&l.name, class)))
                .clone()
        } else {
            global.clone()
        };
        health.insert(
            l.name.clone(),
            (LinkHealth::new(f64::from(l.latency_us)), thresholds),
        );
        if l.layer == Layer::Packet {
            for r in &l.rides {
                riders.entry(r.clone()).or_default().push(l.name.clone());
            }
        }
    }
    (health, ports, riders)
}

/// What one reading or tick led to.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopAction {
    pub link: String,
    pub transition: Transition,
    pub reports: Vec<RerouteReport>,
}

impl ClosedLoop {
    /// `config` is one `HealthConfig` for every link, or a `HealthPolicy`
    /// with per-class and per-link overrides.
    pub fn new(
        controller: Arc<Controller>,
        topology: &Topology,
        config: impl Into<HealthPolicy>,
    ) -> Self {
        let policy: HealthPolicy = config.into();
        if let Some(db) = policy.osnr_below_prediction_db {
            controller.set_osnr_alarm_db(db);
        }
        let generation = controller.topology_generation();
        let (health, ports, riders) = maps(topology, &policy);
        ClosedLoop {
            controller,
            health,
            ports,
            riders,
            fiber_down: HashMap::new(),
            policy,
            generation,
        }
    }

    /// After a runtime topology change: links added are judged from now on,
    /// links removed are forgotten, and every other link keeps its health.
    pub fn follow_topology(&mut self) {
        let generation = self.controller.topology_generation();
        if generation == self.generation {
            return;
        }
        self.generation = generation;
        let topology = self.controller.read().topology.clone();
        let (mut health, ports, riders) = maps(&topology, &self.policy);
        for (link, (h, _)) in health.iter_mut() {
            if let Some((old, _)) = self.health.remove(link) {
                *h = old;
            }
        }
        self.health = health;
        self.ports = ports;
        self.riders = riders;
        self.fiber_down
            .retain(|fiber, _| topology.link(fiber).is_some());
    }

    /// The link behind `port` of `device`: an interface, or an optical
    /// channel component discovered behind one.
    pub fn link_of(&self, device: &str, port: &str) -> Option<&String> {
        let ports = self.ports.get(device)?;
        ports.get(port).or_else(|| {
            let ifname = self.controller.interface_of_component(device, port)?;
            ports.get(&ifname)
        })
    }

    pub fn health(&self, link: &str) -> Option<&LinkHealth> {
        self.health.get(link).map(|(h, _)| h)
    }

    /// The thresholds `link` is judged by (global, class and link overrides
    /// applied).
    pub fn thresholds(&self, link: &str) -> Option<&HealthConfig> {
        self.health.get(link).map(|(_, c)| &**c)
    }

    /// Feeds one reading taken at `now_ns`.
    pub async fn observe(
        &mut self,
        device: &str,
        port: &str,
        reading: Reading,
        now_ns: u64,
    ) -> Option<LoopAction> {
        // An optical channel that is not carrying a wavelength has nothing to judge.
        if let Reading::OsnrDb(v) = reading {
            if v <= 0.0 {
                return None;
            }
        }
        let ports = self.ports.get(device)?;
        let link = match ports.get(port) {
            Some(link) => {
                if let Reading::OsnrDb(v) = reading {
                    self.controller.observe_wavelength_osnr(device, port, v);
                }
                link
            }
            None => {
                let ifname = self.controller.interface_of_component(device, port)?;
                if let Reading::OsnrDb(v) = reading {
                    self.controller.observe_wavelength_osnr(device, &ifname, v);
                }
                ports.get(&ifname)?
            }
        };
        let (h, config) = self.health.get_mut(link)?;
        let t = h.observe(reading, now_ns, config);
        let tx = self.controller.telemetry();
        if tx.receiver_count() > 0 {
            let (metric, value) = match reading {
                Reading::DelayUs(v) => ("delay_us", v),
                Reading::LossPercent(v) => ("loss_percent", v),
                Reading::OsnrDb(v) => ("osnr_db", v),
                Reading::Up(up) => ("up", if up { 1.0 } else { 0.0 }),
            };
            let state = match h.state {
                State::Healthy => "healthy",
                State::Degraded { .. } => "degraded",
                State::Recovering { .. } => "recovering",
            };
            let _ = tx.send(TelemetrySample {
                device: device.to_string(),
                port: port.to_string(),
                link: link.clone(),
                metric: metric.to_string(),
                value,
                timestamp_ns: now_ns as i64,
                state: state.to_string(),
            });
        }
        // Only a transition (rare) pays for owning the link name.
        let t = t?;
        let link = link.clone();
        Some(self.act(&link, t).await)
    }

    /// Advances timers (hold-down, silence) on every link.
    pub async fn tick(&mut self, now_ns: u64) -> Vec<LoopAction> {
        let mut fired = Vec::new();
        for (link, (h, config)) in self.health.iter_mut() {
            if let Some(t) = h.tick(now_ns, config) {
                fired.push((link.clone(), t));
            }
        }
        fired.sort_by(|a, b| a.0.cmp(&b.0));
        let mut actions = Vec::new();
        for (link, t) in fired {
            actions.push(self.act(&link, t).await);
        }
        actions
    }

    async fn act(&mut self, link: &str, t: Transition) -> LoopAction {
        use tracing::field::Empty;
        use tracing::Instrument;
        let started = std::time::Instant::now();
        // Breach (or hold-down over) → compute → every headend's Set acked, as
        // one span; `link_condition` hangs its `compute` and `program` under it.
        let span = match t {
            Transition::Breached { .. } | Transition::Restored => tracing::info_span!(
                "reroute",
                link,
                transition = ?t,
                policies = Empty,
                moved = Empty,
                headends = Empty,
            ),
            Transition::Recovering | Transition::Relapsed => tracing::Span::none(),
        };
        let action = self.act_inner(link, t).instrument(span.clone()).await;
        let m = self.controller.metrics();
        let moved: usize = action.reports.iter().map(|r| r.rerouted.len()).sum();
        match t {
            Transition::Breached { .. } => {
                m.breach();
                if moved > 0 {
                    m.observe_reroute(started.elapsed());
                }
            }
            Transition::Restored => m.restore(),
            _ => {}
        }
        for r in &action.reports {
            m.rerouted(r.rerouted.len() as u64, r.failed.len() as u64);
        }
        if !action.reports.is_empty() {
            let headends: BTreeSet<&str> = action
                .reports
                .iter()
                .flat_map(|r| r.rerouted.iter().map(|x| x.headend.as_str()))
                .collect();
            // Counts as i64: the OTel layer exports unsigned fields as strings.
            let considered: usize = action.reports.iter().map(|r| r.considered).sum();
            span.record("policies", considered as i64);
            span.record("moved", moved as i64);
            span.record(
                "headends",
                headends.into_iter().collect::<Vec<_>>().join(","),
            );
            tracing::info!(link, transition = ?t, took = ?started.elapsed(), rerouted = moved, "closed loop acted");
        }
        action
    }

    async fn act_inner(&mut self, link: &str, t: Transition) -> LoopAction {
        let is_fiber = self.riders.contains_key(link)
            || self
                .controller
                .read()
                .topology
                .link(link)
                .is_some_and(|l| l.layer != Layer::Packet);
        let mut reports = Vec::new();
        match t {
            Transition::Breached {
                metric,
                value,
                threshold,
            } => {
                let reason = format!(
                    "{link} breached: {} {value:.1} vs threshold {threshold:.1}",
                    metric.name()
                );
                self.controller
                    .events()
                    .publish(Change::Updated, &reason, |_| {
                        Object::Breach(BreachEvent {
                            link: link.to_string(),
                            metric: metric.name().to_string(),
                            value,
                            threshold,
                            cleared: false,
                        })
                    });
                if is_fiber {
                    let riders = self.riders.get(link).cloned().unwrap_or_default();
                    for r in riders {
                        self.fiber_down
                            .entry(r.clone())
                            .or_default()
                            .insert(link.to_string());
                        reports.push(
                            self.controller
                                .link_condition(
                                    &r,
                                    LinkCondition::Down,
                                    &format!("rerouted: fiber {reason}"),
                                )
                                .await,
                        );
                    }
                } else {
                    let condition = match metric {
                        Metric::DelayUs => LinkCondition::Slow {
                            delay_us: value.round() as u32,
                        },
                        _ => LinkCondition::Down,
                    };
                    reports.push(
                        self.controller
                            .link_condition(link, condition, &format!("rerouted: {reason}"))
                            .await,
                    );
                }
            }
            Transition::Restored => {
                let hold_down = self
                    .thresholds(link)
                    .map_or(HealthConfig::default().hold_down, |c| c.hold_down);
                let reason = format!("{link} healthy for the hold-down ({hold_down:?})");
                self.controller
                    .events()
                    .publish(Change::Updated, &reason, |_| {
                        Object::Breach(BreachEvent {
                            link: link.to_string(),
                            cleared: true,
                            ..Default::default()
                        })
                    });
                if is_fiber {
                    let riders = self.riders.get(link).cloned().unwrap_or_default();
                    for r in riders {
                        let still_down = self.fiber_down.get_mut(&r).map(|s| {
                            s.remove(link);
                            !s.is_empty()
                        });
                        let own_ok = !self.health(&r).is_some_and(LinkHealth::is_degraded);
                        if still_down != Some(true) && own_ok {
                            reports.push(
                                self.controller
                                    .link_condition(
                                        &r,
                                        LinkCondition::Nominal,
                                        &format!("restored: {reason}"),
                                    )
                                    .await,
                            );
                        }
                    }
                } else if self.fiber_down.get(link).is_none_or(|s| s.is_empty()) {
                    reports.push(
                        self.controller
                            .link_condition(
                                link,
                                LinkCondition::Nominal,
                                &format!("restored: {reason}"),
                            )
                            .await,
                    );
                }
            }
            Transition::Recovering | Transition::Relapsed => {}
        }
        LoopAction {
            link: link.to_string(),
            transition: t,
            reports,
        }
    }
}

fn now_ns() -> u64 {
    super::events::now_ns().max(0) as u64
}

/// Queued batches taken per wake-up beyond the first (bounds the time the
/// loop holds a runtime worker: a reading costs well under a microsecond).
const DRAIN_PER_TURN: usize = 4096;

/// What the loop's queue carries: single readings, or one notification's batch.
pub trait Readings: Send + 'static {
    fn readings(self) -> impl Iterator<Item = PortReading> + Send;
}

impl Readings for PortReading {
    fn readings(self) -> impl Iterator<Item = PortReading> + Send {
        std::iter::once(self)
    }
}

impl Readings for Vec<PortReading> {
    fn readings(self) -> impl Iterator<Item = PortReading> + Send {
        self.into_iter()
    }
}

/// Runs the loop on live telemetry until the reading channel closes.
pub fn spawn<R: Readings>(
    mut lp: ClosedLoop,
    mut rx: mpsc::Receiver<R>,
    tick: Duration,
    mut stop: crate::shutdown::Signal,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            // A reroute in progress is inside `observe`/`tick`: stopping is
            // only looked at between them, so its Sets complete.
            tokio::select! {
                _ = crate::shutdown::requested(&mut stop) => return,
                r = rx.recv() => match r {
                    // Device timestamps order samples per device; the loop judges
                    // on its own clock so skewed or replayed timestamps cannot stall it.
                    Some(batch) => {
                        lp.follow_topology();
                        let now = now_ns();
                        for r in batch.readings() {
                            let _ = lp.observe(&r.device, &r.port, r.reading, now).await;
                        }
                        // Drain what else is queued now: with hundreds of
                        // sessions feeding one loop, a batch per scheduler turn
                        // would leave the loop behind however cheap a reading is.
                        for _ in 0..DRAIN_PER_TURN {
                            let Ok(batch) = rx.try_recv() else { break };
                            for r in batch.readings() {
                                let _ = lp.observe(&r.device, &r.port, r.reading, now).await;
                            }
                        }
                    }
                    None => return,
                },
                _ = ticker.tick() => {
                    lp.follow_topology();
                    let _ = lp.tick(now_ns()).await;
                }
            }
        }
    })
}
