//! `strata bench ingest`: telemetry samples/s the controller sustains from
//! streaming gNMI subscriptions of N simulated devices, and the CPU it spends.
//!
//! The simulators run in a child process (`strata bench sims --devices N`), so the
//! controller's own CPU (this process's utime + stime) is measured apart from
//! the devices producing the stream. Devices stream flat out (burst sampling:
//! back to back, one notification per interface), so the figure is what the
//! controller keeps up with, not what a sample interval allows.
//!
//! In-run peers on the same SubscribeResponse bytes the devices send: prost
//! decode alone (the floor any gNMI client pays) and decode + `Ingest`, each
//! on one thread, as samples per CPU-second.

use std::time::{Duration, Instant};

use prost::Message;

use crate::daemon::Daemon;
use crate::gnmi::parse_path;
use crate::model::{Role, Topology};
use crate::proto::gnmi::{subscribe_response, Encoding, SubscribeResponse};
use crate::render::openconfig::telemetry::subscriptions as telemetry_paths;
use crate::simulators::fabric::{SimFabric, SimOptions};
use crate::simulators::server::burst_notifications;
use crate::southbound::SessionConfig;
use crate::telemetry::health::HealthConfig;
use crate::telemetry::Ingest;

use super::generated_fabric;
use super::sims::{cpu_time, self_cpu, ChildSims, SimsFabric};

const SEED: u64 = 7;
/// How long the in-process peers run (CPU time, per peer).
const PEER_CPU: Duration = Duration::from_millis(1500);

#[derive(Debug, Clone)]
pub struct IngestFigures {
    pub devices: usize,
    pub window: Duration,
    pub samples_per_s: f64,
    pub notifications_per_s: f64,
    /// Controller CPU-seconds per second of the window (2 = both cores).
    pub controller_cpu: f64,
    /// Simulator (child process) CPU-seconds per second.
    pub sim_cpu: f64,
    /// Readings refused on the way to the closed loop (bad value or full queue).
    pub rejected: u64,
    /// In-process peers, samples per CPU-second.
    pub decode_floor: f64,
    pub decode_ingest: f64,
}

impl IngestFigures {
    pub fn samples_per_cpu_s(&self) -> f64 {
        self.samples_per_s / self.controller_cpu.max(1e-9)
    }
}

fn thread_cpu() -> Duration {
    cpu_time("/proc/thread-self/stat").unwrap_or_default()
}

fn router_id(t: &Topology, name: &str) -> Option<std::net::Ipv4Addr> {
    t.nodes.iter().find(|n| n.name == name)?.router_id
}

/// What one device of the fabric streams: its name, its ON_CHANGE leaves
/// (sent once, as a subscription's initial sync would) and a burst round of
/// its SAMPLE leaves, encoded as sent.
struct Stream {
    device: String,
    on_change: Vec<Vec<u8>>,
    sampled: Vec<Vec<u8>>,
}

fn sample_stream(t: &Topology) -> Stream {
    let fabric = SimFabric::new(
        t,
        SimOptions {
            measure_interval: Duration::from_secs(1),
            ephemeral_ports: true,
        },
    );
    fabric.measure_once();
    let Some(device) = fabric.devices().find(|d| d.role == Role::Packet) else {
        return Stream {
            device: String::new(),
            on_change: Vec::new(),
            sampled: Vec::new(),
        };
    };
    let (sampled, on_change) = telemetry_paths(Role::Packet, router_id(t, &device.name));
    let encode = |paths: &[String]| -> Vec<Vec<u8>> {
        let paths: Vec<_> = paths.iter().filter_map(|p| parse_path(p).ok()).collect();
        burst_notifications(device, &paths, Encoding::Proto)
            .into_iter()
            .map(|n| {
                SubscribeResponse {
                    response: Some(subscribe_response::Response::Update(n)),
                    ..Default::default()
                }
                .encode_to_vec()
            })
            .collect()
    };
    Stream {
        device: device.name.clone(),
        on_change: encode(&on_change),
        sampled: encode(&sampled),
    }
}

/// Runs `work` over `messages` until it has used `PEER_CPU` of this thread's
/// CPU; returns samples per CPU-second.
fn per_cpu_second(messages: &[Vec<u8>], mut work: impl FnMut(&[u8]) -> usize) -> f64 {
    if messages.is_empty() {
        return 0.0;
    }
    let start = thread_cpu();
    let mut samples = 0usize;
    loop {
        for _ in 0..200 {
            for m in messages {
                samples += work(m);
            }
        }
        let used = thread_cpu().saturating_sub(start);
        if used >= PEER_CPU {
            return samples as f64 / used.as_secs_f64();
        }
    }
}

