//! `strata bench provision`: EVPN E-Line services per second, each accepted
//! through the northbound gRPC API, journaled (fsync'd) and programmed on its
//! two PEs. The simulators of the example fabric run in their own process by
//! default (`strata bench sims`), so the controller's CPU per service is
//! measured apart from the devices'; `--sims-in-process` runs the lab as one
//! process instead. The in-run peer is the same load with the journal off, so
//! the table shows what durability costs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::sims::{self_cpu, ChildSims, SimsFabric};
use crate::lab::{Lab, LabOptions, LabSecurity};
use crate::model::{Role, Topology};
use crate::proto::strata::v1 as api;
use crate::proto::strata::v1::services_client::ServicesClient;
use crate::simulators::fabric::SimOptions;
use crate::southbound::SessionConfig;
use strata_daemon::northbound::ControllerApi;

/// Where accepted services are made durable in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// The embedded journal (fsync, group commit).
    Journal,
    /// etcd: one transaction per commit, on a single local member started
    /// for the run.
    Etcd,
    /// Memory only: the in-run peer.
    Off,
}

/// Where the simulated devices run.
#[derive(Debug, Clone)]
pub enum SimsPlace {
    /// In a child process (plaintext gNMI, as `strata sim` serves it): the
    /// controller's CPU is this process's.
    Child(SimsFabric),
    /// In this process, as `strata lab` runs them (TLS and logins): the CPU
    /// figures cover both.
    InProcess,
}

pub struct ProvisionFigures {
    pub durability: Durability,
    /// This process's CPU over the load (the controller, and the simulators
    /// when they run in process).
    pub cpu: Duration,
    /// The simulators' process's CPU over the load, when they have their own.
    pub sims_cpu: Option<Duration>,
    pub concurrency: usize,
    pub services: usize,
    pub elapsed: Duration,
    pub p50: Duration,
    pub p99: Duration,
    pub syncs: u64,
    pub entries: u64,
}

impl ProvisionFigures {
    pub fn per_second(&self) -> f64 {
        self.services as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// CPU per service of this process (µs).
    pub fn cpu_per_service_us(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.services.max(1) as f64
    }
}

/// The controller under load: the lab in one process, or the daemon on a
/// child's simulators.
enum Running {
    Lab(Lab),
    Split {
        daemon: crate::daemon::Daemon,
        sims: ChildSims,
    },
}

impl Running {
    fn api(&self) -> std::net::SocketAddr {
        match self {
            Running::Lab(l) => l.api,
            Running::Split { daemon, .. } => daemon.api,
        }
    }

    fn controller(&self) -> &Arc<crate::controller::Controller> {
        match self {
            Running::Lab(l) => &l.controller,
            Running::Split { daemon, .. } => &daemon.controller,
        }
    }

    fn up(&self) -> usize {
        match self {
            Running::Lab(l) => l.state.counts().up,
            Running::Split { daemon, .. } => daemon.state.counts().up,
        }
    }

    fn sims_cpu(&self) -> Option<Duration> {
        match self {
            Running::Lab(_) => None,
            Running::Split { sims, .. } => Some(sims.cpu()),
        }
    }

