//! Fabrics with a chosen number of links: 100k links over 1k routers is ~200
//! links per router, far past what `generated_fabric`'s ring and chords give.

use std::collections::BTreeSet;

use crate::model::{Endpoint, Layer, Link, Topology};

use crate::rng::Rng;

/// Ring offsets in the order links are laid: the ring itself (so every
/// fabric is connected), the √n chord, then the other offsets shuffled.
/// Past n/2 an offset would only repeat the pairs of n−k (and at exactly n/2,
/// for even n, each pair comes up twice: a parallel link).
fn offsets(devices: usize, rng: &mut Rng) -> Vec<usize> {
    let chord = ((devices as f64).sqrt() as usize).max(2);
    let half = devices / 2;
    let mut rest: Vec<usize> = (2..=half).filter(|&k| k != chord).collect();
    for i in (1..rest.len()).rev() {
        rest.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let mut out = vec![1];
    if chord <= half && chord != 1 {
        out.push(chord);
    }
    out.extend(rest);
    out
}

/// `devices` packet routers and exactly `links` packet links, 0.2–3 ms each.
/// Router i links to i+k for each ring offset k in turn; once every pair is
/// linked the offsets start over with parallel links (`r0-r1~1`), which the
/// topology rules allow as long as names and ports are distinct.
pub fn dense_fabric(devices: usize, links: usize, seed: u64) -> anyhow::Result<Topology> {
    if devices < 2 {
        anyhow::bail!("a fabric with links needs at least 2 devices, got {devices}");
    }
    let mut rng = Rng::new(seed);
    let mut nodes = crate::reroute::routers(devices);
    let offsets = offsets(devices, &mut rng);
    let mut out = Vec::with_capacity(links);
    'rounds: for round in 0.. {
        let k = offsets[round % offsets.len()];
        let parallel = round / offsets.len();
        for i in 0..devices {
            if out.len() == links {
                break 'rounds;
            }
            let j = (i + k) % devices;
            let latency = 200 + rng.below(2800) as u32;
            let mut end = |n: usize| {
                let interface = format!("et-{}", nodes[n].interfaces.len());
                nodes[n].interfaces.push(interface.clone());
                Endpoint {
                    node: format!("r{n}"),
                    interface,
                }
            };
            let (a, b) = (end(i), end(j));
            out.push(Link {
                name: if parallel == 0 {
                    format!("r{i}-r{j}")
                } else {
                    format!("r{i}-r{j}~{parallel}")
                },
                a,
                b,
                layer: Layer::Packet,
                length_km: f64::from(latency) / 4.9,
                latency_us: latency,
                capacity_gbps: 400.0,
                te_metric: latency,
                igp_metric: latency / 10 + 1,
                srlgs: BTreeSet::new(),
                admin_groups: BTreeSet::new(),
                rides: Vec::new(),
                plant: None,
            });
        }
    }
    Ok(Topology {
        name: format!("bench-{devices}x{links}"),
        nodes,
        links: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write;

    /// The topology file a generated fabric would be loaded from. Files need
    /// distinct device addresses; generated fabrics leave ports to the OS.
    fn as_file(t: &Topology) -> String {
        let mut s = format!("name: {}\nnodes:\n", t.name);
        for (i, n) in t.nodes.iter().enumerate() {
            let _ = writeln!(
                s,
                "  - {{name: {}, role: packet, address: \"127.0.0.1:{}\", router_id: {}, node_sid: {}}}",
                n.name,
                20_000 + i,
                n.router_id.unwrap(),
                n.node_sid.unwrap()
            );
        }
        s.push_str("links:\n");
        for l in &t.links {
            let _ = writeln!(
                s,
                "  - {{name: \"{}\", a: {{node: {}, interface: {}}}, b: {{node: {}, interface: {}}}, \
                 layer: packet, length_km: {}, latency_us: {}, capacity_gbps: 400, te_metric: {}, igp_metric: {}}}",
                l.name, l.a.node, l.a.interface, l.b.node, l.b.interface, l.length_km,
                l.latency_us, l.te_metric, l.igp_metric
            );
        }
        s
    }

    #[test]
    fn dense_fabrics_pass_topology_validation_with_parallel_links() {
        // 5 routers have 10 distinct pairs; 23 links need parallel ones
        for (devices, links) in [(2, 3), (5, 23), (10, 40), (31, 400)] {
            let t = dense_fabric(devices, links, 7).unwrap();
            assert_eq!(t.links.len(), links);
            let mut loaded = strata_core::topology::parse_str(&as_file(&t))
                .unwrap_or_else(|e| panic!("{devices}x{links}: {e}"));
            for n in &mut loaded.nodes {
                n.address.set_port(0);
            }
            assert_eq!(loaded, t, "{devices}x{links}");
        }
        let t = dense_fabric(5, 23, 7).unwrap();
        let pairs: BTreeSet<(&str, &str)> = t
            .links
            .iter()
            .map(|l| {
                (
                    l.a.node.as_str().min(&l.b.node),
                    l.a.node.as_str().max(&l.b.node),
                )
            })
            .collect();
        assert_eq!(pairs.len(), 10, "all pairs before any parallel link");
    }

    #[test]
    fn every_router_gets_its_share_of_links() {
        let t = dense_fabric(100, 10_000, 3).unwrap();
        for n in &t.nodes {
            assert_eq!(n.interfaces.len(), 200, "{}", n.name);
        }
        assert!(dense_fabric(1, 0, 3).is_err());
    }
}
