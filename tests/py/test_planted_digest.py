"""The incremental digest's planted bug: a build with -Dplanted_bug=digest_image_unmarked (the
image store's writers, rvm_kernel__image_commit and rvm_kernel__image_free in core/src/kernel.c,
forget to mark the image's leaf, so an image committed over a corrupted one with the same
descriptor keeps the corrupted image's leaf) must be caught by a sweep of the standard kernel smoke
workload by kernel.digest-incremental alone, and shrunk to a scenario of at most 10 operations
that fails on that build and passes on the clean one.

The variant is built in its own directory under the build root, so the normal build stays clean.
`make planted` runs the same check by hand."""

import pytest

from conftest import SOURCE_ROOT
import planted as planted_build

BUG = "digest_image_unmarked"
SMOKE = SOURCE_ROOT / "scenarios" / "kernel-smoke.scn"


@pytest.fixture(scope="module")
def planted():
    return planted_build.build(BUG)


def test_sweep_finds_and_shrink_reduces_the_planted_digest_bug(planted, rvmsim, tmp_path):
    planted_build.sweep_finds_and_shrink_reduces(planted, rvmsim, tmp_path, SMOKE, "1..2000",
                                                 "kernel.digest-incremental")


@pytest.mark.parametrize("seed", [26844, 36344, 274538])
def test_an_image_moved_after_its_touch_is_still_recomputed(rvmsim, seed):
    # Seeds a 1,000,000-seed sweep of the clean build reported as kernel.digest-incremental: a
    # touch that stored a byte derived from the slot, which a later move of the image (a free
    # of an image below it) matched again, so the next digest kept the image's old leaf.
    proc = rvmsim("run", SMOKE, "--seed", str(seed), "--faults", "swarm", check=False)
    assert proc.returncode == 0, proc.stdout[-2000:]