    async fn shutdown(self) {
        match self {
            Running::Lab(l) => l.shutdown().await,
            Running::Split { daemon, sims } => {
                daemon.shutdown().await;
                drop(sims);
            }
        }
    }
}

fn spec(i: usize, pes: &[(String, Vec<String>)]) -> api::ServiceSpec {
    let n = pes.len();
    let a = i % n;
    let b = (a + 1 + (i / n) % (n - 1)) % n;
    // Every service its own (interface, VLAN) on each PE and its own transport
    // color, so none conflicts with another.
    let attach = |(pe, ifs): &(String, Vec<String>)| api::Attachment {
        device: pe.clone(),
        interface: ifs[i % ifs.len()].clone(),
        vlan: 2 + (i / ifs.len()) as u32 % 4000,
    };
    api::ServiceSpec {
        name: format!("bench-{i}"),
        r#type: api::ServiceType::ELine as i32,
        attachments: vec![attach(&pes[a]), attach(&pes[b])],
        color: 10_000 + i as u32,
        ..Default::default()
    }
}

pub async fn provision(
    topology: &Topology,
    services: usize,
    concurrency: usize,
    durability: Durability,
    sims: SimsPlace,
) -> anyhow::Result<ProvisionFigures> {
    let pes: Vec<(String, Vec<String>)> = topology
        .nodes
        .iter()
        .filter(|n| n.role == Role::Packet && !n.access_interfaces.is_empty())
        .map(|n| (n.name.clone(), n.access_interfaces.clone()))
        .collect();
    anyhow::ensure!(
        pes.len() >= 2,
        "the fabric needs two PEs with access interfaces"
    );
    let dir = tempfile_dir()?;
    let etcd = match durability {
        Durability::Etcd => Some(
            strata_daemon::store::etcd_server::EtcdServer::start()
                .await
                .map_err(anyhow::Error::msg)?,
        ),
        _ => None,
    };
    let data_dir = (durability == Durability::Journal).then(|| dir.clone());
    // The path an orchestrator takes: TLS and a bearer token.
    let security = LabSecurity::generate(&dir.join("credentials"))?;
    let credentials = security.client()?;
    let running = match sims {
        SimsPlace::InProcess => {
            let options = LabOptions {
                listen: "127.0.0.1:0".parse()?,
                sim: SimOptions {
                    measure_interval: Duration::from_millis(200),
                    ephemeral_ports: true,
                },
                sessions: SessionConfig::default(),
                health: Default::default(),
                pools: Default::default(),
                duration: None,
                metrics: None,
                data_dir,
                reconcile_interval: Duration::from_secs(3600),
                recover_journal: false,
                web: None,
                security,
            };
            Running::Lab(
                Lab::start_on(topology, &options, etcd.as_ref().map(|e| e.config())).await?,
            )
        }
        SimsPlace::Child(fabric) => {
            let sims = tokio::task::spawn_blocking(move || ChildSims::spawn(&fabric)).await??;
            let mut options = crate::daemon_options(SessionConfig::default(), Default::default())?;
            options.data_dir = data_dir;
            options.etcd = etcd.as_ref().map(|e| e.config());
            options.reconcile_interval = Duration::from_secs(3600);
            options.security = security.api_security();
            let addresses = sims.addresses().clone();
            let daemon = crate::daemon::Daemon::start(
                topology,
                &options,
                move |name| addresses.get(name).copied(),
                None,
            )
            .await?;
            Running::Split { daemon, sims }
        }
    };
    let started = Instant::now();
    while running.up() < topology.nodes.len() {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "devices did not come up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A few HTTP/2 connections, as an orchestrator's client pool would have.
    let mut clients = Vec::new();
    for _ in 0..concurrency.clamp(1, 8) {
        clients.push(ServicesClient::new(
            credentials.connect(&running.api().to_string()).await?,
        ));
    }
    let next = Arc::new(AtomicUsize::new(0));
    let pes = Arc::new(pes);
    let (cpu0, sims0) = (self_cpu(), running.sims_cpu());
    let t0 = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let mut client = clients[w % clients.len()].clone();
            let (next, pes) = (next.clone(), pes.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= services {
                        return Ok::<_, tonic::Status>(latencies);
                    }
                    let t = Instant::now();
                    client
                        .create_service(api::CreateServiceRequest {
                            request_id: format!("bench-{i}"),
                            spec: Some(spec(i, &pes)),
                        })
                        .await?;
                    latencies.push(t.elapsed());
                }
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(services);
    for w in workers {
        latencies.extend(w.await??);
    }
    let elapsed = t0.elapsed();
    let cpu = self_cpu().saturating_sub(cpu0);
    let sims_cpu = running
        .sims_cpu()
        .zip(sims0)
        .map(|(now, then)| now.saturating_sub(then));
    let (syncs, entries) = running.controller().journal_stats().unwrap_or((0, 0));
    anyhow::ensure!(
        running.controller().list_services().len() == services,
        "not every service was created"
    );
    running.shutdown().await;
    drop(etcd);
    let _ = std::fs::remove_dir_all(&dir);
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
    Ok(ProvisionFigures {
        durability,
        cpu,
        sims_cpu,
        concurrency,
        services,
        elapsed,
        p50: pct(0.5),
        p99: pct(0.99),
        syncs,
        entries,
    })
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "strata-bench-provision-{}-{}",
        std::process::id(),
        crate::controller::events::now_ns()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

pub fn print_header() {
    println!(
        "{:<10} {:>11} {:>9} {:>10} {:>10} {:>10} {:>10} {:>8} {:>13} {:>12} {:>13}",
        "journal",
        "concurrency",
        "services",
        "seconds",
        "svc/s",
        "p50",
        "p99",
        "fsyncs",
        "entries/fsync",
        "cpu µs/svc",
        "sims µs/svc"
    );
}

pub fn print_row(r: &ProvisionFigures) {
    println!(
        "{:<10} {:>11} {:>9} {:>10.2} {:>10.0} {:>10.2?} {:>10.2?} {:>8} {:>13.1} {:>12.0} {:>13}",
        match r.durability {
            Durability::Journal => "fsync",
            Durability::Etcd => "etcd txn",
            Durability::Off => "off (peer)",
        },
        r.concurrency,
        r.services,
        r.elapsed.as_secs_f64(),
        r.per_second(),
        r.p50,
        r.p99,
        r.syncs,
        if r.syncs > 0 {
            r.entries as f64 / r.syncs as f64
        } else {
            0.0
        },
        r.cpu_per_service_us(),
        r.sims_cpu
            .map(|c| format!("{:.0}", c.as_secs_f64() * 1e6 / r.services.max(1) as f64))
            .unwrap_or_else(|| "(in process)".into())
    );
}
