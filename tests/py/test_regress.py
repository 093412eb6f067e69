"""scripts/regress.py: the same scenario run by a base build and the current build, compared chain
by chain. A build of HEAD must agree with the current build; the planted kernel bug
(-Dplanted_bug=vmid_reuse_no_flush, built as in test_planted_kernel.py) must be reported with
the divergent record, the reproduce commands for both binaries and exit 1."""
import os
import pathlib
import subprocess
import sys

from conftest import SOURCE_ROOT
from test_planted_kernel import planted  # noqa: F401  (the fixture that builds the variant)

SCRIPT = SOURCE_ROOT / "scripts" / "regress.py"
BUILD_ROOT = pathlib.Path(os.environ.get("RVM_BUILD_ROOT", SOURCE_ROOT / "build"))
# kernel-smoke with swarm faults: the planted build's chain ends early (a safety failure) on
# seed 12 and matches the clean build's on seed 11; found by comparing digests over seeds 1..50
# (diverging: 12 17 28 37 38 48).
DIVERGENT_SEED = 12
SAME_SEED = 11


def regress(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True,
                          text=True, cwd=SOURCE_ROOT)


def test_a_build_of_head_behaves_like_the_current_build(rvmsim, tmp_path):
    proc = regress("--base", "HEAD", "--seeds", "1..1", "--scenario",
                   SOURCE_ROOT / "scenarios" / "kernel-boot.scn", "--current-binary", rvmsim.path,
                   "--build-root", BUILD_ROOT, "--out", tmp_path / "out", "--drop-worktree")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # --drop-worktree: no checkout of HEAD is left registered (one per commit would pile up).
    listed = subprocess.run(["git", "-C", str(SOURCE_ROOT), "worktree", "list", "--porcelain"],
                            capture_output=True, text=True, check=True).stdout
    assert str(BUILD_ROOT / "regress-base") not in listed
    lines = proc.stdout.splitlines()
    assert "1..2" in lines
    assert sum(line.startswith("ok ") and "same chain" in line for line in lines) == 2
    assert lines[-1] == "2 same, 0 diverged"


def test_the_planted_bug_is_reported_as_a_divergence(rvmsim, planted, tmp_path):  # noqa: F811
    proc = regress("--base-binary", planted, "--current-binary", rvmsim.path,
                   "--seeds", f"{SAME_SEED},{DIVERGENT_SEED}", "--faults", "swarm",
                   "--scenario", SOURCE_ROOT / "scenarios" / "kernel-smoke.scn",
                   "--out", tmp_path / "out")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert f"ok 1 - kernel-smoke.scn seed={SAME_SEED} faults=swarm: same chain" in out
    assert f"not ok 2 - kernel-smoke.scn seed={DIVERGENT_SEED} faults=swarm: first divergence" in out
    assert f"{planted} run " in out and f"{rvmsim.path} run " in out
    assert f"--seed {DIVERGENT_SEED} --faults swarm" in out
    assert "record " in out and "side by side" in out and "<- differs" in out
    assert out.splitlines()[-1] == "1 same, 1 diverged"


def test_usage_errors_exit_2(rvmsim, tmp_path):
    bad_rev = regress("--base", "no-such-revision-xyz", "--current-binary", rvmsim.path,
                      "--out", tmp_path / "out")
    assert bad_rev.returncode == 2 and "not a commit" in bad_rev.stderr
    bad_seeds = regress("--base-binary", rvmsim.path, "--seeds", "5..1",
                        "--current-binary", rvmsim.path)
    assert bad_seeds.returncode == 2
    assert regress().returncode == 2
