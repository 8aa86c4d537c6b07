//! `strata lab` and `strata sim`: a simulated fabric (and the controller's
//! southbound attached to it) in one process, with a live one-line summary.

// Production code answers bad input and failed I/O with errors, never a
// panic (tests may unwrap).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use strata_core::{model, topology};
pub use strata_daemon::{controller, daemon, net, proto, security, southbound, state, telemetry};
pub use strata_sim as simulators;

use crate::controller::Controller;
use crate::daemon::{Daemon, DaemonOptions};
use crate::model::Topology;
use crate::security::client::ClientCredentials;
use crate::security::pki::{self, LabCredentials};
use crate::security::Security;
use crate::simulators::fabric::{SimFabric, SimOptions, SimSecurity};
use crate::southbound::credentials::{DeviceCredentials, DeviceTls, Login};
use crate::southbound::{SessionConfig, Southbound};
use crate::state::{Event, FabricState};
use crate::telemetry::Ingest;

#[derive(Debug, Clone)]
pub struct LabOptions {
    /// Where the northbound strata.v1 API listens.
    pub listen: std::net::SocketAddr,
    pub sim: SimOptions,
    pub sessions: SessionConfig,
    /// Telemetry thresholds, hysteresis and hold-down of the closed loop
    /// (a `HealthConfig` for every link `.into()` this).
    pub health: crate::telemetry::health::HealthPolicy,
    /// Service id pools and default color.
    pub pools: crate::controller::Pools,
    /// Stop after this long (smoke runs); `None` runs until Ctrl-C.
    pub duration: Option<Duration>,
    /// Serve Prometheus text metrics on this address (off when `None`).
    pub metrics: Option<std::net::SocketAddr>,
    /// Journal intents here; `None` keeps them in memory only.
    pub data_dir: Option<std::path::PathBuf>,
    pub reconcile_interval: Duration,
    /// Start even from a damaged journal (see `DaemonOptions::recover_journal`).
    pub recover_journal: bool,
    /// Serve the operator web view on this address (off when `None`).
    pub web: Option<std::net::SocketAddr>,
    /// How the lab's API is secured.
    pub security: LabSecurity,
}

/// A lab is secure unless told otherwise by name.
#[derive(Debug, Clone)]
pub enum LabSecurity {
    /// TLS with the throwaway CA, and the admin token, written for this run.
    Generated(Box<LabCredentials>),
    /// Plaintext, every caller an anonymous admin (`--insecure`).
    Insecure,
}

impl LabSecurity {
    /// Fresh credentials in `dir` (see [`crate::security::pki::generate`]).
    pub fn generate(dir: &std::path::Path) -> anyhow::Result<LabSecurity> {
        Ok(LabSecurity::Generated(Box::new(pki::generate(dir)?)))
    }

    /// What the northbound API enforces with these credentials.
    pub fn api_security(&self) -> Security {
        match self {
            LabSecurity::Insecure => Security::insecure(),
            LabSecurity::Generated(c) => Security {
                tls: Some(c.tls.clone()),
                principals: Some(c.principals.clone()),
                insecure: false,
            },
        }
    }

    /// How a client reaches this lab's API.
    pub fn client(&self) -> anyhow::Result<ClientCredentials> {
        match self {
            LabSecurity::Insecure => Ok(ClientCredentials::insecure()),
            LabSecurity::Generated(c) => ClientCredentials::from_dir(&c.dir),
        }
    }
}

impl LabOptions {
    fn daemon(&self) -> DaemonOptions {
        DaemonOptions {
            listen: self.listen,
            sessions: self.sessions.clone(),
            health: self.health.clone(),
            pools: self.pools,
            metrics: self.metrics,
            data_dir: self.data_dir.clone(),
            etcd: None,
            replica: None,
            reconcile_interval: self.reconcile_interval,
            recover_journal: self.recover_journal,
            web: self.web,
            security: self.security.api_security(),
        }
    }
}

/// What a lab run ended with, for scripts and exit codes.
#[derive(Debug, Clone)]
pub struct LabOutcome {
    pub devices: usize,
    pub up: usize,
    pub samples: u64,
    pub elapsed: Duration,
}

/// A running lab: simulators, and the controller daemon (southbound sessions,
/// closed loop, reconciliation, northbound API with fault injection) on them.
pub struct Lab {
    pub fabric: Arc<SimFabric>,
    /// Simulated devices started for nodes added at run time, one fabric
    /// each (by node name).
    pub added: AddedSims,
    pub state: Arc<FabricState>,
    pub ingest: Arc<Ingest>,
    pub southbound: Arc<Southbound>,
    pub controller: Arc<Controller>,
    pub api: std::net::SocketAddr,
    daemon: Daemon,
}

