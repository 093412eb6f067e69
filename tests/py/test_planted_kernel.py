"""The kernel's planted bug: a build with -Dplanted_bug=vmid_reuse_no_flush (a VMID changes hands
without the TLB invalidation, core/src/vmid.c) must be caught by a sweep of the standard kernel
smoke workload within 10,000 seeds, by the isolation oracle (the platform's stale-TLB check), and
shrunk to a scenario of at most 10 operations, which fails on that build and passes on the clean
one.

The variant is built in its own directory under the build root, so the normal build stays clean.
`make planted` runs the same check by hand."""
import os
import subprocess

import pytest

from conftest import SOURCE_ROOT
import planted as planted_build

BUG = "vmid_reuse_no_flush"
SMOKE = SOURCE_ROOT / "scenarios" / "kernel-smoke.scn"


@pytest.fixture(scope="module")
def planted():
    return planted_build.build(BUG)


def test_sweep_finds_and_shrink_reduces_the_planted_kernel_bug(planted, rvmsim, tmp_path):
    planted_build.sweep_finds_and_shrink_reduces(planted, rvmsim, tmp_path, SMOKE, "1..10000",
                                                 "isolation.stale-tlb")


def test_the_clean_build_passes_the_same_seeds(rvmsim):
    """The same sweep on the clean build: every failure above is the planted bug's."""
    proc = rvmsim("sweep", SMOKE, "--seeds", "1..2000", "--jobs", 2, "--faults", "swarm",
                  "--recheck-every", 0, "--no-progress", check=False)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "2000 passed, 0 failed"


def readme_block(title):
    text = (SOURCE_ROOT / "README.md").read_text()
    section = text.split(f"## {title}")[1]
    return section.split("```sh\n")[1].split("```")[0]


def test_readme_first_failure_walkthrough_runs_in_order(planted, rvmsim, tmp_path):
    """README "First failure": every command typed in order does what its comment says (the
    build lines are the planted fixture's; /tmp is this test's directory)."""
    block = readme_block("First failure: find it, shrink it, replay it, diff it")
    lines = [l for l in block.splitlines() if l.strip()]
    assert lines[0].startswith("meson setup build/planted/") and "meson compile" in lines[1]
    env = dict(os.environ, P=str(planted))
    out = {}
    for line in lines[3:]:
        cmd = line.split("#")[0].strip().replace("/tmp/", f"{tmp_path}/")
        cmd = cmd.replace("build/cli/rvmsim", os.path.abspath(rvmsim.path))
        proc = subprocess.run(["bash", "-c", cmd], cwd=SOURCE_ROOT, env=env,
                              capture_output=True, text=True)
        out[line] = proc
    sweep, shrink, _, bad, good, diff, show = out.values()
    assert sweep.returncode == 3 and sweep.stdout.rstrip().endswith("1828 passed, 172 failed")
    assert "  172 x safety [isolation.stale-tlb]: seeds" in sweep.stdout
    assert "    shortest: seed 420 (16 steps, 24 records)" in sweep.stdout
    assert shrink.returncode == 0 and "-> 5 operations, 0 faults" in shrink.stdout
    assert bad.returncode == 3 and bad.stdout.rstrip().endswith("result=safety")
    assert "run=1 " in bad.stdout and "run=2 " in good.stdout and good.returncode == 0
    assert diff.returncode == 1 and diff.stdout.startswith("first divergence at seq 19")
    assert show.returncode == 0 and "isolation.stale-tlb" in show.stdout
