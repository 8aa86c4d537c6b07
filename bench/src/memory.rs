//! `strata bench memory`: resident memory of one controller as it takes on a
//! fabric (devices, links), policies, and a closed-loop reroute.
//!
//! Each configuration runs in a fresh child process (this binary re-invoked
//! with `--child`), so one configuration's freed-but-kept heap never counts
//! toward another's. The in-run peers are a half-size configuration (does
//! memory grow linearly, what is fixed) and a compact floor (the bytes the
//! information itself needs), so bytes per link and per policy can be judged.
//! Built with `--features alloc-count`, the child also counts live heap bytes
//! and attributes them to the controller's big structures.

mod counting;
mod dense;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::controller::closed_loop::ClosedLoop;
use crate::controller::events::{EventLog, WatchRefused};
use crate::controller::programmer::Programmer;
use crate::controller::Controller;
use crate::proto::gnmi::SetRequest;
use crate::proto::strata::v1 as api;
use crate::southbound::SouthboundError;
use crate::telemetry::health::{HealthConfig, Reading};

pub use counting::{heap_of, held_now, held_since, live_allocations, live_bytes, Held};
pub use dense::dense_fabric;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    pub devices: usize,
    pub policies: usize,
    pub links: usize,
}

/// Memory at one point of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stage {
    pub name: String,
    pub rss_kib: u64,
    pub hwm_kib: u64,
    /// Live heap bytes (only with `alloc-count`).
    pub heap: Option<u64>,
    /// Live heap allocations (only with `alloc-count`).
    pub allocs: Option<u64>,
}

/// Heap bytes held by one structure.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Part {
    pub name: String,
    pub bytes: u64,
    pub allocations: u64,
    /// What the bytes are divided by in the report (links, policies, …).
    pub per: Option<(String, u64)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Figures {
    pub config: Config,
    pub stages: Vec<Stage>,
    pub parts: Vec<Part>,
    pub busiest_link: String,
    pub policies_on_busiest: usize,
    pub rerouted: usize,
    pub retained_events: usize,
    /// Bytes a compact encoding needs: per policy (headend, endpoint, color,
    /// edge ids, SID labels) and per link (two directed edges with their TE
    /// attributes, four adjacency entries, the name once).
    pub floor_per_policy: f64,
    pub floor_per_link: f64,
    /// Inline sizes (`size_of`) of the types the structures are made of.
    pub sizes: Vec<(String, usize)>,
}

fn inline_sizes() -> Vec<(String, usize)> {
    use std::mem::size_of;
    [
        ("PolicyRecord", size_of::<crate::controller::PolicyRecord>()),
        ("api::Event", size_of::<api::Event>()),
        ("model::Link", size_of::<crate::model::Link>()),
        ("TeEdge", size_of::<strata_core::pathcomp::TeEdge>()),
        (
            "LinkHealth",
            size_of::<crate::telemetry::health::LinkHealth>(),
        ),
    ]
    .into_iter()
    .map(|(n, s)| (n.to_string(), s))
    .collect()
}

/// Accepts every Set and keeps nothing: the recording programmer would hold
/// every rendered request and be counted as controller memory.
#[derive(Default)]
struct Discard {
    sets: AtomicUsize,
}

