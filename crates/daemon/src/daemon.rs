//! The controller as a running service: intent journal replayed first, then
//! southbound sessions, the closed loop, reconciliation, and the northbound
//! API — and a graceful stop that drains requests and flushes the journal.
//! `strata controller` runs this against real devices; `strata lab` runs it
//! against simulators in the same process.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::controller::Controller;
use crate::model::Topology;
use crate::southbound::{DeviceTarget, SessionConfig, Southbound};
use crate::state::FabricState;
use crate::store::{DamagePolicy, Recovery, Store};
use crate::telemetry::Ingest;

#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// Where the northbound strata.v1 API listens.
    pub listen: SocketAddr,
    pub sessions: SessionConfig,
    /// Telemetry thresholds, hysteresis and hold-down of the closed loop
    /// (global, per link class, per link).
    pub health: crate::telemetry::health::HealthPolicy,
    /// Where service EVIs and VNIs are allocated from, and the default color.
    pub pools: crate::controller::Pools,
    /// Serve Prometheus text metrics on this address (off when `None`).
    pub metrics: Option<SocketAddr>,
    /// Journal intents here; `None` keeps them in memory only (unless
    /// `etcd` is set). The audit trail lives here too.
    pub data_dir: Option<PathBuf>,
    /// Keep intents on etcd instead of the journal (`--store etcd://…`).
    pub etcd: Option<crate::store::etcd::EtcdConfig>,
    /// Every device is reconciled this often (and whenever it connects).
    pub reconcile_interval: Duration,
    /// Start even from a damaged journal (the operator's `--recover-journal`),
    /// keeping every intact entry and holding reconciliation deletions.
    /// Without it a damaged journal stops start-up; a torn tail never does.
    pub recover_journal: bool,
    /// Serve the operator web view on this address (off when `None`).
    pub web: Option<SocketAddr>,
    /// TLS and authentication of the northbound API.
    pub security: crate::security::Security,
    /// Run as one of several replicas on the etcd store (`--replica-id`):
    /// see [`crate::replica`].
    pub replica: Option<crate::replica::ReplicaOptions>,
}

/// How often the principals file and the TLS material are checked for
/// changes (tokens added or revoked, a renewed certificate, take effect
/// within this).
const RELOAD_EVERY: Duration = Duration::from_secs(2);

/// How long a graceful stop waits for open requests and streams.
const DRAIN: Duration = Duration::from_secs(5);

/// The default data directory: `$STRATA_DATA_DIR`, else the XDG state
/// directory, else `./strata-data`.
pub fn default_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("STRATA_DATA_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_STATE_HOME") {
        return PathBuf::from(d).join("strata");
    }
    if let Some(h) = std::env::var_os("HOME") {
        return PathBuf::from(h).join(".local/state/strata");
    }
    PathBuf::from("strata-data")
}

/// What start-up restored from the journal.
#[derive(Debug, Clone)]
pub struct Restored {
    /// Where they came from: the journal's directory, or the etcd cluster.
    pub from: String,
    pub objects: usize,
    pub recovery: Recovery,
}

impl Restored {
    /// What an operator must hear about a start-up from a damaged journal:
    /// what was lost and where the damaged copy is, and that reconciliation
    /// deletions are held. Empty after a clean start or a torn tail.
    pub fn recovery_warnings(&self) -> Vec<String> {
        let r = &self.recovery;
        let mut lines = Vec::new();
        if !r.damage.is_empty() {
            lines.push(format!(
                "RECOVERED FROM A DAMAGED JOURNAL: lost {}; kept {} intact frames; the damaged journal is saved in {}",
                crate::store::describe(&r.damage),
                r.frames,
                r.salvage
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ));
        }
        if let Some(hold) = &r.deletions_held {
            lines.push(format!(
                "reconciliation deletions are held until {} is removed (check the intents first)",
                hold.display()
            ));
        }
        lines
    }
}

