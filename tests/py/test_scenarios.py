"""Every scenario file in scenarios/ is a test case: run it and check its outcome.

A file states what it must produce in comment lines:
    # expect-exit: N      the exit code (default 0: every `expect` line holds, every oracle quiet)
    # seeds: A B ...      the seeds to run it with (default 1 2)
Adding a file to scenarios/ adds a test; nothing here needs to change."""
import re

import pytest

from conftest import SOURCE_ROOT

SCENARIOS = sorted((SOURCE_ROOT / "scenarios").glob("*.scn"))
LAST_LINE = re.compile(r"run=(\d+) seed=(\d+) records=(\d+) digest=([0-9a-f]{64}) result=(\w+)")
CLASSES = {0: "pass", 1: "expectation", 2: "usage", 3: "safety", 4: "liveness",
           5: "nondeterminism", 6: "internal"}


def header(path):
    text = path.read_text()
    exit_code = re.search(r"^#\s*expect-exit:\s*(\d+)", text, re.M)
    seeds = re.search(r"^#\s*seeds:\s*([\d ]+)$", text, re.M)
    return (int(exit_code.group(1)) if exit_code else 0,
            [int(s) for s in seeds.group(1).split()] if seeds else [1, 2])


def test_corpus_is_there():
    names = {p.name for p in SCENARIOS}
    assert "smoke.scn" in names
    assert len(SCENARIOS) >= 5


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_scenario(rvmsim, path):
    expected, seeds = header(path)
    for seed in seeds:
        proc = rvmsim("run", path, "--seed", seed, check=False)
        assert proc.returncode == expected, (
            f"{path.name} seed {seed}: exit {proc.returncode}, expected {expected}\n"
            f"{proc.stdout}{proc.stderr}")
        last = proc.stdout.strip().splitlines()[-1]
        m = LAST_LINE.fullmatch(last)
        assert m, f"last line is not the run summary: {last!r}"
        assert int(m.group(2)) == seed
        assert m.group(5) == CLASSES[expected]
        if expected != 0:
            assert "FAIL " in proc.stdout and "reproduce: " in proc.stdout


def test_corpus_covers_every_operation_and_fault_kind(rvmsim):
    """Across the corpus (each file with its own settings and seed 1), every operation of every
    target is applied and every fault kind fires at least once."""
    listing = rvmsim("targets").stdout
    ops = set(re.findall(r"^    op (\S+)", listing, re.M))
    faults = set(re.findall(r"^    fault (\S+)", listing, re.M))
    assert {"append", "reject", "reserve", "flush", "seal"} <= ops
    assert {"sink_stall", "irq_lost", "cpu_offline", "alloc_fail", "hostile_args"} <= faults
    seen_ops, seen_faults = set(), set()
    for path in SCENARIOS:
        out = rvmsim("run", path, "--seed", 1, "--trace", check=False).stdout
        seen_ops |= set(re.findall(r" step=\d+ cpu\d+ (\w+)", out))
        seen_faults |= set(re.findall(r"^t=\d+ fault (\w+)", out, re.M))
    assert ops <= seen_ops, f"operations never applied: {ops - seen_ops}"
    assert faults <= seen_faults, f"fault kinds never fired: {faults - seen_faults}"