#[tonic::async_trait]
impl Programmer for Discard {
    async fn set(&self, _device: &str, _req: SetRequest) -> Result<(), SouthboundError> {
        self.sets.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// (VmRSS, VmHWM) in KiB from /proc/self/status; zeros where there is none.
fn proc_status() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn stage(name: &str) -> Stage {
    let (rss_kib, hwm_kib) = proc_status();
    Stage {
        name: name.to_string(),
        rss_kib,
        hwm_kib,
        heap: live_bytes(),
        allocs: live_allocations(),
    }
}

/// What a policy needs at the least, for the floor.
#[allow(dead_code)]
struct CompactPolicy {
    headend: u32,
    endpoint: u32,
    color: u32,
    edges: Box<[u32]>,
    labels: Box<[u32]>,
}

/// One direction of a link in a compact graph, for the floor.
#[allow(dead_code)]
struct CompactEdge {
    from: u32,
    to: u32,
    latency_us: u32,
    te_metric: u32,
    igp_metric: u32,
    adj_sid: u32,
    capacity_gbps: f32,
    reserved_gbps: f32,
    up_pruned: u8,
}

/// Events the log still holds (a watch from the oldest one replays them).
fn retained(events: &EventLog) -> Vec<Arc<strata_daemon::object::Event>> {
    match events.watch(1) {
        Ok((replay, _)) => replay,
        Err(WatchRefused::Compacted { oldest_available }) => events
            .watch(oldest_available.saturating_sub(1))
            .map(|(replay, _)| replay)
            .unwrap_or_default(),
        // Nothing published yet: nothing retained.
        Err(WatchRefused::Future { .. }) => Vec::new(),
    }
}

/// The child's side: builds one configuration stage by stage in this process.
pub async fn measure(config: Config) -> anyhow::Result<Figures> {
    let Config {
        devices,
        policies,
        links,
    } = config;
    let mut stages = vec![stage("baseline (process, runtime)")];

    let topology = dense_fabric(devices, links, 7)?;
    stages.push(stage("topology generated"));

    let programmer = Arc::new(Discard::default());
    let c = Controller::new(topology, programmer.clone(), None);
    stages.push(stage("controller built (TE graph, logs)"));

    eprintln!("bench memory: placing {policies} policies …");
    super::reroute::populate(&c, devices, policies, 11).await?;
    stages.push(stage("policies placed"));

    let health = HealthConfig {
        ewma_alpha: 1.0,
        hold_down: Duration::from_millis(1),
        silence_timeout: Duration::from_secs(3600),
        ..Default::default()
    };
    let loop_before = held_now();
    let mut lp = {
        let inner = c.read();
        ClosedLoop::new(c.clone(), &inner.topology, health)
    };
    let loop_held = held_since(loop_before);
    stages.push(stage("closed loop built (link health)"));

    let (busiest, on_busiest, link) = {
        let inner = c.read();
        let (name, set) = inner
            .link_index()
            .iter()
            .max_by_key(|(name, set)| (set.len(), std::cmp::Reverse(name.as_str())))
            .ok_or_else(|| anyhow::anyhow!("no link carries a policy"))?;
        let link = inner
            .topology
            .link(name)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("indexed link {name} is not in the topology"))?;
        (name.clone(), set.len(), link)
    };
    let bad = f64::from(link.latency_us) * 4.0 + 5_000.0;
    let action = lp
        .observe(
            &link.a.node,
            &link.a.interface,
            Reading::DelayUs(bad),
            1_010_000_000,
        )
        .await;
    let rerouted = action
        .map(|a| a.reports.iter().map(|r| r.rerouted.len()).sum::<usize>())
        .unwrap_or(0);
    stages.push(stage("1 closed-loop reroute"));

    let events = retained(c.events());
    let retained_events = events.len();

    let inner = c.read();
    let floor_per_policy = inner
        .policies
        .values()
        .map(|p| {
            (std::mem::size_of::<CompactPolicy>() + 4 * (p.path.edges.len() + p.segments.len()))
                as f64
        })
        .sum::<f64>()
        / inner.policies.len().max(1) as f64;
    let floor_per_link = inner
        .topology
        .links
        .iter()
        .map(|l| (2 * std::mem::size_of::<CompactEdge>() + 4 * 4 + 16 + l.name.len()) as f64)
        .sum::<f64>()
        / inner.topology.links.len().max(1) as f64;

    // Clones measure what each structure holds; they run after the last
    // stage so their transient copies touch no reported figure but VmHWM.
    let mut parts = Vec::new();
    let per_link = Some(("link".to_string(), links as u64));
    let per_policy = Some(("policy".to_string(), policies as u64));
    let mut part = |name: &str, held: Option<Held>, per: Option<(String, u64)>| {
        if let Some(held) = held {
            parts.push(Part {
                name: name.to_string(),
                bytes: held.bytes,
                allocations: held.allocations,
                per,
            });
        }
    };
    part(
        "topology (nodes, links)",
        heap_of(|| inner.topology.clone()),
        per_link.clone(),
    );
    part(
        "TE graph (2 edges/link, indexes)",
        heap_of(|| inner.graph.clone()),
        per_link.clone(),
    );
    part(
        "closed loop (link health, port map)",
        loop_held,
        per_link.clone(),
    );
    part(
        "policy records",
        heap_of(|| inner.policies.clone()),
        per_policy.clone(),
    );
    part(
        "link → policy index",
        heap_of(|| inner.link_index().clone()),
        per_policy.clone(),
    );
    part(
        &format!("event ring ({retained_events} events)"),
        heap_of(|| {
            events
                .iter()
                .map(|e| strata_daemon::object::Event::clone(e))
                .collect::<Vec<_>>()
        }),
        Some(("event".to_string(), retained_events as u64)),
    );
    part(
        "event log broadcast slots (fixed)",
        heap_of(EventLog::default),
        None,
    );
    part(
        "telemetry broadcast slots (fixed)",
        heap_of(|| {
            tokio::sync::broadcast::channel::<strata_daemon::object::TelemetrySample>(16_384)
        }),
        None,
    );
    drop(inner);
    eprintln!(
        "bench memory: {} Sets discarded, {rerouted} policies rerouted off {busiest}",
        programmer.sets.load(Ordering::Relaxed)
    );
    Ok(Figures {
        config,
        stages,
        parts,
        busiest_link: busiest,
        policies_on_busiest: on_busiest,
        rerouted,
        retained_events,
        floor_per_policy,
        floor_per_link,
        sizes: inline_sizes(),
    })
}

/// Child entry point: measures and prints the figures as one JSON line.
pub async fn child(config: Config) -> anyhow::Result<()> {
    let figures = measure(config).await?;
    println!("{}", serde_json::to_string(&figures)?);
    Ok(())
}

/// Runs `config` in a fresh process of this binary and reads its figures.
fn spawn(config: Config) -> anyhow::Result<Figures> {
    let exe = std::env::current_exe()?;
    let out = std::process::Command::new(exe)
        .args(["bench", "memory", "--child"])
        .args(["--devices", &config.devices.to_string()])
        .args(["--policies", &config.policies.to_string()])
        .args(["--links", &config.links.to_string()])
        .stderr(std::process::Stdio::inherit())
        .output()?;
    if !out.status.success() {
        anyhow::bail!("measuring {config:?} failed ({})", out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| anyhow::anyhow!("the child printed no figures"))?;
    Ok(serde_json::from_str(line)?)
}

/// Parent side: the requested configuration and (with `peer`) a half-size
/// one, each in its own process, then the tables.
pub fn run(config: Config, peer: bool) -> anyhow::Result<()> {
    let mut runs = Vec::new();
    if peer {
        let half = Config {
            devices: config.devices,
            policies: config.policies / 2,
            links: config.links / 2,
        };
        eprintln!("bench memory: peer run {half:?} …");
        runs.push(spawn(half)?);
    }
    eprintln!("bench memory: {config:?} …");
    runs.push(spawn(config)?);
    print_stages(&runs);
    print_per_unit(&runs);
    if let Some(full) = runs.last() {
        print_parts(full);
    }
    Ok(())
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

fn mib_b(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}

fn signed_mib(kib: i64) -> String {
    format!("{:+.1}", kib as f64 / 1024.0)
}

/// What a stage's growth is divided by, if anything.
fn unit_of(stage: usize, c: &Config) -> Option<(&'static str, usize)> {
    match stage {
        1 | 2 | 4 => Some(("link", c.links)),
        3 => Some(("policy", c.policies)),
        _ => None,
    }
}

pub fn print_stages(runs: &[Figures]) {
    println!("\nmemory: one controller per fresh process (MiB; Δ from the previous stage; heap = live allocations, --features alloc-count)");
    println!(
        "{:>7} {:>8} {:>7}  {:<34} {:>8} {:>8} {:>8} {:>8} {:>8}  {:>14}",
        "devices",
        "policies",
        "links",
        "stage",
        "VmRSS",
        "VmHWM",
        "ΔRSS",
        "heap",
        "Δheap",
        "per unit (RSS)"
    );
    for r in runs {
        let c = &r.config;
        for (i, s) in r.stages.iter().enumerate() {
            let prev = i.checked_sub(1).map(|p| &r.stages[p]);
            let d_rss = prev.map(|p| s.rss_kib as i64 - p.rss_kib as i64);
            let d_heap = prev
                .and_then(|p| Some(s.heap? as i64 - p.heap? as i64))
                .map(|b| format!("{:+.1}", b as f64 / (1024.0 * 1024.0)));
            let per = match (unit_of(i, c), d_rss) {
                (Some((unit, n)), Some(d)) if n > 0 => {
                    format!("{:.0} B/{unit}", d as f64 * 1024.0 / n as f64)
                }
                _ => String::new(),
            };
            let (dv, pv, lv) = if i == 0 {
                (
                    c.devices.to_string(),
                    c.policies.to_string(),
                    c.links.to_string(),
                )
            } else {
                Default::default()
            };
            println!(
                "{:>7} {:>8} {:>7}  {:<34} {:>8} {:>8} {:>8} {:>8} {:>8}  {:>14}",
                dv,
                pv,
                lv,
                s.name,
                mib(s.rss_kib),
                mib(s.hwm_kib),
                d_rss.map(signed_mib).unwrap_or_default(),
                s.heap.map(mib_b).unwrap_or_else(|| "-".into()),
                d_heap.unwrap_or_default(),
                per
            );
        }
        println!(
            "{:>27}  busiest link {} carried {} policies; {} rerouted; {} events retained",
            "", r.busiest_link, r.policies_on_busiest, r.rerouted, r.retained_events
        );
    }
}

/// Bytes a run grew by for its links (topology, controller and closed-loop
/// stages) or its policies (the policies stage): bytes of RSS or live heap,
/// or the number of live allocations.
fn growth(r: &Figures, unit: &str, basis: &str) -> Option<f64> {
    let at = |i: usize| -> Option<f64> {
        let s = r.stages.get(i)?;
        match basis {
            "heap" => s.heap.map(|b| b as f64),
            "allocs" => s.allocs.map(|n| n as f64),
            _ => Some(s.rss_kib as f64 * 1024.0),
        }
    };
    match unit {
        "link" => Some(at(2)? - at(0)? + at(4)? - at(3)?),
        _ => Some(at(3)? - at(2)?),
    }
}

fn count(c: &Config, unit: &str) -> usize {
    match unit {
        "link" => c.links,
        _ => c.policies,
    }
}

/// Bytes per link and per policy: each run's own, the marginal between the
/// two runs (fixed costs cancel), and the compact floor.
pub fn print_per_unit(runs: &[Figures]) {
    let Some(full) = runs.last() else { return };
    let half = runs.len().checked_sub(2).map(|i| &runs[i]);
    println!("\nmemory per unit (bytes, or live allocations): own = run's growth / its count (fixed costs included); marginal = (full − half) / Δcount; floor = compact encoding");
    println!(
        "{:<8} {:<6} {:>12} {:>12} {:>12} {:>8} {:>9}",
        "unit", "basis", "half run", "full run", "marginal", "floor", "×floor"
    );
    for (unit, basis) in [
        ("link", "RSS"),
        ("link", "heap"),
        ("link", "allocs"),
        ("policy", "RSS"),
        ("policy", "heap"),
        ("policy", "allocs"),
    ] {
        let Some(f) = growth(full, unit, basis) else {
            continue;
        };
        let n_full = count(&full.config, unit);
        let h = half.and_then(|h| Some((growth(h, unit, basis)?, count(&h.config, unit))));
        let marginal = h
            .filter(|&(_, n)| n_full > n)
            .map(|(g, n)| (f - g) / (n_full - n) as f64);
        let floor = if unit == "link" {
            full.floor_per_link
        } else {
            full.floor_per_policy
        };
        let own = f / n_full.max(1) as f64;
        let (digits, versus) = if basis == "allocs" {
            // the floor is about bytes; allocations are shown as counted
            (1, (String::new(), String::new()))
        } else {
            let times = marginal.unwrap_or(own) / floor.max(1.0);
            (0, (format!("{floor:.0}"), format!("{times:.1}x")))
        };
        println!(
            "{:<8} {:<6} {:>12} {:>12.*} {:>12} {:>8} {:>9}",
            unit,
            basis,
            h.map(|(g, n)| format!("{:.*}", digits, g / n.max(1) as f64))
                .unwrap_or_default(),
            digits,
            own,
            marginal
                .map(|m| format!("{m:.*}", digits))
                .unwrap_or_default(),
            versus.0,
            versus.1
        );
    }
}

/// Which structures hold the heap at the end of the full run.
pub fn print_parts(r: &Figures) {
    let Some(total) = r.stages.last().and_then(|s| s.heap) else {
        println!("\n(heap breakdown: rebuild with `--features alloc-count`)");
        return;
    };
    let baseline = r.stages[0].heap.unwrap_or(0);
    println!(
        "\nheap by structure at the end of the {}-device run (clone-measured; live heap {} MiB, {} MiB over baseline)",
        r.config.devices,
        mib_b(total),
        mib_b(total.saturating_sub(baseline))
    );
    println!(
        "{:<40} {:>10} {:>7} {:>28}",
        "structure", "MiB", "share", "per unit"
    );
    let grown = total.saturating_sub(baseline).max(1) as f64;
    let mut sorted: Vec<&Part> = r.parts.iter().collect();
    sorted.sort_by_key(|p| std::cmp::Reverse(p.bytes));
    let mut accounted = 0;
    for p in sorted {
        accounted += p.bytes;
        let per = p
            .per
            .as_ref()
            .filter(|(_, n)| *n > 0)
            .map(|(u, n)| {
                format!(
                    "{:.0} B, {:.1} allocs /{u}",
                    p.bytes as f64 / *n as f64,
                    p.allocations as f64 / *n as f64
                )
            })
            .unwrap_or_default();
        println!(
            "{:<40} {:>10} {:>6.1}% {:>28}",
            p.name,
            mib_b(p.bytes),
            p.bytes as f64 * 100.0 / grown,
            per
        );
    }
    let rest = total.saturating_sub(baseline).saturating_sub(accounted);
    let sizes: Vec<String> = r.sizes.iter().map(|(n, s)| format!("{n} {s} B")).collect();
    println!(
        "{:<40} {:>10} {:>6.1}%",
        "other (metrics, maps, allocator slack)",
        mib_b(rest),
        rest as f64 * 100.0 / grown
    );
    println!("inline sizes: {}", sizes.join(", "));
}
