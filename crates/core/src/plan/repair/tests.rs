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
                let stored = entry.avoiding[&link].now.found.as_deref();
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
                .filter(|id| {
                    f.repairs
                        .lookup(&f, &mut Changes::new(&f.graph), &f.policies[*id], &link)
                        .is_some()
                })
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
                .flat_map(Two::iter)
                .filter_map(|p| p.found.as_ref().map(|f| f.0.edges.clone()))
                .chain(e.best.iter().flat_map(Two::iter).map(|b| b.edges.clone()))
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

/// A pass driven as the controller drives it: scans of `budget` policies,
/// computed on a copy of the graph taken when the pass starts.
fn pass_in_chunks(f: &mut Fabric, budget: usize) -> usize {
    let g = f.graph.clone();
    let mut spf = IgpSpf::new(&g);
    let mut pass = Pass::default();
    let mut computed = 0;
    loop {
        let work = f.repairs.scan(f, &mut pass, budget);
        let r = compute(&g, &mut spf, &work);
        computed += r.computed();
        f.repairs.absorb(r);
        if pass.done() {
            f.repairs.finish(pass);
            return computed;
        }
    }
}

/// Every stored repair path, by entry and link.
fn stored(c: &RepairCache) -> BTreeSet<(String, String, Option<Vec<EdgeId>>)> {
    c.entries
        .iter()
        .flat_map(|(k, e)| {
            e.avoiding.iter().map(move |(l, two)| {
                let edges = two.now.found.as_ref().map(|f| f.0.edges.clone());
                (format!("{k:?}"), l.clone(), edges)
            })
        })
        .collect()
}

#[test]
fn a_pass_in_chunks_equals_one_pass_and_then_walks_only_what_was_placed() {
    for seed in [5u64, 6, 7] {
        let mut whole = fabric(&mut Rng(seed), 14, 30);
        let mut chunked = fabric(&mut Rng(seed), 14, 30);
        RepairCache::refresh_all(&mut whole);
        assert!(pass_in_chunks(&mut chunked, 3) > 0);
        assert_eq!(stored(&whole.repairs), stored(&chunked.repairs));
        assert_eq!(pass_in_chunks(&mut chunked, 3), 0, "nothing left to do");

        // An entry lost behind the cache's back: an incremental pass (only
        // placements since) does not look at its policy, a full one does.
        let victim = chunked
            .repairs
            .entries
            .iter()
            .find_map(|(k, e)| e.avoiding.keys().next().map(|l| (k.clone(), l.clone())));
        let Some((key, link)) = victim else { continue };
        if let Some(e) = chunked.repairs.entries.get_mut(&key) {
            if let Some(two) = e.avoiding.remove(&link) {
                chunked.repairs.paths -= two.len();
            }
        }
        assert_eq!(pass_in_chunks(&mut chunked, 3), 0, "incremental");
        // a TE change anywhere makes the next pass walk every policy
        let any = chunked.topology.links[0].name.clone();
        chunked.graph.set_link_latency(&any, 7_777);
        assert!(pass_in_chunks(&mut chunked, 3) >= 1);
        assert!(chunked.repairs.entries[&key].avoiding.contains_key(&link));

        // A policy placed since: the incremental pass computes its entries.
        let (a, b) = (
            chunked.topology.nodes[0].name.clone(),
            chunked.topology.nodes[7].name.clone(),
        );
        let spec = PolicySpec {
            name: "late".into(),
            headend: a,
            endpoint: b,
            color: 9_999,
            constraints: ConstraintsSpec {
                max_latency_us: 4321,
                ..Default::default()
            },
        };
        let planned = policy::plan_create(&chunked, &spec).expect("placeable on a ring");
        let id = chunked.new_id("pol");
        chunked.insert_policy(planned.into_record(id.clone(), spec, None, 1));
        let rides = chunked.policies[&id].path.links(&chunked.graph).len();
        assert_eq!(
            pass_in_chunks(&mut chunked, 3),
            rides + 1,
            "its links and its best path"
        );
    }
}

