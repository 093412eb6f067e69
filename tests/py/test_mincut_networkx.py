"""The core's Stoer-Wagner min-cut against networkx.stoer_wagner (an independent implementation).

Seeded random graphs of 2..128 nodes: weights including zeros and large values, repeated edges in
both directions (the core sums them), self-loops (which never cross a cut, and are given to the core
only), and disconnected graphs (networkx refuses those; their minimum cut is 0). The cut value must
match exactly, and the bipartition the core returns must be a real one whose weight is that value.
The C unit test (tests/unit/test_mincut.c) does the same against brute force up to 14 nodes.

The driver is tests/tools/mincut_cli.c; meson passes its path in RVM_MINCUT_CLI. By hand:
    RVM_MINCUT_CLI=build/tests/mincut_cli /usr/bin/python3 -m pytest tests/py -k mincut
"""
import os
import pathlib
import random
import subprocess

import networkx as nx
import pytest

from conftest import SOURCE_ROOT

WEIGHT_MAX = (1 << 32) - 1


@pytest.fixture(scope="module")
def mincut_cli():
    path = os.environ.get("RVM_MINCUT_CLI") or str(SOURCE_ROOT / "build" / "tests" / "mincut_cli")
    if not pathlib.Path(path).exists():
        pytest.fail(f"mincut_cli not found at {path}; build first or set RVM_MINCUT_CLI")
    return path


def seed():
    s = int(os.environ.get("RVM_TEST_SEED", "0") or "0", 0) or 5150
    print(f"mincut networkx: seed {s} (reproduce with RVM_TEST_SEED={s})")
    return s


def random_graph(rng, n):
    """Returns (edge lines for the core, symmetric weight dict, connected-as-networkx-sees-it)."""
    ncomp = 1 if rng.random() < 0.7 else rng.randint(2, 3)
    comp = [rng.randrange(ncomp) for _ in range(n)]
    density = rng.choice([0.05, 0.15, 0.4, 1.0]) if n > 16 else rng.choice([0.25, 0.5, 0.75, 1.0])
    lines, weight = [], {}
    for i in range(n):
        for j in range(i + 1, n):
            if comp[i] != comp[j] or rng.random() >= density:
                continue
            r = rng.random()
            w = 0 if r < 0.15 else rng.randint(WEIGHT_MAX - 5, WEIGHT_MAX) if r < 0.18 else \
                rng.randint(1, 3) if r < 0.3 else rng.randint(1, 1000)
            part = rng.randint(0, w)
            lines.append((i, j, part))            # as IPC would: two directions
            lines.append((j, i, w - part))
            weight[(i, j)] = w
        if rng.random() < 0.2:
            lines.append((i, i, rng.randint(1, 1000)))
    rng.shuffle(lines)
    return lines, weight


def run_cli(path, graphs):
    text = []
    for n, lines, _ in graphs:
        text.append(f"{n} {len(lines)}")
        text.extend(f"{u} {v} {w}" for u, v, w in lines)
    proc = subprocess.run([path], input="\n".join(text) + "\n", capture_output=True, text=True,
                          check=True)
    out = proc.stdout.split("\n")
    assert out[-1] == ""
    return [(int(v), s) for v, s in (line.split() for line in out[:-1])]


def oracle(n, weight):
    g = nx.Graph()
    g.add_nodes_from(range(n))
    for (i, j), w in weight.items():
        g.add_edge(i, j, weight=w)
    if not nx.is_connected(g):
        return 0
    value, _ = nx.stoer_wagner(g)
    return value


def check_batch(cli, graphs):
    results = run_cli(cli, graphs)
    assert len(results) == len(graphs)
    for k, ((n, lines, weight), (value, side)) in enumerate(zip(graphs, results)):
        expect = oracle(n, weight)
        assert value == expect, f"graph {k}: n={n}, core {value}, networkx {expect}"
        assert len(side) == n and set(side) == {"A", "B"}, f"graph {k}: not a bipartition: {side}"
        assert side[0] == "A"
        crossing = sum(w for (i, j), w in weight.items() if side[i] != side[j])
        assert crossing == value, f"graph {k}: the returned sides cut {crossing}, not {value}"


def test_small_graphs_match_networkx(mincut_cli):
    rng = random.Random(seed())
    graphs = []
    for _ in range(3000):
        n = rng.randint(2, 16)
        lines, weight = random_graph(rng, n)
        graphs.append((n, lines, weight))
    check_batch(mincut_cli, graphs)
    assert sum(1 for n, _, w in graphs if oracle(n, w) == 0) > 100  # disconnected ones exist


def test_large_graphs_match_networkx(mincut_cli):
    rng = random.Random(seed() + 1)
    graphs = []
    for n in [17, 20, 24, 31, 32, 33, 40, 48, 63, 64, 65, 80, 100, 127, 128] * 5:
        lines, weight = random_graph(rng, n)
        graphs.append((n, lines, weight))
    check_batch(mincut_cli, graphs)


def test_rvm_bench_chain_weak_link(mincut_cli):
    """RVM's mincut_16node graph: a chain of 16, weak link 8-9 of 10 each way: cut 20."""
    lines = []
    weight = {}
    for i in range(15):
        w = 10 if i == 7 else 1000
        lines += [(i, i + 1, w), (i + 1, i, w)]
        weight[(i, i + 1)] = 2 * w
    [(value, side)] = run_cli(mincut_cli, [(16, lines, weight)])
    assert value == 20 == oracle(16, weight)
    assert side == "A" * 8 + "B" * 8


def test_degenerate_inputs(mincut_cli):
    """No nodes and one node: no cut. Three isolated nodes: cut 0, some real bipartition."""
    results = run_cli(mincut_cli, [(0, [], {}), (1, [(0, 0, 5)], {}), (3, [], {})])
    assert results[0] == (0, "-") and results[1] == (0, "-")
    value, side = results[2]
    assert value == 0 and side[0] == "A" and set(side) == {"A", "B"}
