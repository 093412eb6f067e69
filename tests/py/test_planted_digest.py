"""The incremental digest's planted bug: a build with -Dplanted_bug=digest_image_unmarked (the
image store's writers, rvm_kernel__image_commit and rvm_kernel__image_free in core/src/kernel.c,
forget to mark the image's leaf, so an image committed over a corrupted one with the same
descriptor keeps the corrupted image's leaf) must be caught by a sweep of the standard kernel smoke
workload by kernel.digest-incremental alone, and shrunk to a scenario of at most 10 operations
that fails on that build and passes on the clean one.

The variant is built in its own directory under the build root, so the normal build stays clean.
`make planted` runs the same check by hand."""
import os
import pathlib
import re
import subprocess

import pytest

from conftest import SOURCE_ROOT
from test_shrink import count_ops

BUG = "digest_image_unmarked"
SMOKE = SOURCE_ROOT / "scenarios" / "kernel-smoke.scn"


@pytest.fixture(scope="module")
def planted():
    build_root = pathlib.Path(os.environ.get("RVM_BUILD_ROOT", SOURCE_ROOT / "build"))
    bdir = build_root / "planted" / BUG
    if not (bdir / "build.ninja").exists():
        subprocess.run(["meson", "setup", str(bdir), str(SOURCE_ROOT), "--buildtype=debugoptimized",
                        f"-Dplanted_bug={BUG}"], check=True, capture_output=True)
    proc = subprocess.run(["ninja", "-C", str(bdir), "cli/rvmsim"], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return bdir / "cli" / "rvmsim"


def test_sweep_finds_and_shrink_reduces_the_planted_digest_bug(planted, rvmsim, tmp_path):
    sweep = subprocess.run([str(planted), "sweep", str(SMOKE), "--seeds", "1..2000", "--jobs", "2",
                            "--faults", "swarm", "--recheck-every", "0", "--no-progress"],
                           capture_output=True, text=True)
    assert sweep.returncode == 3, sweep.stdout[-2000:] + sweep.stderr
    fails = re.findall(r"^FAIL seed=(\d+) safety \[(\S+)\]", sweep.stdout, re.M)
    assert fails
    assert all(inv == "kernel.digest-incremental" for _, inv in fails), set(i for _, i in fails)
    seed = min(int(s) for s, _ in fails)

    out = tmp_path / "planted-min.scn"
    proc = subprocess.run([str(planted), "shrink", str(SMOKE), "--seed", str(seed), "--faults",
                           "swarm", "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert count_ops(out) <= 10, out.read_text()
    bad = subprocess.run([str(planted), "run", str(out)], capture_output=True, text=True)
    assert bad.returncode == 3 and "[kernel.digest-incremental]" in bad.stdout, bad.stdout
    assert rvmsim("run", out, check=False).returncode == 0  # the clean build passes it


@pytest.mark.parametrize("seed", [26844, 36344, 274538])
def test_an_image_moved_after_its_touch_is_still_recomputed(rvmsim, seed):
    # Seeds a 1,000,000-seed sweep of the clean build reported as kernel.digest-incremental: a
    # touch that stored a byte derived from the slot, which a later move of the image (a free
    # of an image below it) matched again, so the next digest kept the image's old leaf.
    proc = rvmsim("run", SMOKE, "--seed", str(seed), "--faults", "swarm", check=False)
    assert proc.returncode == 0, proc.stdout[-2000:]
