use std::collections::BTreeSet;

use super::oracle;
use super::*;

#[test]
fn k_shortest_is_exactly_the_k_best_feasible_paths() {
    let mut bounded = 0;
    for seed in 0..400u64 {
        let mut r = Rng::new(seed ^ 0x7E);
        let n = 5 + r.below(4) as usize;
        let links = n + r.below(n as u64 + 4) as usize;
        let g = random_graph(seed, n, links);
        let c = random_constraints(&mut r, n, links, true);
        let k = 1 + r.below(10) as usize;
        let (src, dst) = (0, n - 1);
        let mut want = oracle::sorted_feasible(&g, &c, src, dst);
        want.truncate(k);
        let got = k_shortest(&g, src, dst, &c, k);
        let keys: Vec<_> = got.iter().map(Path::sort_key).collect();
        assert_eq!(keys, want, "seed {seed} k {k} {c:?}");
        for p in &got {
            let distinct: BTreeSet<_> = p.nodes.iter().collect();
            assert_eq!(distinct.len(), p.nodes.len(), "loop in {p:?}");
        }
        if c.max_latency_us.is_some() && got.len() > 1 {
            bounded += 1;
        }
    }
    assert!(bounded > 30, "{bounded}");
}

#[test]
fn k_shortest_first_path_is_the_cspf_path() {
    for seed in 0..100u64 {
        let mut r = Rng::new(seed);
        let g = random_graph(seed, 8, 14);
        let c = random_constraints(&mut r, 8, 14, true);
        let ks = k_shortest(&g, 0, 7, &c, 3);
        match cspf(&g, 0, 7, &c) {
            Ok(p) => assert_eq!(ks.first(), Some(&p), "seed {seed}"),
            Err(_) => assert!(ks.is_empty(), "seed {seed}"),
        }
    }
}

#[test]
fn k_shortest_degenerate_requests_are_empty() {
    let g = random_graph(1, 6, 10);
    let c = Constraints::default();
    assert!(k_shortest(&g, 0, 5, &c, 0).is_empty());
    assert!(k_shortest(&g, 2, 2, &c, 3).is_empty());
    assert!(k_shortest(&g, 0, 60, &c, 3).is_empty());
}