impl Lab {
    pub async fn start(topology: &Topology, options: &LabOptions) -> anyhow::Result<Lab> {
        Self::start_on(topology, options, None).await
    }

    /// As `start`, keeping intents on etcd when `etcd` is given (instead of
    /// the options' data directory).
    pub async fn start_on(
        topology: &Topology,
        options: &LabOptions,
        etcd: Option<strata_daemon::store::etcd::EtcdConfig>,
    ) -> anyhow::Result<Lab> {
        let (sim_security, device_credentials) = device_security(topology, &options.security)?;
        let login = sim_security.login.clone();
        let fabric = SimFabric::with_security(topology, options.sim.clone(), sim_security);
        fabric.start().await?;
        let sims = fabric.clone();
        let mut daemon_options = options.daemon();
        daemon_options.sessions.credentials = device_credentials;
        if etcd.is_some() {
            daemon_options.etcd = etcd;
        }
        let daemon = Daemon::start(
            topology,
            &daemon_options,
            move |name| sims.address(name),
            Some(fault_injection(fabric.clone())),
        )
        .await?;
        let added = AddedSims::default();
        let devices = Arc::new(LabDevices {
            daemon: strata_daemon::daemon::SouthboundDevices {
                southbound: daemon.southbound.clone(),
            },
            sim: options.sim.clone(),
            ca: match &options.security {
                LabSecurity::Generated(c) => c.ca.clone(),
                LabSecurity::Insecure => None,
            },
            login,
            added: added.clone(),
        });
        daemon.controller.set_node_devices(devices.clone());
        // Nodes the store gave back that the file lacks were added at run
        // time; their simulators went with the last run. Each gets a fresh
        // one, and its new address is a node update like any other.
        let runtime: Vec<crate::model::Node> = daemon
            .controller
            .read()
            .topology
            .nodes
            .iter()
            .filter(|n| topology.node(&n.name).is_none())
            .cloned()
            .collect();
        for mut node in runtime {
            use strata_daemon::controller::topology::NodeDevices;
            use strata_daemon::plan::topology::{Change, Diff};
            node.address = match devices.prepare(&node).await {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(device = %node.name, error = %e, "no simulator for a node added in an earlier run");
                    continue;
                }
            };
            let name = node.name.clone();
            if let Err(e) = daemon
                .controller
                .change_topology(Diff::one(Change::UpdateNode(node)), false, "node")
                .await
            {
                tracing::warn!(device = %name, error = %e, "the restarted simulator's address was refused");
                devices.discard(&name);
            }
        }
        Ok(Lab {
            added,
            fabric,
            state: daemon.state.clone(),
            ingest: daemon.ingest.clone(),
            southbound: daemon.southbound.clone(),
            controller: daemon.controller.clone(),
            api: daemon.api,
            daemon,
        })
    }

    /// Where `/metrics` is served, when asked for.
    pub fn metrics(&self) -> Option<std::net::SocketAddr> {
        self.daemon.metrics
    }

    /// Where the operator web view is served, when it is.
    pub fn web(&self) -> Option<std::net::SocketAddr> {
        self.daemon.web
    }

    /// A fresh one-time sign-in path for the web view (`None` when it is
    /// open or off).
    pub fn web_sign_in(&self) -> Option<String> {
        self.daemon.web?;
        self.daemon.web_auth.one_time_sign_in()
    }

    pub fn restored(&self) -> Option<&crate::daemon::Restored> {
        self.daemon.restored.as_ref()
    }

    /// The simulated fabric holding `device`: the lab's own, or the one
    /// started for it when it was added at run time.
    pub fn sims_of(&self, device: &str) -> Option<Arc<SimFabric>> {
        if self.fabric.device(device).is_some() {
            return Some(self.fabric.clone());
        }
        self.added.get(device)
    }

    pub async fn shutdown(self) {
        self.daemon.shutdown().await;
        self.fabric.shutdown().await;
        for (fabric, measure) in self.added.take_all() {
            measure.abort();
            fabric.shutdown().await;
        }
    }
}

/// A runtime node's simulator and its measurement loop.
type AddedSim = (Arc<SimFabric>, tokio::task::JoinHandle<()>);

/// The simulators started for nodes added at run time.
#[derive(Clone, Default)]
pub struct AddedSims(Arc<std::sync::Mutex<std::collections::BTreeMap<String, AddedSim>>>);