fn decode(bytes: &[u8]) -> Option<crate::proto::gnmi::Notification> {
    match SubscribeResponse::decode(bytes).ok()?.response {
        Some(subscribe_response::Response::Update(n)) => Some(n),
        _ => None,
    }
}

/// The in-process peers: decode only, and decode + ingest (readings drained).
fn peers(t: &Topology) -> (f64, f64) {
    let Stream {
        device: name,
        on_change,
        sampled: messages,
    } = sample_stream(t);
    let floor = per_cpu_second(&messages, |b| decode(b).map_or(0, |n| n.update.len()));
    let ingest = Ingest::default();
    ingest.start_session(&name, router_id(t, &name));
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    ingest.feed(tx);
    // Which interface each ifindex is: IS-IS readings are attributed by it.
    for n in on_change.iter().filter_map(|b| decode(b)) {
        ingest.on_notification(&name, &n);
    }
    while rx.try_recv().is_ok() {}
    let with_ingest = per_cpu_second(&messages, |b| {
        let Some(n) = decode(b) else { return 0 };
        ingest.on_notification(&name, &n);
        while rx.try_recv().is_ok() {}
        n.update.len()
    });
    (floor, with_ingest)
}

pub async fn ingest(devices: usize, window: Duration) -> anyhow::Result<IngestFigures> {
    let t = generated_fabric(devices, SEED);
    let sims =
        tokio::task::spawn_blocking(move || ChildSims::spawn(&SimsFabric::Generated { devices }))
            .await??;
    let sessions = SessionConfig {
        sample_interval: Duration::from_millis(10),
        rpc_timeout: Duration::from_secs(30),
        ..SessionConfig::default()
    };
    // The one daemon wiring, on the child's simulators: sessions, ingest and
    // the closed loop as production runs them (no journal, plaintext, and
    // reconcile out of the window).
    let options = crate::daemon_options(
        sessions,
        HealthConfig {
            silence_timeout: Duration::from_secs(3600),
            ..Default::default()
        }
        .into(),
    )?;
    let addresses = sims.addresses().clone();
    let daemon =
        Daemon::start(&t, &options, move |name| addresses.get(name).copied(), None).await?;
    let ingest = daemon.ingest.clone();
    crate::all_up(&daemon, devices).await?;
    // Warm up: every stream past its snapshot and at full rate.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let snap = |ingest: &Ingest| {
        (
            Instant::now(),
            ingest.samples(),
            ingest.notifications(),
            ingest.rejected(),
            self_cpu(),
            sims.cpu(),
        )
    };
    let before = snap(&ingest);
    tokio::time::sleep(window).await;
    let after = snap(&ingest);
    daemon.shutdown().await;
    drop(sims);
    // The peers run after the live window, on the now idle process.
    let peer_topology = t.clone();
    let (decode_floor, decode_ingest) =
        tokio::task::spawn_blocking(move || peers(&peer_topology)).await?;

    let secs = after.0.duration_since(before.0).as_secs_f64();
    let rate = |a: u64, b: u64| b.saturating_sub(a) as f64 / secs;
    Ok(IngestFigures {
        devices,
        window,
        samples_per_s: rate(before.1, after.1),
        notifications_per_s: rate(before.2, after.2),
        controller_cpu: after.4.saturating_sub(before.4).as_secs_f64() / secs,
        sim_cpu: after.5.saturating_sub(before.5).as_secs_f64() / secs,
        rejected: after.3 - before.3,
        decode_floor,
        decode_ingest,
    })
}

pub fn print_header() {
    println!(
        "\ningest: telemetry samples/s sustained from N devices streaming flat out (sims in a child process)"
    );
    println!(
        "{:>8} {:>12} {:>10} {:>9} {:>14} {:>8} {:>9} {:>14} {:>14} {:>11}",
        "devices",
        "samples/s",
        "notif/s",
        "ctrl CPU",
        "samples/CPU-s",
        "sim CPU",
        "rejected",
        "decode/CPU-s",
        "dec+ing/CPU-s",
        "live/floor"
    );
}

pub fn print_row(r: &IngestFigures) {
    // How many times the decode floor's CPU per sample the live controller spends.
    let cost = r.decode_floor / r.samples_per_cpu_s().max(1e-9);
    println!(
        "{:>8} {:>12.0} {:>10.0} {:>9.2} {:>14.0} {:>8.2} {:>9} {:>14.0} {:>14.0} {:>10.1}x",
        r.devices,
        r.samples_per_s,
        r.notifications_per_s,
        r.controller_cpu,
        r.samples_per_cpu_s(),
        r.sim_cpu,
        r.rejected,
        r.decode_floor,
        r.decode_ingest,
        cost
    );
}
