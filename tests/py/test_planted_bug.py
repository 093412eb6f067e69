"""The planted bug: a build with -Dplanted_bug=witness_refused_advances (an append refused for
lack of room still advances the log's clock) must be caught by a sweep of the smoke workload
within 10,000 seeds and shrunk to a scenario of at most 10 operations, which fails on that build
and passes on the clean one.

The variant is built in its own directory under the build root, so the normal build stays clean.
`make planted` runs the same check by hand."""

import pytest

from conftest import SOURCE_ROOT
import planted as planted_build

BUG = "witness_refused_advances"
SMOKE = SOURCE_ROOT / "scenarios" / "smoke.scn"


@pytest.fixture(scope="module")
def planted():
    return planted_build.build(BUG)


def test_sweep_finds_and_shrink_reduces_the_planted_bug(planted, rvmsim, tmp_path):
    planted_build.sweep_finds_and_shrink_reduces(planted, rvmsim, tmp_path, SMOKE, "1..10000",
                                                 "no-witness-no-mutation")