pub struct Daemon {
    pub state: Arc<FabricState>,
    pub ingest: Arc<Ingest>,
    pub southbound: Arc<Southbound>,
    pub controller: Arc<Controller>,
    pub api: SocketAddr,
    /// Where `/metrics` is served, when it is.
    pub metrics: Option<SocketAddr>,
    /// Where the operator web view is served, when it is.
    pub web: Option<SocketAddr>,
    /// Every change and every refused call (see [`crate::audit`]).
    pub audit: Arc<crate::audit::AuditLog>,
    /// Who the web view lets in (the API's principals).
    pub web_auth: Arc<crate::web::WebAuth>,
    pub restored: Option<Restored>,
    store: Option<Arc<Store>>,
    /// Every background task (closed loop, reconciliation, reload pollers,
    /// the /metrics and web view servers): stopped before the journal closes.
    tasks: Vec<tokio::task::JoinHandle<()>>,
    halt: tokio::sync::watch::Sender<bool>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Daemon {
    /// Starts everything. `address` gives each device's gNMI address (the
    /// topology's, or a simulator's); `extra` adds services to the API port
    /// (the lab's fault injection).
    pub async fn start(
        topology: &Topology,
        options: &DaemonOptions,
        address: impl Fn(&str) -> Option<SocketAddr>,
        extra: Option<crate::northbound::ExtraServices>,
    ) -> anyhow::Result<Daemon> {
        Self::start_as(topology, options, address, extra, None).await
    }

    /// One turn of a replica (see [`crate::replica`]): with a leading gate,
    /// a controller on the etcd store whose API answers while the gate
    /// leads; with a follower's, a read-only copy kept by the mirror, which
    /// touches no device and refuses every change.
    pub async fn start_replica(
        topology: &Topology,
        options: &DaemonOptions,
        gate: Arc<crate::replica::Gate>,
    ) -> anyhow::Result<Daemon> {
        Self::start_as(topology, options, |_| None, None, Some(gate)).await
    }

    async fn start_as(
        topology: &Topology,
        options: &DaemonOptions,
        address: impl Fn(&str) -> Option<SocketAddr>,
        extra: Option<crate::northbound::ExtraServices>,
        gate: Option<Arc<crate::replica::Gate>>,
    ) -> anyhow::Result<Daemon> {
        // A follower programs nothing and writes nothing: it only reads.
        let follower = gate.as_ref().is_some_and(|g| !g.leading());
        // Security is settled before anything else: a controller that would
        // serve an open API without being told to does not start at all.
        let mut secured = crate::northbound::Secured::from(&options.security)?;
        secured.gate = gate.clone();
        // So are pools; thresholds are checked once the topology in force is
        // known (runtime links from the store included).
        options.pools.validate().map_err(anyhow::Error::msg)?;
        // The journal first: nothing is served, and no device is touched,
        // until the intents it holds are back.
        let mut mirror_from = None;
        let (store, replayed) = match (&options.etcd, &options.data_dir) {
            (Some(etcd), _) if follower => {
                let channel = crate::store::etcd::channel(etcd).await?;
                let (replayed, at) =
                    crate::store::etcd::snapshot(&mut crate::store::etcd::kv(channel), etcd)
                        .await?;
                mirror_from = Some((etcd.clone(), at));
                (None, Some(replayed))
            }
            (None, _) if gate.is_some() => {
                anyhow::bail!("replicas need the etcd store (--store etcd://...)")
            }
            (Some(etcd), _) => {
                let (store, replayed) = Store::open_etcd(etcd).await?;
                (Some(Arc::new(store)), Some(replayed))
            }
            (None, Some(dir)) => {
                let policy = if options.recover_journal {
                    DamagePolicy::Recover
                } else {
                    DamagePolicy::Refuse
                };
                let (store, replayed) = Store::open_with(dir, policy)?;
                (Some(Arc::new(store)), Some(replayed))
            }
            (None, None) => (None, None),
        };
        let from = match (&store, &mirror_from) {
            (Some(s), _) => s.describe(),
            (None, Some((etcd, _))) => etcd.describe(),
            (None, None) => String::new(),
        };
        let state = Arc::new(FabricState::default());
        let ingest = Arc::new(Ingest::default());
        let mut sessions = options.sessions.clone();
        if let Some(crate::store::Store::Etcd(etcd)) = store.as_deref() {
            // Device writes are fenced with this controller's etcd term.
            sessions.election = crate::southbound::fence::Election::fixed(etcd.term() as u128);
        }
        let southbound = Southbound::new(state.clone(), ingest.clone(), sessions);
        let controller = Controller::with_pools(
            topology.clone(),
            southbound.clone(),
            Some(state.clone()),
            store.clone(),
            options.pools,
        );
        let restored = match replayed {
            Some(replayed) => {
                let objects = controller
                    .restore(&replayed)
                    .map_err(|e| anyhow::anyhow!("cannot restore intents from {from}: {e}"))?;
                let r = &replayed.recovery;
                if let Some(problem) = &r.problem {
                    tracing::warn!(
                        store = %from,
                        problem,
                        kept = r.frames,
                        discarded_bytes = r.discarded_bytes,
                        "journal tail was torn (a write cut by a crash); recovered the valid prefix"
                    );
                }
                if !r.damage.is_empty() {
                    tracing::error!(
                        store = %from,
                        lost = %crate::store::describe(&r.damage),
                        kept_frames = r.frames,
                        undecodable_frames = r.undecodable,
                        salvage = %r.salvage.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
                        "started from a damaged journal (--recover-journal): entries in the lost bytes are gone"
                    );
                }
                if let Some(hold) = &r.deletions_held {
                    tracing::warn!(
                        hold = %hold.display(),
                        "reconciliation will not delete Strata-owned configuration missing from the intents until this file is removed"
                    );
                }
                Some(Restored {
                    from,
                    objects,
                    recovery: replayed.recovery,
                })
            }
            None => None,
        };
        // An override for a link the fabric does not have is a typo that
        // would leave that link on the defaults.
        options
            .health
            .check_links(&controller.read().topology)
            .map_err(anyhow::Error::msg)?;
        // Background tasks stop on this signal and finish what they are doing
        // (a reconcile pass or a reroute mid-Set) instead of being aborted.
        let (halt, halted) = tokio::sync::watch::channel(false);
        // Reconciliation listens before any session can come up.
        let mut tasks = if follower {
            Vec::new()
        } else {
            crate::controller::reconcile::spawn(
                controller.clone(),
                options.reconcile_interval,
                halted.clone(),
            )
        };
        if let Some((etcd, at)) = mirror_from {
            tasks.push(tokio::spawn(crate::replica::mirror::follow(
                controller.clone(),
                etcd,
                at,
                halted.clone(),
            )));
        }
        // The audit trail lives beside the journal (memory only without one).
        let audit = match &options.data_dir {
            Some(dir) => {
                let (audit, skipped, writer) = crate::audit::AuditLog::open(dir)?;
                if skipped > 0 {
                    tracing::warn!(dir = %dir.display(), skipped, "audit log lines that could not be read (a write torn by a crash) were skipped");
                }
                tasks.push(writer);
                audit
            }
            None => crate::audit::AuditLog::in_memory(),
        };
        let listener = bind_soon(options.listen, gate.is_some()).await?;
        let api = listener.local_addr()?;
        // The topology in force: the file's, with the nodes added and
        // removed at run time that the store gave back. A follower talks to
        // none of them.
        let nodes = if follower {
            Vec::new()
        } else {
            controller.read().topology.nodes.clone()
        };
        for node in &nodes {
            southbound.add_device(DeviceTarget {
                name: node.name.clone(),
                role: node.role,
                address: address(&node.name).unwrap_or(node.address),
                router_id: node.router_id,
            });
        }
        if !follower {
            controller.set_node_devices(Arc::new(SouthboundDevices {
                southbound: southbound.clone(),
            }));
            // Telemetry → link health → reroute.
            // One slot per notification's readings (a handful each).
            let (readings_tx, readings_rx) = tokio::sync::mpsc::channel(16_384);
            ingest.feed_batches(readings_tx);
            // The topology in force, runtime links the store gave back included.
            let in_force = controller.read().topology.clone();
            let closed_loop = crate::controller::closed_loop::ClosedLoop::new(
                controller.clone(),
                &in_force,
                options.health.clone(),
            );
            tasks.push(crate::controller::closed_loop::spawn(
                closed_loop,
                readings_rx,
                Duration::from_millis(50),
                halted.clone(),
            ));
            // LLDP at each link's ends → cabling verdicts → events.
            tasks.push(crate::controller::cabling::spawn(
                controller.clone(),
                ingest.clone(),
                halted.clone(),
            ));
        }
        let metrics = match options.metrics {
            Some(addr) => {
                let (bound, task) = serve_metrics(
                    addr,
                    &controller,
                    &state,
                    &ingest,
                    store.clone(),
                    gate.clone(),
                    halted.clone(),
                )?;
                tasks.push(task);
                Some(bound)
            }
            None => None,
        };
        let web_auth = crate::web::WebAuth::new(secured.auth.clone());
        let web = match options.web {
            Some(addr) => {
                let (bound, task) =
                    crate::web::serve(addr, controller.clone(), web_auth.clone(), halted.clone())?;
                tasks.push(task);
                Some(bound)
            }
            None => None,
        };
        if let crate::security::Authenticator::File(file) = &secured.auth {
            tasks.push(file.watch(RELOAD_EVERY, halted.clone()));
        }
        if let Some(tls) = &secured.tls {
            tasks.push(tls.watch(RELOAD_EVERY, halted));
        }
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(crate::northbound::serve_with(
            controller.clone(),
            listener,
            secured,
            audit.clone(),
            extra,
            async move {
                let _ = stop_rx.await;
            },
        ));
        Ok(Daemon {
            state,
            ingest,
            southbound,
            controller,
            api,
            metrics,
            web,
            web_auth,
            audit,
            restored,
            store,
            tasks,
            halt,
            stop: Some(stop),
            server: Some(server),
        })
    }

    /// This controller's term on etcd (its devices' election id), if it
    /// commits to etcd.
    pub fn term(&self) -> Option<i64> {
        match self.store.as_deref() {
            Some(Store::Etcd(etcd)) => Some(etcd.term()),
            _ => None,
        }
    }

    /// Stops at once, waiting for nothing: a replica's turn that ends (a
    /// follower that won, a leader that lost its lease, which must stop
    /// programming now rather than after its requests drain). The API and
    /// every background task are cancelled where they are; what a cut-off
    /// reroute or reconcile left half-done on a device, the next leader's
    /// reconciliation repairs, and its fence refuses this one's late Sets.
    pub async fn abort(mut self) {
        let _ = self.halt.send(true);
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
            // Awaited so the listener is closed before the next turn binds.
            let _ = server.await;
        }
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
        self.audit.close();
        self.southbound.shutdown();
        if let Some(store) = self.store.take() {
            store.close();
        }
    }

