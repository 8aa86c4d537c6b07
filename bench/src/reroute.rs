//! `strata bench reroute`: breach sample received → every affected headend
//! acked its new path (make-before-break: two gNMI Sets per headend), on
//! generated fabrics of simulated devices on loopback. The same trials run
//! against a recording programmer (no network) as the in-run peer, so the
//! report shows what the gNMI round trips add to the computation.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::rng::Rng;
use crate::controller::closed_loop::ClosedLoop;
use crate::controller::programmer::{Programmer, Recorder};
use crate::controller::Controller;
use crate::daemon::Daemon;
use crate::model::{Endpoint, Layer, Link, Node, Role, Topology};
use crate::proto::strata::v1 as api;
use crate::simulators::fabric::{SimFabric, SimOptions};
use crate::southbound::SessionConfig;
use crate::telemetry::health::{HealthConfig, Reading};
use strata_daemon::northbound::ControllerApi;

/// Packet routers `r0…r{n-1}` with router ids and node SIDs, no interfaces
/// yet (the generators add them with the links).
pub(crate) fn routers(devices: usize) -> Vec<Node> {
    (0..devices)
        .map(|i| Node {
            name: format!("r{i}"),
            role: Role::Packet,
            site: None,
            location: None,
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
            router_id: Some(Ipv4Addr::from(0x0a00_0000u32 + i as u32 + 1)),
            node_sid: Some(16_000 + i as u32),
            interfaces: Vec::new(),
            access_interfaces: Vec::new(),
        })
        .collect()
}

/// A metro-like mesh: a ring plus chords, about four links per router,
/// 0.2–3 ms links.
pub fn generated_fabric(devices: usize, seed: u64) -> Topology {
    let mut rng = Rng::new(seed);
    let nodes = routers(devices);
    let chord = ((devices as f64).sqrt() as usize).max(2);
    let mut links = Vec::new();
    let mut ports = vec![0usize; devices];
    let mut seen = BTreeSet::new();
    for i in 0..devices {
        for j in [(i + 1) % devices, (i + chord) % devices] {
            let key = (i.min(j), i.max(j));
            if i == j || !seen.insert(key) {
                continue;
            }
            let latency = 200 + rng.below(2800) as u32;
            let (pa, pb) = (ports[i], ports[j]);
            ports[i] += 1;
            ports[j] += 1;
            links.push(Link {
                name: format!("r{i}-r{j}"),
                a: Endpoint {
                    node: format!("r{i}"),
                    interface: format!("et-{pa}"),
                },
                b: Endpoint {
                    node: format!("r{j}"),
                    interface: format!("et-{pb}"),
                },
                layer: Layer::Packet,
                length_km: f64::from(latency) / 4.9,
                latency_us: latency,
                capacity_gbps: 400.0,
                te_metric: latency,
                // operators set IGP metrics from distance, so prefix SIDs mostly
                // follow low-latency paths
                igp_metric: latency / 10 + 1,
                srlgs: BTreeSet::new(),
                admin_groups: BTreeSet::new(),
                rides: Vec::new(),
                plant: None,
            });
        }
    }
    let mut t = Topology {
        name: format!("bench-{devices}"),
        nodes,
        links,
    };
    for l in &t.links.clone() {
        for end in [&l.a, &l.b] {
            if let Some(n) = t.nodes.iter_mut().find(|n| n.name == end.node) {
                n.interfaces.push(end.interface.clone());
            }
        }
    }
    t
}