impl AddedSims {
    pub fn get(&self, name: &str) -> Option<Arc<SimFabric>> {
        self.lock().get(name).map(|(f, _)| f.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<String, AddedSim>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stops the simulator of `name`, if there is one, in the background.
    fn stop(&self, name: &str) {
        let gone = self.lock().remove(name);
        if let Some((fabric, measure)) = gone {
            measure.abort();
            tokio::spawn(async move { fabric.shutdown().await });
        }
    }

    fn take_all(&self) -> Vec<AddedSim> {
        std::mem::take(&mut *self.lock()).into_values().collect()
    }
}

/// A lab answers for a node added at run time with a simulated device of
/// its own, on an ephemeral loopback port, guarded like the others; the
/// controller's session to it is the daemon's as for any node.
struct LabDevices {
    daemon: strata_daemon::daemon::SouthboundDevices,
    sim: SimOptions,
    ca: Option<pki::LabCa>,
    login: Option<(String, String)>,
    added: AddedSims,
}

impl strata_daemon::controller::topology::NodeDevices for LabDevices {
    fn prepare<'a>(
        &'a self,
        node: &'a crate::model::Node,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<std::net::SocketAddr, String>> + Send + 'a>,
    > {
        Box::pin(async move {
            let mut node = node.clone();
            node.address = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
            // The device alone: its links are the controller's to add, and
            // the lab's measurement of them stays with the lab's own fabric.
            let topology = Topology {
                name: format!("runtime-{}", node.name),
                nodes: vec![node.clone()],
                links: Vec::new(),
            };
            let mut identities = std::collections::HashMap::new();
            if let Some(ca) = &self.ca {
                let (cert, key) = ca.issue_device(&node.name).map_err(|e| e.to_string())?;
                identities.insert(node.name.clone(), (cert.into_bytes(), key.into_bytes()));
            }
            let security = SimSecurity {
                identities: Arc::new(identities),
                login: self.login.clone(),
            };
            let mut options = self.sim.clone();
            options.ephemeral_ports = true;
            let fabric = SimFabric::with_security(&topology, options, security);
            let measure = fabric.start().await.map_err(|e| e.to_string())?;
            let address = fabric
                .address(&node.name)
                .ok_or_else(|| format!("the simulated {} did not start", node.name))?;
            self.added.stop(&node.name);
            self.added
                .lock()
                .insert(node.name.clone(), (fabric, measure));
            tracing::info!(device = %node.name, %address, "simulated device started for a node added at run time");
            Ok(address)
        })
    }

    fn discard(&self, name: &str) {
        self.added.stop(name);
    }

    fn connect(&self, node: &crate::model::Node) {
        self.daemon.connect(node);
    }

    fn disconnect(&self, name: &str) {
        self.daemon.disconnect(name);
        self.added.stop(name);
    }
}

/// The simulated fabric's fault injection, served on the API port.
fn fault_injection(fabric: Arc<SimFabric>) -> strata_daemon::northbound::ExtraServices {
    use crate::proto::strata::sim::v1::fault_injection_server::FaultInjectionServer;
    use tonic::server::NamedService;
    strata_daemon::northbound::ExtraServices {
        names: vec![
            <FaultInjectionServer<crate::simulators::control::FaultControl> as NamedService>::NAME,
        ],
        add: Box::new(move |routes| {
            routes.add_service(crate::simulators::control::service(fabric));
        }),
    }
}

/// A secure lab's devices are as guarded as real ones: each serves gNMI over
/// TLS with a certificate from the lab CA naming it, and demands a login
/// made for this run; the controller verifies and presents them.
fn device_security(
    topology: &Topology,
    security: &LabSecurity,
) -> anyhow::Result<(SimSecurity, DeviceCredentials)> {
    let LabSecurity::Generated(credentials) = security else {
        return Ok(Default::default());
    };
    let Some(ca) = &credentials.ca else {
        return Ok(Default::default());
    };
    let mut identities = std::collections::HashMap::new();
    for node in &topology.nodes {
        let (cert, key) = ca.issue_device(&node.name)?;
        identities.insert(node.name.clone(), (cert.into_bytes(), key.into_bytes()));
    }
    let password = pki::new_token();
    let sims = SimSecurity {
        identities: Arc::new(identities),
        login: Some(("strata".into(), password.clone())),
    };
    let controller = DeviceCredentials {
        tls: Some(DeviceTls {
            ca_pem: Arc::new(ca.cert_pem().as_bytes().to_vec()),
            identity: None,
        }),
        login: Some(Login {
            username: "strata".into(),
            password,
        }),
        // In memory only, like the CA key: nothing to re-read.
        files: Default::default(),
    };
    Ok((sims, controller))
}

/// Starts the lab and reports until Ctrl-C or the optional duration.
/// `file`: the topology's file, which `ReloadTopology` and SIGHUP read again.
pub async fn run_lab(
    topology: &Topology,
    file: Option<std::path::PathBuf>,
    options: LabOptions,
) -> anyhow::Result<LabOutcome> {
    let lab = Lab::start(topology, &options).await?;
    let hangups = file.and_then(|f| {
        lab.controller.set_topology_file(f);
        strata_daemon::daemon::reload_on_hangup(lab.controller.clone())
    });
    let (fabric, state, ingest, listen) = (
        lab.fabric.clone(),
        lab.state.clone(),
        lab.ingest.clone(),
        lab.api,
    );
    println!(
        "strata lab: fabric {:?}: {} devices ({} packet, {} optical), {} links; simulators on {}",
        topology.name,
        topology.nodes.len(),
        topology
            .nodes
            .iter()
            .filter(|n| n.role == crate::model::Role::Packet)
            .count(),
        topology
            .nodes
            .iter()
            .filter(|n| n.role == crate::model::Role::Optical)
            .count(),
        topology.links.len(),
        address_range(&fabric, topology),
    );
    println!("northbound strata.v1 API and fault injection on {listen} (gRPC; reflection and health enabled)");
    match &options.security {
        LabSecurity::Generated(c) => println!(
            "TLS and bearer tokens on: CA {}, admin token {} (strata watch, strata fault and examples/orchestrator.py read them from {})",
            c.dir.join(pki::CA_FILE).display(),
            c.admin_token.display(),
            c.dir.display()
        ),
        LabSecurity::Insecure => {
            println!("INSECURE: plaintext API, every caller is an admin (--insecure)")
        }
    }
    if let Some(web) = lab.web() {
        match lab.web_sign_in() {
            Some(link) => println!(
                "web view on http://{web}{link} (a one-time sign-in link; later, sign in at http://{web}/login with the admin token)"
            ),
            None => println!("web view on http://{web}/"),
        }
    }
    match lab.restored() {
        Some(r) => {
            println!(
                "intents journaled in {}: {} restored{}",
                r.from,
                r.objects,
                r.recovery
                    .problem
                    .as_ref()
                    .map(|p| format!(" (torn tail set aside: {p})"))
                    .unwrap_or_default()
            );
            for warning in r.recovery_warnings() {
                println!("{warning}");
            }
        }
        None => println!("intents in memory only (--data-dir DIR journals them)"),
    }
    let outcome = report(
        &state,
        &ingest,
        &lab.controller,
        topology.nodes.len(),
        options.duration,
    )
    .await;
    if let Some(h) = hangups {
        h.abort();
    }
    lab.shutdown().await;
    Ok(outcome)
}

/// `strata sim`: only the simulators, for an external controller or client,
/// with fault injection on `control`.
pub async fn run_sims(
    topology: &Topology,
    options: SimOptions,
    control: std::net::SocketAddr,
    duration: Option<Duration>,
) -> anyhow::Result<()> {
    let fabric = SimFabric::new(topology, options);
    fabric.start().await?;
    let listener = crate::net::listen(control)
        .map_err(|e| anyhow::anyhow!("cannot listen for fault injection on {control}: {e}"))?;
    let control = listener.local_addr()?;
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(crate::simulators::control::service(fabric.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    println!("fault injection (strata.sim.v1.FaultInjection) on {control}");
    println!(
        "strata sim: {} gNMI devices of fabric {:?} listening on {} (Ctrl-C to stop)",
        topology.nodes.len(),
        topology.name,
        address_range(&fabric, topology)
    );
    for node in &topology.nodes {
        if let Some(a) = fabric.address(&node.name) {
            println!(
                "  {:<12} {:<8} {}",
                node.name,
                format!("{:?}", node.role).to_lowercase(),
                a
            );
        }
    }
    wait(duration).await;
    fabric.shutdown().await;
    Ok(())
}

fn address_range(fabric: &SimFabric, topology: &Topology) -> String {
    let mut addrs: Vec<_> = topology
        .nodes
        .iter()
        .filter_map(|n| fabric.address(&n.name))
        .collect();
    addrs.sort();
    match (addrs.first(), addrs.last()) {
        (Some(a), Some(b)) if a != b => format!("{a} … {b}"),
        (Some(a), _) => a.to_string(),
        _ => "-".into(),
    }
}

async fn wait(duration: Option<Duration>) {
    match duration {
        Some(d) => {
            tokio::select! {
                _ = tokio::time::sleep(d) => {}
                _ = crate::daemon::stop_signal() => {}
            }
        }
        None => crate::daemon::stop_signal().await,
    }
}

/// A live status line (rewritten in place on a terminal, every 10 s
/// otherwise), plus one line per device up/down event.
/// One line for a closed-loop event worth an operator's eye (breaches,
/// recoveries, policies moved or stranded); `None` for everything else.
fn loop_line(e: &strata_daemon::object::Event) -> Option<String> {
    use strata_daemon::object::{Change, Object};
    match &e.object {
        Object::Breach(b) if b.cleared => Some(format!(
            "recovered {} — policies return after the hold-down",
            b.link
        )),
        Object::Breach(b) => Some(format!(
            "BREACH {} {} {:.0} > {:.0}",
            b.link, b.metric, b.value, b.threshold
        )),
        Object::Policy(p) if e.change == Change::Updated => {
            let links = p.path.links.join(" > ");
            let sids: Vec<String> = p
                .path
                .segments
                .iter()
                .map(|s| s.label.to_string())
                .collect();
            Some(format!(
                "  {} now {} [SIDs {}] ({})",
                p.id,
                links,
                sids.join(" "),
                e.reason
            ))
        }
        _ => None,
    }
}

async fn report(
    state: &FabricState,
    ingest: &Ingest,
    controller: &Controller,
    devices: usize,
    duration: Option<Duration>,
) -> LabOutcome {
    let tty = std::io::stdout().is_terminal();
    let start = Instant::now();
    let mut events = state.subscribe();
    let mut loop_events = match controller.events().watch(0) {
        Ok((_, rx)) => Some(rx),
        Err(_) => None,
    };
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    let mut last = (Instant::now(), ingest.samples());
    let mut rate = 0.0;
    let mut all_up_reported = false;
    let stop = wait(duration);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            ev = async { match loop_events.as_mut() { Some(rx) => rx.recv().await.ok(), None => std::future::pending().await } } => {
                if let Some(line) = ev.as_deref().and_then(loop_line) {
                    if tty { print!("\r\x1b[2K"); }
                    println!("{line}");
                }
            }
            ev = events.recv() => match ev {
                Ok(Event::DeviceDown { device, error }) => {
                    if tty { print!("\r\x1b[2K"); }
                    println!("device {device} down: {error}");
                }
                Ok(Event::DeviceUp { .. }) if !all_up_reported && state.counts().up == devices => {
                    all_up_reported = true;
                    if tty { print!("\r\x1b[2K"); }
                    println!("all {devices} devices up after {:.2}s", start.elapsed().as_secs_f64());
                }
                _ => {}
            },
            _ = ticker.tick() => {
                let now = Instant::now();
                let samples = ingest.samples();
                let dt = now.duration_since(last.0).as_secs_f64();
                // the first tick comes at once; a rate over milliseconds means nothing
                if dt >= 0.5 {
                    rate = (samples - last.1) as f64 / dt;
                }
                last = (now, samples);
                let c = state.counts();
                let (reroutes, last_took) = controller.metrics().last_reroute();
                let reroute = if reroutes == 0 {
                    String::new()
                } else {
                    format!(" | reroutes {reroutes} (last: breach → headends acked in {last_took:.1?})")
                };
                let line = format!(
                    "devices up {}/{} (connecting {}, down {}) | telemetry {} samples/s | {} samples total{reroute} | up {}s",
                    c.up, devices, c.connecting, c.down, human(rate), samples, start.elapsed().as_secs()
                );
                if !all_up_reported && c.up == devices {
                    all_up_reported = true;
                    if tty { print!("\r\x1b[2K"); }
                    println!("all {devices} devices up after {:.2}s", start.elapsed().as_secs_f64());
                }
                if tty {
                    print!("\r\x1b[2K{line}");
                    use std::io::Write;
                    let _ = std::io::stdout().flush();
                } else if start.elapsed().as_secs().is_multiple_of(10) {
                    println!("{line}");
                }
            }
        }
    }
    if tty {
        println!();
    }
    let c = state.counts();
    let outcome = LabOutcome {
        devices,
        up: c.up,
        samples: ingest.samples(),
        elapsed: start.elapsed(),
    };
    println!(
        "lab stopped after {:.1}s: {}/{} devices up, {} telemetry samples ({} samples/s last second)",
        outcome.elapsed.as_secs_f64(),
        outcome.up,
        outcome.devices,
        outcome.samples,
        human(rate)
    );
    outcome
}

fn human(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}
