"""rvmsim shrink: the result fails with the same class and invariant, replays without a seed, is
small, and is a valid scenario; the recording itself (--no-reduce) replays a seeded run exactly."""
import re
import subprocess

import pytest

from conftest import SOURCE_ROOT

SMOKE = SOURCE_ROOT / "scenarios" / "smoke.scn"
LAST = re.compile(r"run=\d+ seed=\d+ records=(\d+) digest=([0-9a-f]{64}) result=(\w+)")
STATS = re.compile(r"steps=\d+ faults=\d+ events=(\d+) time_ns=(\d+)")


def last(proc):
    """records, digest, result, and the events delivered and the end time."""
    lines = proc.stdout.strip().splitlines()
    m, s = LAST.fullmatch(lines[-1]), STATS.fullmatch(lines[-2])
    assert m and s, proc.stdout
    return m.groups() + s.groups()


def count_ops(path):
    """Operation lines of a scenario file: not comments, directives, faults, waits or expects."""
    n = 0
    for line in path.read_text().splitlines():
        words = line.split("#")[0].split()
        if words and words[0].startswith("@"):
            words = words[1:]
        if words and re.fullmatch(r"cpu\d+", words[0]):
            words = words[1:]
        if not words or words[0] in ("target", "cpus", "faults", "tick", "liveness", "seed",
                                     "enable", "disable", "fault", "expect", "random", "end"):
            continue
        n += 1
    return n


BUSY = """target witness ring=4 checkpoint=4 flush_period=1us
cpus 2
tick 20us
enable timer_skew 1/4
enable irq_spurious 1/2
enable irq_lost 1/3
random 100
  append 5
  reserve 1 n=1..3
  flush 1
end
"""


@pytest.mark.parametrize("workload", ["smoke", "busy"])
@pytest.mark.parametrize("faults", ["default", "swarm"])
def test_recording_replays_the_seeded_run_exactly(rvmsim, tmp_path, workload, faults):
    src = SMOKE
    if workload == "busy":  # many events and site visits per step
        src = tmp_path / "busy.scn"
        src.write_text(BUSY)
    out = tmp_path / "rec.scn"
    for seed in range(1, 16):
        rvmsim("shrink", src, "--seed", seed, "--faults", faults, "--no-reduce", "-o", out)
        text = out.read_text()
        assert "faults none" in text and "random" not in text
        seeded = last(rvmsim("run", src, "--seed", seed, "--faults", faults))
        assert last(rvmsim("run", out, "--seed", seed + 1000)) == seeded, f"seed {seed}"


def flipping(tmp_path):
    p = tmp_path / "flip.scn"
    p.write_text(SMOKE.read_text().replace("faults default",
                                           "faults default\nenable ring_bitflip 1/300"))
    return p


def test_shrink_keeps_class_and_invariant_and_drops_the_seed(rvmsim, tmp_path):
    p = flipping(tmp_path)
    sweep = rvmsim("sweep", p, "--seeds", "1..40", "--jobs", "2", check=False)
    fails = re.findall(r"^FAIL seed=(\d+) safety \[(\S+)\]", sweep.stdout, re.M)
    assert len(fails) >= 2
    for seed, invariant in fails[:3]:
        out = tmp_path / f"min{seed}.scn"
        proc = rvmsim("shrink", p, "--seed", seed, "-o", out)
        m = re.search(r"shrunk: (\d+) operations, (\d+) faults -> (\d+) operations, (\d+) faults",
                      proc.stdout)
        assert m, proc.stdout
        before, after = int(m.group(1)) + int(m.group(2)), int(m.group(3)) + int(m.group(4))
        assert after <= before and after <= 12
        assert count_ops(out) == int(m.group(3))
        text = out.read_text()
        assert "# expect-exit: 3" in text and "faults none" in text
        for other in (1, 99, 2**63):
            run = rvmsim("run", out, "--seed", other, check=False)
            assert run.returncode == 3
            assert f"FAIL safety [{invariant}]" in run.stdout


def test_shrink_expectation_failure_keeps_the_expectation(rvmsim, tmp_path):
    p = tmp_path / "e.scn"
    p.write_text("target witness ring=4\nfaults default\n"
                 + "append\n" * 30 + "expect refusals == 0\n" + "append\n" * 10)
    seed = next(s for s in range(1, 200)
                if rvmsim("run", p, "--seed", s, check=False).returncode == 1)
    out = tmp_path / "min.scn"
    rvmsim("shrink", p, "--seed", seed, "-o", out)
    text = out.read_text()
    assert "expect refusals == 0" in text
    assert count_ops(out) <= 6
    run = rvmsim("run", out, check=False)
    assert run.returncode == 1 and "[expect.refusals]" in run.stdout


def test_shrink_of_a_passing_run_is_refused(rvmsim, tmp_path):
    proc = rvmsim("shrink", SMOKE, "--seed", 1, "-o", tmp_path / "x.scn", check=False)
    assert proc.returncode == 2 and "nothing to shrink" in proc.stderr
    assert not (tmp_path / "x.scn").exists()
