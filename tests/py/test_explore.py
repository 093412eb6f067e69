"""rvmsim explore: bounded exhaustive exploration of a scenario's explore block.

Both planted bugs (tests/py/test_planted_*.py build the variants the same way) must be found at a
small depth, and the failing sequence written must fail on the planted build and pass on the clean
one. Counts checked here are derived by hand from the explore block (choices per state) or from
what an operation obviously does (a flush of an empty log changes nothing), never read off the
explorer. Kept short: the whole file takes a few seconds once the variants are built."""
import json
import os
import pathlib
import re
import subprocess

import pytest

from conftest import SOURCE_ROOT
from test_shrink import count_ops

EXPLORE = SOURCE_ROOT / "scenarios" / "explore"


def planted_build(bug):
    build_root = pathlib.Path(os.environ.get("RVM_BUILD_ROOT", SOURCE_ROOT / "build"))
    bdir = build_root / "planted" / bug
    if not (bdir / "build.ninja").exists():
        subprocess.run(["meson", "setup", str(bdir), str(SOURCE_ROOT), "--buildtype=debugoptimized",
                        f"-Dplanted_bug={bug}"], check=True, capture_output=True)
    proc = subprocess.run(["ninja", "-C", str(bdir), "cli/rvmsim"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return bdir / "cli" / "rvmsim"


def levels(stdout):
    """[(depth, runs, frontier, new, distinct)] from the per-level lines."""
    return [tuple(map(int, m)) for m in re.findall(
        r"^depth (\d+): (\d+) runs from (\d+) states, (\d+) new states \((\d+) distinct\)",
        stdout, re.M)]


@pytest.mark.parametrize("bug,scn,depth,invariant", [
    ("vmid_reuse_no_flush", "kernel-vmid.scn", 6, "isolation.stale-tlb"),
    ("witness_refused_advances", "witness-stall.scn", 4, "no-witness-no-mutation"),
])
def test_explore_finds_the_planted_bug(rvmsim, tmp_path, bug, scn, depth, invariant):
    planted = planted_build(bug)
    out = tmp_path / "found.scn"
    proc = subprocess.run([str(planted), "explore", str(EXPLORE / scn), "--depth", str(depth),
                           "--no-progress", "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert f"[{invariant}]" in proc.stdout
    assert "WARNING" not in proc.stdout
    assert "stopped: failed" in proc.stdout
    assert 1 <= count_ops(out) <= depth, out.read_text()
    bad = subprocess.run([str(planted), "run", str(out)], capture_output=True, text=True)
    assert bad.returncode == 3 and f"[{invariant}]" in bad.stdout, bad.stdout
    assert rvmsim("run", out, check=False).returncode == 0  # the clean build passes it


def test_the_clean_build_explores_the_same_blocks_without_failure(rvmsim):
    for scn, depth in (("kernel-vmid.scn", 6), ("witness-stall.scn", 4)):
        proc = rvmsim("explore", EXPLORE / scn, "--depth", depth, "--no-progress")
        assert f"depth reached {depth} of {depth}" in proc.stdout, proc.stdout
        # every corpus file of the directory is a runnable scenario: run executes its own steps
        assert rvmsim("run", EXPLORE / scn).returncode == 0


def test_levels_are_the_same_with_two_jobs(rvmsim):
    one = rvmsim("explore", EXPLORE / "kernel-vmid.scn", "--depth", 5, "--no-progress")
    two = rvmsim("explore", EXPLORE / "kernel-vmid.scn", "--depth", 5, "--jobs", 2,
                 "--no-progress")
    assert levels(one.stdout) == levels(two.stdout)
    assert len(levels(one.stdout)) == 5


def write(tmp_path, text, name="x.scn"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_choices_and_hand_counted_states(rvmsim, tmp_path):
    # Root choices: reserve with n = 1..3 on either of 2 CPUs (6) + flush on CPU 0 (1) = 7.
    path = write(tmp_path, "target witness ring=4 checkpoint=0\ncpus 2\nfaults none\n"
                           "explore tick=1us\n  cpu* reserve n=1..3\n  flush\nend\n")
    summary = json.loads(rvmsim("explore", path, "--depth", 1, "--json", "--no-progress").stdout)
    assert summary["root_choices"] == 7
    assert summary["runs"] == 7 and summary["depth_reached"] == 1

    # A flush of an empty log changes nothing: no new state, the search ends at depth 1.
    path = write(tmp_path, "target witness\nfaults none\nexplore tick=0\n  flush\nend\n", "f.scn")
    summary = json.loads(rvmsim("explore", path, "--depth", 5, "--json", "--no-progress").stdout)
    assert (summary["stop"], summary["runs"], summary["distinct_states"]) == ("exhausted", 1, 1)

    # Each append 1 us after the last moves the log's clock: one new state per level.
    path = write(tmp_path, "target witness\nfaults none\nexplore tick=1us\n  append\nend\n", "a.scn")
    summary = json.loads(rvmsim("explore", path, "--depth", 4, "--json", "--no-progress").stdout)
    assert (summary["stop"], summary["runs"], summary["distinct_states"]) == ("depth", 4, 5)


def test_limits_stop_the_search(rvmsim):
    proc = rvmsim("explore", EXPLORE / "kernel-vmid.scn", "--depth", 30, "--max-states", 100,
                  "--json", "--no-progress")
    summary = json.loads(proc.stdout)
    assert summary["stop"] == "max-states" and summary["distinct_states"] == 100


@pytest.mark.parametrize("text,message", [
    ("target witness\nappend\n", "has no explore block"),
    ("target witness\nexplore\n  append\nend\nappend\n", "nothing may follow the explore block"),
    ("target witness\nexplore\n  append\n", "is not closed with 'end'"),
    ("target witness\nexplore\nend\n", "lists no operation"),
    ("target witness\nexplore\n  reserve n=1..100\nend\n", "at most 64 values"),
    ("target witness\nreserve n=1 as R\nappend res=*\n", "only allowed in explore blocks"),
    ("target witness\nexplore tock=1\n  append\nend\n", "usage: explore [tick=DURATION]"),
])
def test_explore_block_errors(rvmsim, tmp_path, text, message):
    proc = rvmsim("explore", write(tmp_path, text), check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr
