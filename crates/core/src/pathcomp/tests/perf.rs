//! Timing on a 10k-node / 40k-edge random graph; informational, so ignored
//! by default: `cargo test --release --lib pathcomp::tests::perf -- --ignored --nocapture`.

use std::time::Instant;

use super::*;

#[test]
#[ignore]
fn timing_on_a_10k_node_graph() {
    let n = 10_000;
    let mut r = Rng::new(2024);
    let mut g = TeGraph::new(nodes(n, |_| true));
    // a ring keeps it connected; the rest are random chords
    for i in 0..n {
        let (lat, te) = (50 + r.below(500) as u32, 1 + r.below(100) as u32);
        link(&mut g, &format!("r{i}"), i, (i + 1) % n, |e| {
            e.latency_us = lat;
            e.te_metric = te;
        });
    }
    for l in 0..n {
        let (a, b) = (r.below(n as u64) as usize, r.below(n as u64) as usize);
        if a != b {
            let (lat, te) = (50 + r.below(5000) as u32, 1 + r.below(100) as u32);
            link(&mut g, &format!("c{l}"), a, b, |e| {
                e.latency_us = lat;
                e.te_metric = te;
            });
        }
    }
    println!("{} nodes, {} directed edges", g.nodes.len(), g.edges.len());
    let pairs: Vec<(usize, usize)> = (0..20)
        .map(|_| (r.below(n as u64) as usize, r.below(n as u64) as usize))
        .filter(|(a, b)| a != b)
        .collect();
    let time = |what: &str, f: &mut dyn FnMut(usize, usize)| {
        let t = Instant::now();
        for &(a, b) in &pairs {
            f(a, b);
        }
        println!("{what}: {:?} per query", t.elapsed() / pairs.len() as u32);
    };
    let te = Constraints {
        metric: Metric::Te,
        ..Default::default()
    };
    time("cspf latency", &mut |a, b| {
        cspf(&g, a, b, &Constraints::default()).unwrap();
    });
    time("cspf te", &mut |a, b| {
        cspf(&g, a, b, &te).unwrap();
    });
    // a bound halfway between the fastest path and the TE path's latency
    // forces the exact constrained search
    let mut forced = 0;
    time("cspf te + latency bound", &mut |a, b| {
        let fast = cspf(&g, a, b, &Constraints::default()).unwrap().latency_us;
        let slow = cspf(&g, a, b, &te).unwrap().latency_us;
        let c = Constraints {
            max_latency_us: Some((fast + slow) / 2),
            ..te.clone()
        };
        let p = cspf(&g, a, b, &c).unwrap();
        assert!(p.latency_us <= (fast + slow) / 2);
        if slow > fast {
            forced += 1;
        }
    });
    println!(
        "  ({forced} of {} needed the constrained search)",
        pairs.len()
    );
    time("k_shortest k=8 te", &mut |a, b| {
        assert_eq!(k_shortest(&g, a, b, &te, 8).len(), 8);
    });
    time("disjoint_pair node te", &mut |a, b| {
        disjoint_pair(&g, a, b, &te, Disjointness::Node).unwrap();
    });
    time("disjoint_pair srlg te", &mut |a, b| {
        let _ = disjoint_pair(&g, a, b, &te, Disjointness::Srlg);
    });
    let mut spf = IgpSpf::new(&g);
    time("compress (shared SPF cache)", &mut |a, b| {
        let p = cspf(&g, a, b, &te).unwrap();
        compress_with(&mut spf, &p, None).unwrap();
    });
}
