//! `strata bench whatif`: what-if latency over random single-link and
//! single-SRLG failures, and the whole survivability table (every SRLG, every
//! node), on the reroute bench's generated fabric with SRLGs added (each link
//! in one of `devices / 2` random conduits) and policies placed through the
//! planner. Pure computation: no daemon, no devices — what the API adds is
//! the clone under the read lock, measured separately ("snapshot").

use std::time::{Duration, Instant};

use super::reroute::generated_fabric;
use super::rng::Rng;
use strata_core::intent::{ConstraintsSpec, PolicySpec};
use strata_core::plan::whatif::{self, Element, View};
use strata_core::plan::{policy, Fabric, Pools};

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub devices: usize,
    pub policies: usize,
    pub trials: usize,
    pub seed: u64,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// The bench fabric: the reroute bench's mesh, SRLGs on every link, and
/// `policies` random policies placed one by one as creates would.
pub fn fabric(devices: usize, policies: usize, seed: u64) -> anyhow::Result<Fabric> {
    let mut topology = generated_fabric(devices, seed);
    let mut rng = Rng::new(seed ^ 0x5a5a);
    let conduits = (devices as u64 / 2).max(1);
    for l in &mut topology.links {
        l.srlgs.insert(1 + rng.below(conduits) as u32);
    }
    let mut f = Fabric::new(topology, Pools::default());
    let n = devices as u64;
    for i in 0..policies {
        let a = rng.below(n);
        let mut b = rng.below(n);
        if a == b {
            b = (b + 1) % n;
        }
        let spec = PolicySpec {
            name: format!("p{i}"),
            headend: format!("r{a}"),
            endpoint: format!("r{b}"),
            color: 1000 + i as u32,
            constraints: ConstraintsSpec {
                max_sid_depth: 16,
                // Some bandwidth, so re-placements compete for capacity.
                bandwidth_gbps: if i % 4 == 0 { 10.0 } else { 0.0 },
                ..Default::default()
            },
        };
        let planned = policy::plan_create(&f, &spec)
            .map_err(|e| anyhow::anyhow!("placing policy {i}: {e}"))?;
        let id = f.new_id("pol");
        f.hold_policy(planned.into_record(id.clone(), spec, None, 1));
        f.reveal([&id]);
    }
    Ok(f)
}

pub fn run(o: Options) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let f = fabric(o.devices, o.policies, o.seed)?;
    eprintln!(
        "bench whatif: {} devices, {} links, {} policies placed in {:.1?}",
        o.devices,
        f.topology.links.len(),
        f.policies.len(),
        t0.elapsed()
    );
    let mut rng = Rng::new(o.seed ^ 0xf00d);
    let all = View::all(&f);
    let srlgs: Vec<Element> = all
        .elements()
        .into_iter()
        .filter(|e| matches!(e, Element::Srlg(_)))
        .collect();
    let mut total = Vec::with_capacity(o.trials);
    let mut cold = Vec::with_capacity(o.trials);
    let mut snapshot = Vec::with_capacity(o.trials);
    // What the API keeps between what-ifs: the IGP trees.
    let mut trees = strata_core::pathcomp::IgpTrees::default();
    let mut affected = 0usize;
    let mut stranded = 0usize;
    for t in 0..o.trials {
        let element = if t % 2 == 0 {
            let l = &f.topology.links[rng.index(f.topology.links.len())];
            Element::Link(l.name.clone())
        } else {
            srlgs[rng.index(srlgs.len())].clone()
        };
        let failure = element.failure();
        let start = Instant::now();
        // What the API does: the scoped clone (under the read lock), then
        // the computation on it.
        let view = View::for_failure(&f, &failure).map_err(|e| anyhow::anyhow!("{e}"))?;
        let cloned = start.elapsed();
        let report = view
            .what_if_with(&failure, &mut trees)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        total.push(start.elapsed());
        snapshot.push(cloned);
        // The in-run peer: the same what-if with IGP trees built afresh
        // (what every what-if did before they were kept); same answer.
        let start = Instant::now();
        let view = View::for_failure(&f, &failure).map_err(|e| anyhow::anyhow!("{e}"))?;
        let fresh = view.what_if(&failure).map_err(|e| anyhow::anyhow!("{e}"))?;
        cold.push(start.elapsed());
        anyhow::ensure!(
            fresh == report,
            "{element}: kept IGP trees changed the answer"
        );
        affected += report.policies.len();
        stranded += report.summary().stranded_policies.len();
    }
    total.sort();
    cold.sort();
    snapshot.sort();
    println!(
        "| devices | policies | trials | mean affected | mean stranded | what-if p50 | p99 | max | snapshot p50 | p99 | fresh IGP trees (peer) p50 | p99 |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let trials = o.trials.max(1) as f64;
    println!(
        "| {} | {} | {} | {:.1} | {:.2} | {:.2?} | {:.2?} | {:.2?} | {:.2?} | {:.2?} | {:.2?} | {:.2?} |",
        o.devices,
        o.policies,
        o.trials,
        affected as f64 / trials,
        stranded as f64 / trials,
        percentile(&total, 0.5),
        percentile(&total, 0.99),
        total.last().copied().unwrap_or_default(),
        percentile(&snapshot, 0.5),
        percentile(&snapshot, 0.99),
        percentile(&cold, 0.5),
        percentile(&cold, 0.99),
    );

    let start = Instant::now();
    let view = View::all(&f);
    let cloned = start.elapsed();
    let elements = view.elements();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // The API's run (every core), then the single-threaded peer on the same
    // view: the ratio is what the threads buy on this machine.
    let mut runs = Vec::new();
    for workers in [cores, 1] {
        let mut last = Instant::now();
        let start = Instant::now();
        let table = view.survivability_on(&elements, workers, |done, total| {
            if last.elapsed() >= Duration::from_secs(2) || done == total {
                eprintln!("bench whatif: survivability on {workers} threads {done}/{total}");
                last = Instant::now();
            }
            true
        });
        runs.push((workers, start.elapsed(), table));
        if cores == 1 {
            break;
        }
    }
    let (_, took, table) = &runs[0];
    let single = runs.get(1).map_or(*took, |r| r.1);
    anyhow::ensure!(
        runs.iter().all(|r| &r.2 == table),
        "the threaded survivability table differs from the single-threaded one"
    );
    let failing = table.iter().filter(|(_, s)| !s.survives()).count();
    let stranded: usize = table.iter().map(|(_, s)| s.stranded_policies.len()).sum();
    println!();
    println!("| devices | policies | elements (SRLGs + nodes) | not survived | stranded (sum) | snapshot | threads | survivability total | 1 thread (peer) | speed-up |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {} | {} ({} + {}) | {} | {} | {:.1?} | {} | {:.2?} | {:.2?} | {:.2}× |",
        o.devices,
        o.policies,
        elements.len(),
        srlgs.len(),
        elements.len() - srlgs.len(),
        failing,
        stranded,
        cloned,
        cores,
        took,
        single,
        single.as_secs_f64() / took.as_secs_f64().max(1e-9),
    );
    // The same computation the API's what-if runs, so a summary can be
    // checked against it (and the bench cannot drift from it).
    if let Some((e, s)) = table.first() {
        let alone = whatif::what_if(&f, &e.failure())
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .summary();
        anyhow::ensure!(&alone == s, "{e}: survivability disagrees with what-if");
    }
    Ok(())
}
