"""The kernel target of rvmsim from the outside: determinism across processes (same scenario and
seed, same digest), recorded runs that replay exactly without their seed, the fault-sweep
workloads of the corpus passing swarm sweeps with every seed re-run in another process, the
determinism check catching a deliberately unseeded run, and its parameters checked at parse time.
The hand-written kernel scenarios with exact expectations run in test_scenarios.py."""
import os
import re

import pytest

from conftest import SOURCE_ROOT
from test_shrink import count_ops, last

SCN = SOURCE_ROOT / "scenarios"
SMOKE = SCN / "kernel-smoke.scn"
# The corpus files meant for fault sweeps: no `expect` lines, only the oracles judge.
SWEEPABLE = ["kernel-smoke.scn", "kernel-random-riscv.scn", "kernel-random-hostile.scn"]
LAST = re.compile(r"run=\d+ seed=(\d+) records=(\d+) digest=([0-9a-f]{64}) result=(\w+)")


def summary(proc):
    m = LAST.fullmatch(proc.stdout.strip().splitlines()[-1])
    assert m, proc.stdout + proc.stderr
    return m.groups()


@pytest.mark.parametrize("name", SWEEPABLE)
@pytest.mark.parametrize("faults", ["none", "default", "swarm"])
def test_same_seed_same_digest_in_two_processes(rvmsim, name, faults):
    digests = set()
    for seed in (1, 5, 2**64 - 1):
        a = summary(rvmsim("run", SCN / name, "--seed", seed, "--faults", faults))
        b = summary(rvmsim("run", SCN / name, "--seed", seed, "--faults", faults))
        assert a == b
        assert a[3] == "pass"
        digests.add(a[2])
    assert len(digests) == 3  # and different seeds are different runs


def test_sweepable_files_have_no_expectations():
    for name in SWEEPABLE:
        text = (SCN / name).read_text()
        assert not re.search(r"^\s*(@\S+\s+)?expect\b", text, re.M), name
        assert "fault sweeps" in text, f"{name} should say it is meant for fault sweeps"


@pytest.mark.parametrize("name", SWEEPABLE)
def test_fault_sweep_with_every_seed_rechecked(rvmsim, name):
    proc = rvmsim("sweep", SCN / name, "--seeds", "1..150", "--jobs", 2, "--faults", "swarm",
                  "--recheck-every", 1, "--no-progress", check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "150 passed, 0 failed"
    assert "150 re-run in another process" in proc.stderr


@pytest.mark.parametrize("name", ["kernel-smoke.scn", "kernel-random-hostile.scn"])
def test_recording_replays_without_its_seed(rvmsim, tmp_path, name):
    """The recording (every operation, concrete argument, CPU, time and fired fault) replays the
    seeded run to the same log with another seed: the kernel's state (and with it every
    StateDigest record) depends on nothing else."""
    out = tmp_path / "rec.scn"
    for seed in range(1, 16):
        rvmsim("shrink", SCN / name, "--seed", seed, "--faults", "swarm", "--no-reduce", "-o", out)
        want = last(rvmsim("run", SCN / name, "--seed", seed, "--faults", "swarm"))
        got = last(rvmsim("run", out, "--seed", seed + 1000, check=False))
        assert got == want, f"seed {seed}"


def test_unseeded_run_is_caught_as_nondeterminism(rvmsim):
    proc = rvmsim("sweep", SMOKE, "--seeds", "1..40", "--jobs", 2, "--recheck-every", 1,
                  "--no-progress", check=False,
                  env=dict(os.environ, RVMSIM_TEST_UNSEEDED="1"))
    assert proc.returncode == 5, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert re.search(r"^FAIL seed=\d+ nondeterminism", proc.stdout, re.M)


@pytest.mark.parametrize("param, message", [
    ("partitions=65", "must be in 2..64"),
    ("ring=16", "must be in 32..65536"),
    ("coherence=3", "must be in 0..2"),
    ("oracles=2", "'oracles' must be"),
])
def test_parameters_are_checked_when_parsing(rvmsim, tmp_path, param, message):
    p = tmp_path / "bad.scn"
    p.write_text(f"target kernel {param}\npartition_create\n")
    proc = rvmsim("run", p, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"rvmsim: run: {p}:1:") and message in proc.stderr, proc.stderr


def test_every_parameter_can_be_set(rvmsim, tmp_path):
    """All sixteen parameters on one line (the engine's limit) and the run uses them."""
    p = tmp_path / "all.scn"
    p.write_text("target kernel riscv=false partitions=5 caps=64 regions=12 channels=3 devices=1 "
                 "ram_pages=96 ring=64 checkpoint=16 epoch=40us slice=7us vmids=8 images=1 "
                 "boot=true coherence=2 oracles=true\ncpus 2\nfaults none\n"
                 "@100us\nexpect partitions == 1\nexpect epochs == 2\nexpect running == 1\n"
                 "device_register irq=3\nexpect ok\ndevice_register irq=4\nexpect err NO_SPACE\n")
    proc = rvmsim("run", p, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_oracles_off_gives_the_same_run(rvmsim, tmp_path):
    """The oracles only read: with them off (benchmarks) a run is the same run."""
    text = SMOKE.read_text()
    off = tmp_path / "off.scn"
    off.write_text(text.replace("target kernel", "target kernel oracles=false", 1))
    for seed in (1, 2, 3):
        assert summary(rvmsim("run", SMOKE, "--seed", seed)) == \
            summary(rvmsim("run", off, "--seed", seed))


def test_shrunk_kernel_failure_is_small_and_replays(rvmsim, tmp_path):
    """An expectation that fails at the end of a long random kernel run shrinks to a scenario
    with only what it needs (here: nothing but the boot), which fails the same way."""
    src = tmp_path / "long.scn"
    src.write_text(SMOKE.read_text().split("random")[0] + "random 200\n"
                   "  partition_create 3 actor=none cap=none\n"
                   "  partition_start 3 actor=none cap=none\n"
                   "  region_create 3 actor=none cap=none perms=0\n"
                   "  ipc_send 3 cap=none\n"
                   "end\nexpect partitions == 0\n")
    out = tmp_path / "min.scn"
    proc = rvmsim("shrink", src, "--seed", 3, "-o", out, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert count_ops(out) <= 3, out.read_text()
    bad = rvmsim("run", out, check=False)
    assert bad.returncode == 1 and "[expect.partitions]" in bad.stdout