    /// Stops taking requests, lets open ones finish (up to a few seconds:
    /// watch streams never end on their own), then flushes the journal.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut server) = self.server.take() {
            match tokio::time::timeout(DRAIN, &mut server).await {
                Ok(Ok(Err(e))) => eprintln!("northbound API stopped with an error: {e}"),
                Ok(_) => {}
                Err(_) => server.abort(),
            }
        }
        // Background work ends its current step (bounded by DRAIN), then stops;
        // the audit writer ends once what is queued is on disk.
        let _ = self.halt.send(true);
        self.audit.close();
        for mut task in self.tasks.drain(..) {
            if tokio::time::timeout(DRAIN, &mut task).await.is_err() {
                tracing::warn!("a background task did not stop within {DRAIN:?}; aborting it");
                task.abort();
            }
        }
        self.southbound.shutdown();
        // A repair-path refresh runs on its own thread: let it finish its
        // pass (it holds the controller) before the store closes.
        let settling = std::time::Instant::now();
        while !self.controller.repairs_settled() && settling.elapsed() < DRAIN {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        if let Some(store) = self.store.take() {
            // Waits for queued records (an etcd store's are in flight).
            if let Err(e) = store.commit(&[]).await {
                tracing::warn!(error = %e, "the store did not flush before closing");
            }
            store.close();
        }
    }
}

