#!/usr/bin/env python3
"""networkx peer of `strata bench pathcomp`.

Reads the graph and queries the Rust side exported (one JSON file, path given
as the only argument), runs the same queries with networkx, and prints per
query wall time (ns) and the cost found as JSON on stdout. Building the graph
is not timed; each query is.

Queries, in networkx terms:
  shortest  nx.dijkstra_path on latency
  cspf      nx.dijkstra_path with a weight function hiding the excluded link
            (both directions) and node, then the latency bound check
  ksp       the first k of nx.shortest_simple_paths (Yen)
  disjoint  the least-cost pair of edge-disjoint paths: nx.min_cost_flow of
            two units over unit-capacity edges (what Suurballe computes)
"""
import json
import sys
import time
from itertools import islice

import networkx as nx


def path_cost(g, path):
    return sum(g[u][v]["weight"] for u, v in zip(path, path[1:]))


def timed(f):
    t0 = time.perf_counter_ns()
    out = f()
    return time.perf_counter_ns() - t0, out


def shortest(g, q):
    ns, path = timed(lambda: nx.dijkstra_path(g, q["src"], q["dst"], weight="weight"))
    return {"ns": ns, "cost": path_cost(g, path)}


def cspf(g, q):
    src, dst, bound = q["src"], q["dst"], q["bound_us"]
    a, b = q["exclude_link"]
    banned_edges = {(a, b), (b, a)}
    banned_node = q["exclude_node"]

    def weight(u, v, d):
        if (u, v) in banned_edges or u == banned_node or v == banned_node:
            return None  # networkx: the edge is hidden
        return d["weight"]

    def run():
        try:
            path = nx.dijkstra_path(g, src, dst, weight=weight)
        except nx.NetworkXNoPath:
            return None
        # latency is the metric, so the shortest path is also the fastest:
        # over the bound means no path meets it
        return path, path_cost(g, path) <= bound

    ns, found = timed(run)
    if found is None:
        return {"ns": ns, "cost": None, "within_bound": False}
    path, within = found
    return {"ns": ns, "cost": path_cost(g, path), "within_bound": within}


def ksp(g, q, k):
    ns, paths = timed(
        lambda: list(islice(nx.shortest_simple_paths(g, q["src"], q["dst"], weight="weight"), k))
    )
    return {"ns": ns, "costs": [path_cost(g, p) for p in paths]}


def disjoint(g, q):
    src, dst = q["src"], q["dst"]
    # demands are set (and cleared) outside the timed part
    g.nodes[src]["demand"] = -2
    g.nodes[dst]["demand"] = 2

    def run():
        try:
            return nx.min_cost_flow_cost(g, demand="demand", capacity="capacity", weight="weight")
        except nx.NetworkXUnfeasible:
            return None

    ns, cost = timed(run)
    del g.nodes[src]["demand"], g.nodes[dst]["demand"]
    return {"ns": ns, "cost": cost}


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    g = nx.DiGraph()
    g.add_nodes_from(range(spec["nodes"]))
    for u, v, w in spec["edges"]:
        g.add_edge(u, v, weight=w, capacity=1)
    queries, heavy, k = spec["queries"], spec["heavy_queries"], spec["k"]
    out = {
        "networkx": nx.__version__,
        "python": sys.version.split()[0],
        "shortest": [shortest(g, q) for q in queries],
        "cspf": [cspf(g, q) for q in queries],
        "ksp": [ksp(g, q, k) for q in queries[:heavy]],
        "disjoint": [disjoint(g, q) for q in queries[:heavy]],
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