#[test]
fn a_link_that_recovers_makes_the_answers_from_before_its_degradation_fresh_again() {
    let mut rng = Rng(4242);
    let mut f = fabric(&mut rng, 14, 30);
    RepairCache::refresh_all(&mut f);
    let before = stored(&f.repairs);
    // the busiest link slows down: the answers around it are recomputed
    let link = f
        .link_index
        .iter()
        .max_by_key(|(_, users)| users.len())
        .map(|(l, _)| l.clone())
        .expect("policies ride links");
    let nominal = f.topology.link(&link).map(|l| l.latency_us).unwrap_or(100);
    f.graph.set_link_latency(&link, nominal * 20);
    assert!(pass_in_chunks(&mut f, 4) > 0, "a slowdown on used links");
    // and recovers: nothing to compute, the earlier answers hold again
    f.graph.set_link_latency(&link, nominal);
    assert_eq!(pass_in_chunks(&mut f, 4), 0);
    assert_eq!(f.repairs.refresh(&f, usize::MAX).computed(), 0);
    // and then fails: every policy on it finds the answer from before
    f.graph.set_link_pruned(&link, true);
    let ids: Vec<String> = f.link_index[&link].iter().cloned().collect();
    let mut hits = 0;
    for id in &ids {
        let p = &f.policies[id];
        let found = f.repairs.known(&f, &mut Changes::new(&f.graph), p, &link);
        if let Ok((path, _)) = found {
            let key = format!("{:?}", key_of(&f.graph, p).unwrap());
            assert!(before.contains(&(key, link.clone(), Some(path.edges))));
            hits += 1;
        }
    }
    assert!(hits > 0, "no policy on {link} found its repair path");
}

#[test]
fn repathing_a_policy_equals_removing_it_and_placing_it_again() {
    // two equal fabrics: one repathed, one removed and placed again
    let mut f = fabric(&mut Rng(99), 12, 25);
    let mut again = fabric(&mut Rng(99), 12, 25);
    let ids: Vec<String> = f.policies.keys().cloned().collect();
    for (i, id) in ids.iter().enumerate() {
        // somewhere else: the best path avoiding its first link
        let p = &f.policies[id];
        let mut intent = policy::intent_of(p);
        let Some(first) = p.path.links(&f.graph).into_iter().next() else {
            continue;
        };
        intent.constraints.exclude_links.insert(first);
        let g = f.graph.clone();
        let Ok(placed) = policy::place_on(&g, &mut IgpSpf::new(&g), &intent, "test", &|_| None)
        else {
            continue;
        };
        let mut record = again.remove_policy(id).expect("placed");
        record.path = placed.path.clone();
        again.insert_policy(record);
        let left = f.repath_policy(id, placed.path).expect("placed");
        assert!(!left.is_empty());
        assert!(f.link_index == again.link_index, "policy {i}");
        assert_eq!(f.graph, again.graph);
        assert_eq!(f.policies[id].path, again.policies[id].path);
    }
}

#[test]
fn a_policy_moved_while_a_pass_runs_is_looked_at_by_the_next_one() {
    let mut f = fabric(&mut Rng(31), 12, 20);
    RepairCache::refresh_all(&mut f);
    let id = f.policies.keys().next().cloned().expect("placed");
    f.repairs.touch(&id);
    // a pass takes it, and it is placed again before the pass ends
    let mut pass = Pass::default();
    let work = f.repairs.scan(&f, &mut pass, usize::MAX);
    assert!(pass.done() && pass.taken.iter().any(|(t, _)| *t == id));
    let g = f.graph.clone();
    let r = compute(&g, &mut IgpSpf::new(&g), &work);
    f.repairs.absorb(r);
    f.repairs.touch(&id);
    f.repairs.finish(pass);
    assert!(f.repairs.dirty.contains_key(&id), "the later touch is kept");
    // so the next (incremental) pass walks it: its lost entries come back
    let key = key_of(&f.graph, &f.policies[&id]).expect("known ends");
    let lost = f
        .repairs
        .entries
        .remove(&key)
        .map_or(0, |e| e.avoiding.values().map(Two::len).sum::<usize>());
    f.repairs.paths -= lost;
    assert!(pass_in_chunks(&mut f, 4) > 0);
    assert!(f.repairs.entries.contains_key(&key));
    assert!(!f.repairs.dirty.contains_key(&id));
}