/// Binds the API. A replica's next turn may find its port still held by the
/// turn before for a moment, so it retries briefly.
async fn bind_soon(addr: SocketAddr, replica: bool) -> anyhow::Result<tokio::net::TcpListener> {
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        match crate::northbound::bind(addr).await {
            Ok(l) => return Ok(l),
            Err(_) if replica && std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

fn serve_metrics(
    addr: SocketAddr,
    controller: &Arc<Controller>,
    state: &Arc<FabricState>,
    ingest: &Arc<Ingest>,
    store: Option<Arc<Store>>,
    gate: Option<Arc<crate::replica::Gate>>,
    halted: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = crate::net::listen(addr)
        .map_err(|e| anyhow::anyhow!("cannot listen for /metrics on {addr}: {e}"))?;
    let bound = listener.local_addr()?;
    let (c, st, ing) = (controller.clone(), state.clone(), ingest.clone());
    let render = Arc::new(move || {
        let counts = st.counts();
        let policies = c.read().policies.len() as f64;
        let (held, holding) = store.as_ref().map_or((0.0, 0.0), |s| {
            let held = s
                .stats()
                .held_deletions
                .load(std::sync::atomic::Ordering::Relaxed);
            (held as f64, f64::from(u8::from(s.deletions_held())))
        });
        let mut gauges = vec![
            (
                "strata_reconcile_deletions_held_total",
                "counter",
                "Deletions reconciliation skipped because the journal was recovered from damage.",
                held,
            ),
            (
                "strata_journal_deletion_hold",
                "gauge",
                "1 while reconciliation deletions are held after a journal recovery.",
                holding,
            ),
            (
                "strata_telemetry_samples_total",
                "counter",
                "Telemetry samples ingested.",
                ing.samples() as f64,
            ),
            (
                "strata_telemetry_rejected_total",
                "counter",
                "Readings refused (bad values or a full queue).",
                ing.rejected() as f64,
            ),
            (
                "strata_devices_up",
                "gauge",
                "Devices with an up gNMI session.",
                counts.up as f64,
            ),
            (
                "strata_devices_down",
                "gauge",
                "Devices whose session is down.",
                counts.down as f64,
            ),
            ("strata_policies", "gauge", "SR-TE policies held.", policies),
        ];
        if let Some(gate) = &gate {
            gauges.push((
                "strata_replica_leading",
                "gauge",
                "1 while this replica leads (programs devices and accepts changes).",
                f64::from(u8::from(gate.leading())),
            ));
        }
        c.metrics().render(&gauges)
    });
    let task = tokio::spawn(crate::metrics::serve(listener, render, halted));
    Ok((bound, task))
}

/// Resolves on Ctrl-C or SIGTERM (what service managers send).
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Devices of nodes added at run time are reached at the node's address.
pub struct SouthboundDevices {
    pub southbound: Arc<Southbound>,
}

impl crate::controller::topology::NodeDevices for SouthboundDevices {
    fn prepare<'a>(
        &'a self,
        node: &'a crate::model::Node,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<SocketAddr, String>> + Send + 'a>>
    {
        Box::pin(async move { Ok(node.address) })
    }

    fn discard(&self, _name: &str) {}

    fn connect(&self, node: &crate::model::Node) {
        self.southbound.add_device(DeviceTarget {
            name: node.name.clone(),
            role: node.role,
            address: node.address,
            router_id: node.router_id,
        });
    }

    fn disconnect(&self, name: &str) {
        self.southbound.remove_device(name);
    }
}

/// Reloads the topology file on every SIGHUP, as `ReloadTopology` does,
/// printing and logging the diff (or why it was refused). The handler is in
/// place when this returns (a SIGHUP before it would end the process); the
/// task runs until aborted.
pub fn reload_on_hangup(controller: Arc<Controller>) -> Option<tokio::task::JoinHandle<()>> {
    reload_on_hangup_with(move || Ok(controller.clone()))
}

/// As [`reload_on_hangup`], reloading whichever controller `target` names
/// at each SIGHUP; when it names none (a replica that does not lead), the
/// reason is printed and nothing changes.
pub fn reload_on_hangup_with(
    target: impl Fn() -> Result<Arc<Controller>, String> + Send + 'static,
) -> Option<tokio::task::JoinHandle<()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hup = match signal(SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGHUP: topology reloads only through the API");
                return None;
            }
        };
        Some(tokio::spawn(async move {
            while hup.recv().await.is_some() {
                let controller = match target() {
                    Ok(c) => c,
                    Err(why) => {
                        tracing::warn!(reason = %why, "SIGHUP: topology not reloaded, nothing changed");
                        println!("strata: SIGHUP: topology not reloaded, nothing changed: {why}");
                        continue;
                    }
                };
                match controller.reload_topology(None, false).await {
                    Ok(r) if r.steps.is_empty() => {
                        tracing::info!("SIGHUP: topology file unchanged");
                        println!("strata: SIGHUP: topology file unchanged");
                    }
                    Ok(r) => {
                        let steps: Vec<String> = r.steps.iter().map(ToString::to_string).collect();
                        tracing::info!(steps = %steps.join("; "), revision = r.revision, "SIGHUP: topology reloaded");
                        println!("strata: SIGHUP: topology reloaded: {}", steps.join("; "));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "SIGHUP: topology reload refused, nothing changed");
                        println!("strata: SIGHUP: topology reload refused, nothing changed: {e}");
                    }
                }
            }
        }))
    }
    #[cfg(not(unix))]
    {
        let _ = target;
        None
    }
}

