//! Repair paths against fresh computation on random fabrics: each stored
//! repair path is the CSPF avoiding its link, and the reroute's answers are
//! the same with and without the cache, through breaches, recoveries and
//! TE changes between them.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr};

use super::*;
use crate::intent::{ConstraintsSpec, PolicySpec};
use crate::model::{Endpoint, Layer, Link, Node, Role, Topology};
use crate::plan::reroute::{self, LinkCondition, Outcome};
use crate::plan::Pools;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A ring plus random chords, random latencies (ties likely: few values).
fn topology(rng: &mut Rng, n: usize) -> Topology {
    let nodes = (0..n)
        .map(|i| Node {
            name: format!("r{i}"),
            role: Role::Packet,
            site: None,
            location: None,
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
            router_id: Some(Ipv4Addr::from(0x0a00_0001u32 + i as u32)),
            node_sid: Some(16_000 + i as u32),
            interfaces: Vec::new(),
            access_interfaces: Vec::new(),
        })
        .collect();
    let mut seen = BTreeSet::new();
    let mut links = Vec::new();
    let mut pairs: Vec<(usize, usize)> = (0..n).map(|i| (i, (i + 1) % n)).collect();
    for _ in 0..n {
        pairs.push((rng.below(n as u64) as usize, rng.below(n as u64) as usize));
    }
    for (a, b) in pairs {
        if a == b || !seen.insert((a.min(b), a.max(b))) {
            continue;
        }
        let lat = 100 * (1 + rng.below(5) as u32);
        links.push(Link {
            name: format!("r{a}-r{b}"),
            a: Endpoint {
                node: format!("r{a}"),
                interface: format!("et-{b}"),
            },
            b: Endpoint {
                node: format!("r{b}"),
                interface: format!("et-{a}"),
            },
            layer: Layer::Packet,
            length_km: 1.0,
            latency_us: lat,
            capacity_gbps: 100.0,
            te_metric: 1 + rng.below(3) as u32,
            igp_metric: 10,
            srlgs: BTreeSet::new(),
            admin_groups: BTreeSet::new(),
            rides: Vec::new(),
            plant: None,
        });
    }
    Topology {
        name: "random".into(),
        nodes,
        links,
    }
}

fn fabric(rng: &mut Rng, n: usize, policies: usize) -> Fabric {
    let mut f = Fabric::new(topology(rng, n), Pools::default());
    for i in 0..policies {
        let a = rng.below(n as u64);
        let b = (a + 1 + rng.below(n as u64 - 1)) % n as u64;
        let spec = PolicySpec {
            name: format!("p{i}"),
            headend: format!("r{a}"),
            endpoint: format!("r{b}"),
            color: 100 + i as u32,
            constraints: ConstraintsSpec {
                // some bounded, some with a SID depth that bites
                max_latency_us: if i % 3 == 0 { 1500 } else { 0 },
                max_sid_depth: if i % 4 == 0 { 2 } else { 0 },
                ..Default::default()
            },
        };
        let Ok(planned) = policy::plan_create(&f, &spec) else {
            continue;
        };
        let id = f.new_id("pol");
        f.insert_policy(planned.into_record(id, spec, None, 1));
    }
    f
}

