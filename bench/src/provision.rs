//! `strata bench provision`: EVPN E-Line services per second, each accepted
//! through the northbound gRPC API, journaled (fsync'd) and programmed on its
//! two PEs — on the lab (simulators of the example fabric, in process). The
//! in-run peer is the same load with the journal off, so the table shows what
//! durability costs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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

pub struct ProvisionFigures {
    pub durability: Durability,
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
        data_dir: (durability == Durability::Journal).then(|| dir.clone()),
        reconcile_interval: Duration::from_secs(3600),
        recover_journal: false,
        web: None,
        // The path an orchestrator takes: TLS and a bearer token.
        security: LabSecurity::generate(&dir.join("credentials"))?,
    };
    let etcd = match durability {
        Durability::Etcd => Some(
            strata_daemon::store::etcd_server::EtcdServer::start()
                .await
                .map_err(anyhow::Error::msg)?,
        ),
        _ => None,
    };
    let lab = Lab::start_on(topology, &options, etcd.as_ref().map(|e| e.config())).await?;
    let started = Instant::now();
    while lab.state.counts().up < topology.nodes.len() {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "devices did not come up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let credentials = options.security.client()?;
    // A few HTTP/2 connections, as an orchestrator's client pool would have.
    let mut clients = Vec::new();
    for _ in 0..concurrency.clamp(1, 8) {
        clients.push(ServicesClient::new(
            credentials.connect(&lab.api.to_string()).await?,
        ));
    }
    let next = Arc::new(AtomicUsize::new(0));
    let pes = Arc::new(pes);
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
    let (syncs, entries) = lab.controller.journal_stats().unwrap_or((0, 0));
    anyhow::ensure!(
        lab.controller.list_services().len() == services,
        "not every service was created"
    );
    lab.shutdown().await;
    drop(etcd);
    let _ = std::fs::remove_dir_all(&dir);
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
    Ok(ProvisionFigures {
        durability,
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
        "{:<10} {:>11} {:>9} {:>10} {:>10} {:>10} {:>10} {:>8} {:>13}",
        "journal",
        "concurrency",
        "services",
        "seconds",
        "svc/s",
        "p50",
        "p99",
        "fsyncs",
        "entries/fsync"
    );
}

pub fn print_row(r: &ProvisionFigures) {
    println!(
        "{:<10} {:>11} {:>9} {:>10.2} {:>10.0} {:>10.2?} {:>10.2?} {:>8} {:>13.1}",
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
        }
    );
}