/// `strata controller`: the daemon against the topology's devices until a
/// stop signal; SIGHUP reloads `file` (the topology's file, when it came
/// from one) — on a replica, only while it leads.
pub async fn run_controller(
    topology: &Topology,
    file: Option<PathBuf>,
    options: DaemonOptions,
) -> anyhow::Result<()> {
    if options.replica.is_some() {
        let outcome = crate::replica::run(topology, file, &options, async {
            stop_signal().await;
            println!("strata controller: stopping (draining requests, giving up the lease)");
        })
        .await;
        return outcome;
    }
    let daemon = Daemon::start(topology, &options, |_| None, None).await?;
    let hangups = file.and_then(|f| {
        daemon.controller.set_topology_file(f);
        reload_on_hangup(daemon.controller.clone())
    });
    match &daemon.restored {
        Some(r) => {
            println!(
                "strata controller: {} intents restored from {} ({} entries)",
                r.objects, r.from, r.recovery.frames
            );
            for warning in r.recovery_warnings() {
                println!("strata controller: {warning}");
            }
            if let Some(problem) = &r.recovery.problem {
                println!(
                    "strata controller: journal tail torn ({problem}); kept the valid prefix, set {} bytes aside in {}",
                    r.recovery.discarded_bytes,
                    r.recovery
                        .saved_tail
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                );
            }
        }
        None => println!("strata controller: intents in memory only (no --data-dir)"),
    }
    println!(
        "strata controller: fabric {:?}, {} devices; northbound strata.v1 on {}",
        topology.name,
        topology.nodes.len(),
        daemon.api
    );
    if let Some(web) = daemon.web {
        println!(
            "strata controller: web view on http://{web}/{}",
            if daemon.web_auth.is_open() {
                ""
            } else {
                " (sign in with a token from the principals file)"
            }
        );
    }
    stop_signal().await;
    if let Some(h) = hangups {
        h.abort();
    }
    println!("strata controller: stopping (draining requests, flushing the journal)");
    daemon.shutdown().await;
    Ok(())
}