#[test]
fn every_repair_path_is_the_cspf_avoiding_its_link() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut checked = 0;
    for _ in 0..15 {
        let mut f = fabric(&mut rng, 12, 25);
        RepairCache::refresh_all(&mut f);
        assert!(f.repairs.paths() > 0);
        let g = &f.graph;
        for p in f.policies.values() {
            for link in p.path.links(g) {
                let entry = &f.repairs.entries[&key_of(g, p).unwrap()];
                let stored = entry.avoiding[&link].found.as_ref();
                let mut c = p.constraints.clone();
                c.exclude_links.insert(link.clone());
                let src = g.node_id(&p.headend).unwrap();
                let dst = g.node_id(&p.endpoint).unwrap();
                let fresh = crate::pathcomp::cspf(g, src, dst, &c).ok();
                let fits = fresh.as_ref().and_then(|path| {
                    crate::pathcomp::compress(g, path, Some(p.max_sid_depth)).ok()
                });
                match (stored, fresh, fits) {
                    (Some((a, segs)), Some(b), Some(s)) => {
                        assert_eq!(a, &b, "{} avoiding {link}", p.id);
                        assert_eq!(segs, &s);
                    }
                    (None, _, None) | (None, None, _) => {}
                    (s, b, _) => panic!("{} avoiding {link}: stored {s:?}, fresh {b:?}", p.id),
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 200, "{checked}");
}

/// The reroute's outcomes in comparable form.
fn outcomes(f: &Fabric, ids: &[String], c: &LinkCondition) -> Vec<String> {
    reroute::plan_all(f, ids, c)
        .into_iter()
        .map(|o| match o {
            Outcome::Move(m) => format!("move {} {:?} {:?}", m.id, m.path, m.segments),
            Outcome::Same { recovered } => format!("same {recovered:?}"),
            Outcome::NoPath(s) => format!("none {s:?}"),
        })
        .collect()
}

#[test]
fn reroutes_are_the_same_with_and_without_repair_paths() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut hits = 0usize;
    let mut moves = 0usize;
    for _ in 0..12 {
        let mut f = fabric(&mut rng, 14, 30);
        RepairCache::refresh_all(&mut f);
        for step in 0..12 {
            // a TE change between breaches, sometimes
            if step % 3 == 1 {
                let l = f.topology.links[rng.below(f.topology.links.len() as u64) as usize]
                    .name
                    .clone();
                let us = 100 * (1 + rng.below(6) as u32);
                f.graph.set_link_latency(&l, us);
            }
            let links: Vec<String> = f.link_index.keys().cloned().collect();
            if links.is_empty() {
                break;
            }
            let link = links[rng.below(links.len() as u64) as usize].clone();
            let cond = if rng.below(2) == 0 {
                LinkCondition::Down
            } else {
                LinkCondition::Slow {
                    delay_us: 2000 + rng.below(3000) as u32,
                }
            };
            let ids = reroute::apply(&mut f, &link, &cond);
            let with = outcomes(&f, &ids, &cond);
            let cache = std::mem::take(&mut f.repairs);
            let without = outcomes(&f, &ids, &cond);
            f.repairs = cache;
            assert_eq!(with, without, "{link} {cond:?}");
            hits += ids
                .iter()
                .filter(|id| f.repairs.lookup(&f, &f.policies[*id], &link).is_some())
                .count();
            // commit the moves, as the controller does, then recover
            for o in reroute::plan_all(&f, &ids, &cond) {
                if let Outcome::Move(m) = o {
                    moves += 1;
                    reroute::commit_move(&mut f, m, &link, &cond);
                }
            }
            RepairCache::refresh_all(&mut f);
            let back = reroute::apply(&mut f, &link, &LinkCondition::Nominal);
            let with = outcomes(&f, &back, &LinkCondition::Nominal);
            let cache = std::mem::take(&mut f.repairs);
            assert_eq!(with, outcomes(&f, &back, &LinkCondition::Nominal));
            f.repairs = cache;
            for o in reroute::plan_all(&f, &back, &LinkCondition::Nominal) {
                if let Outcome::Move(m) = o {
                    reroute::commit_move(&mut f, m, &link, &LinkCondition::Nominal);
                }
            }
            if step % 2 == 0 {
                RepairCache::refresh_all(&mut f);
            }
        }
    }
    assert!(hits > 50, "the cache answered {hits} times");
    assert!(moves > 50, "{moves} moves");
}

#[test]
fn a_change_the_path_cannot_see_keeps_entries_and_one_it_can_drops_them() {
    let mut rng = Rng(77);
    let mut f = fabric(&mut rng, 12, 20);
    RepairCache::refresh_all(&mut f);
    let before = f.repairs.refresh(&f, usize::MAX);
    assert_eq!(before.computed(), 0, "all fresh right after a refresh");
    // a link no repair path or best path uses, made slower: nothing to redo
    let used: BTreeSet<EdgeId> = f
        .repairs
        .entries
        .values()
        .flat_map(|e| {
            e.avoiding
                .values()
                .filter_map(|p| p.found.as_ref().map(|f| f.0.edges.clone()))
                .chain(e.best.as_ref().map(|b| b.edges.clone()))
        })
        .flatten()
        .collect();
    let idle = f
        .topology
        .links
        .iter()
        .find(|l| f.graph.edges_of_link(&l.name).all(|e| !used.contains(&e)))
        .map(|l| l.name.clone());
    if let Some(idle) = idle {
        f.graph.set_link_latency(&idle, 9_000);
        assert_eq!(f.repairs.refresh(&f, usize::MAX).computed(), 0);
        // and made faster than ever: anything may now prefer it
        f.graph.set_link_latency(&idle, 1);
        assert!(f.repairs.refresh(&f, usize::MAX).computed() > 0);
    }
}