#[derive(Debug, Clone)]
pub struct RerouteFigures {
    pub devices: usize,
    pub policies: usize,
    pub trials: usize,
    pub mean_affected: f64,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub compute_p50: Duration,
    pub compute_p99: Duration,
    /// Share of the moved policies whose new path was a repair-path lookup
    /// (the rest computed), on the devices.
    pub repair_hit_rate: f64,
    /// Every trial (breach → acked), sorted: the latency distribution plot.
    pub samples: Vec<Duration>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// The policy mix of the benches: random headend/endpoint pairs among the
/// routers `r0…r{devices-1}`, one color each, through the create path.
pub(crate) async fn populate(
    c: &Controller,
    devices: usize,
    policies: usize,
    seed: u64,
) -> anyhow::Result<()> {
    let mut rng = Rng::new(seed);
    let n = devices as u64;
    for i in 0..policies {
        let a = rng.below(n);
        let mut b = rng.below(n);
        if a == b {
            b = (b + 1) % n;
        }
        c.create_policy(api::CreatePolicyRequest {
            request_id: String::new(),
            spec: Some(api::PolicySpec {
                name: format!("p{i}"),
                headend: format!("r{a}"),
                endpoint: format!("r{b}"),
                // one color per policy: many may share a headend/endpoint pair
                color: 1000 + i as u32,
                // long paths across a 1,000-router ring-and-chord mesh
                constraints: Some(api::Constraints {
                    max_sid_depth: 16,
                    ..Default::default()
                }),
            }),
        })
        .await
        .map_err(|e| anyhow::anyhow!("placing policy {i}: {e}"))?;
    }
    Ok(())
}

/// How long a trial waits for the repair-path refresh before the next breach.
const SETTLE_LIMIT: Duration = Duration::from_secs(30);

/// Breach → reroute → Sets acked, then recovery and the repair-path refresh
/// they cause (neither timed), `trials` times.
async fn trials(
    c: &Arc<Controller>,
    t: &Topology,
    trials: usize,
    seed: u64,
) -> (Vec<Duration>, f64) {
    let config = HealthConfig {
        ewma_alpha: 1.0,
        hold_down: Duration::from_millis(1),
        silence_timeout: Duration::from_secs(3600),
        ..Default::default()
    };
    let mut lp = ClosedLoop::new(c.clone(), t, config);
    let mut rng = Rng::new(seed);
    let mut times = Vec::with_capacity(trials);
    let mut settle = Vec::with_capacity(trials);
    let mut affected = 0usize;
    let mut clock: u64 = 1_000_000_000;
    for _ in 0..trials {
        // a link that carries policies
        let link = loop {
            let l = &t.links[rng.below(t.links.len() as u64) as usize];
            if !c.read().policies_using(&l.name).is_empty() {
                break l.clone();
            }
        };
        let bad = f64::from(link.latency_us) * 4.0 + 5_000.0;
        clock += 10_000_000;
        let start = Instant::now();
        let action = lp
            .observe(
                &link.a.node,
                &link.a.interface,
                Reading::DelayUs(bad),
                clock,
            )
            .await;
        times.push(start.elapsed());
        affected += action
            .map(|a| a.reports.iter().map(|r| r.rerouted.len()).sum::<usize>())
            .unwrap_or(0);
        // recover: healthy reading, hold-down, restore
        clock += 10_000_000;
        lp.observe(
            &link.a.node,
            &link.a.interface,
            Reading::DelayUs(f64::from(link.latency_us)),
            clock,
        )
        .await;
        clock += 10_000_000;
        lp.tick(clock).await;
        // Breaches are seconds apart on a real fabric: the next one finds
        // the repair paths the background refresh made after this one.
        let wait = Instant::now();
        while !c.repairs_settled() && wait.elapsed() < SETTLE_LIMIT {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        settle.push(wait.elapsed());
    }
    settle.sort();
    eprintln!(
        "bench reroute: repair refresh after each breach and recovery: p50 {:.2?}, max {:.2?}",
        percentile(&settle, 0.5),
        settle.last().copied().unwrap_or_default()
    );
    times.sort();
    (times, affected as f64 / trials.max(1) as f64)
}

/// Computes every repair path before the trials (a controller does this in
/// the background after placements); returns the time and how many.
async fn warm_repairs(c: &Arc<Controller>) -> anyhow::Result<(Duration, usize)> {
    let c = c.clone();
    let t = Instant::now();
    let n = tokio::task::spawn_blocking(move || c.refresh_repairs()).await?;
    Ok((t.elapsed(), n))
}

pub async fn reroute(
    devices: usize,
    policies: usize,
    n_trials: usize,
) -> anyhow::Result<RerouteFigures> {
    let t = generated_fabric(devices, 7);
    // Peer in the same run: the same trials with no network (compute + bookkeeping only).
    let rec: Arc<dyn Programmer> = Recorder::new();
    let offline = Controller::new(t.clone(), rec, None);
    populate(&offline, t.nodes.len(), policies, 11).await?;
    let (warm, repair_paths) = warm_repairs(&offline).await?;
    eprintln!(
        "bench reroute: {devices} devices, {policies} policies: {repair_paths} repair paths computed in {warm:.2?} (offline controller)"
    );
    let stage = Instant::now();
    let before = offline.read().repairs.lookups.counts();
    let (compute, _) = trials(&offline, &t, n_trials, 13).await;
    let lookups = offline.read().repairs.lookups.counts().since(before);
    eprintln!("bench reroute: repair-path lookups offline: {lookups:?}");
    eprintln!(
        "bench reroute: {n_trials} offline trials in {:.2?}; starting {devices} simulated devices …",
        stage.elapsed()
    );

    let fabric = SimFabric::new(
        &t,
        SimOptions {
            measure_interval: Duration::from_secs(30),
            ephemeral_ports: true,
        },
    );
    fabric.start().await?;
    // The daemon every binary runs, on the simulators: the same pipeline,
    // sessions and programming as production (no journal, plaintext, and a
    // reconcile interval past the run, so only the trials program devices).
    let sessions = SessionConfig {
        sample_interval: Duration::from_secs(60),
        rpc_timeout: Duration::from_secs(30),
        queue_depth: 100_000,
        ..SessionConfig::default()
    };
    // The simulators report every 30 s (the trials feed their own readings),
    // so the daemon's own loop must not call a link silent in between: with
    // the default 5 s it degraded links while the policies were being placed.
    let options = crate::daemon_options(
        sessions,
        HealthConfig {
            silence_timeout: Duration::from_secs(3600),
            ..Default::default()
        }
        .into(),
    )?;
    let sims = fabric.clone();
    let daemon = Daemon::start(&t, &options, move |name| sims.address(name), None).await?;
    crate::all_up(&daemon, devices).await?;
    let online = daemon.controller.clone();
    let stage = Instant::now();
    populate(&online, t.nodes.len(), policies, 11).await?;
    eprintln!(
        "bench reroute: {policies} policies placed and programmed in {:.2?}",
        stage.elapsed()
    );
    let (warm, _) = warm_repairs(&online).await?;
    let (paths, bytes) = {
        let f = online.read();
        (f.repairs.paths(), f.repairs.approx_bytes())
    };
    eprintln!(
        "bench reroute: repair paths warmed in {warm:.2?} ({paths} paths, ~{:.1} MiB); {n_trials} trials on the devices …",
        bytes as f64 / f64::from(1u32 << 20)
    );
    let before = online.read().repairs.lookups.counts();
    let (times, mean_affected) = trials(&online, &t, n_trials, 13).await;
    let lookups = online.read().repairs.lookups.counts().since(before);
    eprintln!("bench reroute: repair-path lookups on the devices: {lookups:?}");
    let repair_hit_rate = lookups.hits as f64 / lookups.total().max(1) as f64;
    daemon.shutdown().await;
    fabric.shutdown().await;
    Ok(RerouteFigures {
        devices,
        policies,
        trials: n_trials,
        mean_affected,
        p50: percentile(&times, 0.5),
        p99: percentile(&times, 0.99),
        max: times.last().copied().unwrap_or_default(),
        compute_p50: percentile(&compute, 0.5),
        compute_p99: percentile(&compute, 0.99),
        repair_hit_rate,
        samples: times,
    })
}

pub fn print_header() {
    println!("\nreroute: breach sample received → all affected headends acked (make-before-break, one Set per headend)");
    println!(
        "{:>8} {:>9} {:>7} {:>13} {:>10} {:>10} {:>10} {:>12} {:>12} {:>10} {:>8}",
        "devices",
        "policies",
        "trials",
        "rerouted/brk",
        "p50",
        "p99",
        "max",
        "compute p50",
        "compute p99",
        "p99/comp",
        "lookups"
    );
}

pub fn print_row(r: &RerouteFigures) {
    let ratio = r.p99.as_secs_f64() / r.compute_p99.as_secs_f64().max(1e-9);
    println!(
        "{:>8} {:>9} {:>7} {:>13.1} {:>10.2?} {:>10.2?} {:>10.2?} {:>12.2?} {:>12.2?} {:>9.1}x {:>7.1}%",
        r.devices,
        r.policies,
        r.trials,
        r.mean_affected,
        r.p50,
        r.p99,
        r.max,
        r.compute_p50,
        r.compute_p99,
        ratio,
        r.repair_hit_rate * 100.0
    );
}

/// The latency distribution of every row as CDFs in one SVG.
pub fn plot_latency(rows: &[RerouteFigures], path: &std::path::Path) -> anyhow::Result<()> {
    let sets: Vec<(String, Vec<Duration>)> = rows
        .iter()
        .map(|r| {
            (
                format!("{} devices, {} policies", r.devices, r.policies),
                r.samples.clone(),
            )
        })
        .collect();
    super::plot::latency_cdf(path, "reroute: breach → all affected headends acked", &sets)
}
